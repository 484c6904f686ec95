//! Signature and token checks, all constant-time.

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{FORGEJO_SIGNATURE, GITEA_SIGNATURE, GITHUB_SIGNATURE, GITLAB_TOKEN, header};

/// Why a delivery is not trusted (the server answers 401 and stores nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The forge's secret is empty: nothing can be verified against it.
    #[error("the webhook secret is empty")]
    NoSecret,
    /// The signature or token header is missing.
    #[error("no {header} header")]
    Missing {
        /// The header expected.
        header: &'static str,
    },
    /// The signature uses another scheme than HMAC-SHA256 (`sha1=…`).
    #[error("{header} is not `sha256=<hex>`")]
    WrongScheme {
        /// The header.
        header: &'static str,
    },
    /// The signature is not hex.
    #[error("{header} is not hex")]
    Malformed {
        /// The header.
        header: &'static str,
    },
    /// The signature or token does not match the secret.
    #[error("{header} does not match the webhook secret")]
    Mismatch {
        /// The header.
        header: &'static str,
    },
}

pub(super) fn verify_github(
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), VerifyError> {
    let header_name = GITHUB_SIGNATURE;
    let value = present(headers, header_name, secret)?;
    let hex_digest = value
        .strip_prefix("sha256=")
        .ok_or(VerifyError::WrongScheme {
            header: header_name,
        })?;
    check_hmac(header_name, hex_digest, body, secret)
}

pub(super) fn verify_gitea(
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), VerifyError> {
    let header_name = if headers.contains_key(GITEA_SIGNATURE) {
        GITEA_SIGNATURE
    } else if headers.contains_key(FORGEJO_SIGNATURE) {
        FORGEJO_SIGNATURE
    } else {
        GITEA_SIGNATURE
    };
    let value = present(headers, header_name, secret)?;
    check_hmac(header_name, value, body, secret)
}

pub(super) fn verify_gitlab(headers: &HeaderMap, secret: &str) -> Result<(), VerifyError> {
    let header_name = GITLAB_TOKEN;
    let token = present(headers, header_name, secret)?;
    // Comparing digests rather than the strings keeps the secret's length out of the timing.
    let sent = Sha256::digest(token.as_bytes());
    let expected = Sha256::digest(secret.as_bytes());
    if bool::from(sent.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch {
            header: header_name,
        })
    }
}

fn present<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
    secret: &str,
) -> Result<&'h str, VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    header(headers, name)
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::Missing { header: name })
}

fn check_hmac(
    header_name: &'static str,
    hex_digest: &str,
    body: &[u8],
    secret: &str,
) -> Result<(), VerifyError> {
    let sent = hex::decode(hex_digest).map_err(|_| VerifyError::Malformed {
        header: header_name,
    })?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&sent).map_err(|_| VerifyError::Mismatch {
        header: header_name,
    })
}

/// The hex HMAC-SHA256 of `body` with `secret`, as GitHub and Gitea send it.
#[cfg(feature = "test-support")]
pub(crate) fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
