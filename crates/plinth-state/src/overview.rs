//! The dashboard's overview (`/`): a project's environments × stacks, one page of rows at a
//! time. Everything comes from `instance_summary` (see `summary`), which lists every instance
//! with its last apply and drift: per-environment totals are one aggregate over it, the stack
//! list (for filtering and paging) one grouped scan, and only the shown page's instances are
//! read in full. Locks are few, so they are read whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::dashboard::DriftBrief;
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;

/// Stacks read per query of a page's instances (bounded bind-parameter lists).
const STACKS_PER_QUERY: usize = 500;

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

/// Which part of the overview to read.
#[derive(Debug, Clone)]
pub struct OverviewQuery {
    /// The project (default: the first one the server knows).
    pub project: Option<String>,
    /// Only stacks whose id contains this text.
    pub filter: Option<String>,
    /// Only stacks with a failed or blocked apply, a drift other than in-sync, or a lock.
    pub problems: bool,
    /// The page, from 1 (past the last page: the last page).
    pub page: usize,
    /// Stacks per page (at least 1).
    pub per_page: usize,
}

/// One environment's totals over all the project's instances, whatever the filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvTotals {
    /// Environment.
    pub env: String,
    /// Instances.
    pub instances: usize,
    /// Of them, last applied with `succeeded` or `unchanged`.
    pub applied: usize,
    /// … last applied with `failed`.
    pub failed: usize,
    /// … whose latest drift check drifted.
    pub drifted: usize,
    /// … held by a state lock or a pull request.
    pub locked: usize,
}

/// One page of the overview matrix of one project.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Every project the server knows.
    pub projects: Vec<String>,
    /// The project shown (`None` when the server knows none).
    pub project: Option<String>,
    /// Per environment, by name; ephemeral copies are left out.
    pub totals: Vec<EnvTotals>,
    /// The page's instances, by stack then environment.
    pub instances: Vec<InstanceStatus>,
    /// Stacks matching the query's filters (over all pages).
    pub stacks: usize,
    /// The page shown, from 1.
    pub page: usize,
    /// Pages (at least 1).
    pub pages: usize,
    /// The names of the project's ephemeral copies (left out everywhere).
    pub copies: BTreeSet<String>,
}

