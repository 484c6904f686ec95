//! The job queue: one row per unit of server work, stored before anyone is told it exists.
//!
//! Jobs with the same `serial_key` (one pull request's jobs) run one at a time in id order;
//! different keys run in parallel on any worker of any replica. Claiming, leases and the
//! resume contract are in `job_lease`.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::store::Store;
use crate::text::{check_field, check_slug};

/// Longest serial or dedupe key accepted.
pub(crate) const MAX_KEY: usize = 500;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure (or abandoned after too many attempts).
    Failed,
}

impl JobStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StateError> {
        match text {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "succeeded" => Ok(JobStatus::Succeeded),
            "failed" => Ok(JobStatus::Failed),
            other => Err(StateError::Internal(format!(
                "unknown job status {other:?} in the database"
            ))),
        }
    }
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job with this id.
    New(i64),
    /// A job with the same dedupe key already existed; nothing was added.
    Existing(i64),
}

impl Enqueued {
    /// The job's id, new or existing.
    pub fn id(self) -> i64 {
        match self {
            Enqueued::New(id) | Enqueued::Existing(id) => id,
        }
    }
}

/// A job as listed (`jobs_of`, the pull-request view).
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    /// Job id.
    pub id: i64,
    /// What the job does (`webhook`, `plan`, `apply`, `drift`, …).
    pub kind: String,
    /// Where it is.
    pub status: JobStatus,
    /// When it was enqueued, RFC 3339.
    pub created_at: String,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// When it finished, RFC 3339.
    pub finished_at: Option<String>,
}

/// One job with everything recorded about it (`GET /v1/jobs/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct JobDetails {
    /// Job id.
    pub id: i64,
    /// What the job does.
    pub kind: String,
    /// Jobs with the same key run one at a time, in order.
    pub serial_key: String,
    /// Where it is.
    pub status: JobStatus,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// The worker holding (or that last held) it.
    pub worker: Option<String>,
    /// What the job was given.
    pub payload: serde_json::Value,
    /// What the job recorded with `checkpoint`, for a resumed attempt.
    pub progress: Option<serde_json::Value>,
    /// What `finish` recorded.
    pub result: Option<serde_json::Value>,
    /// When it was enqueued, RFC 3339.
    pub created_at: String,
    /// When a worker first claimed it.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// Until when the current worker's lease runs.
    pub lease_until: Option<String>,
    /// The masked log, as appended (at most [`MAX_JOB_LOG_BYTES`]).
    pub log: String,
    /// Log bytes offered beyond the bound and not stored.
    pub log_dropped_bytes: i64,
}

/// How many jobs wait and run (for `/metrics`), over every replica.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Waiting for a worker.
    pub queued: i64,
    /// Claimed (including leases that expired and await takeover).
    pub running: i64,
}

/// Bound on a job's stored log; later text is counted and dropped.
pub const MAX_JOB_LOG_BYTES: i64 = 1024 * 1024;

pub(crate) fn check_kind(kind: &str) -> Result<(), StateError> {
    check_slug("job kind", kind, 64)
}

