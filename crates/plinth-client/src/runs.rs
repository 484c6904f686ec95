//! The shared run history (`/v1/runs`) and drift results (`/v1/drift`).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::ClientError;

/// Who reported a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunSource {
    /// A CLI (laptop or CI).
    Cli,
    /// The server's own flows.
    Server,
}

/// A run to report. Report it when it starts (`status: running`) and again when it ends: the
/// second report replaces the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The run id.
    pub run_id: String,
    /// Project.
    pub project: String,
    /// `plan`, `apply`, `destroy`, `exec`, `drift` or `check`.
    pub action: String,
    /// Environment (or copy).
    pub env: String,
    /// `running`, `succeeded`, `failed`, `blocked` or `interrupted`.
    pub status: String,
    /// `user@host` (`None`: the token's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// The commit run.
    pub commit: Option<String>,
    /// cli or server.
    pub source: RunSource,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: Option<String>,
    /// For `apply --plan`: the plan run applied.
    pub from_plan: Option<String>,
    /// `--approve-destructive` was given.
    pub approved_destructive: bool,
    /// The reason given with `--skip-promotion`.
    pub skipped_promotion: Option<String>,
    /// Per-instance results.
    pub instances: Vec<RunInstanceReport>,
}

/// One instance's result to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInstanceReport {
    /// Stack id.
    pub stack: String,
    /// `succeeded`, `failed`, `skipped`, `blocked`, `unchanged`; drift: `in-sync`, `drifted`,
    /// `failed`.
    pub status: String,
    /// Resources to add.
    pub add: i64,
    /// Resources to change.
    pub change: i64,
    /// Resources to destroy.
    pub destroy: i64,
    /// Planned with mock outputs.
    pub preview_only: bool,
    /// Why it failed, was skipped or blocked.
    pub reason: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Its log, already masked (the server stores it as given, keeping the last MiB).
    pub log: Option<String>,
}

/// A run as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id.
    pub run_id: String,
    /// Project.
    pub project: String,
    /// What ran.
    pub action: String,
    /// Environment.
    pub env: String,
    /// How it ended.
    pub status: String,
    /// Who ran it.
    pub who: String,
    /// The commit run.
    pub commit: Option<String>,
    /// cli or server.
    pub source: RunSource,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: Option<String>,
    /// For `apply --plan`: the plan run applied.
    pub from_plan: Option<String>,
    /// `--approve-destructive` was given.
    pub approved_destructive: bool,
    /// The reason given with `--skip-promotion`.
    pub skipped_promotion: Option<String>,
    /// The token that reported it.
    pub recorded_by: String,
    /// Per-instance results.
    pub instances: Vec<RunInstance>,
}

/// One instance's stored result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInstance {
    /// Stack id.
    pub stack: String,
    /// Its status.
    pub status: String,
    /// Resources to add.
    pub add: i64,
    /// Resources to change.
    pub change: i64,
    /// Resources to destroy.
    pub destroy: i64,
    /// Planned with mock outputs.
    pub preview_only: bool,
    /// Why it failed, was skipped or blocked.
    pub reason: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// The masked log (only from [`Client::run`]).
    #[serde(default)]
    pub log: Option<String>,
    /// Bytes cut from the start of an over-long log.
    pub log_cut_bytes: i64,
}

/// An instance's latest drift result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRecord {
    /// Stack id.
    pub stack: String,
    /// `in-sync`, `drifted` or `failed`.
    pub status: String,
    /// Resources to add.
    pub add: i64,
    /// Resources to change.
    pub change: i64,
    /// Resources to destroy.
    pub destroy: i64,
    /// RFC 3339.
    pub checked_at: String,
    /// The run that checked it.
    pub run_id: Option<String>,
}

#[derive(Deserialize)]
struct Runs {
    runs: Vec<RunRecord>,
}

#[derive(Deserialize)]
struct Drift {
    instances: Vec<DriftRecord>,
}

impl Client {
    /// Reports a run (write token); re-reporting a run id replaces it.
    pub async fn report_run(&self, report: &RunReport) -> Result<(), ClientError> {
        self.send(self.request(Method::POST, "/v1/runs").json(report))
            .await
            .map(|_| ())
    }

    /// The newest runs of a project (optionally one environment), without logs.
    pub async fn runs(
        &self,
        project: &str,
        env: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Vec<RunRecord>, ClientError> {
        let limit = limit.map(|l| l.to_string());
        let mut query = vec![("project", project)];
        if let Some(env) = env {
            query.push(("env", env));
        }
        if let Some(limit) = &limit {
            query.push(("limit", limit));
        }
        let doc: Runs = self.get_json("/v1/runs", &query).await?;
        Ok(doc.runs)
    }

    /// One run with its instances' logs; `None` when the server has no such run.
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, ClientError> {
        self.get_optional(&format!("/v1/runs/{run_id}")).await
    }

    /// The latest drift result of each checked instance of an environment.
    pub async fn drift(&self, project: &str, env: &str) -> Result<Vec<DriftRecord>, ClientError> {
        let doc: Drift = self
            .get_json("/v1/drift", &[("project", project), ("env", env)])
            .await?;
        Ok(doc.instances)
    }
}
