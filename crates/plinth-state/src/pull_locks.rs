//! Instance locks held by pull requests, with FIFO queues (distinct from Terraform's state
//! lock, which guards one engine run). The rules are in `lock_queue`; here each operation loads
//! the project's locks inside one transaction, applies a rule and writes the result back.
//!
//! Every lock transaction first updates the project's row in `pull_lock_guard`: on PostgreSQL
//! that row lock serialises lock transactions of one project across replicas (and its version
//! is the ticket that orders queues); on SQLite writers are serialised anyway.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::lock_queue::{LockTable, LockWait, Op, Target};
use crate::pulls::PullRef;
use crate::store::Store;
use crate::tokens::{Actor, Scope};

/// What `acquire_all` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquisition {
    /// The pull request holds every lock it asked for (and any it held before).
    Acquired,
    /// It could not take them all: it holds none (any it held were released) and is queued on
    /// every instance it wants.
    Queued {
        /// The instances where something is ahead of it, with the holder (or the first pull
        /// request ahead) and its position.
        blockers: Vec<LockWait>,
        /// Pull requests that were given their locks because this one let its own go
        /// (usually none): plan them as after a release.
        handed_over: Vec<PullRef>,
    },
}

/// One instance's lock and queue, for the API and dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullLock {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// The pull request holding it, if any.
    pub holder: Option<PullRef>,
    /// Since when, RFC 3339.
    pub acquired_at: Option<String>,
    /// Pull requests waiting for it, first in line first.
    pub queue: Vec<PullRef>,
}

/// A pull request's locks over every project (for the pull-request view).
#[derive(Debug, Clone, Default)]
pub(crate) struct PullLockState {
    pub held: Vec<(String, String, String)>,
    pub waits: Vec<LockWait>,
}

fn targets_of<E, S>(
    project: &str,
    instances: impl IntoIterator<Item = (E, S)>,
) -> Result<Vec<Target>, StateError>
where
    E: AsRef<str>,
    S: AsRef<str>,
{
    let mut targets = Vec::new();
    for (env, stack) in instances {
        let id = InstanceId::new(project, env.as_ref(), stack.as_ref())?;
        targets.push((id.env, id.stack));
    }
    targets.sort();
    targets.dedup();
    Ok(targets)
}

impl Store {
    /// Takes every lock the pull request asks for in one transaction, or none and queues it.
    /// Locks are additive: those it already holds stay held when it is given more. See
    /// [`Acquisition`] for what a queued pull request gives up.
    pub async fn acquire_all<E, S>(
        &self,
        project: &str,
        pull: &PullRef,
        instances: impl IntoIterator<Item = (E, S)>,
    ) -> Result<Acquisition, StateError>
    where
        E: AsRef<str>,
        S: AsRef<str>,
    {
        let pull = PullRef::new(&pull.repo, pull.number)?;
        let targets = targets_of(project, instances)?;
        if targets.is_empty() {
            return Ok(Acquisition::Acquired);
        }
        let (_gate, mut tx) = self.begin_write().await?;
        let fresh_ticket = guard_in(&mut tx, project).await?;
        let mut table = load_in(&mut tx, project).await?;
        if table.can_take(&pull, &targets) {
            table.take(&pull, &targets);
            write_in(&mut tx, &table).await?;
            tx.commit().await?;
            return Ok(Acquisition::Acquired);
        }
        let mut wanted = targets;
        wanted.extend(table.held_by(&pull));
        wanted.extend(table.queued_for(&pull));
        wanted.sort();
        wanted.dedup();
        let ticket = table.ticket_of(&pull).unwrap_or(fresh_ticket);
        table.unlock(&pull, None);
        table.enqueue(&pull, ticket, &wanted);
        let mut handed_over = table.hand_over();
        let acquired = handed_over.contains(&pull);
        handed_over.retain(|p| *p != pull);
        let blockers = table
            .waits(&pull)
            .into_iter()
            .filter(|w| w.waiting_for.is_some())
            .collect();
        write_in(&mut tx, &table).await?;
        tx.commit().await?;
        if acquired && handed_over.is_empty() {
            return Ok(Acquisition::Acquired);
        }
        Ok(Acquisition::Queued {
            blockers,
            handed_over,
        })
    }

