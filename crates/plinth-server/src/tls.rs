//! HTTPS for `plinth serve --tls-cert FILE --tls-key FILE`: rustls on ring (installed by
//! `plinth_http::install_crypto_provider`), HTTP/1.1 only, PEM files read once at startup.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read or holds no usable PEM item.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// rustls refused the pair (a key that does not match the certificate, an unsupported key).
    #[error("the TLS certificate and key cannot be used together: {0}")]
    Config(String),
}

/// Reads a PEM certificate chain (leaf first) and its PEM private key.
pub fn load_tls(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    plinth_http::install_crypto_provider();
    let file_err = |path: &Path, detail: String| TlsError::File {
        path: path.to_path_buf(),
        detail,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_err(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_err(cert, "no PEM certificate in the file".into()));
    }
    // The message names the file only: a key's bytes never reach an error.
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        file_err(
            key,
            format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
