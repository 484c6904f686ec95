//! Webhook deliveries: stored with the job they create in one transaction, before the server
//! answers 202, and deduplicated by the forge's delivery id so a redelivery creates nothing.

use serde::Serialize;
use sqlx::Row;

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::jobs::Enqueued;
use crate::store::Store;
use crate::text::{check_field, check_json, check_slug};

/// The kind of the job every delivery creates; its payload names the delivery
/// (`{"forge", "delivery_id", "repo", "event"}`), whose body [`Store::delivery`] reads back.
pub const DELIVERY_JOB_KIND: &str = "webhook";

/// What `record_delivery` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The delivery is new; this job will handle it.
    New(i64),
    /// The forge sent this delivery id before; nothing was stored or enqueued.
    Duplicate,
}

/// A stored delivery.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// The forge block's name (or type) it came in on.
    pub forge: String,
    /// `X-GitHub-Delivery`, `X-Gitea-Delivery` or `X-Gitlab-Event-UUID`.
    pub delivery_id: String,
    /// The repository, `owner/name` (GitLab: `group/subgroup/name`).
    pub repo: String,
    /// The event name (`pull_request`, `issue_comment`, `Merge Request Hook`, …).
    pub event: String,
    /// The body as received.
    pub payload: serde_json::Value,
    /// The job it created.
    pub job: Option<i64>,
    /// When it arrived, RFC 3339.
    pub received_at: String,
}

impl Store {
    /// Stores a verified delivery and enqueues its job (kind [`DELIVERY_JOB_KIND`], under
    /// `serial_key`: the pull request's key for pull-request events) in one transaction.
    pub async fn record_delivery(
        &self,
        forge: &str,
        delivery_id: &str,
        repo: &str,
        event: &str,
        payload_json: &str,
        serial_key: &str,
    ) -> Result<Recorded, StateError> {
        check_slug("forge", forge, 100)?;
        check_field("delivery id", delivery_id, 200)?;
        crate::pulls::check_repo(repo)?;
        check_field("event", event, 100)?;
        check_json("webhook payload", payload_json)?;
        let (_gate, mut tx) = self.begin_write().await?;
        // The job first, then the delivery naming it: two statements under the write gate
        // instead of three. A redelivery's insert does nothing, and the rollback takes its
        // job back with it.
        let payload = serde_json::json!({
            "forge": forge,
            "delivery_id": delivery_id,
            "repo": repo,
            "event": event,
        });
        let job =
            match Self::enqueue_in(&mut tx, DELIVERY_JOB_KIND, serial_key, &payload, None).await? {
                Enqueued::New(id) | Enqueued::Existing(id) => id,
            };
        let inserted = sqlx::query(
            "INSERT INTO deliveries (forge, delivery_id, repo, event, payload, received_ms, job) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (forge, delivery_id) DO NOTHING",
        )
        .bind(forge)
        .bind(delivery_id)
        .bind(repo)
        .bind(event)
        .bind(payload_json)
        .bind(now_ms())
        .bind(job)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }
        tx.commit().await?;
        Ok(Recorded::New(job))
    }

    /// A stored delivery with its body (what a webhook job reads).
    pub async fn delivery(
        &self,
        forge: &str,
        delivery_id: &str,
    ) -> Result<Option<Delivery>, StateError> {
        let row = sqlx::query(
            "SELECT forge, delivery_id, repo, event, payload, job, received_ms FROM deliveries \
             WHERE forge = $1 AND delivery_id = $2",
        )
        .bind(forge)
        .bind(delivery_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(Delivery {
                forge: row.try_get("forge")?,
                delivery_id: row.try_get("delivery_id")?,
                repo: row.try_get("repo")?,
                event: row.try_get("event")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StateError::Internal(format!("stored delivery: {e}")))?,
                job: row.try_get("job")?,
                received_at: rfc3339(row.try_get("received_ms")?),
            })
        })
        .transpose()
    }
}
