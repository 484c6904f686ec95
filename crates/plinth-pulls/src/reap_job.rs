//! The server's reaper (DESIGN §3): every copy of the repository's project past its `ttl`, as
//! the database lists them (`expired_copies`: copies the CLI, CI and the pull-request flow
//! recorded on this server), destroyed with `env down` from the commit it was last applied
//! from, or the default branch's head when that commit is unknown or gone.
//!
//! - A copy that is not expired is never touched: each one is read again right before its
//!   destroy, and left alone when it is gone or its expiry moved.
//! - A copy being applied or destroyed right now (its record says so and changed within the
//!   last hour) waits for the next pass, rather than being destroyed under a running apply.
//! - A copy of an open pull request is reaped like any other once expired: the `ttl` bounds
//!   what a forgotten pull request costs. Its next push makes it again, with a new `ttl`.
//!   Its destroy runs in the pull request's work directory, whose history knows the copy.
//! - A failed destroy leaves the copy listed (`destroy_failed`); the next pass tries again.

use plinth_run::{CopyOptions, RunOrigin};
use plinth_state::{CopyRecord, CopyStatus, PullRef};
use serde::Serialize;
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::branch::{AtCommit, Loaded, branch_ref};
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::plan_flow::run_error;
use crate::schedule::{ReapJob, now_ms};
use crate::setup::RepoSetup;
use crate::summary::short;

/// Who the reaper's runs are reported as.
const WHO: &str = "plinth-reaper";

/// How long a copy's destroy waits for another run of that copy.
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// A copy whose record says a run is applying or destroying it, and that changed within this
/// long, is left for the next pass.
const BUSY_FOR_MS: i64 = 3_600_000;

/// What happened to one copy.
#[derive(Debug, Clone, Serialize)]
struct Reaped {
    name: String,
    outcome: String,
    destroyed: bool,
}

/// Runs a reap job.
pub(crate) async fn handle(
    auto: &Automation,
    payload: ReapJob,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    let repo = auto.repo(&payload.repo)?.clone();
    let head = auto.default_head(&repo).await?;
    let at_head = match auto
        .load_at(
            &repo,
            &head,
            &[branch_ref(&repo)],
            auto.repo_work_dir("reap", &repo.name, "work"),
        )
        .await?
    {
        Some(Loaded::Ready(at)) => at,
        Some(Loaded::Unusable(why)) => {
            let why = format!("{} at {}: {why}", repo.default_branch, short(&head));
            run.log(&why).await?;
            return Ok(json!({ "skipped": why }));
        }
        None => return Err(FlowError::Other(format!("commit {head} vanished"))),
    };
    let project = at_head.project.config.project().to_string();
    drop(at_head);
    let expired = auto.store.expired_copies(Some(&project), now_ms()).await?;
    let mut results = Vec::new();
    for copy in expired {
        // The copy's creation time tells a copy made again under the same name apart.
        let step = format!("down:{}:{}", copy.name, copy.created_at);
        if let Some(done) = run.done(&step) {
            results.push(done.clone());
            continue;
        }
        let reaped = auto.reap(&repo, &head, &copy, run).await?;
        run.log(&format!("copy {}: {}", reaped.name, reaped.outcome))
            .await?;
        let value = serde_json::to_value(&reaped).expect("results serialise");
        run.mark(&step, value.clone()).await?;
        results.push(value);
    }
    Ok(json!({ "project": project, "copies": results }))
}

impl Automation {
    async fn reap(
        &self,
        repo: &RepoSetup,
        head: &str,
        copy: &CopyRecord,
        run: &JobRun,
    ) -> Result<Reaped, FlowError> {
        let reaped = |outcome: String, destroyed: bool| Reaped {
            name: copy.name.clone(),
            outcome,
            destroyed,
        };
        let now = now_ms();
        if busy(copy, now) {
            return Ok(reaped(
                format!("left for the next pass: it is {}", copy.status.as_str()),
                false,
            ));
        }
        let pull = copy
            .pull_request
            .and_then(|n| PullRef::new(&repo.name, n).ok());
        let work_dir = match &pull {
            Some(p) => self.pull_dir(p).join("work"),
            None => self.repo_work_dir("reap", &repo.name, "work"),
        };
        let mut refs = vec![branch_ref(repo)];
        if let Some(n) = copy.pull_request.and_then(|n| u64::try_from(n).ok()) {
            refs.push(plinth_forge::pull_head_ref(repo.kind, n));
        }
        let last = self.last_commit(copy).await?;
        let mut at: Option<AtCommit> = None;
        if let Some(sha) = &last {
            at = self
                .usable(repo, sha, &refs, work_dir.clone(), &copy.template, run)
                .await?;
        }
        if at.is_none() {
            at = self
                .usable(repo, head, &refs, work_dir, &copy.template, run)
                .await?;
        }
        let Some(at) = at else {
            return Ok(reaped(
                format!(
                    "cannot be destroyed: neither its last commit nor {} has environment `{}`",
                    repo.default_branch, copy.template
                ),
                false,
            ));
        };
        // Read again: a copy made again since the list was read, or removed, is not ours.
        match self.store.copy(&copy.project, &copy.name).await? {
            None => return Ok(reaped("already gone".into(), false)),
            Some(now_copy) if !expired(&now_copy, now_ms()) => {
                return Ok(reaped("not expired any more: left alone".into(), false));
            }
            Some(_) => {}
        }
        run.log(&format!(
            "copy {}: destroying from {} (expired {})",
            copy.name,
            short(&at.sha),
            copy.expires_at.as_deref().unwrap_or("?")
        ))
        .await?;
        let opts = CopyOptions {
            name: copy.name.clone(),
            template: Some(copy.template.clone()),
            pull_request: copy.pull_request.and_then(|n| u64::try_from(n).ok()),
            parallelism: None,
            lock_wait: RUN_LOCK_WAIT,
            origin: RunOrigin::server(WHO),
        };
        let (events, _) = tokio::sync::mpsc::unbounded_channel();
        Ok(
            match plinth_run::env_down(std::sync::Arc::clone(&at.project), opts, events).await {
                Ok(down) if down.removed => reaped(
                    format!(
                        "destroyed by run {} (from {})",
                        down.run.run_id,
                        short(&at.sha)
                    ),
                    true,
                ),
                Ok(down) => reaped(
                    format!(
                        "destroy failed (run {}): the copy stays listed",
                        down.run.run_id
                    ),
                    false,
                ),
                Err(e) => reaped(
                    format!("could not be destroyed: {}", self.redact(&run_error(e))),
                    false,
                ),
            },
        )
    }

