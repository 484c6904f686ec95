//! A scheduled drift check of one environment: the default branch's head checked out, a
//! refreshing plan of each instance (`Mode::Drift`, nothing saved) in a work directory of its
//! own (`DATA_DIR/drift/REPO/ENV`), reported as `plinth-drift`, the results recorded, and the
//! environment's forge issue opened, rewritten or closed (`drift_issue`).
//!
//! Resumes: the check's results are a checkpoint, so a resumed job does not plan again; the
//! issue's number and what it last said are in the database (`drift_watch`), so a resumed
//! job rewrites nothing that is already written. Only a kill between the forge creating the
//! issue and the database recording its number can leave a second issue.

use std::collections::BTreeSet;

use plinth_config::Lifecycle;
use plinth_project::Selection;
use plinth_run::{Mode, RunOptions, RunOrigin};
use plinth_state::{DriftStatus, DriftWatch, InstanceId};
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::branch::{Loaded, branch_ref};
use crate::drift_issue::{self, Checked, CheckedInstance, IssueAction, IssueState, Links};
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::plan_flow::{start_and_execute, without_log_path};
use crate::schedule::DriftJob;
use crate::setup::RepoSetup;
use crate::summary::short;

/// Who drift runs are reported as.
const WHO: &str = "plinth-drift";

/// How long a check waits for the previous check of the environment (same work directory).
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs a drift job.
pub(crate) async fn handle(
    auto: &Automation,
    payload: DriftJob,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    let repo = auto.repo(&payload.repo)?.clone();
    let checked: Checked = match run.done("checked") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| FlowError::Other(format!("the checkpoint of this check: {e}")))?,
        None => match auto.check_drift(&repo, &payload.env, run).await? {
            Ok(checked) => {
                run.mark(
                    "checked",
                    serde_json::to_value(&checked).expect("results serialise"),
                )
                .await?;
                checked
            }
            Err(skipped) => {
                run.log(&skipped).await?;
                return Ok(json!({ "skipped": skipped }));
            }
        },
    };
    let drifted = checked.drift_count();
    auto.record_unreported(&checked).await?;
    let action = auto.keep_issue(&repo, &checked, run).await?;
    if let Some(error) = &checked.error {
        return Err(FlowError::Other(format!(
            "the drift check could not run: {error}"
        )));
    }
    Ok(json!({
        "commit": checked.commit,
        "run_id": checked.run_id,
        "drifted": drifted,
        "in_sync": checked.in_sync(),
        "issue": action,
    }))
}

impl Automation {
    /// Plans `env` at the default head; `Err` is why there is nothing to check there.
    async fn check_drift(
        &self,
        repo: &RepoSetup,
        env: &str,
        run: &JobRun,
    ) -> Result<Result<Checked, String>, FlowError> {
        let head = self.default_head(repo).await?;
        let work_dir = self.repo_work_dir("drift", &repo.name, env);
        let at = match self
            .load_at(repo, &head, &[branch_ref(repo)], work_dir)
            .await?
        {
            Some(Loaded::Ready(at)) => at,
            Some(Loaded::Unusable(why)) => {
                return Ok(Err(format!(
                    "{} at {}: {why}",
                    repo.default_branch,
                    short(&head)
                )));
            }
            None => return Err(FlowError::Other(format!("commit {head} vanished"))),
        };
        let scheduled = at
            .project
            .config
            .environment(env)
            .is_some_and(|e| e.lifecycle == Lifecycle::Persistent && e.drift.is_some());
        if !scheduled {
            return Ok(Err(format!(
                "`{env}` is no persistent environment with a `drift` block at {} any more",
                short(&head)
            )));
        }
        run.log(&format!(
            "checking {env} at {} of {}",
            short(&head),
            repo.default_branch
        ))
        .await?;
        let opts = RunOptions {
            env: env.to_string(),
            template: None,
            via_server: true,
            skip_promotion: None,
            selection: Selection::default(),
            changed: None,
            only: None,
            parallelism: None,
            approve_destructive: false,
            lock_wait: RUN_LOCK_WAIT,
            reuse_plans: Vec::new(),
            replan: BTreeSet::new(),
        };
        let mut checked = Checked {
            project: at.project.config.project().to_string(),
            env: env.to_string(),
            commit: at.sha.clone(),
            ..Checked::default()
        };
        match start_and_execute(&at.project, opts, Mode::Drift, RunOrigin::server(WHO)).await {
            Ok(report) => {
                checked.run_id = Some(report.run_id.clone());
                checked.instances = report
                    .instances
                    .iter()
                    .map(|i| CheckedInstance {
                        stack: i.stack.clone(),
                        status: match i.status.as_str() {
                            s @ ("unchanged" | "succeeded" | "failed") => {
                                plinth_run::drift_status(s).to_string()
                            }
                            other => other.to_string(),
                        },
                        add: i.add,
                        change: i.change,
                        destroy: i.destroy,
                        reason: i
                            .reason
                            .as_deref()
                            .map(|r| self.redact(without_log_path(r))),
                    })
                    .collect();
            }
            Err(why) => checked.error = Some(self.redact(&why)),
        }
        checked.checked_at = rfc3339_now();
        run.log(&format!(
            "{env}: {} drifted of {} checked{}",
            checked.drift_count(),
            checked.instances.len(),
            checked
                .error
                .as_deref()
                .map(|e| format!("; the check could not run: {e}"))
                .unwrap_or_default()
        ))
        .await?;
        Ok(Ok(checked))
    }

