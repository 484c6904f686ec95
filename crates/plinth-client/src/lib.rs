//! Typed client of the plinth server's JSON API (`plinth serve`), for the CLI and the runner.
//!
//! [`Client::new`] builds its HTTP client through `plinth_http::client`: rustls on ring, the
//! system's roots plus `PLINTH_CA_FILE` (or [`plinth_http::ClientOptions::ca_file`]), bounded
//! timeouts. The token is sent as a Bearer token and never appears in an error, a log line or
//! a `Debug` output. Every refusal comes back as [`ClientError::Status`] with the HTTP status
//! and the server's message.
//!
//! One module per part of the API: `state` (versions, pull, rollback, locks), `promotions`,
//! `copies`, `runs` (history and drift) and `pulls` (pull requests and jobs, read-only). The
//! wire types are the server's JSON shapes (plinth-server's README), declared here so the
//! client needs no database crate.

mod client;
mod copies;
mod error;
mod promotions;
mod pulls;
mod runs;
mod state;

pub use client::{Client, WhoAmI};
pub use copies::{CopyRecord, CopyStatus, CopyUpdate};
pub use error::ClientError;
pub use promotions::{NewPromotion, Promotion, PromotionKind};
pub use pulls::{JobDetails, JobSummary, PlanView, PullInstanceView, PullView};
pub use runs::{DriftRecord, RunInstance, RunInstanceReport, RunRecord, RunReport, RunSource};
pub use state::{Rollback, StateLock, Version};
