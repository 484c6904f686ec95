//! The HTTP client every part of plinth uses to reach another service (the plinth server,
//! Vault/OpenBao, forges): rustls with ring as its one crypto provider, the system's roots
//! plus an optional private CA, bounded timeouts and plinth's user agent.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

/// Environment variable naming a PEM file of extra CA certificates for plinth's clients.
pub const CA_FILE_ENV: &str = "PLINTH_CA_FILE";

/// What can go wrong building a client.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The CA file cannot be read or holds no certificate.
    #[error("CA file {path}: {detail}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Options of a client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Extra CA certificates (PEM); `None` uses `PLINTH_CA_FILE` when it is set.
    pub ca_file: Option<PathBuf>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            ca_file: None,
        }
    }
}

/// Installs ring as rustls's process-wide crypto provider (once; later calls do nothing).
/// Servers that terminate TLS call it too.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider was installed first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client with `options`: system roots plus the CA file, if any.
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, HttpError> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("plinth/", env!("CARGO_PKG_VERSION")))
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout);
    let env_ca = std::env::var_os(CA_FILE_ENV).map(PathBuf::from);
    if let Some(path) = options.ca_file.as_ref().or(env_ca.as_ref()) {
        builder = builder.tls_certs_merge(read_ca(path)?);
    }
    builder.build().map_err(|e| HttpError::Build(e.to_string()))
}

fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let err = |detail: String| HttpError::CaFile {
        path: path.to_path_buf(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_named() {
        let opts = ClientOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..ClientOptions::default()
        };
        let err = client(&opts).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_plain_client_builds() {
        client(&ClientOptions::default()).unwrap();
    }
}
