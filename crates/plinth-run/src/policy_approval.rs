//! Approvals of plans a team policy denied: in a protected environment, `apply --plan RUN`
//! refuses a plan with `deny` findings until, for each denying policy, one of the owners its
//! `policy` block lists has approved that run's plan of that instance (`plinth approve-policy
//! RUN`, or the `plinth approve_policies` pull-request comment through the server). Approvals
//! live in the run history, next to the run they approve.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSetBuilder};
use plinth_engine::Layout;
use plinth_project::Project;
use serde::Serialize;
use sqlx::Row;

use crate::RunError;
use crate::context::RunContext;
use crate::history::{self, History};
use crate::review::{PolicyFinding, Verdict};
use crate::saved::{PlanFiles, PlanMeta, RunManifest, read_json};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS policy_approvals (
    run_id TEXT NOT NULL,
    stack TEXT NOT NULL,
    policy TEXT NOT NULL,
    approver TEXT NOT NULL,
    reason TEXT,
    fingerprint TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (run_id, stack, policy)
);
";

/// One recorded approval: an owner let one policy's denial of one plan pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyApproval {
    /// Stack id.
    pub stack: String,
    /// The policy whose denial is approved.
    pub policy: String,
    /// The deny messages approved.
    pub messages: Vec<String>,
}

/// What `approve_policies` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalReport {
    /// The plan run.
    pub run_id: String,
    /// Its environment.
    pub env: String,
    /// Who approved (`user@host` from the CLI, the forge user through the server).
    pub approver: String,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// Each policy denial approved, per instance.
    pub approved: Vec<PolicyApproval>,
}

/// Whether `approver` is one of `owners`: the same name, or, for a CLI identity `user@host`,
/// its user part (`alice@laptop` is owner `alice`).
fn is_owner(approver: &str, owners: &[String]) -> bool {
    let user = approver.rsplit_once('@').map_or(approver, |(u, _)| u);
    owners.iter().any(|o| o == approver || o == user)
}

/// The deny messages of a plan, per policy.
fn denials(findings: &[PolicyFinding]) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.kind == Verdict::Deny) {
        out.entry(f.policy.as_str())
            .or_default()
            .push(f.message.as_str());
    }
    out
}

/// The owners of policy `name`, from its `policy` block (none for the default folder).
fn owners_of<'p>(project: &'p Project, name: &str) -> &'p [String] {
    project
        .config
        .policies
        .iter()
        .find(|p| p.name.value == name)
        .map_or(&[], |p| p.owners.as_slice())
}

/// `owners: a, b`, or why nobody can approve.
fn owners_text(project: &Project, policy: &str) -> String {
    match owners_of(project, policy) {
        [] => format!(
            "policy `{policy}` lists no owners, so nobody can approve it: add `owners` to a \
             `policy \"{policy}\"` block in plinth.hcl"
        ),
        owners => format!("owners of `{policy}`: {}", owners.join(", ")),
    }
}

impl History {
    /// The policies whose denial of `run`'s plan of `stack` an owner approved.
    pub async fn approved_policies(
        &self,
        run: &str,
        stack: &str,
    ) -> Result<BTreeSet<String>, String> {
        let rows =
            sqlx::query("SELECT policy FROM policy_approvals WHERE run_id = ? AND stack = ?")
                .bind(run)
                .bind(stack)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| format!("run history: {e}"))?;
        Ok(rows.iter().map(|r| r.get("policy")).collect())
    }

    async fn record_approval(
        &self,
        run: &str,
        meta: &PlanMeta,
        policy: &str,
        approver: &str,
        reason: Option<&str>,
    ) -> Result<(), String> {
        sqlx::query(
            "INSERT OR REPLACE INTO policy_approvals
             (run_id, stack, policy, approver, reason, fingerprint, approved_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(run)
        .bind(&meta.stack)
        .bind(policy)
        .bind(approver)
        .bind(reason)
        .bind(&meta.fingerprint)
        .bind(history::now())
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("run history: {e}"))
    }
}

