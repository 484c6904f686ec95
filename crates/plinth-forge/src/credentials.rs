//! The secrets a `forge` block names: read from the environment (and the App's key file),
//! held so that they never print.

use std::fmt;

use plinth_config::{ForgeAuth, ForgeDecl};

/// API credentials for one forge.
#[derive(Clone)]
pub enum Credentials {
    /// A personal, project or bot token.
    Token(String),
    /// A GitHub App: installation tokens are minted with a JWT signed by its private key.
    GitHubApp {
        /// The App's id.
        app_id: u64,
        /// Its private key, PEM (PKCS#1 as GitHub issues it, or PKCS#8).
        private_key_pem: Vec<u8>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Credentials::Token([redacted])"),
            Credentials::GitHubApp { app_id, .. } => {
                write!(
                    f,
                    "Credentials::GitHubApp {{ app_id: {app_id}, key: [redacted] }}"
                )
            }
        }
    }
}

/// A secret that could not be read. Names the variable or file, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// The environment variable is unset or empty.
    #[error("forge `{forge}`: the environment variable {var} is unset or empty")]
    Unset {
        /// The forge block's name.
        forge: String,
        /// The variable.
        var: String,
    },
    /// The App's key file cannot be read.
    #[error("forge `{forge}`: cannot read the private key file {path}: {detail}")]
    KeyFile {
        /// The forge block's name.
        forge: String,
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
}

impl Credentials {
    /// Reads the credentials `decl` names: its `token_env` variable, or its App's key file.
    pub fn from_env(decl: &ForgeDecl) -> Result<Credentials, CredentialsError> {
        match &decl.auth {
            ForgeAuth::Token { env } => {
                env_value(&decl.name.value, &env.value).map(Credentials::Token)
            }
            ForgeAuth::GitHubApp {
                app_id,
                private_key_file,
            } => {
                let path = &private_key_file.value;
                let pem = std::fs::read(path).map_err(|e| CredentialsError::KeyFile {
                    forge: decl.name.value.clone(),
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
                Ok(Credentials::GitHubApp {
                    app_id: *app_id,
                    private_key_pem: pem,
                })
            }
        }
    }
}

/// The webhook secret `decl` names (`webhook_secret_env`).
pub fn webhook_secret_from_env(decl: &ForgeDecl) -> Result<String, CredentialsError> {
    env_value(&decl.name.value, &decl.webhook_secret_env.value)
}

fn env_value(forge: &str, var: &str) -> Result<String, CredentialsError> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(CredentialsError::Unset {
            forge: forge.to_string(),
            var: var.to_string(),
        }),
    }
}