type Key = (String, String);

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
    /// Every project the server knows of (from state, drift and the run history), sorted.
    pub async fn dashboard_projects(&self) -> Result<Vec<String>, StateError> {
        sqlx::query(
            "SELECT project FROM instance_summary UNION SELECT project FROM runs \
             UNION SELECT project FROM copies ORDER BY project",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get("project").map_err(StateError::from))
        .collect()
    }

    /// One page of the overview of a project.
    pub async fn dashboard_overview(&self, query: &OverviewQuery) -> Result<Overview, StateError> {
        let projects = self.dashboard_projects().await?;
        let chosen = match &query.project {
            Some(p) => Some(InstanceId::new(p, "e", "x")?.project),
            None => projects.first().cloned(),
        };
        let Some(project) = chosen else {
            return Ok(Overview {
                projects,
                page: 1,
                pages: 1,
                ..Overview::default()
            });
        };
        // Independent reads, run at once on the pool's connections.
        let q = |sql: &'static str| sqlx::query(sql).bind(project.clone()).fetch_all(&self.pool);
        let (total_rows, stack_rows, lock_rows, pull_rows, copy_rows) = tokio::try_join!(
            q("SELECT env, COUNT(*) AS n, \
               CAST(SUM(CASE WHEN apply_status IN ('succeeded', 'unchanged') THEN 1 ELSE 0 END) \
                    AS BIGINT) AS applied, \
               CAST(SUM(CASE WHEN apply_status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
               CAST(SUM(CASE WHEN drift_status = 'drifted' THEN 1 ELSE 0 END) AS BIGINT) \
                    AS drifted \
               FROM instance_summary WHERE project = $1 GROUP BY env"),
            q(
                "SELECT stack, CAST(MAX(CASE WHEN apply_status IN ('failed', 'blocked') \
                 OR drift_status IN ('drifted', 'failed') THEN 1 ELSE 0 END) AS BIGINT) AS problem \
               FROM instance_summary WHERE project = $1 \
               AND env NOT IN (SELECT name FROM copies WHERE project = $1) GROUP BY stack"
            ),
            q(
                "SELECT i.env, i.stack, l.lock_id, l.info, l.holder, l.created_ms FROM locks l \
               JOIN instances i ON i.id = l.instance WHERE i.project = $1"
            ),
            q("SELECT p.env, p.stack, p.repo, p.number, p.acquired_ms, \
               (SELECT COUNT(*) FROM pull_lock_queue q WHERE q.project = p.project \
                AND q.env = p.env AND q.stack = p.stack) AS queued, \
               CASE WHEN EXISTS (SELECT 1 FROM instance_summary s WHERE s.project = p.project \
                 AND s.stack = p.stack AND s.env = p.env) THEN 0 ELSE 1 END AS unlisted \
               FROM pull_locks p WHERE p.project = $1"),
            q("SELECT name FROM copies WHERE project = $1"),
        )?;
        let copies: BTreeSet<String> = copy_rows
            .iter()
            .map(|row| row.try_get("name"))
            .collect::<Result<_, _>>()?;

        let mut state_locks: HashMap<Key, StateLockBrief> = HashMap::new();
        for row in &lock_rows {
            let (who, operation) =
                lock_who(&row.try_get::<String, _>("info")?, row.try_get("holder")?);
            state_locks.insert(
                (row.try_get("env")?, row.try_get("stack")?),
                StateLockBrief {
                    who,
                    operation,
                    lock_id: row.try_get("lock_id")?,
                    since_ms: row.try_get("created_ms")?,
                },
            );
        }
        let mut pull_locks: HashMap<Key, PullLockBrief> = HashMap::new();
        // Pull requests may lock instances the store has no other record of.
        let mut unlisted: BTreeSet<Key> = BTreeSet::new();
        for row in &pull_rows {
            let key: Key = (row.try_get("env")?, row.try_get("stack")?);
            if row.try_get::<i64, _>("unlisted")? == 1 {
                unlisted.insert(key.clone());
            }
            pull_locks.insert(
                key,
                PullLockBrief {
                    repo: row.try_get("repo")?,
                    number: row.try_get("number")?,
                    since_ms: row.try_get("acquired_ms")?,
                    queued: row.try_get("queued")?,
                },
            );
        }
        state_locks.retain(|(env, _), _| !copies.contains(env));
        pull_locks.retain(|(env, _), _| !copies.contains(env));
        unlisted.retain(|(env, _)| !copies.contains(env));
        let locked: HashSet<&Key> = state_locks.keys().chain(pull_locks.keys()).collect();

        let totals = totals_of(&total_rows, &copies, &locked, &unlisted)?;

        // The matching stacks, sorted (BTreeMap: byte order on either database).
        let mut stacks: BTreeMap<String, bool> = BTreeMap::new();
        for row in &stack_rows {
            stacks.insert(
                row.try_get("stack")?,
                row.try_get::<i64, _>("problem")? == 1,
            );
        }
        for (_, stack) in locked.iter().copied().chain(&unlisted) {
            stacks.insert(stack.clone(), true);
        }
        let filter = query.filter.as_deref().filter(|f| !f.is_empty());
        let matching: Vec<&String> = stacks
            .iter()
            .filter(|(stack, problem)| {
                filter.is_none_or(|f| stack.contains(f)) && (!query.problems || **problem)
            })
            .map(|(stack, _)| stack)
            .collect();
        let per = query.per_page.max(1);
        let pages = matching.len().div_ceil(per).max(1);
        let page = query.page.clamp(1, pages);
        let shown: Vec<&str> = matching
            .iter()
            .skip((page - 1) * per)
            .take(per)
            .map(|s| s.as_str())
            .collect();

        // By (stack, env): the order the page shows them in.
        let mut cells: BTreeMap<Key, InstanceStatus> = BTreeMap::new();
        for chunk in shown.chunks(STACKS_PER_QUERY) {
            for row in self.summary_rows(&project, chunk).await? {
                let cell = cell_of(&row)?;
                if !copies.contains(&cell.env) {
                    cells.insert((cell.stack.clone(), cell.env.clone()), cell);
                }
            }
        }
        let on_page: HashSet<&str> = shown.iter().copied().collect();
        for (env, stack) in &unlisted {
            if on_page.contains(stack.as_str()) {
                cells.insert(
                    (stack.clone(), env.clone()),
                    InstanceStatus {
                        env: env.clone(),
                        stack: stack.clone(),
                        ..InstanceStatus::default()
                    },
                );
            }
        }
        let mut instances: Vec<InstanceStatus> = cells.into_values().collect();
        for i in &mut instances {
            let key = (i.env.clone(), i.stack.clone());
            i.state_lock = state_locks.remove(&key);
            i.pull_lock = pull_locks.remove(&key);
        }
        Ok(Overview {
            projects,
            project: Some(project),
            totals,
            instances,
            stacks: matching.len(),
            page,
            pages,
            copies,
        })
    }

    /// The summary rows of some stacks of a project, with their state version.
    async fn summary_rows(
        &self,
        project: &str,
        stacks: &[&str],
    ) -> Result<Vec<AnyRow>, StateError> {
        let list: Vec<String> = (0..stacks.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "SELECT s.env, s.stack, s.apply_run_id, s.apply_action, s.apply_status, \
             s.apply_commit, s.apply_who, s.apply_at_ms, s.drift_status, s.drift_add, \
             s.drift_change, s.drift_destroy, s.drift_checked_ms, s.drift_run_id, \
             i.current_version, i.updated_ms FROM instance_summary s \
             LEFT JOIN instances i ON i.id = s.project || '/' || s.env || '/' || s.stack \
             WHERE s.project = $1 AND s.stack IN ({})",
            list.join(", ")
        );
        // Only placeholders are formatted in; the stacks are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(project);
        for stack in stacks {
            query = query.bind(*stack);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}

fn totals_of(
    rows: &[AnyRow],
    copies: &BTreeSet<String>,
    locked: &HashSet<&Key>,
    unlisted: &BTreeSet<Key>,
) -> Result<Vec<EnvTotals>, StateError> {
    let count = |row: &AnyRow, column: &str| -> Result<usize, StateError> {
        Ok(usize::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
    };
    let mut totals: BTreeMap<String, EnvTotals> = BTreeMap::new();
    for row in rows {
        let env: String = row.try_get("env")?;
        if copies.contains(&env) {
            continue;
        }
        totals.insert(
            env.clone(),
            EnvTotals {
                env,
                instances: count(row, "n")?,
                applied: count(row, "applied")?,
                failed: count(row, "failed")?,
                drifted: count(row, "drifted")?,
                locked: 0,
            },
        );
    }
    for (env, _) in unlisted {
        totals
            .entry(env.clone())
            .or_insert_with(|| EnvTotals {
                env: env.clone(),
                ..EnvTotals::default()
            })
            .instances += 1;
    }
    for (env, _) in locked.iter().copied() {
        if let Some(t) = totals.get_mut(env) {
            t.locked += 1;
        }
    }
    Ok(totals.into_values().collect())
}

fn cell_of(row: &AnyRow) -> Result<InstanceStatus, StateError> {
    let version: Option<i64> = row.try_get("current_version")?;
    let state = match version {
        Some(version) if version > 0 => Some(StateBrief {
            version,
            updated_ms: row.try_get("updated_ms")?,
        }),
        _ => None,
    };
    let last_apply = match row.try_get::<Option<String>, _>("apply_run_id")? {
        Some(run_id) => Some(ApplyBrief {
            run_id,
            action: row.try_get("apply_action")?,
            status: row.try_get("apply_status")?,
            commit: row.try_get("apply_commit")?,
            who: row.try_get("apply_who")?,
            at_ms: row.try_get("apply_at_ms")?,
        }),
        None => None,
    };
    let drift = match row.try_get::<Option<String>, _>("drift_status")? {
        Some(status) => Some(DriftBrief {
            status,
            counts: (
                row.try_get("drift_add")?,
                row.try_get("drift_change")?,
                row.try_get("drift_destroy")?,
            ),
            checked_ms: row.try_get("drift_checked_ms")?,
            run_id: row.try_get("drift_run_id")?,
        }),
        None => None,
    };
    Ok(InstanceStatus {
        env: row.try_get("env")?,
        stack: row.try_get("stack")?,
        state,
        last_apply,
        drift,
        state_lock: None,
        pull_lock: None,
    })
}
