//! Pull requests as the server tracks them: one row per pull request (head, base, state,
//! author, the summary comment's id) and one per affected instance (its plan, fingerprint and
//! whether it was applied). The API's view of them is in `pull_view`.

use std::fmt;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::store::Store;
use crate::text::{check_field, check_slug};

macro_rules! select_pulls {
    ($rest:literal) => {
        concat!(
            "SELECT repo, number, head, base_ref, state, author, summary_comment, updated_ms \
             FROM pulls ",
            $rest
        )
    };
}

/// A pull request: its repository and number. Holds instance locks and owns a serial key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PullRef {
    /// `owner/name` (GitLab: `group/subgroup/name`).
    pub repo: String,
    /// The pull (merge) request's number.
    pub number: i64,
}

impl PullRef {
    /// A validated reference.
    pub fn new(repo: &str, number: i64) -> Result<Self, StateError> {
        check_repo(repo)?;
        if number <= 0 {
            return Err(StateError::BadRequest(format!(
                "invalid pull request number {number}: it must be positive"
            )));
        }
        Ok(PullRef {
            repo: repo.to_owned(),
            number,
        })
    }

    /// The serial key of the pull request's jobs (`pull:acme/infra#7`): enqueue every job of
    /// a pull request under it, so they run one at a time, in order.
    pub fn serial_key(&self) -> String {
        format!("pull:{}#{}", self.repo, self.number)
    }
}

impl fmt::Display for PullRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.repo, self.number)
    }
}

/// A repository path: 2 to 20 `/`-separated segments of `[A-Za-z0-9._-]`, never `.`/`..`.
pub(crate) fn check_repo(repo: &str) -> Result<(), StateError> {
    let segments: Vec<&str> = repo.split('/').collect();
    let valid = repo.len() <= 255
        && (2..=20).contains(&segments.len())
        && segments
            .iter()
            .all(|s| *s != "." && *s != ".." && check_slug("repo", s, 255).is_ok());
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid repository {repo:?}: expected OWNER/NAME (GitLab: GROUP/…/NAME) of letters, \
             digits, `.`, `_` and `-`"
        )))
    }
}

/// Where a pull request is on its forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullState {
    /// Open (drafts included).
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

impl PullState {
    /// The state as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            PullState::Open => "open",
            PullState::Closed => "closed",
            PullState::Merged => "merged",
        }
    }

    /// Parses `open`, `closed` or `merged`.
    pub fn parse(text: &str) -> Result<Self, StateError> {
        match text {
            "open" => Ok(PullState::Open),
            "closed" => Ok(PullState::Closed),
            "merged" => Ok(PullState::Merged),
            other => Err(StateError::BadRequest(format!(
                "unknown pull request state {other:?}: use open, closed or merged"
            ))),
        }
    }
}

/// A pull request row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRecord {
    /// Which pull request.
    #[serde(flatten)]
    pub pull: PullRef,
    /// The head commit (SHA).
    pub head: String,
    /// The branch it merges into.
    pub base_ref: String,
    /// open, closed or merged.
    pub state: PullState,
    /// The forge login of its author.
    pub author: String,
    /// The forge's id of the sticky summary comment, once posted.
    pub summary_comment: Option<String>,
    /// When the row last changed, RFC 3339.
    pub updated_at: String,
}

/// An instance's saved plan, as the pull request knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// The run that made the plan.
    pub run_id: String,
    /// The commit it was planned at.
    pub commit: String,
    /// Resources to add.
    pub add: i64,
    /// Resources to change.
    pub change: i64,
    /// Resources to destroy.
    pub destroy: i64,
    /// Planned with mock outputs: apply refuses it.
    pub preview_only: bool,
}

/// One instance a pull request affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullInstance {
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// Its current plan, if any.
    pub plan: Option<PlanSummary>,
    /// The fingerprint of the inputs the plan consumed (a push re-plans when it moved).
    pub fingerprint: Option<String>,
    /// Whether the plan was applied.
    pub applied: bool,
}