    /// The commit the copy was last run from, as the run history says.
    async fn last_commit(&self, copy: &CopyRecord) -> Result<Option<String>, FlowError> {
        let runs = self.store.runs(&copy.project, Some(&copy.name), 20).await?;
        Ok(runs.into_iter().find_map(|r| {
            r.commit
                .filter(|c| matches!(c.len(), 40 | 64) && c.bytes().all(|b| b.is_ascii_hexdigit()))
        }))
    }

    /// The project at `sha` when it is there and declares `template`.
    async fn usable(
        &self,
        repo: &RepoSetup,
        sha: &str,
        refs: &[String],
        work_dir: std::path::PathBuf,
        template: &str,
        run: &JobRun,
    ) -> Result<Option<AtCommit>, FlowError> {
        match self.load_at(repo, sha, refs, work_dir).await? {
            Some(Loaded::Ready(at)) if at.project.config.environment(template).is_some() => {
                Ok(Some(at))
            }
            Some(Loaded::Ready(_)) => {
                run.log(&format!(
                    "{}: no environment `{template}` there",
                    short(sha)
                ))
                .await?;
                Ok(None)
            }
            Some(Loaded::Unusable(why)) => {
                run.log(&format!("{}: {why}", short(sha))).await?;
                Ok(None)
            }
            None => {
                run.log(&format!("{}: not on the forge any more", short(sha)))
                    .await?;
                Ok(None)
            }
        }
    }
}

fn expired(copy: &CopyRecord, now: i64) -> bool {
    copy.expires_at
        .as_deref()
        .and_then(ms_of)
        .is_some_and(|t| t <= now)
}

fn busy(copy: &CopyRecord, now: i64) -> bool {
    matches!(copy.status, CopyStatus::Applying | CopyStatus::Destroying)
        && ms_of(&copy.updated_at).is_some_and(|t| now - t < BUSY_FOR_MS)
}

fn ms_of(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(status: CopyStatus, expires_at: Option<&str>, updated_at: &str) -> CopyRecord {
        CopyRecord {
            project: "acme".into(),
            name: "test-pr-7".into(),
            template: "test".into(),
            creator: "plinth".into(),
            pull_request: Some(7),
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: expires_at.map(str::to_string),
            status,
            instances: 2,
            updated_at: updated_at.into(),
            updated_by: "plinth-server".into(),
        }
    }

    #[test]
    fn only_expired_copies_that_no_run_holds_are_reaped() {
        let t0 = ms_of("2026-01-01T01:00:00Z").unwrap();
        let up = copy(
            CopyStatus::Up,
            Some("2026-01-01T01:00:00Z"),
            "2026-01-01T00:00:00Z",
        );
        assert!(expired(&up, t0));
        assert!(!expired(&up, t0 - 1));
        assert!(!expired(
            &copy(CopyStatus::Up, None, "2026-01-01T00:00:00Z"),
            t0
        ));
        assert!(!busy(&up, t0));
        let applying = copy(
            CopyStatus::Applying,
            Some("2026-01-01T00:30:00Z"),
            "2026-01-01T00:59:00Z",
        );
        assert!(busy(&applying, t0), "an apply started a minute ago");
        assert!(
            !busy(&applying, t0 + BUSY_FOR_MS),
            "an apply an hour old is taken as dead"
        );
        let failed = copy(
            CopyStatus::DestroyFailed,
            Some("2026-01-01T00:30:00Z"),
            "2026-01-01T00:59:00Z",
        );
        assert!(!busy(&failed, t0), "a failed destroy is tried again");
    }
}
