//! The record of ephemeral copies in `.plinth/plinth.db`: what exists, from which template,
//! made by whom, for which pull request, and when it expires. A copy leaves the record only
//! when its destroy succeeded, so nothing is forgotten.

use serde::Serialize;
use sqlx::Row;

use crate::history::History;

/// One ephemeral copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyRecord {
    /// The copy's name (`test-pr-42`).
    pub name: String,
    /// The ephemeral environment block it copies.
    pub template: String,
    /// `user@host` that created it.
    pub creator: String,
    /// The pull request it belongs to, if any.
    pub pull_request: Option<u64>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time after which `env reap` destroys it (`None`: the template has no `ttl`).
    pub expires_at: Option<String>,
    /// `applying`, `up`, `test_failed`, `apply_failed`, `destroying`, `destroy_failed`.
    pub status: String,
    /// Number of instances.
    pub instances: i64,
    /// The last run on it.
    pub last_run: Option<String>,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS copies (
    name TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    creator TEXT NOT NULL,
    pull_request INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    status TEXT NOT NULL,
    instances INTEGER NOT NULL,
    last_run TEXT
);
";

impl History {
    /// Records `copy`, replacing an earlier record of the same name.
    pub async fn put_copy(&self, copy: &CopyRecord) -> Result<(), String> {
        sqlx::query(
            "INSERT OR REPLACE INTO copies
             (name, template, creator, pull_request, created_at, expires_at, status, instances, last_run)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&copy.name)
        .bind(&copy.template)
        .bind(&copy.creator)
        .bind(copy.pull_request.map(|n| n as i64))
        .bind(&copy.created_at)
        .bind(&copy.expires_at)
        .bind(&copy.status)
        .bind(copy.instances)
        .bind(&copy.last_run)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("run history: {e}"))
    }

    /// The copy called `name`.
    pub async fn copy(&self, name: &str) -> Result<Option<CopyRecord>, String> {
        let row = sqlx::query("SELECT * FROM copies WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| format!("run history: {e}"))?;
        Ok(row.as_ref().map(copy_row))
    }

    /// Every copy, oldest first.
    pub async fn copies(&self) -> Result<Vec<CopyRecord>, String> {
        let rows = sqlx::query("SELECT * FROM copies ORDER BY created_at, name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| format!("run history: {e}"))?;
        Ok(rows.iter().map(copy_row).collect())
    }

    /// Forgets the copy `name` (after its destroy succeeded).
    pub async fn remove_copy(&self, name: &str) -> Result<(), String> {
        sqlx::query("DELETE FROM copies WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| format!("run history: {e}"))
    }
}

fn copy_row(r: &sqlx::sqlite::SqliteRow) -> CopyRecord {
    CopyRecord {
        name: r.get("name"),
        template: r.get("template"),
        creator: r.get("creator"),
        pull_request: r.get::<Option<i64>, _>("pull_request").map(|n| n as u64),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        status: r.get("status"),
        instances: r.get("instances"),
        last_run: r.get("last_run"),
    }
}
