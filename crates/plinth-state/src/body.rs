//! Stored body encoding: zstd compression, then sealing; digests of the plaintext.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::error::StateError;
use crate::instance::InstanceId;
use crate::seal::Sealer;

const ZSTD_LEVEL: i32 = 3;

/// Digests of a plaintext body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digests {
    /// base64 MD5, the form of the `Content-MD5` header.
    pub md5: String,
    /// hex SHA-256, used to recognise identical retries.
    pub sha256: String,
}

pub(crate) fn digests(data: &[u8]) -> Digests {
    Digests {
        md5: STANDARD.encode(Md5::digest(data)),
        sha256: hex::encode(Sha256::digest(data)),
    }
}

/// The associated data binding a sealed body to its row.
pub(crate) fn row_aad(instance: &InstanceId, version: i64) -> Vec<u8> {
    format!("plinth-state-v1\0{}\0{version}", instance.key()).into_bytes()
}

/// Compresses and seals; returns the stored bytes and whether they are sealed.
pub(crate) fn encode(
    sealer: &Sealer,
    aad: &[u8],
    plain: &[u8],
) -> Result<(Vec<u8>, bool), StateError> {
    // The streaming encoder grows its output with the compressed size; the bulk API would
    // allocate the worst-case bound (more than the input) and hold a 100 MB state twice.
    let compress = || -> std::io::Result<Vec<u8>> {
        let mut encoder = zstd::stream::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
        encoder.include_contentsize(true)?;
        encoder.set_pledged_src_size(Some(plain.len() as u64))?;
        std::io::Write::write_all(&mut encoder, plain)?;
        encoder.finish()
    };
    let mut data =
        compress().map_err(|e| StateError::Internal(format!("compression failed: {e}")))?;
    let sealed = sealer.seal(aad, &mut data)?;
    Ok((data, sealed))
}

/// Opens and decompresses a stored body of known plaintext size.
pub(crate) fn decode(
    sealer: &Sealer,
    aad: &[u8],
    mut stored: Vec<u8>,
    sealed: bool,
    size: usize,
) -> Result<Vec<u8>, StateError> {
    if sealed {
        sealer.open(aad, &mut stored)?;
    }
    zstd::bulk::decompress(&stored, size)
        .map_err(|e| StateError::Internal(format!("a stored body does not decompress: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_a_key() {
        let plain = br#"{"version":4,"serial":1}"#.repeat(100);
        for sealer in [
            Sealer::insecure_plaintext(),
            Sealer::from_base64(&Sealer::generate_key_base64()).unwrap(),
        ] {
            let (stored, sealed) = encode(&sealer, b"aad", &plain).unwrap();
            assert_eq!(sealed, sealer.is_encrypting());
            assert!(stored.len() < plain.len());
            assert_eq!(
                decode(&sealer, b"aad", stored, sealed, plain.len()).unwrap(),
                plain
            );
        }
    }

    #[test]
    fn md5_matches_the_content_md5_form() {
        // RFC 1864 example digest of the empty string.
        assert_eq!(digests(b"").md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
