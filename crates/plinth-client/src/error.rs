//! What a call to the server can end in. No variant ever carries the token.

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL or the TLS set-up is unusable (nothing was sent).
    #[error("{0}")]
    Config(String),
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the plinth server at {base}: {detail}")]
    Unreachable {
        /// The server's base URL.
        base: String,
        /// What went wrong.
        detail: String,
    },
    /// The server answered with a refusal.
    #[error("the plinth server refused ({status}): {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The server's `error` message (or its body when that is not JSON).
        message: String,
        /// The whole JSON body (a lock conflict carries the holder under `lock`).
        body: Option<serde_json::Value>,
    },
    /// The server answered 2xx with something this client does not understand (versions of
    /// client and server too far apart).
    #[error("the plinth server's answer is not what this plinth expects: {0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the refusal means "held by someone else" (409 Conflict, 423 Locked).
    pub fn is_conflict(&self) -> bool {
        matches!(self.status(), Some(409 | 423))
    }

    /// Whether the server said the thing does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}
