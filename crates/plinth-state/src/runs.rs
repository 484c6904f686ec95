//! The team's one run history: runs reported by CLIs (`POST /v1/runs`) and by the server
//! itself, with per-instance results and masked logs. A re-post of the same run id replaces
//! the run (a CLI reports once at start and again at the end). A drift run also records each
//! instance's drift result (`drift`); every run keeps `instance_summary` current (`summary`).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::{now_ms, parse_rfc3339, rfc3339};
use crate::drift::DriftStatus;
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;
use crate::summary::Replaced;
use crate::text::{check_field, check_multiline, storable, tail};
use crate::tokens::{Actor, Scope};

macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT id, project, action, env, status, who, commit_sha, source, \
             skipped_promotion, from_plan, approved_destructive, started_ms, finished_ms, \
             recorded_by FROM runs ",
            $rest
        )
    };
}

macro_rules! select_run_instances {
    ($rest:literal) => {
        concat!(
            "SELECT stack, status, add_count, change_count, destroy_count, preview_only, \
             reason, duration_ms, log_cut",
            $rest
        )
    };
}

/// Bound on one instance's stored log; a longer log keeps its end (where the engine names the
/// error) and records how many bytes were cut.
pub const MAX_RUN_LOG_BYTES: usize = 1024 * 1024;

/// Most instances one run may report.
pub const MAX_RUN_INSTANCES: usize = 20_000;

const ACTIONS: &[&str] = &["plan", "apply", "destroy", "exec", "drift", "check"];
const RUN_STATUSES: &[&str] = &["running", "succeeded", "failed", "blocked", "interrupted"];
const INSTANCE_STATUSES: &[&str] = &[
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "blocked",
    "unchanged",
    "in-sync",
    "drifted",
];

/// Who reported a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunSource {
    /// A CLI (laptop or CI) against a `backend = "plinth"` project.
    Cli,
    /// The server's own pull-request or drift flow.
    Server,
}

impl RunSource {
    fn as_str(self) -> &'static str {
        match self {
            RunSource::Cli => "cli",
            RunSource::Server => "server",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "server" {
            RunSource::Server
        } else {
            RunSource::Cli
        }
    }
}

/// A run as reported (`POST /v1/runs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// The run id (`20261122-001502-7f3a9c`).
    pub run_id: String,
    /// Project.
    pub project: String,
    /// `plan`, `apply`, `destroy`, `exec`, `drift` or `check`.
    pub action: String,
    /// Environment (or copy).
    pub env: String,
    /// `running`, `succeeded`, `failed`, `blocked` or `interrupted`.
    pub status: String,
    /// `user@host` (default: the token's name).
    #[serde(default)]
    pub who: Option<String>,
    /// The commit run.
    #[serde(default)]
    pub commit: Option<String>,
    /// cli or server.
    pub source: RunSource,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once finished.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// For `apply --plan`: the plan run applied.
    #[serde(default)]
    pub from_plan: Option<String>,
    /// `--approve-destructive` was given.
    #[serde(default)]
    pub approved_destructive: bool,
    /// The reason given with `--skip-promotion`.
    #[serde(default)]
    pub skipped_promotion: Option<String>,
    /// Per-instance results.
    #[serde(default)]
    pub instances: Vec<RunInstanceReport>,
}

/// One instance's result as reported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInstanceReport {
    /// Stack id.
    pub stack: String,
    /// `succeeded`, `failed`, `skipped`, `blocked`, `unchanged` (drift: `in-sync`, `drifted`,
    /// `failed`; in progress: `pending`, `running`).
    pub status: String,
    /// Resources to add.
    #[serde(default)]
    pub add: i64,
    /// Resources to change.
    #[serde(default)]
    pub change: i64,
    /// Resources to destroy.
    #[serde(default)]
    pub destroy: i64,
    /// Planned with mock outputs.
    #[serde(default)]
    pub preview_only: bool,
    /// Why it failed, was skipped or blocked.
    #[serde(default)]
    pub reason: Option<String>,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: i64,
    /// Its masked log (the reporter masks; the server stores it as given and never logs it).
    #[serde(default)]
    pub log: Option<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
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
    /// Per-instance results (logs only in [`Store::run`]).
    pub instances: Vec<RunInstanceRecord>,
}

/// One instance's stored result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInstanceRecord {
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
    /// The masked log (only when one run is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Bytes cut from the start of a log longer than [`MAX_RUN_LOG_BYTES`].
    pub log_cut_bytes: i64,
}

fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<(), StateError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "unknown {what} {value:?}: use one of {}",
            allowed.join(", ")
        )))
    }
}

fn check_run_id(id: &str) -> Result<(), StateError> {
    let valid = !id.is_empty()
        && id.len() <= 100
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid run id {id:?}: use 1 to 100 letters, digits and `-`"
        )))
    }
}

