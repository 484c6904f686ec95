//! Everything plinth knows about GitHub, GitLab and Gitea, and nothing of its pull-request
//! logic (DESIGN.md §5.1, §5.3).
//!
//! - [`webhook`]: pure functions over a delivery's headers and body: [`webhook::verify`] the
//!   signature or token, read its [`webhook::delivery_id`], [`webhook::decode`] it into the
//!   forge-neutral [`Event`].
//! - [`Forge`]: the one trait the server calls (pull request, approvals, permission, comments,
//!   statuses, issues, git credentials, the credentials' [`RepoAccess`] to a repository),
//!   implemented by [`GitHubClient`] (token or GitHub App),
//!   [`GitLabClient`] and [`GiteaClient`]; [`client_for`] builds the right one from a
//!   `forge` block of `plinth-server.hcl`.
//! - `fake` (feature `test-support`): a stand-in forge server speaking all three REST dialects,
//!   recording every call, plus webhook signing and payload builders for tests.
//!
//! Tokens and keys never reach a log line, an error message or a `Debug` output.

mod client;
mod credentials;
mod error;
mod event;
mod forge;
mod secret;
pub mod webhook;

#[cfg(feature = "test-support")]
pub mod fake;

pub use client::{ClientConfig, GitHubClient, GitLabClient, GiteaClient, RetryPolicy, client_for};
pub use credentials::{Credentials, CredentialsError, webhook_secret_from_env};
pub use error::ForgeError;
pub use event::{CommentEvent, Event, PullAction, PullRequestEvent};
pub use forge::{
    Approval, CommentId, Forge, GitAuth, Permission, PullInfo, PullState, RepoAccess,
    STATUS_DESCRIPTION_MAX, Status, StatusState, pull_head_ref,
};
pub use plinth_config::ForgeKind;
