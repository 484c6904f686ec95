//! Read models of the web dashboard (`plinth-web`): one query set per page, shaped for
//! rendering, over the tables the rest of the store writes. Times are Unix milliseconds so the
//! page can show ages.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;

/// What the overview knows of one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceStatus {
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// Its current state version, if it has state.
    pub state: Option<StateBrief>,
    /// Its latest apply or destroy.
    pub last_apply: Option<ApplyBrief>,
    /// Its latest drift check.
    pub drift: Option<DriftBrief>,
    /// Terraform's state lock, if held.
    pub state_lock: Option<StateLockBrief>,
    /// The pull request holding the instance, if any.
    pub pull_lock: Option<PullLockBrief>,
}

/// The current state version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateBrief {
    /// Version number (0: deleted).
    pub version: i64,
    /// When it was written.
    pub updated_ms: i64,
}

/// An instance's latest apply or destroy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyBrief {
    /// The run.
    pub run_id: String,
    /// `apply` or `destroy`.
    pub action: String,
    /// The instance's status in that run.
    pub status: String,
    /// The commit applied.
    pub commit: Option<String>,
    /// Who ran it.
    pub who: String,
    /// When it finished (or started, while running).
    pub at_ms: i64,
}

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

/// Terraform's lock on an instance's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLockBrief {
    /// The LockInfo's `Who`, or the token name.
    pub who: String,
    /// The LockInfo's `Operation`.
    pub operation: String,
    /// The lock ID.
    pub lock_id: String,
    /// Since when.
    pub since_ms: i64,
}

/// A pull request's lock on an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullLockBrief {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: i64,
    /// Since when.
    pub since_ms: i64,
    /// Pull requests queued behind it.
    pub queued: i64,
}

/// Everything the overview matrix shows for one project.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Every project the server knows.
    pub projects: Vec<String>,
    /// The project shown (`None` when the server knows none).
    pub project: Option<String>,
    /// Its instances, by environment then stack; ephemeral copies are left out.
    pub instances: Vec<InstanceStatus>,
    /// The names of the project's ephemeral copies (left out of `instances`).
    pub copies: BTreeSet<String>,
}

/// Changes whenever a run of the project is recorded, replaced or removed: a cache of
/// [`Store::last_applies`] keyed by it is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunsStamp {
    /// Runs of the project.
    pub count: i64,
    /// The newest `received` time among them (a re-post gets a new one).
    pub newest_ms: i64,
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

