//! Read models of the web dashboard (`plinth-web`): one query set per page, shaped for
//! rendering, over the tables the rest of the store writes (the overview's are in `overview`).
//! Times are Unix milliseconds so the page can show ages.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;

/// An instance's latest drift check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftBrief {
    /// `in-sync`, `drifted` or `failed`.
    pub status: String,
    /// Resources to add, change, destroy.
    pub counts: (i64, i64, i64),
    /// When it was checked.
    pub checked_ms: i64,
    /// The run that checked it.
    pub run_id: Option<String>,
}

/// A run as the runs list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunListItem {
    /// The run id.
    pub run_id: String,
    /// Project.
    pub project: String,
    /// What ran.
    pub action: String,
    /// Environment.
    pub env: String,
    /// How it ended (or `running`).
    pub status: String,
    /// Who ran it.
    pub who: String,
    /// The commit run.
    pub commit: Option<String>,
    /// `cli` or `server`.
    pub source: String,
    /// Started, Unix ms.
    pub started_ms: i64,
    /// Finished, Unix ms.
    pub finished_ms: Option<i64>,
    /// Instances reported.
    pub instances: i64,
    /// Of them, failed.
    pub failed: i64,
    /// Resources to add, change, destroy over all instances.
    pub counts: (i64, i64, i64),
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only this project.
    pub project: Option<String>,
    /// Only this environment.
    pub env: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this run status.
    pub status: Option<String>,
    /// At most this many (1..=500).
    pub limit: i64,
    /// Skip this many of the newest.
    pub offset: i64,
}

/// A run that touched one instance, with that instance's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRun {
    /// The run id.
    pub run_id: String,
    /// What ran.
    pub action: String,
    /// The run's status.
    pub run_status: String,
    /// The instance's status in it.
    pub status: String,
    /// Who ran it.
    pub who: String,
    /// The commit run.
    pub commit: Option<String>,
    /// Started, Unix ms.
    pub started_ms: i64,
    /// Resources to add, change, destroy.
    pub counts: (i64, i64, i64),
    /// How long the instance took.
    pub duration_ms: i64,
}

/// A run's live progress, without logs (polled while it runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    /// The run's status.
    pub status: String,
    /// `(stack, status, duration_ms)` per instance, by stack.
    pub instances: Vec<(String, String, i64)>,
}

/// Per run: instances, failed instances, and summed add/change/destroy counts.
type RunTotals = (i64, i64, (i64, i64, i64));

