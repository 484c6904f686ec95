//! The audit log: who locked, unlocked, wrote, rolled back or force-unlocked what, and when.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Monotonic id.
    pub id: i64,
    /// When, RFC 3339.
    pub at: String,
    /// Token name (or `plinth-cli` for direct database actions).
    pub actor: String,
    /// `lock`, `unlock`, `force-unlock`, `write`, `rollback`, `delete`, `token-create`, …
    pub action: String,
    /// The instance concerned, if any.
    pub instance: Option<String>,
    /// Lock id, version number, or other detail.
    pub detail: String,
}

impl Store {
    /// Records an entry inside the caller's transaction, so the action and its record commit
    /// together or not at all.
    pub(crate) async fn audit_in(
        tx: &mut Transaction<'_, Any>,
        actor: &str,
        action: &str,
        instance: Option<&InstanceId>,
        detail: &str,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, actor, action, instance, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(instance.map(InstanceId::key))
        .bind(detail)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The newest entries first, optionally for one instance.
    pub async fn audit_log(
        &self,
        instance: Option<&InstanceId>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StateError> {
        let limit = limit.clamp(1, 10_000);
        let rows = match instance {
            Some(id) => {
                sqlx::query(
                    "SELECT id, at_ms, actor, action, instance, detail FROM audit \
                     WHERE instance = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(id.key())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, at_ms, actor, action, instance, detail FROM audit \
                     ORDER BY id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: rfc3339(row.try_get("at_ms")?),
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    instance: row.try_get("instance")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
