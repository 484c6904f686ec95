//! Drift results: the latest refreshing-plan outcome of each instance (in-sync, drifted with
//! counts, or failed), from `plinth drift` runs reported to the server and the server's own
//! scheduled checks. The history of checks is the run history.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;

/// An instance's drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DriftStatus {
    /// The real infrastructure matches the state.
    #[serde(rename = "in-sync")]
    InSync,
    /// Something changed out of band.
    #[serde(rename = "drifted")]
    Drifted,
    /// The check itself failed.
    #[serde(rename = "failed")]
    Failed,
}

impl DriftStatus {
    /// `in-sync`, `drifted` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftStatus::InSync => "in-sync",
            DriftStatus::Drifted => "drifted",
            DriftStatus::Failed => "failed",
        }
    }

    /// Parses `in-sync`, `drifted` or `failed`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "in-sync" => Some(DriftStatus::InSync),
            "drifted" => Some(DriftStatus::Drifted),
            "failed" => Some(DriftStatus::Failed),
            _ => None,
        }
    }
}

/// An instance's latest drift result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftRecord {
    /// Stack id.
    pub stack: String,
    /// in-sync, drifted or failed.
    pub status: DriftStatus,
    /// Resources the refreshing plan would add.
    pub add: i64,
    /// … change.
    pub change: i64,
    /// … destroy.
    pub destroy: i64,
    /// When it was checked, RFC 3339.
    pub checked_at: String,
    /// The run that checked it.
    pub run_id: Option<String>,
}

/// Drifted instances of one environment (for `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftCount {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Instances whose latest check drifted.
    pub drifted: i64,
    /// When the environment was last checked, Unix ms.
    pub last_checked_ms: i64,
}

impl Store {
    /// Records an instance's drift result, replacing its previous one.
    pub async fn record_drift(
        &self,
        id: &InstanceId,
        status: DriftStatus,
        counts: (i64, i64, i64),
        run_id: Option<&str>,
    ) -> Result<(), StateError> {
        if counts.0 < 0 || counts.1 < 0 || counts.2 < 0 {
            return Err(StateError::BadRequest(
                "drift counts cannot be negative".into(),
            ));
        }
        let (_gate, mut tx) = self.begin_write().await?;
        Self::record_drift_in(
            &mut tx,
            &id.project,
            &id.env,
            &id.stack,
            status,
            counts,
            now_ms(),
            run_id,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_drift_in(
        tx: &mut Transaction<'_, Any>,
        project: &str,
        env: &str,
        stack: &str,
        status: DriftStatus,
        (add, change, destroy): (i64, i64, i64),
        checked_ms: i64,
        run_id: Option<&str>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO drift (project, env, stack, status, add_count, change_count, \
             destroy_count, checked_ms, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (project, env, stack) DO UPDATE SET status = excluded.status, \
             add_count = excluded.add_count, change_count = excluded.change_count, \
             destroy_count = excluded.destroy_count, checked_ms = excluded.checked_ms, \
             run_id = excluded.run_id",
        )
        .bind(project)
        .bind(env)
        .bind(stack)
        .bind(status.as_str())
        .bind(add)
        .bind(change)
        .bind(destroy)
        .bind(checked_ms)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
        Self::summarise_drift(
            tx,
            project,
            env,
            stack,
            status.as_str(),
            (add, change, destroy),
            checked_ms,
            run_id,
        )
        .await
    }

    /// The latest drift result of every checked instance of an environment, by stack.
    pub async fn latest_drift(
        &self,
        project: &str,
        env: &str,
    ) -> Result<Vec<DriftRecord>, StateError> {
        InstanceId::new(project, env, "x")?;
        let rows = sqlx::query(
            "SELECT stack, status, add_count, change_count, destroy_count, checked_ms, run_id \
             FROM drift WHERE project = $1 AND env = $2 ORDER BY stack",
        )
        .bind(project)
        .bind(env)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(DriftRecord {
                    stack: row.try_get("stack")?,
                    status: DriftStatus::parse(&status).ok_or_else(|| {
                        StateError::Internal(format!("unknown drift status {status:?}"))
                    })?,
                    add: row.try_get("add_count")?,
                    change: row.try_get("change_count")?,
                    destroy: row.try_get("destroy_count")?,
                    checked_at: rfc3339(row.try_get("checked_ms")?),
                    run_id: row.try_get("run_id")?,
                })
            })
            .collect()
    }

    /// Per checked environment: how many instances drifted, and when it was last checked.
    pub async fn drift_counts(&self) -> Result<Vec<DriftCount>, StateError> {
        let rows = sqlx::query(
            "SELECT project, env, \
             COUNT(CASE WHEN status = 'drifted' THEN 1 END) AS drifted, \
             MAX(checked_ms) AS last_checked FROM drift GROUP BY project, env \
             ORDER BY project, env",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DriftCount {
                    project: row.try_get("project")?,
                    env: row.try_get("env")?,
                    drifted: row.try_get("drifted")?,
                    last_checked_ms: row.try_get("last_checked")?,
                })
            })
            .collect()
    }
}
