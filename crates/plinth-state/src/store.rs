//! The store: a database pool, the sealing key and the retention policy.

use std::sync::Arc;

use sqlx::{Any, AnyPool, Row, Transaction};

use crate::clock::now_ms;
use crate::db::{self, DbKind};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::retention::Retention;
use crate::seal::Sealer;

const KEY_CHECK_ROW: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"plinth state key check";

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite:PATH` or `postgres://…`.
    pub url: String,
    /// Encryption at rest.
    pub sealer: Sealer,
    /// Which old versions may be pruned.
    pub retention: Retention,
    /// Pool size.
    pub max_connections: u32,
}

impl StoreOptions {
    /// Options with the defaults: keep every version, 16 connections.
    pub fn new(url: impl Into<String>, sealer: Sealer) -> Self {
        StoreOptions {
            url: url.into(),
            sealer,
            retention: Retention::keep_all(),
            max_connections: 16,
        }
    }
}

/// State storage on one database; cheap to clone, safe to share between tasks and replicas.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) kind: DbKind,
    pub(crate) sealer: Sealer,
    pub(crate) retention: Retention,
    /// Opened without the key: tokens, locks and audit only, never state bodies.
    pub(crate) metadata_only: bool,
    /// SQLite has one writer at a time; queueing writers here instead of in SQLite's busy
    /// handler (which sleeps with growing back-off) keeps tail latency low under load.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// Held for the duration of a write transaction on SQLite.
pub(crate) type WriteGate = Option<tokio::sync::OwnedMutexGuard<()>>;

impl Store {
    /// Opens the database for token and lock administration without the state key; any
    /// attempt to read or write a state body through this store is refused.
    pub async fn open_metadata_only(url: &str) -> Result<Self, StateError> {
        let (pool, kind) = db::connect(url, 2).await?;
        Ok(Store {
            pool,
            kind,
            sealer: Sealer::insecure_plaintext(),
            retention: Retention::keep_all(),
            metadata_only: true,
            write_gate: gate_for(kind),
        })
    }

    /// Begins a transaction that will write.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(WriteGate, Transaction<'static, Any>), StateError> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        Ok((gate, self.pool.begin().await?))
    }

    /// Queues this writer behind the store's other writers (SQLite only), for a write that is
    /// a single statement and needs no transaction.
    pub(crate) async fn gate(&self) -> WriteGate {
        match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    pub(crate) fn check_bodies_allowed(&self) -> Result<(), StateError> {
        if self.metadata_only {
            return Err(StateError::Sealing(
                "this store was opened without the state key (metadata only); state bodies \
                 cannot be read or written"
                    .into(),
            ));
        }
        Ok(())
    }
    /// Connects, migrates, and checks that the key matches the one the database was sealed with.
    pub async fn open(options: StoreOptions) -> Result<Self, StateError> {
        let (pool, kind) = db::connect(&options.url, options.max_connections).await?;
        let store = Store {
            pool,
            kind,
            sealer: options.sealer,
            retention: options.retention,
            metadata_only: false,
            write_gate: gate_for(kind),
        };
        store.check_key().await?;
        Ok(store)
    }

    /// Which database this store runs on.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Whether bodies are encrypted at rest.
    pub fn is_encrypting(&self) -> bool {
        self.sealer.is_encrypting()
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StateError> {
        sqlx::query("SELECT 1 AS one").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A wrong key would make every read fail later and, worse, let new writes be sealed
    /// under a second key; refuse at startup instead.
    async fn check_key(&self) -> Result<(), StateError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(KEY_CHECK_ROW)
            .fetch_optional(&self.pool)
            .await?;
        match (row, self.sealer.is_encrypting()) {
            (Some(row), true) => {
                let mut value: Vec<u8> = row.try_get("value")?;
                self.sealer
                    .open(KEY_CHECK_ROW.as_bytes(), &mut value)
                    .map_err(|_| {
                        StateError::Sealing(
                            "the state key does not match the key this database was encrypted \
                             with; start the server with the original key"
                                .into(),
                        )
                    })?;
                Ok(())
            }
            (Some(_), false) => Err(StateError::Sealing(
                "this database holds encrypted state; start the server with its key \
                 (PLINTH_STATE_KEY or --state-key-file)"
                    .into(),
            )),
            (None, true) => {
                let plaintext_exists =
                    sqlx::query("SELECT 1 AS one FROM versions WHERE sealed = 0 LIMIT 1")
                        .fetch_optional(&self.pool)
                        .await?
                        .is_some();
                if plaintext_exists {
                    // Rows carry a `sealed` flag, so versions written under
                    // --insecure-no-encryption stay readable; new writes are sealed.
                    tracing::warn!(
                        "this database holds state stored without encryption; new versions \
                         will be encrypted, old ones stay as they are until pruned"
                    );
                }
                let mut value = KEY_CHECK_PLAINTEXT.to_vec();
                self.sealer.seal(KEY_CHECK_ROW.as_bytes(), &mut value)?;
                // Replicas starting together race here; the first row wins and the loser
                // re-checks it so that two replicas with different keys cannot both start.
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(KEY_CHECK_ROW)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Box::pin(self.check_key()).await
            }
            (None, false) => Ok(()),
        }
    }

    /// Makes sure the instance row exists (instances appear on their first lock or write).
    pub(crate) async fn ensure_instance(&self, id: &InstanceId) -> Result<(), StateError> {
        // Reading first spares a write (and, on SQLite, an fsync) on every lock and write.
        let exists = sqlx::query("SELECT 1 AS one FROM instances WHERE id = $1")
            .bind(id.key())
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if exists {
            return Ok(());
        }
        // With its summary row, in one transaction: the overview lists instances from there.
        let (_gate, mut tx) = self.begin_write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO instances (id, project, env, stack, head, current_version, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, 0, 0, $5, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.key())
        .bind(&id.project)
        .bind(&id.env)
        .bind(&id.stack)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Self::summarise_instance(&mut tx, &id.project, &id.env, &id.stack).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn gate_for(kind: DbKind) -> Option<Arc<tokio::sync::Mutex<()>>> {
    (kind == DbKind::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())))
}
