//! What can go wrong reading or writing a secret. Every message names where (`at`: the
//! source, e.g. `vault:secret/licensing/prod`) and why, and never holds a value or a token.

/// A failed secret operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No store serves the source, or its settings are incomplete.
    #[error("{0}")]
    NotConfigured(String),
    /// The CA file of the `vault` block (or `VAULT_CACERT`) cannot be used.
    #[error("Vault CA file {path}: {detail}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The server could not be reached: refused connection, DNS, TLS or timeout.
    #[error("{at}: Vault at {address} is unreachable: {reason}")]
    Unreachable {
        /// The source or path.
        at: String,
        /// The server's address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The server refused the token (HTTP 403).
    #[error(
        "{at}: Vault refused the token (403 {detail}): it is invalid, expired or revoked, or its policy does not allow this"
    )]
    Refused {
        /// The source or path.
        at: String,
        /// The server's words.
        detail: String,
    },
    /// The path holds no secret (HTTP 404), or its latest version is deleted.
    #[error("{at}: not found: {reason}")]
    NotFound {
        /// The source or path.
        at: String,
        /// Why, e.g. `no secret at this path` or `version 3 was deleted at …`.
        reason: String,
    },
    /// The secret exists but has no such key.
    #[error("{at}: the secret has no key `{key}` (its keys: {})", list(.keys))]
    KeyMissing {
        /// The source's path.
        at: String,
        /// The key asked for.
        key: String,
        /// The keys it does have (names only).
        keys: Vec<String>,
    },
    /// An `env:VAR` source whose variable is not set.
    #[error("env:{var}: environment variable {var} is not set")]
    EnvUnset {
        /// The variable.
        var: String,
    },
    /// AppRole login failed.
    #[error("Vault AppRole login at auth/{mount} failed: {detail}")]
    Login {
        /// The AppRole mount.
        mount: String,
        /// The server's words or the transport error.
        detail: String,
    },
    /// A check-and-set write lost against another write.
    #[error(
        "{at}: another write came first (check-and-set expected version {expected}); read again and retry"
    )]
    CasMismatch {
        /// The path.
        at: String,
        /// The version this write expected to replace.
        expected: u64,
    },
    /// Any other non-success answer.
    #[error("{at}: Vault answered {status}: {detail}")]
    Http {
        /// The source or path.
        at: String,
        /// HTTP status.
        status: u16,
        /// The server's words.
        detail: String,
    },
    /// An answer plinth cannot read.
    #[error("{at}: unexpected answer from Vault: {detail}")]
    Protocol {
        /// The source or path.
        at: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The store cannot do this (e.g. write to the environment).
    #[error("{at}: the {store} store cannot {operation}")]
    Unsupported {
        /// The source or path.
        at: String,
        /// The store's scheme.
        store: &'static str,
        /// What was asked.
        operation: &'static str,
    },
}

impl SecretError {
    /// A stable one-word name of the failure, for JSON documents and statuses.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretError::NotConfigured(_) | SecretError::CaFile { .. } => "not_configured",
            SecretError::Unreachable { .. } => "unreachable",
            SecretError::Refused { .. } | SecretError::Login { .. } => "refused",
            SecretError::NotFound { .. } | SecretError::EnvUnset { .. } => "missing",
            SecretError::KeyMissing { .. } => "key_missing",
            SecretError::CasMismatch { .. } => "conflict",
            SecretError::Http { .. } | SecretError::Protocol { .. } => "failed",
            SecretError::Unsupported { .. } => "unsupported",
        }
    }

    /// Whether the secret simply does not exist (as opposed to the store failing).
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            SecretError::NotFound { .. }
                | SecretError::EnvUnset { .. }
                | SecretError::KeyMissing { .. }
        )
    }
}

fn list(keys: &[String]) -> String {
    if keys.is_empty() {
        "none".into()
    } else {
        keys.join(", ")
    }
}
