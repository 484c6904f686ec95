//! Pull requests and jobs as the server shows them (`/v1/pulls`, `/v1/jobs`), read-only.

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::ClientError;

/// A pull request (DESIGN §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullView {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: i64,
    /// Head commit.
    pub head: String,
    /// `open`, `closed` or `merged`.
    pub state: String,
    /// No job of it is queued or running.
    pub idle: bool,
    /// Its instances.
    pub instances: Vec<PullInstanceView>,
    /// Its jobs, oldest first.
    pub jobs: Vec<JobSummary>,
    /// The branch it merges into.
    pub base: String,
    /// Its author.
    pub author: String,
    /// The summary comment's id.
    pub summary_comment: Option<String>,
    /// RFC 3339.
    pub updated_at: String,
}

/// One instance of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullInstanceView {
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// Its saved plan.
    pub plan: Option<PlanView>,
    /// Whether the plan was applied.
    pub applied: bool,
    /// `held`, `queued` or `none`.
    pub lock: String,
    /// While queued: the number of the pull request it waits for.
    pub waiting_for: Option<i64>,
    /// While queued: its place in line (1 = next).
    pub position: Option<i64>,
    /// The plan's input fingerprint.
    pub fingerprint: Option<String>,
}

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A job as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    /// Job id.
    pub id: i64,
    /// What it does.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// RFC 3339.
    pub finished_at: Option<String>,
}

/// One job with its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetails {
    /// Job id.
    pub id: i64,
    /// What it does.
    pub kind: String,
    /// Its serial key.
    pub serial_key: String,
    /// Where it is.
    pub status: String,
    /// Claims so far.
    pub attempts: i64,
    /// The worker holding (or that last held) it.
    pub worker: Option<String>,
    /// What it was given.
    pub payload: serde_json::Value,
    /// Its last checkpoint.
    pub progress: Option<serde_json::Value>,
    /// Its result.
    pub result: Option<serde_json::Value>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub finished_at: Option<String>,
    /// RFC 3339.
    pub lease_until: Option<String>,
    /// The masked log.
    pub log: String,
    /// Log bytes beyond the bound, not stored.
    pub log_dropped_bytes: i64,
}

#[derive(Deserialize)]
struct Pulls {
    pulls: Vec<PullView>,
}

impl Client {
    /// Pull requests, most recently updated first, optionally of one repository.
    pub async fn pulls(&self, repo: Option<&str>) -> Result<Vec<PullView>, ClientError> {
        let query: Vec<(&str, &str)> = repo.map(|r| ("repo", r)).into_iter().collect();
        let doc: Pulls = self.get_json("/v1/pulls", &query).await?;
        Ok(doc.pulls)
    }

    /// One pull request; `None` when the server has not seen it.
    pub async fn pull(&self, repo: &str, number: i64) -> Result<Option<PullView>, ClientError> {
        self.get_optional(&format!("/v1/pulls/{repo}/{number}"))
            .await
    }

    /// One job with its masked log; `None` when there is no such job.
    pub async fn job(&self, id: i64) -> Result<Option<JobDetails>, ClientError> {
        self.get_optional(&format!("/v1/jobs/{id}")).await
    }
}
