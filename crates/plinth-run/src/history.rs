//! Run history in `.plinth/plinth.db` (SQLite, WAL): runs and their instances.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::report::{InstanceReport, InstanceStatus, RunReport};

/// An instance's latest drift check.
#[derive(Debug, Clone, Serialize)]
pub struct DriftResult {
    /// `in-sync`, `drifted` or `failed`.
    pub status: String,
    /// Resources the code would create again.
    pub add: u32,
    /// Resources changed outside Terraform.
    pub change: u32,
    /// Resources the code would destroy.
    pub destroy: u32,
    /// The drift run.
    pub run_id: String,
    /// When it ran.
    pub at: String,
}

/// A drift run's instance status as drift reports it: unchanged is `in-sync`, a plan with
/// changes is `drifted`, anything else `failed`.
pub fn drift_status(instance_status: &str) -> &'static str {
    match instance_status {
        "unchanged" => "in-sync",
        "succeeded" => "drifted",
        _ => "failed",
    }
}

/// What is known of a run when it starts.
#[derive(Debug, Clone, Copy)]
pub struct RunStart<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// `plan`, `apply`, `destroy`, `exec`.
    pub action: &'a str,
    /// Environment (or copy).
    pub env: &'a str,
    /// `user@host`.
    pub who: &'a str,
    /// For `apply --plan`: the plan run applied.
    pub from_plan: Option<&'a str>,
    /// `--approve-destructive`.
    pub approved_destructive: bool,
    /// The commit of the work tree.
    pub commit: Option<&'a str>,
    /// `--skip-promotion --reason`, when the promotion gate was overridden.
    pub skipped_promotion: Option<&'a str>,
}

/// The history database.
#[derive(Clone)]
pub struct History {
    pub(crate) pool: SqlitePool,
}

/// A run as listed by `plinth runs`.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// `plan`, `apply`, `destroy`.
    pub action: String,
    /// Environment.
    pub env: String,
    /// `running`, `succeeded`, `failed`, `blocked`.
    pub status: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time.
    pub finished_at: Option<String>,
    /// `user@host`.
    pub who: String,
    /// For `apply --plan`: the plan run applied.
    pub from_plan: Option<String>,
    /// Whether `--approve-destructive` was given.
    pub approved_destructive: bool,
    /// The commit of the work tree.
    pub commit: Option<String>,
    /// The reason given with `--skip-promotion`, when the promotion gate was overridden.
    pub skipped_promotion: Option<String>,
    /// Number of instances.
    pub instances: i64,
}

/// The latest run an instance took part in.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    /// `plan`, `apply`, `destroy`.
    pub action: String,
    /// The instance's status in that run.
    pub status: String,
    /// The run.
    pub run_id: String,
    /// When the run started.
    pub at: String,
}

/// The schema the statements of `open` make (this module's, copies', promotions', rotations',
/// policy approvals' tables and the added columns), kept in SQLite's `user_version`: raise it
/// whenever one of them changes.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    env TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    who TEXT NOT NULL,
    from_plan TEXT,
    approved_destructive INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS run_instances (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    position INTEGER NOT NULL,
    stack TEXT NOT NULL,
    status TEXT NOT NULL,
    add_count INTEGER NOT NULL,
    change_count INTEGER NOT NULL,
    destroy_count INTEGER NOT NULL,
    preview_only INTEGER NOT NULL,
    reason TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, stack)
);
CREATE INDEX IF NOT EXISTS runs_by_env ON runs(env, started_at);
CREATE TABLE IF NOT EXISTS run_hooks (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    position INTEGER NOT NULL,
    stack TEXT,
    phase TEXT NOT NULL,
    command TEXT NOT NULL,
    exit_code INTEGER,
    timed_out INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
);
";

