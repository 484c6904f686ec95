//! Reading request bodies with a size limit: the limit is enforced while streaming, so an
//! oversized upload is refused without being buffered, and a truncated one is a 400.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::LengthLimitError;

use crate::error::ApiError;

/// Lock info documents are tiny; anything bigger is not a LockInfo.
pub(crate) const MAX_LOCK_BYTES: usize = 64 * 1024;

/// Collects the body into one buffer of at most `limit` bytes.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body exceeds the server's limit of {limit} bytes; nothing stored"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(err) => {
            let inner = err.into_inner();
            if inner.downcast_ref::<LengthLimitError>().is_some() {
                Err(too_large())
            } else {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the request body could not be read completely ({inner}); nothing stored"
                    ),
                ))
            }
        }
    }
}
