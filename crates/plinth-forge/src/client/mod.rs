//! The API clients, one per forge, and how to build one from a `forge` block.

mod gitea;
mod github;
mod github_app;
mod gitlab;
mod paths;
mod rate_limit;
mod repository;
mod reviews;
mod transport;

use std::sync::Arc;

use plinth_config::{ForgeDecl, ForgeKind};

use crate::credentials::Credentials;
use crate::error::ForgeError;
use crate::forge::Forge;

pub use gitea::GiteaClient;
pub use github::GitHubClient;
pub use gitlab::GitLabClient;
pub use rate_limit::RetryPolicy;

/// How clients talk to their forge.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// Timeouts and CA certificates (`plinth_http`).
    pub http: plinth_http::ClientOptions,
    /// Retries after rate limits and server errors.
    pub retry: RetryPolicy,
}

/// The client for `decl`, with the credentials read for it ([`Credentials::from_env`]).
pub fn client_for(
    decl: &ForgeDecl,
    credentials: Credentials,
    config: &ClientConfig,
) -> Result<Arc<dyn Forge>, ForgeError> {
    let url = &decl.api_url;
    let mismatch = || {
        ForgeError::Setup(format!(
            "forge `{}`: GitHub App credentials are for GitHub only",
            decl.name.value
        ))
    };
    Ok(match (decl.kind, credentials) {
        (ForgeKind::GitHub, Credentials::Token(token)) => {
            Arc::new(GitHubClient::new(url, &token, config)?)
        }
        (
            ForgeKind::GitHub,
            Credentials::GitHubApp {
                app_id,
                private_key_pem,
            },
        ) => Arc::new(GitHubClient::app(url, app_id, &private_key_pem, config)?),
        (ForgeKind::GitLab, Credentials::Token(token)) => {
            Arc::new(GitLabClient::new(url, &token, config)?)
        }
        (ForgeKind::Gitea, Credentials::Token(token)) => {
            Arc::new(GiteaClient::new(url, &token, config)?)
        }
        (ForgeKind::GitLab | ForgeKind::Gitea, Credentials::GitHubApp { .. }) => {
            return Err(mismatch());
        }
    })
}
