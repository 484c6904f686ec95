//! Ephemeral copies of an environment (`test-pr-42`), recorded on the server so its reaper
//! sees the copies that CLIs and CI made (DESIGN §3, issue 9).

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::{now_ms, parse_rfc3339, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;
use crate::text::check_field;
use crate::tokens::{Actor, Scope};

/// Where a copy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyStatus {
    /// Applied (and tested).
    Up,
    /// Being applied.
    Applying,
    /// The apply or its tests failed; the copy is left up to inspect.
    Failed,
    /// Being destroyed.
    Destroying,
    /// The destroy failed; the copy stays listed so nothing is forgotten.
    DestroyFailed,
}

impl CopyStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyStatus::Up => "up",
            CopyStatus::Applying => "applying",
            CopyStatus::Failed => "failed",
            CopyStatus::Destroying => "destroying",
            CopyStatus::DestroyFailed => "destroy_failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StateError> {
        Ok(match text {
            "up" => CopyStatus::Up,
            "applying" => CopyStatus::Applying,
            "failed" => CopyStatus::Failed,
            "destroying" => CopyStatus::Destroying,
            "destroy_failed" => CopyStatus::DestroyFailed,
            other => {
                return Err(StateError::Internal(format!(
                    "unknown copy status {other:?} in the database"
                )));
            }
        })
    }
}

/// A copy as sent (`PUT /v1/copies/{project}/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyUpdate {
    /// The ephemeral environment block it copies.
    pub template: String,
    /// Who made it (default: the token's name).
    #[serde(default)]
    pub creator: Option<String>,
    /// The pull request it belongs to.
    #[serde(default)]
    pub pull_request: Option<i64>,
    /// When it was created, RFC 3339 (default: kept, or now for a new copy).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the reaper may destroy it, RFC 3339 (`null`: never).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Where it is.
    pub status: CopyStatus,
    /// How many instances it has.
    pub instances: i64,
}

/// A stored copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyRecord {
    /// Project.
    pub project: String,
    /// The copy's name, its `env.name`.
    pub name: String,
    /// The template it copies.
    pub template: String,
    /// Who made it.
    pub creator: String,
    /// The pull request it belongs to.
    pub pull_request: Option<i64>,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When the reaper may destroy it.
    pub expires_at: Option<String>,
    /// Where it is.
    pub status: CopyStatus,
    /// How many instances it has.
    pub instances: i64,
    /// When the record last changed.
    pub updated_at: String,
    /// The token that last changed it.
    pub updated_by: String,
}

/// How `put_copy` may treat an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Create or replace.
    Upsert,
    /// Create only: a copy of that name existing is a conflict (`If-None-Match: *`).
    CreateOnly,
}

/// A copy's name: `[a-z0-9-]`, at most 63 characters (a state key part and a DNS label).
pub(crate) fn check_copy_name(name: &str) -> Result<(), StateError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid copy name {name:?}: use 1 to 63 lower-case letters, digits and `-`, not \
             starting with `-`"
        )))
    }
}

macro_rules! select_copies {
    ($rest:literal) => {
        concat!(
            "SELECT project, name, template, creator, pull_request, created_ms, expires_ms, \
             status, instances, updated_ms, updated_by FROM copies ",
            $rest
        )
    };
}

macro_rules! insert_copy {
    ($conflict:literal) => {
        concat!(
            "INSERT INTO copies (project, name, template, creator, pull_request, created_ms, \
             expires_ms, status, instances, updated_ms, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
            $conflict
        )
    };
}