impl Store {
    /// The newest runs matching `filter`, with per-run instance counts.
    pub async fn dashboard_runs(&self, filter: &RunFilter) -> Result<Vec<RunListItem>, StateError> {
        let limit = filter.limit.clamp(1, 500);
        let offset = filter.offset.max(0);
        let rows = sqlx::query(
            "SELECT id, project, action, env, status, who, commit_sha, source, started_ms, \
             finished_ms FROM runs WHERE ($1 IS NULL OR project = $1) AND ($2 IS NULL OR env = $2) \
             AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR status = $4) \
             ORDER BY started_ms DESC, id DESC LIMIT $5 OFFSET $6",
        )
        .bind(filter.project.as_deref())
        .bind(filter.env.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.status.as_deref())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<RunListItem> = rows
            .iter()
            .map(|row| {
                Ok(RunListItem {
                    run_id: row.try_get("id")?,
                    project: row.try_get("project")?,
                    action: row.try_get("action")?,
                    env: row.try_get("env")?,
                    status: row.try_get("status")?,
                    who: row.try_get("who")?,
                    commit: row.try_get("commit_sha")?,
                    source: row.try_get("source")?,
                    started_ms: row.try_get("started_ms")?,
                    finished_ms: row.try_get("finished_ms")?,
                    instances: 0,
                    failed: 0,
                    counts: (0, 0, 0),
                })
            })
            .collect::<Result<_, StateError>>()?;
        if runs.is_empty() {
            return Ok(runs);
        }
        // One aggregate over exactly the listed runs (the same filter as a subquery).
        let query = sqlx::query(
            "SELECT run_id, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             CAST(SUM(add_count) AS BIGINT) AS a, CAST(SUM(change_count) AS BIGINT) AS c, \
             CAST(SUM(destroy_count) AS BIGINT) AS d FROM run_instances WHERE run_id IN ( \
               SELECT id FROM runs WHERE ($1 IS NULL OR project = $1) \
               AND ($2 IS NULL OR env = $2) AND ($3 IS NULL OR action = $3) \
               AND ($4 IS NULL OR status = $4) ORDER BY started_ms DESC, id DESC \
               LIMIT $5 OFFSET $6) GROUP BY run_id",
        )
        .bind(filter.project.as_deref())
        .bind(filter.env.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.status.as_deref())
        .bind(limit)
        .bind(offset);
        let mut totals: HashMap<String, RunTotals> = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            totals.insert(
                row.try_get("run_id")?,
                (
                    row.try_get("n")?,
                    row.try_get("failed")?,
                    (row.try_get("a")?, row.try_get("c")?, row.try_get("d")?),
                ),
            );
        }
        for run in &mut runs {
            if let Some((n, failed, counts)) = totals.remove(&run.run_id) {
                run.instances = n;
                run.failed = failed;
                run.counts = counts;
            }
        }
        Ok(runs)
    }

    /// The newest runs that touched one instance, with its result in each.
    pub async fn instance_runs(
        &self,
        id: &InstanceId,
        limit: i64,
    ) -> Result<Vec<InstanceRun>, StateError> {
        // Driven from the environment's runs (indexed), probing run_instances by its key.
        let rows = sqlx::query(
            "SELECT r.id, r.action, r.status AS run_status, ri.status, r.who, r.commit_sha, \
             r.started_ms, ri.add_count, ri.change_count, ri.destroy_count, ri.duration_ms \
             FROM runs r JOIN run_instances ri ON ri.run_id = r.id AND ri.stack = $3 \
             WHERE r.project = $1 AND r.env = $2 ORDER BY r.started_ms DESC, r.id DESC LIMIT $4",
        )
        .bind(&id.project)
        .bind(&id.env)
        .bind(&id.stack)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(InstanceRun {
                    run_id: row.try_get("id")?,
                    action: row.try_get("action")?,
                    run_status: row.try_get("run_status")?,
                    status: row.try_get("status")?,
                    who: row.try_get("who")?,
                    commit: row.try_get("commit_sha")?,
                    started_ms: row.try_get("started_ms")?,
                    counts: (
                        row.try_get("add_count")?,
                        row.try_get("change_count")?,
                        row.try_get("destroy_count")?,
                    ),
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// One instance's latest drift check.
    pub async fn instance_drift(&self, id: &InstanceId) -> Result<Option<DriftBrief>, StateError> {
        let row = sqlx::query(
            "SELECT status, add_count, change_count, destroy_count, checked_ms, run_id FROM drift \
             WHERE project = $1 AND env = $2 AND stack = $3",
        )
        .bind(&id.project)
        .bind(&id.env)
        .bind(&id.stack)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(drift_of).transpose()
    }

    /// A run's status and its instances' statuses, without logs; `None` for an unknown run.
    pub async fn run_progress(&self, run_id: &str) -> Result<Option<RunProgress>, StateError> {
        let Some(row) = sqlx::query("SELECT status FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let instances = sqlx::query(
            "SELECT stack, status, duration_ms FROM run_instances WHERE run_id = $1 ORDER BY stack",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("stack")?,
                row.try_get("status")?,
                row.try_get("duration_ms")?,
            ))
        })
        .collect::<Result<_, StateError>>()?;
        Ok(Some(RunProgress {
            status: row.try_get("status")?,
            instances,
        }))
    }
}

fn drift_of(row: &AnyRow) -> Result<DriftBrief, StateError> {
    Ok(DriftBrief {
        status: row.try_get("status")?,
        counts: (
            row.try_get("add_count")?,
            row.try_get("change_count")?,
            row.try_get("destroy_count")?,
        ),
        checked_ms: row.try_get("checked_ms")?,
        run_id: row.try_get("run_id")?,
    })
}
