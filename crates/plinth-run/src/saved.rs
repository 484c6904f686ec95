//! Saved plans: the plan file, its JSON and what it consumed, under `.plinth/runs/<run>/`.

use std::path::{Path, PathBuf};

use plinth_engine::{Layout, PlanSummary};
use serde::{Deserialize, Serialize};

/// The record kept beside each saved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanMeta {
    /// Run that made it.
    pub run_id: String,
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// Whether it was made with mock outputs.
    pub preview_only: bool,
    /// Dependencies that were mocked.
    pub mocked: Vec<String>,
    /// Hash of everything consumed.
    pub fingerprint: String,
    /// Hash of each consumed part (code, inputs, upstream outputs, …).
    pub parts: std::collections::BTreeMap<String, String>,
    /// Per-item hashes of the `inputs` and `upstream outputs` parts, to name what changed.
    #[serde(default)]
    pub details: crate::fingerprint::Details,
    /// Change counts.
    pub summary: PlanSummary,
    /// Destructive changes of stateful resources that need `--approve-destructive`.
    pub needs_approval: Vec<String>,
    /// Every delete or replacement of a stateful resource (`deletes aws_db_instance.main`),
    /// in any environment: what a reviewer must see.
    #[serde(default)]
    pub stateful: Vec<String>,
    /// Upstream stacks with pending changes in the same plan run: once they are applied, this
    /// plan is stale and must be made again.
    #[serde(default)]
    pub pending_upstream: Vec<String>,
    /// The run whose engine made this plan, when this run kept it because nothing it consumed
    /// had moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
    /// What the project's team policies said of this plan (deny and warn messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_findings: Vec<crate::review::PolicyFinding>,
    /// What the plan changes in the instance's monthly cost; `None` without changes or when
    /// nothing it touches is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::review::CostDelta>,
}

/// The record of a whole plan run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunManifest {
    /// Run id.
    pub run_id: String,
    /// `plan`.
    pub action: String,
    /// Environment.
    pub env: String,
    /// Stacks that have a saved plan, in execution order.
    pub planned: Vec<String>,
    /// Instances of the run that have no plan (failed, blocked or skipped), with why: a run
    /// with any of these cannot be applied whole.
    #[serde(default)]
    pub not_planned: Vec<NotPlanned>,
}

/// An instance a plan run could not plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotPlanned {
    /// Stack id.
    pub stack: String,
    /// `failed`, `blocked` or `skipped`.
    pub status: String,
    /// Why.
    pub reason: Option<String>,
}

/// Paths of one instance's files in a run.
pub struct PlanFiles {
    /// Directory.
    pub dir: PathBuf,
}

impl PlanFiles {
    /// The files of `stack` in `run`.
    pub fn new(layout: &Layout, run: &str, stack: &str) -> Self {
        PlanFiles {
            dir: layout.run_instance_dir(run, stack),
        }
    }

    /// Binary plan.
    pub fn plan(&self) -> PathBuf {
        self.dir.join("plan.tfplan")
    }

    /// `show -json` of the plan.
    pub fn json(&self) -> PathBuf {
        self.dir.join("plan.json")
    }

    /// The record.
    pub fn meta(&self) -> PathBuf {
        self.dir.join("meta.json")
    }

    /// The engine log of this instance in this run.
    pub fn log(&self) -> PathBuf {
        self.dir.join("engine.log")
    }
}

/// Writes JSON through a temporary file and a rename, so a crash never leaves half a record.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(value).expect("records serialise"),
    )?;
    std::fs::rename(tmp, path)
}

/// Reads a JSON record.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
