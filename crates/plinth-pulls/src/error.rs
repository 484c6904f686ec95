//! Why a job of the pull-request flow stopped.

use plinth_forge::ForgeError;
use plinth_state::StateError;

use crate::workspace::WorkspaceError;

/// A job's failure. Refusals the user can act on are replies on the pull request, not errors;
/// these are what the job's log and result record.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The forge's API failed (after its own retries).
    #[error("forge: {0}")]
    Forge(#[from] ForgeError),
    /// The database failed.
    #[error("store: {0}")]
    State(#[from] StateError),
    /// A mirror or worktree could not be made.
    #[error("working copy: {0}")]
    Workspace(#[from] WorkspaceError),
    /// The job's payload or context makes no sense (an unlisted repository, a bad payload).
    #[error("{0}")]
    Refused(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}
