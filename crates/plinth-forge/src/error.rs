//! What can go wrong talking to a forge. Messages name the request and carry the forge's
//! words, never a token.

use std::time::Duration;

/// An API call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The forge answered with an error status.
    #[error("{request}: {status} {message}")]
    Status {
        /// `github GET /repos/acme/infra/pulls/7`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The forge's message.
        message: String,
    },
    /// The forge kept refusing for rate limits, or asked for a longer wait than allowed.
    #[error("{request}: rate limited{}; gave up after {attempts} attempt(s) and {waited:?} of waiting", retry_after.map(|d| format!(" (the forge asks to wait {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The request.
        request: String,
        /// Requests sent.
        attempts: u32,
        /// Time spent waiting between them.
        waited: Duration,
        /// The wait the forge asked for last, when it said.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, timeout, TLS.
    #[error("{request}: {detail}")]
    Transport {
        /// The request.
        request: String,
        /// What happened.
        detail: String,
    },
    /// An answer plinth cannot read.
    #[error("{request}: unexpected answer: {detail}")]
    Decode {
        /// The request.
        request: String,
        /// What was wrong.
        detail: String,
    },
    /// The client cannot be built or authenticate (bad key, bad URL).
    #[error("{0}")]
    Setup(String),
    /// An argument the forge cannot take (a repository name without an owner).
    #[error("{0}")]
    Invalid(String),
}

impl ForgeError {
    /// The HTTP status, for an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the forge said 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether trying again later may succeed (rate limits, transport, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ForgeError::RateLimited { .. } | ForgeError::Transport { .. } => true,
            ForgeError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
