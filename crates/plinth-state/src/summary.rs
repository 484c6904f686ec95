//! Keeping `instance_summary` (migration 0101) current: each instance's newest apply or
//! destroy and its latest drift check, written in the same transaction as the run or drift
//! result that changes them, so the overview reads one indexed table instead of aggregating
//! the run history on every render.
//!
//! The apply columns always equal what an aggregate over the whole history would give (the
//! newest qualifying result by `(started_ms, run id)`): a new result wins only when it is
//! newer, so runs recorded out of order keep the newest; a re-post that withdraws or backdates
//! the result the summary shows recomputes that instance from the history.

use std::collections::HashSet;

use sqlx::{Any, Transaction};

use crate::error::StateError;
use crate::runs::RunReport;
use crate::store::Store;

/// A run as it was before a re-post replaced it.
pub(crate) struct Replaced {
    /// Its environment.
    pub env: String,
    /// When it started.
    pub started_ms: i64,
    /// The stacks it counted as applied (empty unless it was an apply or destroy): the only
    /// instances whose summary can show it.
    pub stacks: Vec<String>,
}

/// A result that can be an instance's last apply: an apply or destroy that got past
/// `pending` and was not skipped.
fn counts_as_apply(action: &str, status: &str) -> bool {
    matches!(action, "apply" | "destroy") && !matches!(status, "skipped" | "pending")
}

impl Store {
    /// Serialises run recordings of one project (taken first in `record_run`'s transaction).
    pub(crate) async fn guard_runs(
        tx: &mut Transaction<'_, Any>,
        project: &str,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO runs_guard (project, version) VALUES ($1, 1) \
             ON CONFLICT (project) DO UPDATE SET version = runs_guard.version + 1",
        )
        .bind(project)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Gives a new instance its (empty) summary row.
    pub(crate) async fn summarise_instance(
        tx: &mut Transaction<'_, Any>,
        project: &str,
        env: &str,
        stack: &str,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO instance_summary (project, stack, env) VALUES ($1, $2, $3) \
             ON CONFLICT (project, stack, env) DO NOTHING",
        )
        .bind(project)
        .bind(stack)
        .bind(env)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Mirrors an instance's new drift result (the latest recorded replaces the previous one,
    /// as in `drift`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn summarise_drift(
        tx: &mut Transaction<'_, Any>,
        project: &str,
        env: &str,
        stack: &str,
        status: &str,
        (add, change, destroy): (i64, i64, i64),
        checked_ms: i64,
        run_id: Option<&str>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO instance_summary (project, stack, env, drift_status, drift_add, \
             drift_change, drift_destroy, drift_checked_ms, drift_run_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (project, stack, env) DO UPDATE SET \
             drift_status = excluded.drift_status, drift_add = excluded.drift_add, \
             drift_change = excluded.drift_change, drift_destroy = excluded.drift_destroy, \
             drift_checked_ms = excluded.drift_checked_ms, drift_run_id = excluded.drift_run_id",
        )
        .bind(project)
        .bind(stack)
        .bind(env)
        .bind(status)
        .bind(add)
        .bind(change)
        .bind(destroy)
        .bind(checked_ms)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Brings the apply columns up to date after `report` was stored (replacing `replaced`).
    pub(crate) async fn summarise_run(
        tx: &mut Transaction<'_, Any>,
        report: &RunReport,
        who: &str,
        (started, finished): (i64, Option<i64>),
        replaced: Option<&Replaced>,
    ) -> Result<(), StateError> {
        let mut current = HashSet::new();
        for i in &report.instances {
            if !counts_as_apply(&report.action, &i.status) {
                continue;
            }
            let stack = i.stack.trim_matches('/');
            current.insert(stack);
            // Newer by (started, run id) wins; the run's own earlier report is always
            // overwritten (and recomputed below if it moved back in time).
            sqlx::query(
                "INSERT INTO instance_summary (project, stack, env, apply_run_id, apply_action, \
                 apply_status, apply_commit, apply_who, apply_started_ms, apply_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (project, stack, env) DO UPDATE SET \
                 apply_run_id = excluded.apply_run_id, apply_action = excluded.apply_action, \
                 apply_status = excluded.apply_status, apply_commit = excluded.apply_commit, \
                 apply_who = excluded.apply_who, apply_started_ms = excluded.apply_started_ms, \
                 apply_at_ms = excluded.apply_at_ms \
                 WHERE instance_summary.apply_run_id IS NULL \
                 OR instance_summary.apply_run_id = excluded.apply_run_id \
                 OR instance_summary.apply_started_ms < excluded.apply_started_ms \
                 OR (instance_summary.apply_started_ms = excluded.apply_started_ms \
                     AND instance_summary.apply_run_id < excluded.apply_run_id)",
            )
            .bind(&report.project)
            .bind(stack)
            .bind(&report.env)
            .bind(&report.run_id)
            .bind(&report.action)
            .bind(&i.status)
            .bind(report.commit.as_deref())
            .bind(who)
            .bind(started)
            .bind(finished.unwrap_or(started))
            .execute(&mut **tx)
            .await?;
        }
        let Some(old) = replaced else {
            return Ok(());
        };
        // Where the earlier report is still the newest result, the new one (same run, same
        // environment, not earlier) is too and has just been written. Everywhere else the
        // earlier report may be what the summary shows and no longer true.
        let still_newest = old.env == report.env && started >= old.started_ms;
        for stack in &old.stacks {
            if still_newest && current.contains(stack.as_str()) {
                continue;
            }
            Self::recompute_apply(tx, &report.project, &old.env, stack, &report.run_id).await?;
        }
        Ok(())
    }

    /// Recomputes one instance's last apply from the history if the summary shows `run_id`,
    /// and drops a row left with nothing to show for an instance that has no state row.
    async fn recompute_apply(
        tx: &mut Transaction<'_, Any>,
        project: &str,
        env: &str,
        stack: &str,
        run_id: &str,
    ) -> Result<(), StateError> {
        let updated = sqlx::query(
            "UPDATE instance_summary SET (apply_run_id, apply_action, apply_status, \
             apply_commit, apply_who, apply_started_ms, apply_at_ms) = ( \
               SELECT r.id, r.action, ri.status, r.commit_sha, r.who, r.started_ms, \
                      COALESCE(r.finished_ms, r.started_ms) \
               FROM runs r JOIN run_instances ri ON ri.run_id = r.id AND ri.stack = $2 \
               WHERE r.project = $1 AND r.env = $3 AND r.action IN ('apply', 'destroy') \
                 AND ri.status NOT IN ('skipped', 'pending') \
               ORDER BY r.started_ms DESC, r.id DESC LIMIT 1) \
             WHERE project = $1 AND stack = $2 AND env = $3 AND apply_run_id = $4",
        )
        .bind(project)
        .bind(stack)
        .bind(env)
        .bind(run_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if updated > 0 {
            sqlx::query(
                "DELETE FROM instance_summary WHERE project = $1 AND stack = $2 AND env = $3 \
                 AND apply_run_id IS NULL AND drift_status IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM instances WHERE id = $4)",
            )
            .bind(project)
            .bind(stack)
            .bind(env)
            .bind(format!("{project}/{env}/{stack}"))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
