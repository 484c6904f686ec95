//! The pull request as `GET /v1/pulls` shows it (DESIGN §5.1): head, instances with their
//! plans, locks and queue positions, jobs, and whether the server is idle on it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::StateError;
use crate::jobs::{JobStatus, JobSummary};
use crate::pulls::{PullInstance, PullRecord, PullRef, PullState};
use crate::store::Store;

/// A pull request with everything the server knows about it.
#[derive(Debug, Clone, Serialize)]
pub struct PullView {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: i64,
    /// Head commit.
    pub head: String,
    /// open, closed or merged.
    pub state: PullState,
    /// No job of it is queued or running.
    pub idle: bool,
    /// Affected instances (and any it holds or waits for a lock on), by env then stack.
    pub instances: Vec<PullInstanceView>,
    /// Its jobs, oldest first.
    pub jobs: Vec<JobSummary>,
    /// The branch it merges into.
    pub base: String,
    /// Its author's forge login.
    pub author: String,
    /// The sticky summary comment's id, once posted.
    pub summary_comment: Option<String>,
    /// When its row last changed, RFC 3339.
    pub updated_at: String,
}

/// One instance of a pull request.
#[derive(Debug, Clone, Serialize)]
pub struct PullInstanceView {
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// The saved plan, if any.
    pub plan: Option<PlanView>,
    /// Whether the plan was applied.
    pub applied: bool,
    /// `held`, `queued` or `none`.
    pub lock: &'static str,
    /// While queued: the number of the pull request it waits for (the holder, or the first one
    /// queued ahead).
    pub waiting_for: Option<i64>,
    /// While queued: 1 + the pull requests queued ahead on this instance.
    pub position: Option<i64>,
    /// The fingerprint of the plan's inputs.
    pub fingerprint: Option<String>,
}

/// A plan as shown.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    /// Resources to add.
    pub add: i64,
    /// Resources to change.
    pub change: i64,
    /// Resources to destroy.
    pub destroy: i64,
    /// Planned with mock outputs.
    pub preview_only: bool,
    /// The commit planned.
    pub commit: String,
    /// The run that made it.
    pub run_id: String,
}

impl Store {
    /// One pull request as the API shows it; `None` when the server never saw it.
    pub async fn pull_view(&self, pull: &PullRef) -> Result<Option<PullView>, StateError> {
        let Some(record) = self.pull(pull).await? else {
            return Ok(None);
        };
        Ok(Some(self.view_of(record).await?))
    }

    /// Pull requests as the API shows them, most recently updated first.
    pub async fn pull_views(
        &self,
        repo: Option<&str>,
        state: Option<PullState>,
        limit: i64,
    ) -> Result<Vec<PullView>, StateError> {
        let mut views = Vec::new();
        for record in self.pull_records(repo, state, limit).await? {
            views.push(self.view_of(record).await?);
        }
        Ok(views)
    }

    async fn view_of(&self, record: PullRecord) -> Result<PullView, StateError> {
        let pull = record.pull.clone();
        let instances = self.pull_instances(&pull).await?;
        let locks = self.pull_lock_state(&pull).await?;
        let jobs = self.jobs_of(&pull.serial_key()).await?;
        let idle = !jobs
            .iter()
            .any(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running));
        let mut rows: BTreeMap<(String, String), PullInstanceView> = BTreeMap::new();
        for instance in instances {
            let key = (instance.env.clone(), instance.stack.clone());
            rows.insert(key, view_of_instance(instance));
        }
        for (_project, env, stack) in &locks.held {
            row_for(&mut rows, env, stack).lock = "held";
        }
        for wait in &locks.waits {
            let view = row_for(&mut rows, &wait.env, &wait.stack);
            view.lock = "queued";
            view.waiting_for = wait.waiting_for.as_ref().map(|p| p.number);
            view.position = Some(wait.position);
        }
        Ok(PullView {
            repo: pull.repo,
            number: pull.number,
            head: record.head,
            state: record.state,
            idle,
            instances: rows.into_values().collect(),
            jobs,
            base: record.base_ref,
            author: record.author,
            summary_comment: record.summary_comment,
            updated_at: record.updated_at,
        })
    }
}

/// The instance's row, added (without a plan) for a lock on an instance not recorded as affected.
fn row_for<'a>(
    rows: &'a mut BTreeMap<(String, String), PullInstanceView>,
    env: &str,
    stack: &str,
) -> &'a mut PullInstanceView {
    rows.entry((env.to_owned(), stack.to_owned()))
        .or_insert_with(|| {
            view_of_instance(PullInstance {
                env: env.to_owned(),
                stack: stack.to_owned(),
                plan: None,
                fingerprint: None,
                applied: false,
            })
        })
}

fn view_of_instance(instance: PullInstance) -> PullInstanceView {
    PullInstanceView {
        env: instance.env,
        stack: instance.stack,
        plan: instance.plan.map(|p| PlanView {
            add: p.add,
            change: p.change,
            destroy: p.destroy,
            preview_only: p.preview_only,
            commit: p.commit,
            run_id: p.run_id,
        }),
        applied: instance.applied,
        lock: "none",
        waiting_for: None,
        position: None,
        fingerprint: instance.fingerprint,
    }
}
