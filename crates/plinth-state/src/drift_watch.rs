//! The server's scheduled drift checks (DESIGN §5.2), one record per repository and
//! environment: when the last check ended (the scheduler plans the next one `every` later),
//! at which commit and in which run, and the forge issue kept open while the environment
//! drifts, with a digest of what that issue last said (so a check that finds the same results
//! leaves it alone). The per-instance results themselves are the `drift` table's.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::rfc3339;
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;
use crate::text::check_field;

/// The scheduled drift check of one environment of a served repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftWatch {
    /// The repository (`owner/name`), as the server file names it.
    pub repo: String,
    /// The environment.
    pub env: String,
    /// The plinth project the repository holds.
    pub project: String,
    /// When the last check ended, Unix ms.
    pub checked_ms: i64,
    /// The default branch's commit it checked.
    pub commit: Option<String>,
    /// The drift run.
    pub run_id: Option<String>,
    /// The forge issue about the environment's drift (its number, GitLab: `iid`), open or
    /// closed; kept so that the next drift reopens the same issue.
    pub issue: Option<i64>,
    /// Whether that issue is open.
    pub issue_open: bool,
    /// A digest of the results the issue shows.
    pub digest: Option<String>,
}

impl DriftWatch {
    /// When the last check ended, RFC 3339.
    pub fn checked_at(&self) -> String {
        rfc3339(self.checked_ms)
    }
}

macro_rules! select_watches {
    ($rest:literal) => {
        concat!(
            "SELECT repo, env, project, checked_ms, commit_sha, run_id, issue, issue_open, \
             digest FROM drift_watch ",
            $rest
        )
    };
}

impl Store {
    /// The scheduled check of `env` in `repo`, if one ever ended.
    pub async fn drift_watch(
        &self,
        repo: &str,
        env: &str,
    ) -> Result<Option<DriftWatch>, StateError> {
        let row = sqlx::query(select_watches!("WHERE repo = $1 AND env = $2"))
            .bind(repo)
            .bind(env)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(watch_of).transpose()
    }

    /// Every environment of `repo` checked on schedule, by name.
    pub async fn drift_watches(&self, repo: &str) -> Result<Vec<DriftWatch>, StateError> {
        let rows = sqlx::query(select_watches!("WHERE repo = $1 ORDER BY env"))
            .bind(repo)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(watch_of).collect()
    }

    /// Creates or replaces the record of a scheduled check.
    pub async fn put_drift_watch(&self, watch: &DriftWatch) -> Result<(), StateError> {
        check_field("repository", &watch.repo, 500)?;
        InstanceId::new(&watch.project, &watch.env, "x")?;
        for (what, value) in [
            ("commit", &watch.commit),
            ("run id", &watch.run_id),
            ("digest", &watch.digest),
        ] {
            if let Some(v) = value {
                check_field(what, v, 200)?;
            }
        }
        if watch.issue.is_some_and(|n| n <= 0) {
            return Err(StateError::BadRequest("an issue number is positive".into()));
        }
        let _gate = self.gate().await;
        sqlx::query(
            "INSERT INTO drift_watch (repo, env, project, checked_ms, commit_sha, run_id, issue, \
             issue_open, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (repo, env) DO UPDATE SET project = excluded.project, \
             checked_ms = excluded.checked_ms, commit_sha = excluded.commit_sha, \
             run_id = excluded.run_id, issue = excluded.issue, \
             issue_open = excluded.issue_open, digest = excluded.digest",
        )
        .bind(&watch.repo)
        .bind(&watch.env)
        .bind(&watch.project)
        .bind(watch.checked_ms)
        .bind(watch.commit.as_deref())
        .bind(watch.run_id.as_deref())
        .bind(watch.issue)
        .bind(i64::from(watch.issue_open))
        .bind(watch.digest.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the drift results of an environment's stacks that are not in `stacks` (removed
    /// from the project since), so that `/metrics` and the dashboard stop counting them;
    /// returns how many went.
    pub async fn forget_drift_except(
        &self,
        project: &str,
        env: &str,
        stacks: &[String],
    ) -> Result<u64, StateError> {
        let gone: Vec<String> = self
            .latest_drift(project, env)
            .await?
            .into_iter()
            .map(|d| d.stack)
            .filter(|s| !stacks.contains(s))
            .collect();
        if gone.is_empty() {
            return Ok(0);
        }
        let (_gate, mut tx) = self.begin_write().await?;
        let mut removed = 0;
        for stack in &gone {
            removed +=
                sqlx::query("DELETE FROM drift WHERE project = $1 AND env = $2 AND stack = $3")
                    .bind(project)
                    .bind(env)
                    .bind(stack)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
        Ok(removed)
    }
}

fn watch_of(row: &AnyRow) -> Result<DriftWatch, StateError> {
    Ok(DriftWatch {
        repo: row.try_get("repo")?,
        env: row.try_get("env")?,
        project: row.try_get("project")?,
        checked_ms: row.try_get("checked_ms")?,
        commit: row.try_get("commit_sha")?,
        run_id: row.try_get("run_id")?,
        issue: row.try_get("issue")?,
        issue_open: row.try_get::<i64, _>("issue_open")? != 0,
        digest: row.try_get("digest")?,
    })
}