fn lock_who(info: &str, token: String) -> (String, String) {
    let info: serde_json::Value = serde_json::from_str(info).unwrap_or(serde_json::Value::Null);
    let field = |name: &str| {
        info.get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    (
        field("Who").unwrap_or(token),
        field("Operation").unwrap_or_default(),
    )
}

impl Store {
    /// Every project the server knows of (from state and from the run history), sorted.
    pub async fn dashboard_projects(&self) -> Result<Vec<String>, StateError> {
        sqlx::query(
            "SELECT project FROM instances UNION SELECT project FROM runs \
             UNION SELECT project FROM copies ORDER BY project",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get("project").map_err(StateError::from))
        .collect()
    }

    /// The overview of `project` (default: the first project the server knows), without the
    /// last applies (see [`Store::last_applies`]).
    pub async fn dashboard_overview(&self, project: Option<&str>) -> Result<Overview, StateError> {
        let projects = self.dashboard_projects().await?;
        let chosen = match project {
            Some(p) => Some(InstanceId::new(p, "e", "x")?.project),
            None => projects.first().cloned(),
        };
        let Some(project) = chosen else {
            return Ok(Overview {
                projects,
                ..Overview::default()
            });
        };
        // Independent reads, run at once on the pool's connections.
        let q = |sql: &'static str| sqlx::query(sql).bind(project.clone()).fetch_all(&self.pool);
        let (instance_rows, drift_rows, lock_rows, queue_rows, pull_rows, copy_rows) = tokio::try_join!(
            q("SELECT env, stack, current_version, updated_ms FROM instances WHERE project = $1"),
            q(
                "SELECT env, stack, status, add_count, change_count, destroy_count, checked_ms, \
             run_id FROM drift WHERE project = $1"
            ),
            q(
                "SELECT i.env, i.stack, l.lock_id, l.info, l.holder, l.created_ms FROM locks l \
             JOIN instances i ON i.id = l.instance WHERE i.project = $1"
            ),
            q(
                "SELECT env, stack, COUNT(*) AS n FROM pull_lock_queue WHERE project = $1 \
             GROUP BY env, stack"
            ),
            q("SELECT env, stack, repo, number, acquired_ms FROM pull_locks WHERE project = $1"),
            q("SELECT name FROM copies WHERE project = $1"),
        )?;
        let mut cells: BTreeMap<(String, String), InstanceStatus> = BTreeMap::new();
        let rows = instance_rows;
        for row in &rows {
            let version: i64 = row.try_get("current_version")?;
            let c = cell_of(&mut cells, row.try_get("env")?, row.try_get("stack")?);
            if version > 0 {
                c.state = Some(StateBrief {
                    version,
                    updated_ms: row.try_get("updated_ms")?,
                });
            }
        }

        let rows = drift_rows;
        for row in &rows {
            let c = cell_of(&mut cells, row.try_get("env")?, row.try_get("stack")?);
            c.drift = Some(drift_of(row)?);
        }

        let rows = lock_rows;
        for row in &rows {
            let (who, operation) =
                lock_who(&row.try_get::<String, _>("info")?, row.try_get("holder")?);
            let c = cell_of(&mut cells, row.try_get("env")?, row.try_get("stack")?);
            c.state_lock = Some(StateLockBrief {
                who,
                operation,
                lock_id: row.try_get("lock_id")?,
                since_ms: row.try_get("created_ms")?,
            });
        }

        let queued: HashMap<(String, String), i64> = queue_rows
            .iter()
            .map(|row| {
                Ok((
                    (row.try_get("env")?, row.try_get("stack")?),
                    row.try_get("n")?,
                ))
            })
            .collect::<Result<_, StateError>>()?;
        let rows = pull_rows;
        for row in &rows {
            let key: (String, String) = (row.try_get("env")?, row.try_get("stack")?);
            let n = queued.get(&key).copied().unwrap_or(0);
            let c = cell_of(&mut cells, key.0, key.1);
            c.pull_lock = Some(PullLockBrief {
                repo: row.try_get("repo")?,
                number: row.try_get("number")?,
                since_ms: row.try_get("acquired_ms")?,
                queued: n,
            });
        }

        let copies: BTreeSet<String> = copy_rows
            .iter()
            .map(|row| row.try_get("name"))
            .collect::<Result<_, _>>()?;
        let instances = cells
            .into_values()
            .filter(|c| !copies.contains(&c.env))
            .collect();
        Ok(Overview {
            projects,
            project: Some(project),
            instances,
            copies,
        })
    }

    /// The project's [`RunsStamp`].
    pub async fn runs_stamp(&self, project: &str) -> Result<RunsStamp, StateError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(received_ms), 0) AS newest FROM runs \
             WHERE project = $1",
        )
        .bind(project)
        .fetch_one(&self.pool)
        .await?;
        Ok(RunsStamp {
            count: row.try_get("n")?,
            newest_ms: row.try_get("newest")?,
        })
    }

    /// The newest apply or destroy of each instance of the project, by `(env, stack)`. It
    /// reads the whole apply history, so callers cache it under [`Store::runs_stamp`].
    pub async fn last_applies(
        &self,
        project: &str,
    ) -> Result<HashMap<(String, String), ApplyBrief>, StateError> {
        let mut out = HashMap::new();
        // The newest apply or destroy of each instance, chosen in the database: a history of
        // tens of thousands of runs stays there instead of crossing into the process.
        let rows = sqlx::query(
            "SELECT env, stack, status, commit_sha, who, at_ms, run_id, action FROM ( \
               SELECT r.env, ri.stack, ri.status, r.commit_sha, r.who, \
                      COALESCE(r.finished_ms, r.started_ms) AS at_ms, r.id AS run_id, r.action, \
                      ROW_NUMBER() OVER (PARTITION BY r.env, ri.stack \
                                         ORDER BY r.started_ms DESC, r.id DESC) AS rn \
               FROM runs r JOIN run_instances ri ON ri.run_id = r.id \
               WHERE r.project = $1 AND r.action IN ('apply', 'destroy') \
                 AND ri.status NOT IN ('skipped', 'pending') \
             ) latest WHERE rn = 1",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            out.insert(
                (row.try_get("env")?, row.try_get("stack")?),
                ApplyBrief {
                    run_id: row.try_get("run_id")?,
                    action: row.try_get("action")?,
                    status: row.try_get("status")?,
                    commit: row.try_get("commit_sha")?,
                    who: row.try_get("who")?,
                    at_ms: row.try_get("at_ms")?,
                },
            );
        }

        Ok(out)
    }

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

fn cell_of(
    cells: &mut BTreeMap<(String, String), InstanceStatus>,
    env: String,
    stack: String,
) -> &mut InstanceStatus {
    cells
        .entry((env.clone(), stack.clone()))
        .or_insert_with(|| InstanceStatus {
            env,
            stack,
            ..InstanceStatus::default()
        })
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
