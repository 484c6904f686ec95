//! What a run reports, per instance and as a whole (the `--json` shapes of DESIGN.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Outcome of one instance in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceStatus {
    /// Planned with changes, or applied.
    Succeeded,
    /// The engine failed, or inputs could not be resolved.
    Failed,
    /// Not run because something upstream did not succeed.
    Skipped,
    /// Refused: no upstream state and no mocks, preview-only or stale plan, missing approval.
    Blocked,
    /// Nothing to change.
    Unchanged,
}

impl InstanceStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Succeeded => "succeeded",
            InstanceStatus::Failed => "failed",
            InstanceStatus::Skipped => "skipped",
            InstanceStatus::Blocked => "blocked",
            InstanceStatus::Unchanged => "unchanged",
        }
    }

    /// Whether dependents may run after this.
    pub fn lets_dependents_run(self) -> bool {
        matches!(self, InstanceStatus::Succeeded | InstanceStatus::Unchanged)
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "skipped" => Self::Skipped,
            "blocked" => Self::Blocked,
            "unchanged" => Self::Unchanged,
            _ => return None,
        })
    }
}

/// One instance's line in a run report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceReport {
    /// Stack id.
    pub stack: String,
    /// Outcome.
    pub status: InstanceStatus,
    /// Resources added.
    pub add: u32,
    /// Resources changed in place.
    pub change: u32,
    /// Resources destroyed.
    pub destroy: u32,
    /// Planned with mock outputs: can be shown, never applied.
    pub preview_only: bool,
    /// Why it failed, was skipped or blocked; notes such as destructive changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// The engine log of this instance in this run.
    #[serde(skip)]
    pub log: Option<PathBuf>,
    /// The stack's hooks that ran for it, with their outcome.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hooks: Vec<crate::hooks::HookReport>,
    /// The engine's exit code, for `exec` (whose exit code is the worst of them).
    #[serde(skip)]
    pub exit_code: Option<i32>,
    /// A saved plan refused only because an upstream applied in the same run changed what it
    /// reads: planning it again is the way on.
    #[serde(skip)]
    pub replan: bool,
    /// The earlier plan run whose plan this run kept (nothing it consumed had moved).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reused_from: Option<String>,
    /// What the project's team policies said of this instance's plan.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub policy_findings: Vec<crate::review::PolicyFinding>,
    /// What the plan changes in the instance's monthly cost, USD (`None`: no changes, or
    /// nothing priced in them).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub monthly_delta: Option<f64>,
    /// The cost line: `+$32.85/month ($0.00 → $32.85)`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cost: Option<String>,
}

impl InstanceReport {
    /// A report with no changes and the given status.
    pub fn new(stack: &str, status: InstanceStatus) -> Self {
        InstanceReport {
            stack: stack.to_string(),
            status,
            add: 0,
            change: 0,
            destroy: 0,
            preview_only: false,
            reason: None,
            duration_ms: 0,
            log: None,
            hooks: Vec::new(),
            exit_code: None,
            replan: false,
            reused_from: None,
            policy_findings: Vec::new(),
            monthly_delta: None,
            cost: None,
        }
    }

    /// Sets the engine's exit code.
    pub fn with_exit(mut self, code: i32) -> Self {
        self.exit_code = Some(code);
        self
    }

    /// Sets the reason.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// Outcome of a run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every instance succeeded or was unchanged.
    Succeeded,
    /// Some instance failed, or instances were skipped after an interruption.
    Failed,
    /// Nothing failed, but something was blocked.
    Blocked,
    /// Stopped by Ctrl-C: nothing new started, running engines were asked to stop.
    Interrupted,
}

impl RunStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Blocked => "blocked",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// A finished run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Run id.
    pub run_id: String,
    /// `plan`, `apply` or `destroy`.
    pub action: String,
    /// Environment.
    pub env: String,
    /// Overall outcome.
    pub status: RunStatus,
    /// Per instance, in execution order.
    pub instances: Vec<InstanceReport>,
    /// The environment's hooks that ran after its instances.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hooks: Vec<crate::hooks::HookReport>,
    /// For an apply that stopped because outputs moved under some plans: the plan run made
    /// for the rest (`plinth apply ENV --plan NEXT` continues).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_plan: Option<String>,
    /// Findings about the run as a whole: the environment's budget (CST001) after a plan.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub findings: Vec<crate::review::RunFinding>,
}

impl RunReport {
    /// Derives the overall status from the instances.
    pub fn status_of(instances: &[InstanceReport]) -> RunStatus {
        let any = |s: InstanceStatus| instances.iter().any(|i| i.status == s);
        // Skipped instances stand behind a failed or blocked one, or an interruption: the run
        // is as bad as their cause.
        if any(InstanceStatus::Failed) {
            RunStatus::Failed
        } else if any(InstanceStatus::Blocked) {
            RunStatus::Blocked
        } else if any(InstanceStatus::Skipped) {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        }
    }

    /// Why this plan run cannot be applied whole, one line per instance in the way (empty
    /// when `apply --plan` would take it).
    pub fn not_appliable(&self) -> Vec<String> {
        self.instances
            .iter()
            .filter_map(|i| {
                let why = match i.status {
                    InstanceStatus::Failed | InstanceStatus::Blocked | InstanceStatus::Skipped => {
                        i.status.as_str().to_string()
                    }
                    _ if i.preview_only => "preview only (made with mock outputs)".to_string(),
                    _ => return None,
                };
                Some(format!("{}/{}: {why}", self.env, i.stack))
            })
            .collect()
    }

    /// Whether any instance has changes.
    pub fn has_changes(&self) -> bool {
        self.instances
            .iter()
            .any(|i| i.add + i.change + i.destroy > 0 || i.status == InstanceStatus::Succeeded)
    }
}
