//! Pull-request automation: the server's work on pull requests, drift and copies
//! (DESIGN.md §5.1).
//!
//! - [`setup`]: the forges and repositories of `plinth-server.hcl`, with their secrets read
//!   from the environment ([`PullsSetup::load`]), the data directory and the worker count.
//! - [`intake`]: webhook deliveries verified, decoded just enough, and stored with their job
//!   before the answer ([`Intake::accept`]); `plinth-server`'s webhook routes call it.
//! - [`workspace`]: a bare mirror per repository and a detached worktree per head commit
//!   under the data directory ([`Workspaces::checkout`]), safe across workers, replicas and
//!   a kill -9.

pub mod intake;
pub mod setup;
pub mod workspace;

mod file_lock;
mod git;
mod git_input;

pub use intake::{Accepted, Intake, Refusal, decode_stored, serial_key};
pub use setup::{ForgeSetup, PullsSetup, RepoSetup, SetupError, SetupOptions};
pub use workspace::{PruneReport, WorkspaceError, Workspaces, Worktree};
