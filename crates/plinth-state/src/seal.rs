//! Encryption at rest: every stored body is sealed with AES-256-GCM under the server's key.
//!
//! The sealed form is `nonce (12 bytes) || ciphertext+tag`. The associated data binds a body to
//! its row (instance and version), so a body copied into another row fails to open.

use std::path::Path;

use aes_gcm::aead::{AeadInOut, Generate, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::StateError;

/// The environment variable holding the base64 state key.
pub const KEY_ENV: &str = "PLINTH_STATE_KEY";

const NONCE_LEN: usize = 12;

/// Seals and opens stored bodies; `None` inside means the operator chose no encryption.
#[derive(Clone)]
pub struct Sealer {
    cipher: Option<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("encrypting", &self.cipher.is_some())
            .finish()
    }
}

impl Sealer {
    /// A sealer for a 32-byte key.
    pub fn from_key(key: &[u8]) -> Result<Self, StateError> {
        if key.len() != 32 {
            return Err(StateError::BadRequest(format!(
                "the state key must be 32 bytes (AES-256), got {} bytes",
                key.len()
            )));
        }
        let key = Key::<Aes256Gcm>::try_from(key)
            .map_err(|_| StateError::BadRequest("the state key must be 32 bytes".into()))?;
        Ok(Sealer {
            cipher: Some(Aes256Gcm::new(&key)),
        })
    }

    /// A sealer for a base64-encoded 32-byte key (the format of `PLINTH_STATE_KEY`).
    pub fn from_base64(text: &str) -> Result<Self, StateError> {
        let key = STANDARD.decode(text.trim()).map_err(|e| {
            StateError::BadRequest(format!("the state key is not valid base64: {e}"))
        })?;
        Self::from_key(&key)
    }

    /// Reads a key file holding either the base64 text or the 32 raw bytes.
    pub fn from_file(path: &Path) -> Result<Self, StateError> {
        let bytes = std::fs::read(path).map_err(|e| {
            StateError::BadRequest(format!(
                "cannot read the state key file {}: {e}",
                path.display()
            ))
        })?;
        if bytes.len() == 32 {
            return Self::from_key(&bytes);
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            StateError::BadRequest(format!(
                "{}: the state key file must hold 32 raw bytes or their base64 text",
                path.display()
            ))
        })?;
        Self::from_base64(&text)
    }

    /// No encryption at all (`--insecure-no-encryption`).
    pub fn insecure_plaintext() -> Self {
        Sealer { cipher: None }
    }

    /// Whether bodies are encrypted.
    pub fn is_encrypting(&self) -> bool {
        self.cipher.is_some()
    }

    /// A fresh random key, base64-encoded, for operators creating their first key.
    pub fn generate_key_base64() -> String {
        STANDARD.encode(Key::<Aes256Gcm>::generate())
    }

    /// Seals `data` in place (when encrypting); returns whether it was sealed.
    pub(crate) fn seal(&self, aad: &[u8], data: &mut Vec<u8>) -> Result<bool, StateError> {
        let Some(cipher) = &self.cipher else {
            return Ok(false);
        };
        let nonce = Nonce::generate();
        cipher
            .encrypt_in_place(&nonce, aad, data)
            .map_err(|_| StateError::Sealing("encryption failed".into()))?;
        // Prepending costs one memmove of the compressed body, which is small next to the
        // compression itself and keeps nonce and ciphertext in one column.
        data.splice(0..0, nonce.iter().copied());
        Ok(true)
    }

    /// Opens a body sealed by [`Sealer::seal`] in place.
    pub(crate) fn open(&self, aad: &[u8], data: &mut Vec<u8>) -> Result<(), StateError> {
        let Some(cipher) = &self.cipher else {
            return Err(StateError::Sealing(
                "this database holds encrypted state; start the server with its key \
                 (PLINTH_STATE_KEY or --state-key-file)"
                    .into(),
            ));
        };
        if data.len() < NONCE_LEN {
            return Err(StateError::Sealing("a sealed body is truncated".into()));
        }
        let nonce = Nonce::try_from(&data[..NONCE_LEN])
            .map_err(|_| StateError::Sealing("a sealed body is truncated".into()))?;
        data.drain(..NONCE_LEN);
        cipher.decrypt_in_place(&nonce, aad, data).map_err(|_| {
            StateError::Sealing(
                "a sealed body does not open with this key: wrong key or tampered row".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_hide_the_plaintext_and_open_only_with_the_same_row() {
        let sealer = Sealer::from_base64(&Sealer::generate_key_base64()).unwrap();
        let plain = b"secret-value-1234567890".to_vec();
        let mut data = plain.clone();
        assert!(sealer.seal(b"row-1", &mut data).unwrap());
        assert!(!data.windows(plain.len()).any(|w| w == plain.as_slice()));
        let mut wrong_row = data.clone();
        assert!(sealer.open(b"row-2", &mut wrong_row).is_err());
        sealer.open(b"row-1", &mut data).unwrap();
        assert_eq!(data, plain);
    }

    #[test]
    fn another_key_cannot_open() {
        let a = Sealer::from_base64(&Sealer::generate_key_base64()).unwrap();
        let b = Sealer::from_base64(&Sealer::generate_key_base64()).unwrap();
        let mut data = b"x".to_vec();
        a.seal(b"r", &mut data).unwrap();
        assert!(b.open(b"r", &mut data).is_err());
    }

    #[test]
    fn key_files_hold_raw_bytes_or_base64() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("raw.key");
        std::fs::write(&raw, [5u8; 32]).unwrap();
        let text = dir.path().join("text.key");
        std::fs::write(&text, format!("{}\n", STANDARD.encode([5u8; 32]))).unwrap();
        let mut data = b"state".to_vec();
        Sealer::from_file(&raw)
            .unwrap()
            .seal(b"r", &mut data)
            .unwrap();
        Sealer::from_file(&text)
            .unwrap()
            .open(b"r", &mut data)
            .unwrap();
        assert_eq!(data, b"state");
        let short = dir.path().join("short.key");
        std::fs::write(&short, "c2hvcnQ=").unwrap();
        assert!(Sealer::from_file(&short).is_err());
        assert!(Sealer::from_file(&dir.path().join("missing.key")).is_err());
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused() {
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
    }
}
