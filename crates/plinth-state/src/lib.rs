//! State storage: versions, locks, tokens, audit and encryption at rest on SQLite or PostgreSQL.
//!
//! Everything that must survive a restart or be shared between server replicas lives in the
//! database: locks are rows taken with `INSERT … ON CONFLICT DO NOTHING`, writes are
//! compare-and-set on the instance's version counter. No HTTP here; `plinth-server` translates.

mod audit;
mod body;
mod clock;
mod db;
mod error;
mod instance;
mod locks;
mod retention;
mod seal;
mod statefile;
mod store;
mod text;
mod tokens;
mod versions;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use audit::AuditEntry;
pub use db::DbKind;
pub use error::StateError;
pub use instance::InstanceId;
pub use locks::{LockHolder, UnlockOutcome};
pub use retention::Retention;
pub use seal::{KEY_ENV, Sealer};
pub use store::{Store, StoreOptions};
pub use tokens::{Actor, Scope, TokenInfo};
pub use versions::{StateBody, VersionInfo, WriteOutcome};
