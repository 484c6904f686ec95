//! Locks: one row per locked instance, taken with an atomic insert-if-absent, so every replica
//! on the same database agrees on the holder and a restart forgets nothing.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;
use crate::tokens::{Actor, Scope};

/// The current holder of a lock.
#[derive(Debug, Clone, Serialize)]
pub struct LockHolder {
    /// Instance key, `project/env/stack`.
    pub instance: String,
    /// The lock ID the client chose.
    pub id: String,
    /// The client's LockInfo JSON as sent, with `Path` filled in with the instance.
    pub info: serde_json::Value,
    /// The name of the token that took the lock.
    pub token: String,
    /// When the server granted the lock, RFC 3339.
    pub locked_at: String,
}

impl LockHolder {
    /// The LockInfo's `Who`, or the token name when the client sent none.
    pub fn who(&self) -> &str {
        self.info
            .get("Who")
            .and_then(|w| w.as_str())
            .filter(|w| !w.is_empty())
            .unwrap_or(&self.token)
    }

    fn from_row(row: &AnyRow) -> Result<Self, StateError> {
        let instance: String = row.try_get("instance")?;
        let text: String = row.try_get("info")?;
        let mut info: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = info.as_object_mut() {
            let path_empty = obj
                .get("Path")
                .and_then(|p| p.as_str())
                .is_none_or(str::is_empty);
            if path_empty {
                obj.insert("Path".into(), instance.clone().into());
            }
        }
        Ok(LockHolder {
            instance,
            id: row.try_get("lock_id")?,
            info,
            token: row.try_get("holder")?,
            locked_at: rfc3339(row.try_get("created_ms")?),
        })
    }
}

/// How an unlock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockOutcome {
    /// The holder released its own lock.
    Released,
    /// Someone else removed the lock (empty-body force-unlock, OpenTofu force-unlock, admin API).
    Forced,
}

/// The `ID` of a LockInfo document; malformed documents are refused before anything is stored.
fn lock_id_of(info: &serde_json::Value) -> Result<String, StateError> {
    match info.get("ID") {
        Some(serde_json::Value::String(id)) => {
            crate::text::check_field("lock ID", id, crate::text::MAX_LOCK_ID)?;
            Ok(id.clone())
        }
        Some(_) => Err(StateError::BadRequest(
            "the lock info's `ID` is not a string".into(),
        )),
        None => Err(StateError::BadRequest("the lock info has no `ID`".into())),
    }
}

fn parse_info(body: &[u8]) -> Result<serde_json::Value, StateError> {
    let info: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| StateError::BadRequest(format!("the lock info is not valid JSON: {e}")))?;
    if !info.is_object() {
        return Err(StateError::BadRequest(
            "the lock info must be a JSON object".into(),
        ));
    }
    Ok(info)
}

