//! What the flow remembers about one pull request between its jobs, beside the database rows:
//! the summary comment's model, each environment's current plan run, its copies. Kept as JSON
//! in the pull request's directory, written through a temporary file and a rename.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_forge::Forge;
use plinth_state::PullRef;
use serde::{Deserialize, Serialize};

use crate::automation::Automation;
use crate::error::FlowError;
use crate::setup::RepoSetup;
use crate::summary::Summary;

/// The remembered state of a pull request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Sheet {
    /// The plinth project's name (locks are per project).
    pub project: Option<String>,
    /// Where its commits are fetched from (the payload's URL unless the repo block names one).
    pub clone_url: Option<String>,
    /// What the summary comment shows.
    pub summary: Summary,
    /// Environment → the plan run holding its instances' current plans.
    pub plan_runs: BTreeMap<String, String>,
    /// Ephemeral environment → the copy made for this pull request.
    pub copies: BTreeMap<String, String>,
    /// A plan that waits for locks: what to plan once they are handed over.
    pub waiting: Option<crate::plan_flow::PlanRequest>,
}

/// A pull request with everything a job needs to act on it.
pub(crate) struct PullCtx {
    pub pull: PullRef,
    pub number: u64,
    pub repo: RepoSetup,
    pub forge: Arc<dyn Forge>,
    pub dir: PathBuf,
    pub sheet: Sheet,
}

impl PullCtx {
    /// Writes the sheet back.
    pub(crate) fn save(&self) -> Result<(), FlowError> {
        let path = sheet_path(&self.dir);
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| FlowError::Other(format!("{}: {e}", self.dir.display())))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&self.sheet).expect("sheets serialise"),
        )
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| FlowError::Other(format!("{}: {e}", path.display())))
    }

    /// The project's work directory for this pull request's runs.
    pub(crate) fn work_dir(&self) -> PathBuf {
        self.dir.join("work")
    }
}

fn sheet_path(dir: &Path) -> PathBuf {
    dir.join("pull.json")
}

impl Automation {
    /// The context of pull request `number` of `repo` (its sheet read back, or a new one).
    pub(crate) fn pull_ctx(&self, repo: &str, number: u64) -> Result<PullCtx, FlowError> {
        let pull = PullRef::new(
            repo,
            i64::try_from(number).map_err(|_| FlowError::Refused("bad number".into()))?,
        )?;
        let repo_setup = self.repo(repo)?.clone();
        let forge = self.forge(repo)?;
        let dir = self.pull_dir(&pull);
        let sheet = match std::fs::read(sheet_path(&dir)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| FlowError::Other(format!("{}: {e}", sheet_path(&dir).display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Sheet::default(),
            Err(e) => return Err(FlowError::Other(format!("{}: {e}", dir.display()))),
        };
        Ok(PullCtx {
            pull,
            number,
            repo: repo_setup,
            forge,
            dir,
            sheet,
        })
    }
}