impl Store {
    /// Adds a job. With a `dedupe_key`, a second enqueue with the same key (from any replica,
    /// at any later time while the first job is kept) adds nothing and returns the first id.
    pub async fn enqueue(
        &self,
        kind: &str,
        serial_key: &str,
        payload: &serde_json::Value,
        dedupe_key: Option<&str>,
    ) -> Result<Enqueued, StateError> {
        let (_gate, mut tx) = self.begin_write().await?;
        let outcome = Self::enqueue_in(&mut tx, kind, serial_key, payload, dedupe_key).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// `enqueue` inside the caller's transaction (a delivery and its job commit together).
    pub(crate) async fn enqueue_in(
        tx: &mut Transaction<'_, Any>,
        kind: &str,
        serial_key: &str,
        payload: &serde_json::Value,
        dedupe_key: Option<&str>,
    ) -> Result<Enqueued, StateError> {
        check_kind(kind)?;
        check_field("serial key", serial_key, MAX_KEY)?;
        if let Some(key) = dedupe_key {
            check_field("dedupe key", key, MAX_KEY)?;
        }
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO jobs (kind, serial_key, payload, dedupe_key, status, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(kind)
        .bind(serial_key)
        .bind(payload.to_string())
        .bind(dedupe_key)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = inserted {
            return Ok(Enqueued::New(row.try_get("id")?));
        }
        let existing = sqlx::query("SELECT id FROM jobs WHERE dedupe_key = $1")
            .bind(dedupe_key)
            .fetch_one(&mut **tx)
            .await?;
        Ok(Enqueued::Existing(existing.try_get("id")?))
    }

    /// One job with its log; `None` when no such job exists.
    pub async fn job(&self, id: i64) -> Result<Option<JobDetails>, StateError> {
        let Some(row) = sqlx::query(
            "SELECT id, kind, serial_key, status, attempts, worker, payload, progress, result, \
             created_ms, started_ms, finished_ms, lease_until_ms, log_bytes FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let chunks = sqlx::query("SELECT text FROM job_logs WHERE job = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let mut log = String::new();
        for chunk in &chunks {
            log.push_str(&chunk.try_get::<String, _>("text")?);
        }
        let offered: i64 = row.try_get("log_bytes")?;
        let optional_time = |name: &str| -> Result<Option<String>, StateError> {
            Ok(row.try_get::<Option<i64>, _>(name)?.map(rfc3339))
        };
        Ok(Some(JobDetails {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            serial_key: row.try_get("serial_key")?,
            status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
            attempts: row.try_get("attempts")?,
            worker: row.try_get("worker")?,
            payload: json_column(&row, "payload")?.unwrap_or(serde_json::Value::Null),
            progress: json_column(&row, "progress")?,
            result: json_column(&row, "result")?,
            created_at: rfc3339(row.try_get("created_ms")?),
            started_at: optional_time("started_ms")?,
            finished_at: optional_time("finished_ms")?,
            lease_until: optional_time("lease_until_ms")?,
            log_dropped_bytes: (offered - log.len() as i64).max(0),
            log,
        }))
    }

    /// Every job of a serial key, oldest first.
    pub async fn jobs_of(&self, serial_key: &str) -> Result<Vec<JobSummary>, StateError> {
        let rows = sqlx::query(
            "SELECT id, kind, status, created_ms, attempts, finished_ms FROM jobs \
             WHERE serial_key = $1 ORDER BY id",
        )
        .bind(serial_key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_of).collect()
    }

    /// Whether any job of the key is queued or running.
    pub async fn has_open_jobs(&self, serial_key: &str) -> Result<bool, StateError> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM jobs WHERE serial_key = $1 AND status IN ('queued', 'running') \
             LIMIT 1",
        )
        .bind(serial_key)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Queued and running jobs over every replica.
    pub async fn job_counts(&self) -> Result<JobCounts, StateError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') \
             GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut counts = JobCounts::default();
        for row in &rows {
            let n: i64 = row.try_get("n")?;
            match row.try_get::<String, _>("status")?.as_str() {
                "queued" => counts.queued = n,
                _ => counts.running = n,
            }
        }
        Ok(counts)
    }

    /// Deletes jobs that finished before `before_ms` (Unix ms), with their logs and the
    /// deliveries that created them; returns how many jobs went. Open jobs are never touched.
    pub async fn prune_finished_jobs(&self, before_ms: i64) -> Result<u64, StateError> {
        let (_gate, mut tx) = self.begin_write().await?;
        macro_rules! of_old_jobs {
            ($head:literal) => {
                concat!(
                    $head,
                    " IN (SELECT id FROM jobs WHERE status IN ('succeeded', 'failed') \
                     AND finished_ms < $1)"
                )
            };
        }
        sqlx::query(of_old_jobs!("DELETE FROM deliveries WHERE job"))
            .bind(before_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(of_old_jobs!("DELETE FROM job_logs WHERE job"))
            .bind(before_ms)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed') AND finished_ms < $1",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}

pub(crate) fn summary_of(row: &AnyRow) -> Result<JobSummary, StateError> {
    Ok(JobSummary {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        created_at: rfc3339(row.try_get("created_ms")?),
        attempts: row.try_get("attempts")?,
        finished_at: row.try_get::<Option<i64>, _>("finished_ms")?.map(rfc3339),
    })
}

/// A JSON text column; text that no longer parses (it always did when stored) reads as a string.
pub(crate) fn json_column(
    row: &AnyRow,
    name: &str,
) -> Result<Option<serde_json::Value>, StateError> {
    let text: Option<String> = row.try_get(name)?;
    Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t))))
}