impl RunContext {
    /// `denied by policy `p`: message; message`, when the plan has deny findings.
    pub(crate) fn denial(&self, meta: &PlanMeta) -> Option<String> {
        let denied = denials(&meta.policy_findings);
        if denied.is_empty() {
            return None;
        }
        Some(
            denied
                .iter()
                .map(|(policy, messages)| {
                    format!("denied by policy `{policy}`: {}", messages.join("; "))
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// Who may approve the plan's denials, and how.
    pub(crate) fn approvers_hint(&self, meta: &PlanMeta) -> String {
        let owners: Vec<String> = denials(&meta.policy_findings)
            .keys()
            .map(|p| owners_text(&self.project, p))
            .collect();
        format!(
            "{}; approve with `plinth approve-policy {}`",
            owners.join("; "),
            meta.run_id
        )
    }

    /// Refuses a plan of a protected environment that a policy denied and no owner of that
    /// policy approved, naming the policy, its messages, its owners and the command.
    pub(crate) async fn policy_gate(&self, stack: &str, meta: &PlanMeta) -> Result<(), String> {
        let denied = denials(&meta.policy_findings);
        if denied.is_empty() {
            return Ok(());
        }
        let history = History::open(&self.layout.database()).await?;
        let approved = history.approved_policies(&meta.run_id, stack).await?;
        let missing: Vec<String> = denied
            .iter()
            .filter(|(policy, _)| !approved.contains(**policy))
            .map(|(policy, messages)| {
                format!(
                    "denied by policy `{policy}`: {} ({})",
                    messages.join("; "),
                    owners_text(&self.project, policy)
                )
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "plan {} {} in protected environment `{}`; an owner must approve it: `plinth \
             approve-policy {}`",
            meta.run_id,
            missing.join("; "),
            self.env(),
            meta.run_id
        ))
    }
}

/// Records `approver`'s approval of every policy denial in plan run `run_id` (of the stacks
/// matching `stacks`, globs; all when empty), so that `apply --plan RUN` passes the policy
/// gate. The approver must be an owner of each denying policy (its `policy` block's
/// `owners`), else nothing is recorded and the refusal lists the owners. The CLI passes
/// `plinth_run::who()`, the server the forge user who commented.
pub async fn approve_policies(
    project: &Project,
    run_id: &str,
    stacks: &[String],
    approver: &str,
) -> Result<ApprovalReport, RunError> {
    approve_policies_because(project, run_id, stacks, approver, None).await
}

/// [`approve_policies`] with the reason the approver gave (`--reason`), recorded with it.
pub async fn approve_policies_because(
    project: &Project,
    run_id: &str,
    stacks: &[String],
    approver: &str,
    reason: Option<&str>,
) -> Result<ApprovalReport, RunError> {
    if !crate::run_id::is_valid(run_id) {
        return Err(RunError::Usage(format!("`{run_id}` is not a run id")));
    }
    let layout = Layout::at(&project.work_dir);
    let manifest: RunManifest =
        read_json(&layout.run_dir(run_id).join("run.json")).map_err(|_| {
            RunError::Usage(format!("no saved plan run `{run_id}` (see `plinth runs`)"))
        })?;
    let mut globs = GlobSetBuilder::new();
    for pattern in stacks {
        globs.add(
            Glob::new(pattern.trim_end_matches('/'))
                .map_err(|e| RunError::Usage(format!("--stack {pattern}: {e}")))?,
        );
    }
    let globs = globs.build().map_err(|e| RunError::Usage(e.to_string()))?;
    let mut metas = Vec::new();
    for stack in manifest
        .planned
        .iter()
        .filter(|s| stacks.is_empty() || globs.is_match(s.as_str()))
    {
        let meta: PlanMeta =
            read_json(&PlanFiles::new(&layout, run_id, stack).meta()).map_err(RunError::Other)?;
        if !denials(&meta.policy_findings).is_empty() {
            metas.push(meta);
        }
    }
    if metas.is_empty() {
        let scope = if stacks.is_empty() {
            String::new()
        } else {
            format!(" matching --stack {}", stacks.join(" --stack "))
        };
        return Err(RunError::Usage(format!(
            "run {run_id} has no plan{scope} that a policy denied: nothing to approve"
        )));
    }
    let policies: BTreeSet<&str> = metas
        .iter()
        .flat_map(|m| denials(&m.policy_findings).into_keys())
        .collect();
    let refused: Vec<String> = policies
        .iter()
        .filter(|p| !is_owner(approver, owners_of(project, p)))
        .map(|p| owners_text(project, p))
        .collect();
    if !refused.is_empty() {
        return Err(RunError::Blocked(format!(
            "{approver} may not approve the policy denials of run {run_id}; nothing was \
             recorded:\n  {}",
            refused.join("\n  ")
        )));
    }
    let history = History::open(&layout.database())
        .await
        .map_err(RunError::Other)?;
    let mut approved = Vec::new();
    for meta in &metas {
        for (policy, messages) in denials(&meta.policy_findings) {
            history
                .record_approval(run_id, meta, policy, approver, reason)
                .await
                .map_err(RunError::Other)?;
            approved.push(PolicyApproval {
                stack: meta.stack.clone(),
                policy: policy.to_string(),
                messages: messages.into_iter().map(str::to_string).collect(),
            });
        }
    }
    Ok(ApprovalReport {
        run_id: run_id.to_string(),
        env: manifest.env,
        approver: approver.to_string(),
        reason: reason.map(str::to_string),
        approved,
    })
}

#[cfg(test)]
mod tests {
    use super::is_owner;

    #[test]
    fn owners_match_by_name_or_the_user_of_user_at_host() {
        let owners = vec!["platform-lead".to_string(), "security".to_string()];
        assert!(is_owner("platform-lead", &owners));
        assert!(is_owner("security@laptop", &owners));
        assert!(!is_owner("mallory@laptop", &owners));
        assert!(!is_owner("platform", &owners));
        assert!(!is_owner("anyone", &[]));
    }
}
