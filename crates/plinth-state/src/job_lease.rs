//! Claiming jobs, and everything a worker does with a claimed job under its lease.
//!
//! # The resume contract
//!
//! A job runs *at least once*: a worker that dies (kill -9, a lost replica) stops renewing its
//! lease, and once the lease has expired the next `claim` on any replica takes the job over
//! with `attempts` one higher. So every job must be written to be resumed:
//!
//! - it reads [`Job::attempts`] (1 on the first claim) and [`Job::progress`] (what it last
//!   recorded with [`Store::checkpoint`]) and skips steps already done;
//! - it records each finished side effect (a comment posted with its id, a plan saved with its
//!   run id) with `checkpoint` *before* the next step, or makes the step itself idempotent
//!   (edit the comment whose id it recorded rather than post a new one);
//! - the log it appended so far is kept and the resumed attempt appends to it;
//! - every call under a lease fails with [`StateError::LeaseLost`] once another worker took
//!   the job over (or it was released or finished): the worker must then stop at once and
//!   cause no further side effects.
//!
//! A job claimed more than [`MAX_JOB_ATTEMPTS`] times (it crashes its workers) is failed
//! instead of being handed out again. Jobs never retry on their own after `finish(Failed)`.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use crate::clock::{now_ms, rfc3339};
use crate::db::DbKind;
use crate::error::StateError;
use crate::jobs::{JobStatus, MAX_JOB_LOG_BYTES, json_column};
use crate::store::Store;
use crate::text::{check_field, head, storable};

/// Claims beyond this count fail the job instead of running it again.
pub const MAX_JOB_ATTEMPTS: i64 = 5;

/// Bound on what a job records with `checkpoint`.
pub const MAX_PROGRESS_BYTES: usize = 1024 * 1024;

/// Proof that a worker holds a job: which worker and which attempt. Every call that changes a
/// claimed job takes it, so a worker whose job was taken over cannot touch it any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    /// The job.
    pub job: i64,
    /// The worker's id, as given to `claim`.
    pub worker: String,
    /// The attempt this lease belongs to (the job's `attempts` when claimed).
    pub attempt: i64,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Job id.
    pub id: i64,
    /// What the job does.
    pub kind: String,
    /// Jobs with the same key run one at a time, in order.
    pub serial_key: String,
    /// What the job was given.
    pub payload: serde_json::Value,
    /// How many times a worker claimed it, this claim included: above 1, it is a resumption.
    pub attempts: i64,
    /// What an earlier attempt recorded with `checkpoint`.
    pub progress: Option<serde_json::Value>,
    /// When it was enqueued, RFC 3339.
    pub created_at: String,
    /// The lease every later call takes.
    pub lease: Lease,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// It did its work.
    Succeeded,
    /// It failed; it is not retried.
    Failed,
}

/// An update under the lease condition every worker call repeats: this worker, this attempt,
/// still running. (SQL stays literal: sqlx refuses strings built at run time.)
macro_rules! held {
    ($set:literal) => {
        held!($set, "")
    };
    ($set:literal, $tail:literal) => {
        concat!(
            "UPDATE jobs SET ",
            $set,
            " WHERE id = $1 AND worker = $2 AND attempts = $3 AND status = 'running'",
            $tail
        )
    };
}

/// The claim, with the row-locking clause PostgreSQL needs and SQLite lacks.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = $1, \
             lease_until_ms = $2, started_ms = COALESCE(started_ms, $3), updated_ms = $3 \
             WHERE id = (SELECT j.id FROM jobs j WHERE \
               (j.status = 'queued' AND NOT EXISTS (SELECT 1 FROM jobs e \
                  WHERE e.serial_key = j.serial_key AND e.id <> j.id \
                  AND (e.status = 'running' OR (e.status = 'queued' AND e.id < j.id)))) \
               OR (j.status = 'running' AND j.lease_until_ms < $3) \
             ORDER BY j.id LIMIT 1 ",
            $lock,
            ") RETURNING id, kind, serial_key, payload, attempts, progress, created_ms"
        )
    };
}

/// Rounds of `claim` when a job of the same serial key was claimed concurrently elsewhere.
const CLAIM_ROUNDS: usize = 8;

