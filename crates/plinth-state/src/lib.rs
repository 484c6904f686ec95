//! State storage: versions, locks, tokens, audit and encryption at rest on SQLite or PostgreSQL.
//!
//! Everything that must survive a restart or be shared between server replicas lives in the
//! database: locks are rows taken with `INSERT … ON CONFLICT DO NOTHING`, writes are
//! compare-and-set on the instance's version counter. No HTTP here; `plinth-server` translates.
//!
//! The server's own work lives here too (migration `0002_server_work`): webhook deliveries and
//! the job queue (`record_delivery`, `enqueue`, `claim` and the lease calls, with the resume
//! contract in `job_lease`), pull requests with their instance locks and FIFO queues
//! (`upsert_pull`, `acquire_all`, `release_all`, `pull_view`), promotion records, ephemeral
//! copies, the run history and drift results; migration `0200_drift_watch` keeps the server's
//! scheduled drift checks and their forge issues (`drift_watch`, `put_drift_watch`).
//!
//! Migration `0101_instance_summary` keeps what the dashboard's overview shows of each
//! instance (last apply, drift) in one table, written with the runs and drift results that
//! change it (`summary`) and read a page at a time (`overview`).

mod audit;
mod body;
mod clock;
mod copies;
mod dashboard;
mod db;
mod deliveries;
mod drift;
mod drift_watch;
mod error;
mod instance;
mod job_lease;
mod jobs;
mod lock_queue;
mod locks;
mod overview;
mod promotions;
mod pull_locks;
mod pull_view;
mod pulls;
mod retention;
mod runs;
mod seal;
mod statefile;
mod store;
mod summary;
mod text;
mod tokens;
mod versions;
mod web_sessions;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use audit::AuditEntry;
pub use copies::{CopyRecord, CopyStatus, CopyUpdate, PutMode};
pub use dashboard::{DriftBrief, InstanceRun, RunFilter, RunListItem, RunProgress};
pub use db::DbKind;
pub use deliveries::{DELIVERY_JOB_KIND, Delivery, Recorded};
pub use drift::{DriftCount, DriftRecord, DriftStatus};
pub use drift_watch::DriftWatch;
pub use error::StateError;
pub use instance::InstanceId;
pub use job_lease::{Job, JobOutcome, Lease, MAX_JOB_ATTEMPTS, MAX_PROGRESS_BYTES};
pub use jobs::{Enqueued, JobCounts, JobDetails, JobStatus, JobSummary, MAX_JOB_LOG_BYTES};
pub use lock_queue::LockWait;
pub use locks::{LockHolder, UnlockOutcome};
pub use overview::{
    ApplyBrief, EnvTotals, InstanceStatus, Overview, OverviewQuery, PullLockBrief, StateBrief,
    StateLockBrief,
};
pub use promotions::{NewPromotion, Promotion, PromotionKind, PromotionQuery};
pub use pull_locks::{Acquisition, PullLock};
pub use pull_view::{PlanView, PullInstanceView, PullView};
pub use pulls::{PlanSummary, PullInstance, PullRecord, PullRef, PullState};
pub use retention::Retention;
pub use runs::{
    MAX_RUN_INSTANCES, MAX_RUN_LOG_BYTES, RunInstanceRecord, RunInstanceReport, RunRecord,
    RunReport, RunSource,
};
pub use seal::{KEY_ENV, Sealer};
pub use store::{Store, StoreOptions};
pub use tokens::{Actor, Scope, TokenInfo};
pub use versions::{StateBody, VersionInfo, WriteOutcome};
pub use web_sessions::{NewWebSession, WebSession};