fn check_report(report: &RunReport) -> Result<(i64, Option<i64>), StateError> {
    check_run_id(&report.run_id)?;
    InstanceId::new(&report.project, &report.env, "x")?;
    one_of("action", &report.action, ACTIONS)?;
    one_of("run status", &report.status, RUN_STATUSES)?;
    if let Some(c) = &report.commit {
        check_field("commit", c, 100)?;
    }
    if let Some(p) = &report.from_plan {
        check_run_id(p)?;
    }
    if let Some(r) = &report.skipped_promotion {
        check_field("skip-promotion reason", r, 2000)?;
    }
    if report.instances.len() > MAX_RUN_INSTANCES {
        return Err(StateError::BadRequest(format!(
            "the run reports {} instances; at most {MAX_RUN_INSTANCES} are accepted",
            report.instances.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for i in &report.instances {
        InstanceId::new(&report.project, &report.env, &i.stack)?;
        one_of("instance status", &i.status, INSTANCE_STATUSES)?;
        if i.add < 0 || i.change < 0 || i.destroy < 0 || i.duration_ms < 0 {
            return Err(StateError::BadRequest(format!(
                "{}: counts and durations cannot be negative",
                i.stack
            )));
        }
        if let Some(r) = &i.reason {
            check_multiline("reason", r, 4000)?;
        }
        if !seen.insert(i.stack.trim_matches('/')) {
            return Err(StateError::BadRequest(format!(
                "stack {} is reported twice in run {}",
                i.stack, report.run_id
            )));
        }
    }
    let started = parse_rfc3339("started_at", &report.started_at)?;
    let finished = report
        .finished_at
        .as_deref()
        .map(|t| parse_rfc3339("finished_at", t))
        .transpose()?;
    Ok((started, finished))
}

impl Store {
    /// Stores a reported run (write scope), replacing any earlier report of the same id; a
    /// drift run records each instance's drift too. Logs are stored as given (masked by the
    /// reporter), at most [`MAX_RUN_LOG_BYTES`] each.
    pub async fn record_run(&self, report: &RunReport, actor: &Actor) -> Result<(), StateError> {
        actor.require(Scope::Write, "reporting a run")?;
        let (started, finished) = check_report(report)?;
        let who = report.who.clone().unwrap_or_else(|| actor.name.clone());
        check_field("who", &who, 255)?;
        let (_gate, mut tx) = self.begin_write().await?;
        Self::guard_runs(&mut tx, &report.project).await?;
        let existing =
            sqlx::query("SELECT project, action, env, started_ms FROM runs WHERE id = $1")
                .bind(&report.run_id)
                .fetch_optional(&mut *tx)
                .await?;
        let mut replaced = None;
        if let Some(row) = existing {
            let project: String = row.try_get("project")?;
            if project != report.project {
                return Err(StateError::Conflict(format!(
                    "run {} belongs to project {project}, not {}",
                    report.run_id, report.project
                )));
            }
            let action: String = row.try_get("action")?;
            let stacks = if matches!(action.as_str(), "apply" | "destroy") {
                sqlx::query(
                    "SELECT stack FROM run_instances WHERE run_id = $1 \
                     AND status NOT IN ('skipped', 'pending')",
                )
                .bind(&report.run_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get("stack"))
                .collect::<Result<_, _>>()?
            } else {
                Vec::new()
            };
            replaced = Some(Replaced {
                env: row.try_get("env")?,
                started_ms: row.try_get("started_ms")?,
                stacks,
            });
            sqlx::query("DELETE FROM run_instances WHERE run_id = $1")
                .bind(&report.run_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM runs WHERE id = $1")
                .bind(&report.run_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO runs (id, project, action, env, status, who, commit_sha, source, \
             skipped_promotion, \
             from_plan, approved_destructive, started_ms, finished_ms, recorded_by, received_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&report.run_id)
        .bind(&report.project)
        .bind(&report.action)
        .bind(&report.env)
        .bind(&report.status)
        .bind(&who)
        .bind(report.commit.as_deref())
        .bind(report.source.as_str())
        .bind(report.skipped_promotion.as_deref())
        .bind(report.from_plan.as_deref())
        .bind(i64::from(report.approved_destructive))
        .bind(started)
        .bind(finished)
        .bind(&actor.name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        Self::insert_run_instances(&mut tx, report).await?;
        for i in &report.instances {
            if report.action == "drift"
                && let Some(status) = DriftStatus::parse(&i.status)
            {
                Self::record_drift_in(
                    &mut tx,
                    &report.project,
                    &report.env,
                    i.stack.trim_matches('/'),
                    status,
                    (i.add, i.change, i.destroy),
                    finished.unwrap_or(started),
                    Some(&report.run_id),
                )
                .await?;
            }
        }
        Self::summarise_run(
            &mut tx,
            report,
            &who,
            (started, finished),
            replaced.as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a report's instances a few dozen rows per statement: each statement is a round
    /// trip (on SQLite, to the connection's thread) made while the write gate is held, and a
    /// 40-instance report written row by row kept webhook deliveries waiting for it.
    async fn insert_run_instances(
        tx: &mut Transaction<'_, Any>,
        report: &RunReport,
    ) -> Result<(), StateError> {
        const COLUMNS: usize = 11;
        const ROWS: usize = 50;
        let logs: Vec<_> = report
            .instances
            .iter()
            .map(|i| storable(i.log.as_deref().unwrap_or("")))
            .collect();
        for (chunk, chunk_logs) in report.instances.chunks(ROWS).zip(logs.chunks(ROWS)) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let marks: Vec<String> = (1..=COLUMNS)
                        .map(|k| format!("${}", r * COLUMNS + k))
                        .collect();
                    format!("({})", marks.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO run_instances (run_id, stack, status, add_count, change_count, \
                 destroy_count, preview_only, reason, duration_ms, log, log_cut) VALUES {}",
                rows.join(", ")
            );
            // Only placeholders are generated; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, log) in chunk.iter().zip(chunk_logs) {
                let kept = tail(log, MAX_RUN_LOG_BYTES);
                query = query
                    .bind(&report.run_id)
                    .bind(i.stack.trim_matches('/'))
                    .bind(&i.status)
                    .bind(i.add)
                    .bind(i.change)
                    .bind(i.destroy)
                    .bind(i64::from(i.preview_only))
                    .bind(i.reason.as_deref())
                    .bind(i.duration_ms)
                    .bind(kept)
                    .bind((log.len() - kept.len()) as i64);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// One run with its instances and their logs.
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StateError> {
        check_run_id(run_id)?;
        let Some(row) = sqlx::query(select_runs!("WHERE id = $1"))
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut run = run_of(&row)?;
        let rows = sqlx::query(select_run_instances!(
            ", log FROM run_instances WHERE run_id = $1 ORDER BY stack"
        ))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let mut instance = run_instance_of(row)?;
            instance.log = Some(row.try_get("log")?);
            run.instances.push(instance);
        }
        Ok(Some(run))
    }

    /// The newest runs of a project (optionally one environment), without logs.
    pub async fn runs(
        &self,
        project: &str,
        env: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, StateError> {
        InstanceId::new(project, env.unwrap_or("e"), "x")?;
        let rows = sqlx::query(select_runs!(
            "WHERE project = $1 AND ($2 IS NULL OR env = $2) \
             ORDER BY started_ms DESC, id DESC LIMIT $3"
        ))
        .bind(project)
        .bind(env)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<RunRecord> = rows.iter().map(run_of).collect::<Result<_, _>>()?;
        // One query for every listed run's instances rather than one per run.
        let instances = sqlx::query(select_run_instances!(
            ", run_id FROM run_instances WHERE run_id IN \
             (SELECT id FROM runs WHERE project = $1 AND ($2 IS NULL OR env = $2) \
              ORDER BY started_ms DESC, id DESC LIMIT $3) ORDER BY run_id, stack"
        ))
        .bind(project)
        .bind(env)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        let mut by_run: std::collections::HashMap<String, Vec<RunInstanceRecord>> =
            std::collections::HashMap::new();
        for row in &instances {
            by_run
                .entry(row.try_get("run_id")?)
                .or_default()
                .push(run_instance_of(row)?);
        }
        for run in &mut runs {
            run.instances = by_run.remove(&run.run_id).unwrap_or_default();
        }
        Ok(runs)
    }
}

fn run_of(row: &AnyRow) -> Result<RunRecord, StateError> {
    Ok(RunRecord {
        run_id: row.try_get("id")?,
        project: row.try_get("project")?,
        action: row.try_get("action")?,
        env: row.try_get("env")?,
        status: row.try_get("status")?,
        who: row.try_get("who")?,
        commit: row.try_get("commit_sha")?,
        source: RunSource::parse(&row.try_get::<String, _>("source")?),
        started_at: rfc3339(row.try_get("started_ms")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_ms")?.map(rfc3339),
        from_plan: row.try_get("from_plan")?,
        approved_destructive: row.try_get::<i64, _>("approved_destructive")? != 0,
        skipped_promotion: row.try_get("skipped_promotion")?,
        recorded_by: row.try_get("recorded_by")?,
        instances: Vec::new(),
    })
}

fn run_instance_of(row: &AnyRow) -> Result<RunInstanceRecord, StateError> {
    Ok(RunInstanceRecord {
        stack: row.try_get("stack")?,
        status: row.try_get("status")?,
        add: row.try_get("add_count")?,
        change: row.try_get("change_count")?,
        destroy: row.try_get("destroy_count")?,
        preview_only: row.try_get::<i64, _>("preview_only")? != 0,
        reason: row.try_get("reason")?,
        duration_ms: row.try_get("duration_ms")?,
        log: None,
        log_cut_bytes: row.try_get("log_cut")?,
    })
}
