//! The error type of every storage operation, grouped by how a caller should answer it.

use crate::locks::LockHolder;

/// Why a storage operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The input is malformed (bad JSON, wrong checksum, unsupported format). Nothing stored.
    #[error("{0}")]
    BadRequest(String),
    /// The instance, version or lock does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Another client holds the lock; carries the holder so clients can report and retry.
    #[error("{} is locked by {} (lock ID {})", .0.instance, .0.who(), .0.id)]
    Locked(Box<LockHolder>),
    /// The write contradicts the stored history (lineage, serial, lost lock).
    #[error("{0}")]
    Conflict(String),
    /// The worker no longer holds the job: its lease expired and another worker claimed it,
    /// or the job was released or finished. The worker must stop without side effects.
    #[error("job {job}: this worker no longer holds it (lease lost); stop working on it")]
    LeaseLost {
        /// The job.
        job: i64,
    },
    /// The caller's token lacks the scope for this operation.
    #[error("{0}")]
    Forbidden(String),
    /// The database holds state sealed under another key, or a sealed body does not open.
    #[error("{0}")]
    Sealing(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A background task (compression, sealing) panicked or was cancelled.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio::task::JoinError> for StateError {
    fn from(err: tokio::task::JoinError) -> Self {
        StateError::Internal(err.to_string())
    }
}