    /// Releases every lock and queue entry of the pull request in the project (close, merge)
    /// and returns the queued pull requests that were given all their locks as a result,
    /// oldest first, in the same transaction.
    pub async fn release_all(
        &self,
        project: &str,
        pull: &PullRef,
    ) -> Result<Vec<PullRef>, StateError> {
        self.release_where(project, pull, None).await
    }

    /// Releases the pull request's locks and queue entries in one environment
    /// (`plinth unlock ENV`); returns the pull requests handed their locks.
    pub async fn release_env(
        &self,
        project: &str,
        pull: &PullRef,
        env: &str,
    ) -> Result<Vec<PullRef>, StateError> {
        InstanceId::new(project, env, "x")?;
        self.release_where(project, pull, Some(env)).await
    }

    async fn release_where(
        &self,
        project: &str,
        pull: &PullRef,
        env: Option<&str>,
    ) -> Result<Vec<PullRef>, StateError> {
        InstanceId::new(project, "e", "x")?;
        let (_gate, mut tx) = self.begin_write().await?;
        guard_in(&mut tx, project).await?;
        let mut table = load_in(&mut tx, project).await?;
        table.unlock(pull, env);
        table.dequeue(pull, env);
        let granted = table.hand_over();
        write_in(&mut tx, &table).await?;
        tx.commit().await?;
        Ok(granted)
    }