impl Store {
    /// Hands the oldest claimable job to `worker` with a lease of `lease`, or `None` when no
    /// job is claimable. A job is claimable when it is queued and no other job of its serial key
    /// is running or older and still queued, or when it is running under a lease that expired.
    ///
    /// Each job goes to exactly one worker of any replica: on PostgreSQL the candidate row is
    /// taken with `FOR UPDATE SKIP LOCKED`, on SQLite the claim is one statement under the write
    /// gate, and on both a unique index allows one running job per serial key.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>, StateError> {
        check_field("worker id", worker, 200)?;
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let sql = match self.kind {
            DbKind::Postgres => claim_sql!("FOR UPDATE SKIP LOCKED"),
            DbKind::Sqlite => claim_sql!(""),
        };
        let mut collisions = 0;
        loop {
            let now = now_ms();
            let claimed = {
                let _gate = self.gate().await;
                sqlx::query(sql)
                    .bind(worker)
                    .bind(now.saturating_add(lease_ms))
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
            };
            let row = match claimed {
                Ok(Some(row)) => row,
                Ok(None) => return Ok(None),
                // Another replica claimed a job of the same serial key between our read and our
                // write; the index refused the second one. Look again.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    collisions += 1;
                    if collisions >= CLAIM_ROUNDS {
                        return Ok(None);
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let id: i64 = row.try_get("id")?;
            let attempts: i64 = row.try_get("attempts")?;
            let job = Job {
                id,
                kind: row.try_get("kind")?,
                serial_key: row.try_get("serial_key")?,
                payload: json_column(&row, "payload")?.unwrap_or(serde_json::Value::Null),
                attempts,
                progress: json_column(&row, "progress")?,
                created_at: rfc3339(row.try_get("created_ms")?),
                lease: Lease {
                    job: id,
                    worker: worker.to_owned(),
                    attempt: attempts,
                },
            };
            if attempts > MAX_JOB_ATTEMPTS {
                let result = serde_json::json!({
                    "error": format!(
                        "abandoned: claimed {MAX_JOB_ATTEMPTS} times without finishing \
                         (its workers died or lost their leases)"
                    )
                });
                tracing::warn!(job = id, kind = %job.kind, "job abandoned after {MAX_JOB_ATTEMPTS} attempts");
                self.finish(&job.lease, JobOutcome::Failed, &result).await?;
                continue;
            }
            return Ok(Some(job));
        }
    }

    /// Extends the lease to `lease` from now. Call it well within the lease (a third of it).
    pub async fn heartbeat(&self, lease: &Lease, duration: Duration) -> Result<(), StateError> {
        let until = now_ms().saturating_add(i64::try_from(duration.as_millis()).unwrap_or(0));
        let _gate = self.gate().await;
        let updated = sqlx::query(held!("lease_until_ms = $4, updated_ms = $5"))
            .bind(lease.job)
            .bind(&lease.worker)
            .bind(lease.attempt)
            .bind(until)
            .bind(now_ms())
            .execute(&self.pool)
            .await?
            .rows_affected();
        held(updated, lease)
    }

    /// Records how far the job got, for a later attempt to resume from (replaces the last
    /// checkpoint).
    pub async fn checkpoint(
        &self,
        lease: &Lease,
        progress: &serde_json::Value,
    ) -> Result<(), StateError> {
        let text = progress.to_string();
        if text.len() > MAX_PROGRESS_BYTES {
            return Err(StateError::BadRequest(format!(
                "job {}: the checkpoint is {} bytes; at most {MAX_PROGRESS_BYTES} are kept",
                lease.job,
                text.len()
            )));
        }
        let _gate = self.gate().await;
        let updated = sqlx::query(held!("progress = $4, updated_ms = $5"))
            .bind(lease.job)
            .bind(&lease.worker)
            .bind(lease.attempt)
            .bind(text)
            .bind(now_ms())
            .execute(&self.pool)
            .await?
            .rows_affected();
        held(updated, lease)
    }

    /// Appends already-masked text to the job's log (the store never logs it). Past
    /// [`MAX_JOB_LOG_BYTES`] the text is counted and dropped: the start of a runaway log is kept.
    pub async fn append_log(&self, lease: &Lease, text: &str) -> Result<(), StateError> {
        if text.is_empty() {
            return Ok(());
        }
        let text = storable(text);
        let n = text.len() as i64;
        let (_gate, mut tx) = self.begin_write().await?;
        let row = sqlx::query(held!(
            "log_bytes = log_bytes + $4, log_chunks = log_chunks + 1, updated_ms = $5",
            " RETURNING log_bytes, log_chunks"
        ))
        .bind(lease.job)
        .bind(&lease.worker)
        .bind(lease.attempt)
        .bind(n)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StateError::LeaseLost { job: lease.job });
        };
        let total: i64 = row.try_get("log_bytes")?;
        let seq: i64 = row.try_get("log_chunks")?;
        let room = (MAX_JOB_LOG_BYTES - (total - n)).max(0) as usize;
        let kept = head(&text, room);
        if !kept.is_empty() {
            sqlx::query("INSERT INTO job_logs (job, seq, text) VALUES ($1, $2, $3)")
                .bind(lease.job)
                .bind(seq)
                .bind(kept)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends the job with its outcome and result. A job finished once stays finished.
    pub async fn finish(
        &self,
        lease: &Lease,
        outcome: JobOutcome,
        result: &serde_json::Value,
    ) -> Result<(), StateError> {
        let status = match outcome {
            JobOutcome::Succeeded => JobStatus::Succeeded,
            JobOutcome::Failed => JobStatus::Failed,
        };
        let now = now_ms();
        let _gate = self.gate().await;
        let updated = sqlx::query(held!(
            "status = $4, result = $5, finished_ms = $6, updated_ms = $6, lease_until_ms = NULL"
        ))
        .bind(lease.job)
        .bind(&lease.worker)
        .bind(lease.attempt)
        .bind(status.as_str())
        .bind(result.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        held(updated, lease)
    }

    /// Hands the job back to the queue (graceful shutdown): the next claim, on any replica,
    /// resumes it at once instead of waiting for the lease to expire.
    pub async fn release_job(&self, lease: &Lease) -> Result<(), StateError> {
        let _gate = self.gate().await;
        let updated = sqlx::query(held!(
            "status = 'queued', worker = NULL, lease_until_ms = NULL, updated_ms = $4"
        ))
        .bind(lease.job)
        .bind(&lease.worker)
        .bind(lease.attempt)
        .bind(now_ms())
        .execute(&self.pool)
        .await?
        .rows_affected();
        held(updated, lease)
    }

    /// Hands back every job `worker` holds (a replica shutting down releases all its workers'
    /// jobs); returns how many.
    pub async fn release_worker_jobs(&self, worker: &str) -> Result<u64, StateError> {
        let _gate = self.gate().await;
        Ok(sqlx::query(
            "UPDATE jobs SET status = 'queued', worker = NULL, lease_until_ms = NULL, \
             updated_ms = $2 WHERE worker = $1 AND status = 'running'",
        )
        .bind(worker)
        .bind(now_ms())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

fn held(updated: u64, lease: &Lease) -> Result<(), StateError> {
    if updated == 1 {
        Ok(())
    } else {
        Err(StateError::LeaseLost { job: lease.job })
    }
}