impl Store {
    /// Creates or replaces a copy's record (write scope) and returns it as stored.
    pub async fn put_copy(
        &self,
        project: &str,
        name: &str,
        update: &CopyUpdate,
        mode: PutMode,
        actor: &Actor,
    ) -> Result<CopyRecord, StateError> {
        actor.require(Scope::Write, "recording an ephemeral copy")?;
        InstanceId::new(project, &update.template, "x")?;
        check_copy_name(name)?;
        let creator = update.creator.clone().unwrap_or_else(|| actor.name.clone());
        check_field("creator", &creator, 255)?;
        if update.instances < 0 {
            return Err(StateError::BadRequest(
                "instances cannot be negative".into(),
            ));
        }
        if update.pull_request.is_some_and(|n| n <= 0) {
            return Err(StateError::BadRequest(
                "pull_request must be a positive number".into(),
            ));
        }
        let created = update
            .created_at
            .as_deref()
            .map(|t| parse_rfc3339("created_at", t))
            .transpose()?;
        let expires = update
            .expires_at
            .as_deref()
            .map(|t| parse_rfc3339("expires_at", t))
            .transpose()?;
        let now = now_ms();
        let sql = match mode {
            PutMode::Upsert => insert_copy!(
                "ON CONFLICT (project, name) DO UPDATE SET template = excluded.template, \
                 creator = excluded.creator, pull_request = excluded.pull_request, \
                 created_ms = CASE WHEN $12 = 1 THEN excluded.created_ms ELSE copies.created_ms END, \
                 expires_ms = excluded.expires_ms, status = excluded.status, \
                 instances = excluded.instances, updated_ms = excluded.updated_ms, \
                 updated_by = excluded.updated_by"
            ),
            PutMode::CreateOnly => insert_copy!("ON CONFLICT (project, name) DO NOTHING"),
        };
        let written = {
            let query = sqlx::query(sql)
                .bind(project)
                .bind(name)
                .bind(&update.template)
                .bind(&creator)
                .bind(update.pull_request)
                .bind(created.unwrap_or(now))
                .bind(expires)
                .bind(update.status.as_str())
                .bind(update.instances)
                .bind(now)
                .bind(&actor.name);
            // The flag exists only in the upsert's SQL: a created time sent replaces the
            // stored one, none keeps it.
            let query = match mode {
                PutMode::Upsert => query.bind(i64::from(created.is_some())),
                PutMode::CreateOnly => query,
            };
            let _gate = self.gate().await;
            query.execute(&self.pool).await?.rows_affected()
        };
        if written == 0 {
            return Err(StateError::Conflict(format!(
                "a copy named {name:?} already exists in project {project}"
            )));
        }
        self.copy(project, name)
            .await?
            .ok_or_else(|| StateError::Internal(format!("copy {name} vanished after writing")))
    }

    /// One copy's record.
    pub async fn copy(&self, project: &str, name: &str) -> Result<Option<CopyRecord>, StateError> {
        let row = sqlx::query(select_copies!("WHERE project = $1 AND name = $2"))
            .bind(project)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(copy_of).transpose()
    }

    /// Removes a copy's record once it is destroyed (write scope); returns what was removed.
    pub async fn delete_copy(
        &self,
        project: &str,
        name: &str,
        actor: &Actor,
    ) -> Result<CopyRecord, StateError> {
        actor.require(Scope::Write, "removing an ephemeral copy")?;
        InstanceId::new(project, "e", "x")?;
        check_copy_name(name)?;
        let existing = self.copy(project, name).await?.ok_or_else(|| {
            StateError::NotFound(format!("no copy named {name:?} in project {project}"))
        })?;
        let _gate = self.gate().await;
        sqlx::query("DELETE FROM copies WHERE project = $1 AND name = $2")
            .bind(project)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(existing)
    }

    /// A project's copies, oldest first.
    pub async fn copies(&self, project: &str) -> Result<Vec<CopyRecord>, StateError> {
        InstanceId::new(project, "e", "x")?;
        let rows = sqlx::query(select_copies!(
            "WHERE project = $1 ORDER BY created_ms, name"
        ))
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(copy_of).collect()
    }

    /// Copies past their expiry at `now_ms` (Unix ms), of one project or all: the reaper's
    /// work list, whatever their status (a failed destroy is retried).
    pub async fn expired_copies(
        &self,
        project: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<CopyRecord>, StateError> {
        if let Some(p) = project {
            InstanceId::new(p, "e", "x")?;
        }
        let rows = sqlx::query(select_copies!(
            "WHERE ($1 IS NULL OR project = $1) AND expires_ms IS NOT NULL \
             AND expires_ms <= $2 ORDER BY expires_ms, project, name"
        ))
        .bind(project)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(copy_of).collect()
    }
}

fn copy_of(row: &AnyRow) -> Result<CopyRecord, StateError> {
    Ok(CopyRecord {
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        template: row.try_get("template")?,
        creator: row.try_get("creator")?,
        pull_request: row.try_get("pull_request")?,
        created_at: rfc3339(row.try_get("created_ms")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_ms")?.map(rfc3339),
        status: CopyStatus::parse(&row.try_get::<String, _>("status")?)?,
        instances: row.try_get("instances")?,
        updated_at: rfc3339(row.try_get("updated_ms")?),
        updated_by: row.try_get("updated_by")?,
    })
}