    /// Records the results in the server's drift table, unless the run reported them itself
    /// (a `backend = "plinth"` project's run is in the server's history once it ended, and
    /// that records its drift); forgets the drift of stacks the environment no longer has.
    async fn record_unreported(&self, checked: &Checked) -> Result<(), FlowError> {
        let Some(run_id) = &checked.run_id else {
            return Ok(());
        };
        let reported = self
            .store
            .run(run_id)
            .await?
            .is_some_and(|r| r.finished_at.is_some());
        if !reported {
            for i in &checked.instances {
                let Some(status) = DriftStatus::parse(&i.status) else {
                    continue;
                };
                let id = InstanceId::new(&checked.project, &checked.env, &i.stack)?;
                self.store
                    .record_drift(
                        &id,
                        status,
                        (i64::from(i.add), i64::from(i.change), i64::from(i.destroy)),
                        Some(run_id),
                    )
                    .await?;
            }
        }
        let stacks: Vec<String> = checked.instances.iter().map(|i| i.stack.clone()).collect();
        self.store
            .forget_drift_except(&checked.project, &checked.env, &stacks)
            .await?;
        Ok(())
    }

    /// Records the check, then opens, rewrites or closes the environment's issue as the
    /// results ask; returns what was done.
    async fn keep_issue(
        &self,
        repo: &RepoSetup,
        checked: &Checked,
        run: &JobRun,
    ) -> Result<&'static str, FlowError> {
        let mut watch = self
            .store
            .drift_watch(&repo.name, &checked.env)
            .await?
            .unwrap_or_else(|| DriftWatch {
                repo: repo.name.clone(),
                env: checked.env.clone(),
                project: checked.project.clone(),
                checked_ms: 0,
                commit: None,
                run_id: None,
                issue: None,
                issue_open: false,
                digest: None,
            });
        // Recorded before the forge is asked: a forge that is down does not make the
        // scheduler check again before `every` has passed.
        watch.project = checked.project.clone();
        watch.checked_ms = crate::schedule::now_ms();
        watch.commit = Some(checked.commit.clone());
        watch.run_id = checked.run_id.clone();
        self.store.put_drift_watch(&watch).await?;

        let state = IssueState {
            number: watch.issue.and_then(|n| u64::try_from(n).ok()),
            open: watch.issue_open,
            digest: watch.digest.clone(),
        };
        let action = drift_issue::decide(checked, &state);
        if action == IssueAction::Leave {
            return Ok("unchanged");
        }
        let links = Links {
            base: self.setup.public_url().map(str::to_string),
            branch: repo.default_branch.clone(),
        };
        let forge = self.forge(&repo.name)?;
        let title = drift_issue::title(&checked.env);
        let (done, open) = match (&action, state.number) {
            (IssueAction::Close, None) => return Ok("unchanged"),
            (IssueAction::Close, Some(n)) => {
                let body = self.redact(&drift_issue::closed_body(checked, &links));
                forge
                    .update_issue(&repo.name, n, &title, &body, false)
                    .await?;
                watch.digest = None;
                ("closed", false)
            }
            (_, Some(n)) => {
                let body = self.redact(&drift_issue::body(checked, &links));
                forge
                    .update_issue(&repo.name, n, &title, &body, true)
                    .await?;
                watch.digest = Some(checked.digest());
                (if state.open { "updated" } else { "reopened" }, true)
            }
            (_, None) => {
                let body = self.redact(&drift_issue::body(checked, &links));
                let n = forge.create_issue(&repo.name, &title, &body).await?;
                watch.issue =
                    Some(i64::try_from(n).map_err(|_| {
                        FlowError::Other(format!("the forge gave issue number {n}"))
                    })?);
                watch.digest = Some(checked.digest());
                ("opened", true)
            }
        };
        watch.issue_open = open;
        self.store.put_drift_watch(&watch).await?;
        run.log(&format!(
            "issue #{} {done}",
            watch.issue.unwrap_or_default()
        ))
        .await?;
        Ok(done)
    }
}

fn rfc3339_now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