impl Store {
    /// Creates or updates a pull request (head, base, state, author); its summary comment id
    /// is kept.
    pub async fn upsert_pull(
        &self,
        pull: &PullRef,
        head: &str,
        base_ref: &str,
        state: PullState,
        author: &str,
    ) -> Result<(), StateError> {
        let pull = PullRef::new(&pull.repo, pull.number)?;
        check_field("head commit", head, 100)?;
        check_field("base branch", base_ref, 255)?;
        check_field("author", author, 255)?;
        let now = now_ms();
        let _gate = self.gate().await;
        sqlx::query(
            "INSERT INTO pulls (repo, number, head, base_ref, state, author, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (repo, number) DO UPDATE SET \
             head = excluded.head, base_ref = excluded.base_ref, state = excluded.state, \
             author = excluded.author, updated_ms = excluded.updated_ms",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .bind(head)
        .bind(base_ref)
        .bind(state.as_str())
        .bind(author)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets the pull request's state (closed, merged, reopened).
    pub async fn set_pull_state(&self, pull: &PullRef, state: PullState) -> Result<(), StateError> {
        self.update_pull(
            pull,
            "UPDATE pulls SET state = $3, updated_ms = $4 WHERE repo = $1 AND number = $2",
            state.as_str(),
        )
        .await
    }

    /// Records the id of the summary comment, edited in place from then on.
    pub async fn set_summary_comment(
        &self,
        pull: &PullRef,
        comment_id: &str,
    ) -> Result<(), StateError> {
        check_field("comment id", comment_id, 200)?;
        self.update_pull(
            pull,
            "UPDATE pulls SET summary_comment = $3, updated_ms = $4 WHERE repo = $1 AND number = $2",
            comment_id,
        )
        .await
    }

    async fn update_pull(
        &self,
        pull: &PullRef,
        sql: &'static str,
        value: &str,
    ) -> Result<(), StateError> {
        let _gate = self.gate().await;
        let updated = sqlx::query(sql)
            .bind(&pull.repo)
            .bind(pull.number)
            .bind(value)
            .bind(now_ms())
            .execute(&self.pool)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(StateError::NotFound(format!("no pull request {pull}")));
        }
        Ok(())
    }

    /// One pull request's row.
    pub async fn pull(&self, pull: &PullRef) -> Result<Option<PullRecord>, StateError> {
        let row = sqlx::query(select_pulls!("WHERE repo = $1 AND number = $2"))
            .bind(&pull.repo)
            .bind(pull.number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(pull_of).transpose()
    }

    /// Pull requests, most recently updated first, optionally of one repository and state.
    pub async fn pull_records(
        &self,
        repo: Option<&str>,
        state: Option<PullState>,
        limit: i64,
    ) -> Result<Vec<PullRecord>, StateError> {
        if let Some(repo) = repo {
            check_repo(repo)?;
        }
        let rows = sqlx::query(select_pulls!(
            "WHERE ($1 IS NULL OR repo = $1) AND ($2 IS NULL OR state = $2) \
             ORDER BY updated_ms DESC, repo, number LIMIT $3"
        ))
        .bind(repo)
        .bind(state.map(PullState::as_str))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pull_of).collect()
    }

    /// Creates or replaces one affected instance of a pull request (which must exist).
    pub async fn upsert_pull_instance(
        &self,
        pull: &PullRef,
        instance: &PullInstance,
    ) -> Result<(), StateError> {
        check_instance(&instance.env, &instance.stack)?;
        if let Some(plan) = &instance.plan {
            check_field("plan run id", &plan.run_id, 200)?;
            check_field("plan commit", &plan.commit, 100)?;
            if plan.add < 0 || plan.change < 0 || plan.destroy < 0 {
                return Err(StateError::BadRequest(
                    "plan counts cannot be negative".into(),
                ));
            }
        }
        if let Some(f) = &instance.fingerprint {
            check_field("fingerprint", f, 200)?;
        }
        let plan = instance.plan.as_ref();
        let _gate = self.gate().await;
        let result = sqlx::query(
            "INSERT INTO pull_instances (repo, number, env, stack, plan_run_id, plan_commit, \
             plan_add, plan_change, plan_destroy, preview_only, fingerprint, applied, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (repo, number, env, stack) DO UPDATE SET \
             plan_run_id = excluded.plan_run_id, plan_commit = excluded.plan_commit, \
             plan_add = excluded.plan_add, plan_change = excluded.plan_change, \
             plan_destroy = excluded.plan_destroy, preview_only = excluded.preview_only, \
             fingerprint = excluded.fingerprint, applied = excluded.applied, \
             updated_ms = excluded.updated_ms",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .bind(&instance.env)
        .bind(&instance.stack)
        .bind(plan.map(|p| p.run_id.as_str()))
        .bind(plan.map(|p| p.commit.as_str()))
        .bind(plan.map(|p| p.add))
        .bind(plan.map(|p| p.change))
        .bind(plan.map(|p| p.destroy))
        .bind(plan.map(|p| i64::from(p.preview_only)))
        .bind(instance.fingerprint.as_deref())
        .bind(i64::from(instance.applied))
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
                StateError::NotFound(format!("no pull request {pull}; upsert it first")),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets an instance the pull request no longer affects; `false` when it had none.
    pub async fn remove_pull_instance(
        &self,
        pull: &PullRef,
        env: &str,
        stack: &str,
    ) -> Result<bool, StateError> {
        let _gate = self.gate().await;
        Ok(sqlx::query(
            "DELETE FROM pull_instances WHERE repo = $1 AND number = $2 AND env = $3 AND stack = $4",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .bind(env)
        .bind(stack)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Discards every plan of the pull request (on close or merge); instances stay listed.
    pub async fn discard_pull_plans(&self, pull: &PullRef) -> Result<u64, StateError> {
        let _gate = self.gate().await;
        Ok(sqlx::query(
            "UPDATE pull_instances SET plan_run_id = NULL, plan_commit = NULL, plan_add = NULL, \
             plan_change = NULL, plan_destroy = NULL, preview_only = NULL, updated_ms = $3 \
             WHERE repo = $1 AND number = $2",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .bind(now_ms())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// The pull request's instances, by environment then stack.
    pub async fn pull_instances(&self, pull: &PullRef) -> Result<Vec<PullInstance>, StateError> {
        let rows = sqlx::query(
            "SELECT env, stack, plan_run_id, plan_commit, plan_add, plan_change, plan_destroy, \
             preview_only, fingerprint, applied FROM pull_instances \
             WHERE repo = $1 AND number = $2 ORDER BY env, stack",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(instance_of).collect()
    }
}

/// An environment name and a stack id, as in [`crate::InstanceId`].
pub(crate) fn check_instance(env: &str, stack: &str) -> Result<(), StateError> {
    crate::InstanceId::new("p", env, stack).map(|_| ())
}

fn pull_of(row: &AnyRow) -> Result<PullRecord, StateError> {
    Ok(PullRecord {
        pull: PullRef {
            repo: row.try_get("repo")?,
            number: row.try_get("number")?,
        },
        head: row.try_get("head")?,
        base_ref: row.try_get("base_ref")?,
        state: PullState::parse(&row.try_get::<String, _>("state")?)?,
        author: row.try_get("author")?,
        summary_comment: row.try_get("summary_comment")?,
        updated_at: rfc3339(row.try_get("updated_ms")?),
    })
}

fn instance_of(row: &AnyRow) -> Result<PullInstance, StateError> {
    let run_id: Option<String> = row.try_get("plan_run_id")?;
    let plan = match run_id {
        Some(run_id) => Some(PlanSummary {
            run_id,
            commit: row
                .try_get::<Option<String>, _>("plan_commit")?
                .unwrap_or_default(),
            add: row.try_get::<Option<i64>, _>("plan_add")?.unwrap_or(0),
            change: row.try_get::<Option<i64>, _>("plan_change")?.unwrap_or(0),
            destroy: row.try_get::<Option<i64>, _>("plan_destroy")?.unwrap_or(0),
            preview_only: row.try_get::<Option<i64>, _>("preview_only")?.unwrap_or(0) != 0,
        }),
        None => None,
    };
    Ok(PullInstance {
        env: row.try_get("env")?,
        stack: row.try_get("stack")?,
        plan,
        fingerprint: row.try_get("fingerprint")?,
        applied: row.try_get::<i64, _>("applied")? != 0,
    })
}
