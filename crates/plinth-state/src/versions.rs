//! State versions: every accepted write is a new, compressed and sealed version; the
//! instance's version counter is advanced with a compare-and-set so concurrent writers
//! (threads or replicas) can never both win.

use bytes::Bytes;
use serde::Serialize;
use sqlx::Row;

use crate::body::{self, Digests};
use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::statefile::{self, StateHeader};
use crate::store::Store;
use crate::tokens::{Actor, Scope};

/// A state body as read back, with the identity of its version.
#[derive(Debug, Clone)]
pub struct StateBody {
    /// The plaintext state exactly as it was uploaded.
    pub data: Vec<u8>,
    /// base64 MD5 (for `Content-MD5`).
    pub md5: String,
    /// The version number.
    pub version: i64,
}

/// A version's metadata (no body).
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Version number, 1-based, never reused.
    pub version: i64,
    /// Terraform serial (absent for opaque encrypted states).
    pub serial: Option<i64>,
    /// Terraform lineage (absent for opaque encrypted states).
    pub lineage: Option<String>,
    /// Whether the body is an OpenTofu client-side encrypted envelope.
    pub opaque: bool,
    /// Plaintext size in bytes.
    pub size: i64,
    /// base64 MD5 of the plaintext.
    pub md5: String,
    /// hex SHA-256 of the plaintext.
    pub sha256: String,
    /// When it was stored, RFC 3339.
    pub created_at: String,
    /// The token that stored it.
    pub created_by: String,
    /// Why it exists when not a plain write (`rollback to version N`).
    pub note: Option<String>,
    /// Whether it is the instance's current state.
    pub current: bool,
}

/// The result of an accepted write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// A new version was stored.
    Stored {
        /// Its number.
        version: i64,
    },
    /// The body is byte-identical to the current version (a client retry); nothing stored.
    Unchanged {
        /// The current version's number.
        version: i64,
    },
}

/// The instance's position in its history.
struct Current {
    head: i64,
    current: i64,
    serial: Option<i64>,
    lineage: Option<String>,
    sha256: Option<String>,
    /// The held lock's ID, read in the same query so a write costs one round trip less.
    lock_id: Option<String>,
}

/// A fully prepared new version, waiting for its compare-and-set.
struct NewVersion<'a> {
    plain: Bytes,
    header: StateHeader,
    digests: Digests,
    action: &'a str,
    note: Option<String>,
}

const COMMIT_ROUNDS: usize = 5;

