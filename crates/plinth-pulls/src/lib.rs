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
//! - [`worker`]: this replica's job workers ([`worker::start`]) over an [`Automation`]: each
//!   delivery's job plans the pull request (`plan_flow`: affected instances, locks taken at
//!   once or queued, one plan run per environment keeping unmoved plans), carries out a
//!   comment's [`command`] (`apply_flow` behind `gates`, unlock, approvals), or closes it
//!   (`pull_event`: copies destroyed, `apply = "merge"`, locks handed over); `feedback` keeps
//!   the [`summary`] comment, the split [`details`] and the commit statuses.
//! - [`schedule`]: this replica's clock ([`schedule::start`]): each environment with
//!   `drift { every }` gets a `drift` job on schedule (`drift_job`: a refreshing plan of the
//!   default branch's head, the results recorded, the environment's forge issue opened,
//!   rewritten or closed by `drift_issue`), and copies past their `ttl` a `reap` job
//!   (`reap_job`: `env down` from the commit each was last applied from).

pub mod command;
pub mod details;
pub mod intake;
pub mod schedule;
pub mod setup;
pub mod summary;
pub mod worker;
pub mod workspace;

mod apply_flow;
mod automation;
mod branch;
mod checkout;
mod comment;
mod copy_flow;
mod drift_issue;
mod drift_job;
mod error;
mod feedback;
mod gates;
mod job_run;
mod jobs;
mod plan_flow;
mod plan_text;
mod pull_event;
mod reap_job;
mod sheet;

mod file_lock;
mod git;
mod git_input;

pub use automation::Automation;
pub use error::FlowError;
pub use intake::{Accepted, Intake, Refusal, decode_stored, serial_key};
pub use jobs::PLAN_JOB_KIND;
pub use setup::{ForgeSetup, PullsSetup, RepoSetup, SetupError, SetupOptions};
pub use workspace::{PruneReport, WorkspaceError, Workspaces, Worktree};