    /// Takes one instance's lock from whoever holds it (admin, from the dashboard or API);
    /// returns the former holder and the pull requests handed their locks.
    pub async fn force_release_pull_lock(
        &self,
        id: &InstanceId,
        actor: &Actor,
    ) -> Result<(PullRef, Vec<PullRef>), StateError> {
        actor.require(Scope::Admin, "releasing a pull request's lock")?;
        let (_gate, mut tx) = self.begin_write().await?;
        guard_in(&mut tx, &id.project).await?;
        let mut table = load_in(&mut tx, &id.project).await?;
        let target = (id.env.clone(), id.stack.clone());
        let holder = table
            .unlock_target(&target)
            .ok_or_else(|| StateError::NotFound(format!("{id} is not locked by a pull request")))?;
        let granted = table.hand_over();
        write_in(&mut tx, &table).await?;
        Self::audit_in(
            &mut tx,
            &actor.name,
            "pull-lock-release",
            Some(id),
            &holder.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok((holder, granted))
    }

    /// Where the pull request waits in the project, per instance it is queued on (empty when it
    /// is not queued).
    pub async fn queue_position(
        &self,
        project: &str,
        pull: &PullRef,
    ) -> Result<Vec<LockWait>, StateError> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_in(&mut conn, project).await?.waits(pull))
    }

    /// Every held or awaited instance lock, optionally of one project.
    pub async fn pull_locks(&self, project: Option<&str>) -> Result<Vec<PullLock>, StateError> {
        if let Some(p) = project {
            InstanceId::new(p, "e", "x")?;
        }
        let held = sqlx::query(
            "SELECT project, env, stack, repo, number, acquired_ms FROM pull_locks \
             WHERE ($1 IS NULL OR project = $1)",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        let queued = sqlx::query(
            "SELECT project, env, stack, repo, number FROM pull_lock_queue \
             WHERE ($1 IS NULL OR project = $1) ORDER BY ticket, repo, number",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        let mut locks: BTreeMap<(String, String, String), PullLock> = BTreeMap::new();
        for row in &held {
            let key = (
                row.try_get("project")?,
                row.try_get("env")?,
                row.try_get("stack")?,
            );
            let lock = locks
                .entry(key)
                .or_insert_with_key(|(p, e, s)| blank(p, e, s));
            lock.holder = Some(pull_of(row)?);
            lock.acquired_at = Some(rfc3339(row.try_get("acquired_ms")?));
        }
        for row in &queued {
            let key = (
                row.try_get("project")?,
                row.try_get("env")?,
                row.try_get("stack")?,
            );
            let lock = locks
                .entry(key)
                .or_insert_with_key(|(p, e, s)| blank(p, e, s));
            lock.queue.push(pull_of(row)?);
        }
        Ok(locks.into_values().collect())
    }

    /// How many instance locks pull requests hold (for `/metrics`).
    pub async fn count_pull_locks(&self) -> Result<i64, StateError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM pull_locks")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// The pull request's held locks and waits, over every project.
    pub(crate) async fn pull_lock_state(
        &self,
        pull: &PullRef,
    ) -> Result<PullLockState, StateError> {
        let held = sqlx::query(
            "SELECT project, env, stack FROM pull_locks WHERE repo = $1 AND number = $2 \
             ORDER BY project, env, stack",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .fetch_all(&self.pool)
        .await?;
        let projects = sqlx::query(
            "SELECT DISTINCT project FROM pull_lock_queue WHERE repo = $1 AND number = $2",
        )
        .bind(&pull.repo)
        .bind(pull.number)
        .fetch_all(&self.pool)
        .await?;
        let mut state = PullLockState::default();
        for row in &held {
            state.held.push((
                row.try_get("project")?,
                row.try_get("env")?,
                row.try_get("stack")?,
            ));
        }
        let mut conn = self.pool.acquire().await?;
        for row in &projects {
            let project: String = row.try_get("project")?;
            state
                .waits
                .extend(load_in(&mut conn, &project).await?.waits(pull));
        }
        Ok(state)
    }
}

fn blank(project: &str, env: &str, stack: &str) -> PullLock {
    PullLock {
        project: project.to_owned(),
        env: env.to_owned(),
        stack: stack.to_owned(),
        holder: None,
        acquired_at: None,
        queue: Vec::new(),
    }
}

fn pull_of(row: &sqlx::any::AnyRow) -> Result<PullRef, StateError> {
    Ok(PullRef {
        repo: row.try_get("repo")?,
        number: row.try_get("number")?,
    })
}

/// Serialises the project's lock transactions and returns a fresh ticket.
async fn guard_in(conn: &mut AnyConnection, project: &str) -> Result<i64, StateError> {
    sqlx::query(
        "INSERT INTO pull_lock_guard (project, version) VALUES ($1, 0) \
         ON CONFLICT (project) DO NOTHING",
    )
    .bind(project)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "UPDATE pull_lock_guard SET version = version + 1 WHERE project = $1 RETURNING version",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("version")?)
}

async fn load_in(conn: &mut AnyConnection, project: &str) -> Result<LockTable, StateError> {
    let mut table = LockTable::new(project);
    let held = sqlx::query("SELECT env, stack, repo, number FROM pull_locks WHERE project = $1")
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
    for row in &held {
        table
            .holders
            .insert((row.try_get("env")?, row.try_get("stack")?), pull_of(row)?);
    }
    let queued = sqlx::query(
        "SELECT env, stack, repo, number, ticket FROM pull_lock_queue WHERE project = $1",
    )
    .bind(project)
    .fetch_all(&mut *conn)
    .await?;
    for row in &queued {
        table.load_entry(
            (row.try_get("env")?, row.try_get("stack")?),
            pull_of(row)?,
            row.try_get("ticket")?,
        );
    }
    Ok(table)
}

async fn write_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &LockTable,
) -> Result<(), StateError> {
    let now = now_ms();
    let project = table.project.as_str();
    for op in &table.ops {
        match op {
            Op::Lock((env, stack), pull) => {
                sqlx::query(
                    "INSERT INTO pull_locks (project, env, stack, repo, number, acquired_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(project)
                .bind(env)
                .bind(stack)
                .bind(&pull.repo)
                .bind(pull.number)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let id = InstanceId::new(project, env, stack)?;
                Store::audit_in(tx, &pull.to_string(), "pull-lock", Some(&id), "").await?;
            }
            Op::Unlock((env, stack), holder) => {
                sqlx::query(
                    "DELETE FROM pull_locks WHERE project = $1 AND env = $2 AND stack = $3",
                )
                .bind(project)
                .bind(env)
                .bind(stack)
                .execute(&mut **tx)
                .await?;
                let id = InstanceId::new(project, env, stack)?;
                Store::audit_in(tx, &holder.to_string(), "pull-unlock", Some(&id), "").await?;
            }
            Op::Enqueue((env, stack), pull, ticket) => {
                sqlx::query(
                    "INSERT INTO pull_lock_queue (project, env, stack, repo, number, ticket, \
                     queued_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(project)
                .bind(env)
                .bind(stack)
                .bind(&pull.repo)
                .bind(pull.number)
                .bind(*ticket)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            Op::Dequeue((env, stack), pull) => {
                sqlx::query(
                    "DELETE FROM pull_lock_queue WHERE project = $1 AND env = $2 AND stack = $3 \
                     AND repo = $4 AND number = $5",
                )
                .bind(project)
                .bind(env)
                .bind(stack)
                .bind(&pull.repo)
                .bind(pull.number)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}