impl Store {
    /// Takes the lock with the client's LockInfo JSON. Re-sending the holder's own ID succeeds
    /// (a retried request); any other ID gets [`StateError::Locked`] with the holder.
    pub async fn lock(
        &self,
        id: &InstanceId,
        body: &[u8],
        actor: &Actor,
    ) -> Result<(), StateError> {
        actor.require(Scope::Write, "locking state")?;
        let info = parse_info(body)?;
        let lock_id = lock_id_of(&info)?;
        self.ensure_instance(id).await?;
        // A few rounds cover the lock being released between our insert and our read.
        for _ in 0..5 {
            let (_gate, mut tx) = self.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO locks (instance, lock_id, info, holder, created_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance) DO NOTHING",
            )
            .bind(id.key())
            .bind(&lock_id)
            .bind(info.to_string())
            .bind(&actor.name)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                Self::audit_in(&mut tx, &actor.name, "lock", Some(id), &lock_id).await?;
                tx.commit().await?;
                return Ok(());
            }
            tx.rollback().await?;
            match self.lock_holder(id).await? {
                Some(holder) if holder.id == lock_id => return Ok(()),
                Some(holder) => return Err(StateError::Locked(Box::new(holder))),
                None => continue,
            }
        }
        Err(StateError::Conflict(format!(
            "{id}: the lock changed hands repeatedly while being taken; retry"
        )))
    }

    /// Releases the lock. A body with an `ID` must name the current lock (Terraform's unlock,
    /// OpenTofu's force-unlock). An empty body is Terraform's `force-unlock`, which cannot say
    /// which lock it means: it is allowed for admin tokens and for the token that took the lock.
    pub async fn unlock(
        &self,
        id: &InstanceId,
        body: &[u8],
        actor: &Actor,
    ) -> Result<UnlockOutcome, StateError> {
        actor.require(Scope::Write, "unlocking state")?;
        let body_is_empty = body.iter().all(u8::is_ascii_whitespace);
        let holder = self
            .lock_holder(id)
            .await?
            .ok_or_else(|| StateError::Conflict(format!("{id} is not locked")))?;
        let (outcome, lock_id) = if body_is_empty {
            if actor.scope < Scope::Admin && actor.name != holder.token {
                return Err(StateError::Forbidden(format!(
                    "force-unlock without a lock ID needs an admin token or the token that took \
                     the lock ({:?}); token {:?} is neither",
                    holder.token, actor.name
                )));
            }
            (UnlockOutcome::Forced, holder.id.clone())
        } else {
            let info = parse_info(body)?;
            let lock_id = lock_id_of(&info)?;
            if lock_id != holder.id {
                return Err(StateError::Locked(Box::new(holder)));
            }
            // OpenTofu's force-unlock sends only the ID, every other field zero.
            let operation_empty = info
                .get("Operation")
                .and_then(|o| o.as_str())
                .is_none_or(str::is_empty);
            let outcome = if operation_empty {
                UnlockOutcome::Forced
            } else {
                UnlockOutcome::Released
            };
            (outcome, lock_id)
        };
        self.delete_lock(id, &lock_id, actor, outcome).await?;
        Ok(outcome)
    }

    /// Removes a lock through the JSON API (admin only); `expected` guards against removing a
    /// lock that changed hands since the caller looked.
    pub async fn force_unlock(
        &self,
        id: &InstanceId,
        expected: Option<&str>,
        actor: &Actor,
    ) -> Result<LockHolder, StateError> {
        actor.require(Scope::Admin, "force-unlock")?;
        let holder = self
            .lock_holder(id)
            .await?
            .ok_or_else(|| StateError::NotFound(format!("{id} is not locked")))?;
        if expected.is_some_and(|e| e != holder.id) {
            return Err(StateError::Locked(Box::new(holder)));
        }
        self.delete_lock(id, &holder.id, actor, UnlockOutcome::Forced)
            .await?;
        Ok(holder)
    }

    async fn delete_lock(
        &self,
        id: &InstanceId,
        lock_id: &str,
        actor: &Actor,
        outcome: UnlockOutcome,
    ) -> Result<(), StateError> {
        let (_gate, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM locks WHERE instance = $1 AND lock_id = $2")
            .bind(id.key())
            .bind(lock_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StateError::Conflict(format!(
                "{id}: lock {lock_id} was released by someone else meanwhile"
            )));
        }
        let action = match outcome {
            UnlockOutcome::Released => "unlock",
            UnlockOutcome::Forced => "force-unlock",
        };
        Self::audit_in(&mut tx, &actor.name, action, Some(id), lock_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The current holder, if the instance is locked.
    pub async fn lock_holder(&self, id: &InstanceId) -> Result<Option<LockHolder>, StateError> {
        let row = sqlx::query(
            "SELECT instance, lock_id, info, holder, created_ms FROM locks WHERE instance = $1",
        )
        .bind(id.key())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(LockHolder::from_row).transpose()
    }

    /// How many locks are held (for `/metrics`, without loading them).
    pub async fn count_locks(&self) -> Result<i64, StateError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM locks")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// Every held lock, optionally of one project, oldest first.
    pub async fn list_locks(&self, project: Option<&str>) -> Result<Vec<LockHolder>, StateError> {
        if let Some(p) = project {
            crate::text::check_field("project", p, 200)?;
        }
        let rows = match project {
            Some(p) => {
                sqlx::query(
                    "SELECT l.instance, l.lock_id, l.info, l.holder, l.created_ms FROM locks l \
                     JOIN instances i ON i.id = l.instance WHERE i.project = $1 ORDER BY l.created_ms",
                )
                .bind(p)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT instance, lock_id, info, holder, created_ms FROM locks ORDER BY created_ms",
                )
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(LockHolder::from_row).collect()
    }
}