impl Store {
    async fn current(&self, id: &InstanceId) -> Result<Option<Current>, StateError> {
        let row = sqlx::query(
            "SELECT i.head, i.current_version, v.serial, v.lineage, v.sha256, l.lock_id \
             FROM instances i \
             LEFT JOIN versions v ON v.instance = i.id AND v.version = i.current_version \
             LEFT JOIN locks l ON l.instance = i.id \
             WHERE i.id = $1",
        )
        .bind(id.key())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Current {
                head: row.try_get("head")?,
                current: row.try_get("current_version")?,
                serial: row.try_get("serial")?,
                lineage: row.try_get("lineage")?,
                sha256: row.try_get("sha256")?,
                lock_id: row.try_get("lock_id")?,
            })
        })
        .transpose()
    }

    /// Reads the current state (`version = None`) or a given version. `Ok(None)`: no state yet.
    pub async fn read_state(
        &self,
        id: &InstanceId,
        version: Option<i64>,
    ) -> Result<Option<StateBody>, StateError> {
        self.check_bodies_allowed()?;
        // The current version and its body in one round trip: GET is the hottest call.
        let row = match version {
            Some(v) => sqlx::query(
                "SELECT body, sealed, size, md5, version FROM versions WHERE instance = $1 AND version = $2",
            )
            .bind(id.key())
            .bind(v)
            .fetch_optional(&self.pool)
            .await?,
            None => sqlx::query(
                "SELECT v.body, v.sealed, v.size, v.md5, v.version FROM instances i \
                 JOIN versions v ON v.instance = i.id AND v.version = i.current_version \
                 WHERE i.id = $1 AND i.current_version > 0",
            )
            .bind(id.key())
            .fetch_optional(&self.pool)
            .await?,
        };
        let Some(row) = row else {
            return match version {
                Some(v) => Err(StateError::NotFound(format!("{id} has no version {v}"))),
                None => Ok(None),
            };
        };
        let wanted: i64 = row.try_get("version")?;
        let stored: Vec<u8> = row.try_get("body")?;
        let sealed: i64 = row.try_get("sealed")?;
        let size: i64 = row.try_get("size")?;
        let md5: String = row.try_get("md5")?;
        let sealer = self.sealer.clone();
        let aad = body::row_aad(id, wanted);
        let data = tokio::task::spawn_blocking(move || {
            body::decode(&sealer, &aad, stored, sealed != 0, size as usize)
        })
        .await??;
        Ok(Some(StateBody {
            data,
            md5,
            version: wanted,
        }))
    }

    /// Stores a Terraform upload. `lock_id` is the `?ID=` query parameter; `content_md5` the
    /// header, checked against the body so a truncated or altered upload is refused.
    pub async fn write_state(
        &self,
        id: &InstanceId,
        plain: Bytes,
        lock_id: Option<&str>,
        content_md5: Option<&str>,
        actor: &Actor,
    ) -> Result<WriteOutcome, StateError> {
        actor.require(Scope::Write, "writing state")?;
        if plain.is_empty() {
            return Err(StateError::BadRequest(
                "the state body is empty; nothing stored".into(),
            ));
        }
        let (header, digests) = {
            let plain = plain.clone();
            tokio::task::spawn_blocking(move || {
                statefile::parse_header(&plain).map(|h| (h, body::digests(&plain)))
            })
            .await??
        };
        if let Some(sent) = content_md5
            && sent.trim() != digests.md5
        {
            return Err(StateError::BadRequest(format!(
                "Content-MD5 mismatch (header {}, body {}): the upload was truncated or altered; \
                 nothing stored",
                sent.trim(),
                digests.md5
            )));
        }
        let new = NewVersion {
            plain,
            header,
            digests,
            action: "write",
            note: None,
        };
        self.commit_version(id, new, lock_id, actor).await
    }

    /// Checks the history rules and the lock, then stores the version with a compare-and-set,
    /// re-checking from scratch if another writer got in first.
    async fn commit_version(
        &self,
        id: &InstanceId,
        new: NewVersion<'_>,
        lock_id: Option<&str>,
        actor: &Actor,
    ) -> Result<WriteOutcome, StateError> {
        self.check_bodies_allowed()?;
        for _ in 0..COMMIT_ROUNDS {
            let Some(cur) = self.current(id).await? else {
                // First write to this instance: create its row, then go round again.
                self.ensure_instance(id).await?;
                continue;
            };
            if let Some(done) = check_history(id, &cur, &new)? {
                return Ok(done);
            }
            if cur.lock_id.as_deref() != lock_id {
                self.check_write_lock(id, lock_id).await?;
            }
            let version = cur.head + 1;
            // Encoded per round (the version number is sealed into the body) and moved into
            // the query rather than cached, so a large body is not held twice; retries are rare.
            let (data, sealed) = {
                let sealer = self.sealer.clone();
                let aad = body::row_aad(id, version);
                let plain = new.plain.clone();
                tokio::task::spawn_blocking(move || body::encode(&sealer, &aad, &plain)).await??
            };
            let (serial, lineage) = match &new.header {
                StateHeader::Plain { lineage, serial } => (Some(*serial), Some(lineage.clone())),
                StateHeader::Opaque => (None, None),
            };
            let now = now_ms();
            let (_gate, mut tx) = self.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO versions (instance, version, serial, lineage, opaque, size, md5, sha256, \
                 sealed, body, created_ms, created_by, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(id.key())
            .bind(version)
            .bind(serial)
            .bind(lineage)
            .bind(i64::from(new.header == StateHeader::Opaque))
            .bind(new.plain.len() as i64)
            .bind(&new.digests.md5)
            .bind(&new.digests.sha256)
            .bind(i64::from(sealed))
            .bind(data)
            .bind(now)
            .bind(&actor.name)
            .bind(new.note.as_deref())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    tx.rollback().await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let advanced = sqlx::query(
                "UPDATE instances SET head = $2, current_version = $2, updated_ms = $3 \
                 WHERE id = $1 AND head = $4 \
                 AND COALESCE((SELECT lock_id FROM locks WHERE instance = $1), '') = $5",
            )
            .bind(id.key())
            .bind(version)
            .bind(now)
            .bind(cur.head)
            .bind(lock_id.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if advanced == 0 {
                tx.rollback().await?;
                continue;
            }
            self.prune_in(&mut tx, id, version, now).await?;
            let detail = match serial {
                Some(s) => format!("version {version} (serial {s})"),
                None => format!("version {version} (opaque)"),
            };
            let detail = match &new.note {
                Some(note) => format!("{detail}, {note}"),
                None => detail,
            };
            Self::audit_in(&mut tx, &actor.name, new.action, Some(id), &detail).await?;
            tx.commit().await?;
            return Ok(WriteOutcome::Stored { version });
        }
        Err(StateError::Conflict(format!(
            "{id}: the state kept changing under concurrent writes; nothing stored, retry"
        )))
    }

    /// The lock rule for writes: if the instance is locked the write must carry that lock's ID;
    /// a write carrying an ID whose lock is gone lost its lock and must not land either.
    async fn check_write_lock(
        &self,
        id: &InstanceId,
        lock_id: Option<&str>,
    ) -> Result<(), StateError> {
        match (self.lock_holder(id).await?, lock_id) {
            (Some(holder), Some(sent)) if holder.id == sent => Ok(()),
            (Some(holder), _) => Err(StateError::Locked(Box::new(holder))),
            (None, Some(sent)) => Err(StateError::Conflict(format!(
                "{id}: this write holds lock {sent}, but the instance is no longer locked \
                 (force-unlocked?); nothing stored"
            ))),
            (None, None) => Ok(()),
        }
    }

    async fn prune_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &InstanceId,
        head: i64,
        now: i64,
    ) -> Result<(), StateError> {
        if !self.retention.prunes() {
            return Ok(());
        }
        // `version <> head` is redundant with max_prunable_version but states the invariant:
        // the current version is never deleted, whatever the policy.
        sqlx::query(
            "DELETE FROM versions WHERE instance = $1 AND version <> $2 AND version <= $3 \
             AND created_ms < $4",
        )
        .bind(id.key())
        .bind(head)
        .bind(self.retention.max_prunable_version(head))
        .bind(self.retention.prunable_before_ms(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every stored version of an instance, newest first.
    pub async fn list_versions(&self, id: &InstanceId) -> Result<Vec<VersionInfo>, StateError> {
        let cur = self
            .current(id)
            .await?
            .ok_or_else(|| StateError::NotFound(format!("no state is stored for {id}")))?;
        let rows = sqlx::query(
            "SELECT version, serial, lineage, opaque, size, md5, sha256, created_ms, created_by, note \
             FROM versions WHERE instance = $1 ORDER BY version DESC",
        )
        .bind(id.key())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.try_get("version")?;
                let opaque: i64 = row.try_get("opaque")?;
                Ok(VersionInfo {
                    version,
                    serial: row.try_get("serial")?,
                    lineage: row.try_get("lineage")?,
                    opaque: opaque != 0,
                    size: row.try_get("size")?,
                    md5: row.try_get("md5")?,
                    sha256: row.try_get("sha256")?,
                    created_at: rfc3339(row.try_get("created_ms")?),
                    created_by: row.try_get("created_by")?,
                    note: row.try_get("note")?,
                    current: version == cur.current,
                })
            })
            .collect()
    }

    /// Makes an old version current again by storing it as a new version (admin only). A plain
    /// state gets the next serial so clients holding the newer serial cannot overwrite it.
    pub async fn rollback(
        &self,
        id: &InstanceId,
        version: i64,
        actor: &Actor,
    ) -> Result<WriteOutcome, StateError> {
        actor.require(Scope::Admin, "rollback")?;
        if let Some(holder) = self.lock_holder(id).await? {
            return Err(StateError::Locked(Box::new(holder)));
        }
        let cur = self
            .current(id)
            .await?
            .ok_or_else(|| StateError::NotFound(format!("no state is stored for {id}")))?;
        let old = self
            .read_state(id, Some(version))
            .await?
            .ok_or_else(|| StateError::NotFound(format!("{id} has no version {version}")))?;
        let header = statefile::parse_header(&old.data)?;
        let (plain, header) = match header {
            StateHeader::Plain { lineage, serial } => {
                let next = cur.serial.unwrap_or(serial).max(serial) + 1;
                let data = statefile::with_serial(&old.data, next)?;
                (
                    data,
                    StateHeader::Plain {
                        lineage,
                        serial: next,
                    },
                )
            }
            StateHeader::Opaque => (old.data, StateHeader::Opaque),
        };
        let digests = body::digests(&plain);
        let new = NewVersion {
            plain: Bytes::from(plain),
            header,
            digests,
            action: "rollback",
            note: Some(format!("rollback to version {version}")),
        };
        self.commit_version(id, new, None, actor).await
    }

    /// Terraform's DELETE: the instance has no current state afterwards; every version is kept
    /// (so a rollback can restore it) until retention prunes it.
    pub async fn delete_state(
        &self,
        id: &InstanceId,
        lock_id: Option<&str>,
        actor: &Actor,
    ) -> Result<(), StateError> {
        actor.require(Scope::Write, "deleting state")?;
        self.check_write_lock(id, lock_id).await?;
        let (_gate, mut tx) = self.begin_write().await?;
        let cleared = sqlx::query(
            "UPDATE instances SET current_version = 0, updated_ms = $2 \
             WHERE id = $1 AND current_version <> 0 \
             AND COALESCE((SELECT lock_id FROM locks WHERE instance = $1), '') = $3",
        )
        .bind(id.key())
        .bind(now_ms())
        .bind(lock_id.unwrap_or(""))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cleared == 0 {
            return Err(StateError::NotFound(format!("no state is stored for {id}")));
        }
        Self::audit_in(
            &mut tx,
            &actor.name,
            "delete",
            Some(id),
            "current state cleared",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The lineage and serial rules. `Some(outcome)` settles the write without storing anything.
fn check_history(
    id: &InstanceId,
    cur: &Current,
    new: &NewVersion<'_>,
) -> Result<Option<WriteOutcome>, StateError> {
    if cur.current == 0 {
        return Ok(None);
    }
    if cur.sha256.as_deref() == Some(new.digests.sha256.as_str()) && new.action == "write" {
        return Ok(Some(WriteOutcome::Unchanged {
            version: cur.current,
        }));
    }
    // Opaque (client-encrypted) states carry no readable lineage or serial: versioned by time.
    let (StateHeader::Plain { lineage, serial }, Some(cur_lineage), Some(cur_serial)) =
        (&new.header, &cur.lineage, cur.serial)
    else {
        return Ok(None);
    };
    if lineage != cur_lineage {
        return Err(StateError::Conflict(format!(
            "{id}: lineage mismatch: the server's current state has lineage {cur_lineage}, this \
             write has lineage {lineage}; it is a different state, nothing stored"
        )));
    }
    if *serial < cur_serial {
        return Err(StateError::Conflict(format!(
            "{id}: stale state: this write has serial {serial}, older than the server's current \
             serial {cur_serial}; refresh and retry, nothing stored"
        )));
    }
    if *serial == cur_serial {
        return Err(StateError::Conflict(format!(
            "{id}: this write has serial {serial}, equal to the server's current serial \
             {cur_serial}, but different content; nothing stored"
        )));
    }
    Ok(None)
}