impl History {
    /// Opens (creating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<History, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Two plinth processes on two environments share this file.
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot open run history {}: {e}", path.display()))?;
        // A history already at this schema skips the statements below: the server opens one
        // per pull request for every run, where they cost more than the run's own records.
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("run history schema: {e}"))?;
        if version == SCHEMA_VERSION {
            return Ok(History { pool });
        }
        for schema in [
            SCHEMA,
            crate::copies::SCHEMA,
            crate::promotion::SCHEMA,
            crate::secret_admin::SCHEMA,
            crate::policy_approval::SCHEMA,
        ] {
            sqlx::raw_sql(schema)
                .execute(&pool)
                .await
                .map_err(|e| format!("run history schema: {e}"))?;
        }
        // Columns added after the first release: a history made by an older plinth gains them.
        let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info('runs')")
            .fetch_all(&pool)
            .await
            .map_err(|e| format!("run history schema: {e}"))?
            .iter()
            .map(|r| r.get("name"))
            .collect();
        for (column, add) in [
            ("commit_sha", "ALTER TABLE runs ADD COLUMN commit_sha TEXT"),
            (
                "skipped_promotion",
                "ALTER TABLE runs ADD COLUMN skipped_promotion TEXT",
            ),
        ] {
            if !columns.iter().any(|c| c == column) {
                // Two plinth processes may both find the column missing; the second one's
                // ALTER then finds it there, which is what it wanted.
                if let Err(e) = sqlx::raw_sql(add).execute(&pool).await
                    && !e.to_string().contains("duplicate column")
                {
                    return Err(format!("run history schema: {e}"));
                }
            }
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA user_version = {SCHEMA_VERSION}"
        )))
        .execute(&pool)
        .await
        .map_err(|e| format!("run history schema: {e}"))?;
        Ok(History { pool })
    }

    /// Records the start of a run.
    pub async fn start(&self, run: &RunStart<'_>) -> Result<(), String> {
        sqlx::query(
            "INSERT INTO runs (run_id, action, env, status, started_at, who, from_plan, approved_destructive, commit_sha, skipped_promotion)
             VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
        )
        .bind(run.run_id)
        .bind(run.action)
        .bind(run.env)
        .bind(now())
        .bind(run.who)
        .bind(run.from_plan)
        .bind(run.approved_destructive)
        .bind(run.commit)
        .bind(run.skipped_promotion)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("run history: {e}"))
    }

    /// Records the end of a run with every instance's outcome.
    pub async fn finish(&self, report: &RunReport) -> Result<(), String> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| format!("run history: {e}"))?;
        for (i, r) in report.instances.iter().enumerate() {
            sqlx::query(
                "INSERT OR REPLACE INTO run_instances
                 (run_id, position, stack, status, add_count, change_count, destroy_count, preview_only, reason, duration_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&report.run_id)
            .bind(i as i64)
            .bind(&r.stack)
            .bind(r.status.as_str())
            .bind(r.add as i64)
            .bind(r.change as i64)
            .bind(r.destroy as i64)
            .bind(r.preview_only)
            .bind(&r.reason)
            .bind(r.duration_ms as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("run history: {e}"))?;
        }
        let hooks = report
            .instances
            .iter()
            .flat_map(|i| i.hooks.iter())
            .chain(report.hooks.iter());
        for (position, h) in hooks.enumerate() {
            sqlx::query(
                "INSERT OR REPLACE INTO run_hooks
                 (run_id, position, stack, phase, command, exit_code, timed_out, duration_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&report.run_id)
            .bind(position as i64)
            .bind(&h.stack)
            .bind(h.phase.as_str())
            .bind(&h.command)
            .bind(h.exit_code)
            .bind(h.timed_out)
            .bind(h.duration_ms as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("run history: {e}"))?;
        }
        sqlx::query("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?")
            .bind(report.status.as_str())
            .bind(now())
            .bind(&report.run_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("run history: {e}"))?;
        tx.commit().await.map_err(|e| format!("run history: {e}"))
    }

    /// The latest runs, newest first.
    pub async fn list(&self, limit: i64) -> Result<Vec<RunRow>, String> {
        let rows = sqlx::query(
            "SELECT r.run_id, r.action, r.env, r.status, r.started_at, r.finished_at, r.who, r.from_plan,
                    r.approved_destructive, r.commit_sha, r.skipped_promotion, (SELECT COUNT(*) FROM run_instances i WHERE i.run_id = r.run_id) AS n
             FROM runs r ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        Ok(rows.iter().map(run_row).collect())
    }

    /// The latest outcome of every instance that ever ran (skipped ones do not count), keyed
    /// by `(env, stack)`.
    pub async fn latest(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), LastRun>, String> {
        let rows = sqlx::query(
            "SELECT r.env, i.stack, r.action, i.status, r.run_id, r.started_at
             FROM run_instances i JOIN runs r ON r.run_id = i.run_id
             WHERE i.status != 'skipped'
             ORDER BY r.started_at, r.run_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let key = (r.get::<String, _>("env"), r.get::<String, _>("stack"));
                let last = LastRun {
                    action: r.get("action"),
                    status: r.get("status"),
                    run_id: r.get("run_id"),
                    at: r.get("started_at"),
                };
                (key, last)
            })
            .collect())
    }

    /// The latest drift check of every instance that had one, keyed by `(env, stack)`.
    pub async fn latest_drift(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), DriftResult>, String> {
        let rows = sqlx::query(
            "SELECT r.env, i.stack, i.status, i.add_count, i.change_count, i.destroy_count, r.run_id, r.started_at
             FROM run_instances i JOIN runs r ON r.run_id = i.run_id
             WHERE r.action = 'drift' AND i.status != 'skipped'
             ORDER BY r.started_at, r.run_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let key = (r.get::<String, _>("env"), r.get::<String, _>("stack"));
                let result = DriftResult {
                    status: drift_status(r.get("status")).to_string(),
                    add: r.get::<i64, _>("add_count") as u32,
                    change: r.get::<i64, _>("change_count") as u32,
                    destroy: r.get::<i64, _>("destroy_count") as u32,
                    run_id: r.get("run_id"),
                    at: r.get("started_at"),
                };
                (key, result)
            })
            .collect())
    }

    /// The hooks that ran in a run, in order.
    pub async fn hooks(&self, run_id: &str) -> Result<Vec<crate::hooks::HookReport>, String> {
        let rows = sqlx::query(
            "SELECT stack, phase, command, exit_code, timed_out, duration_ms
             FROM run_hooks WHERE run_id = ? ORDER BY position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| crate::hooks::HookReport {
                stack: r.get("stack"),
                phase: match r.get::<&str, _>("phase") {
                    "before_plan" => crate::hooks::HookPhase::BeforePlan,
                    "after_destroy" => crate::hooks::HookPhase::AfterDestroy,
                    _ => crate::hooks::HookPhase::AfterApply,
                },
                command: r.get("command"),
                exit_code: r.get("exit_code"),
                timed_out: r.get("timed_out"),
                duration_ms: r.get::<i64, _>("duration_ms") as u64,
                tail: Vec::new(),
            })
            .collect())
    }

    /// One run and its instances.
    pub async fn get(&self, run_id: &str) -> Result<Option<(RunRow, Vec<InstanceReport>)>, String> {
        let row = sqlx::query(
            "SELECT r.run_id, r.action, r.env, r.status, r.started_at, r.finished_at, r.who, r.from_plan,
                    r.approved_destructive, r.commit_sha, r.skipped_promotion, (SELECT COUNT(*) FROM run_instances i WHERE i.run_id = r.run_id) AS n
             FROM runs r WHERE r.run_id = ?",
        )
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        let Some(row) = row else { return Ok(None) };
        let instances = sqlx::query(
            "SELECT stack, status, add_count, change_count, destroy_count, preview_only, reason, duration_ms
             FROM run_instances WHERE run_id = ? ORDER BY position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?
        .iter()
        .map(|r| InstanceReport {
            stack: r.get("stack"),
            status: InstanceStatus::parse(r.get::<&str, _>("status")).unwrap_or(InstanceStatus::Failed),
            add: r.get::<i64, _>("add_count") as u32,
            change: r.get::<i64, _>("change_count") as u32,
            destroy: r.get::<i64, _>("destroy_count") as u32,
            preview_only: r.get("preview_only"),
            reason: r.get("reason"),
            duration_ms: r.get::<i64, _>("duration_ms") as u64,
            log: None,
            hooks: Vec::new(),
            exit_code: None,
            replan: false,
            reused_from: None,
            policy_findings: Vec::new(),
            monthly_delta: None,
            cost: None,
        })
        .collect();
        Ok(Some((run_row(&row), instances)))
    }
}

fn run_row(r: &sqlx::sqlite::SqliteRow) -> RunRow {
    RunRow {
        run_id: r.get("run_id"),
        action: r.get("action"),
        env: r.get("env"),
        status: r.get("status"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        who: r.get("who"),
        from_plan: r.get("from_plan"),
        approved_destructive: r.get("approved_destructive"),
        commit: r.get("commit_sha"),
        skipped_promotion: r.get("skipped_promotion"),
        instances: r.get("n"),
    }
}

/// The current time, RFC 3339.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
