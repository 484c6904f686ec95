//! Reading request bodies with a size limit: the limit is enforced while streaming, so an
//! oversized upload is refused without being buffered, and a truncated one is a 400.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::error::ApiError;

/// Lock info documents are tiny; anything bigger is not a LockInfo.
pub(crate) const MAX_LOCK_BYTES: usize = 64 * 1024;

/// Promotion records and copies are small documents.
pub(crate) const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Reads a JSON document of at most `limit` bytes into `T`; anything else is a 400 (or 413)
/// that says what was expected.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<T, ApiError> {
    let bytes = read_limited(headers, body, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not a valid {what}: {e}"),
        )
    })
}

/// Collects the body into one buffer of at most `limit` bytes.
///
/// Written out rather than `axum::body::to_bytes`: that collects the frames and then copies
/// them into one contiguous buffer, holding a 100 MB state twice at the peak. Here the frames
/// go straight into a buffer sized from `Content-Length`.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    mut body: Body,
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
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if crate::timed_body::is_timeout(&e) {
                return ApiError::new(StatusCode::REQUEST_TIMEOUT, format!("{e}; nothing stored"));
            }
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read completely ({e}); nothing stored"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    if declared.is_some_and(|n| n != buf.len() as u64) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the body is {} bytes but Content-Length said {}; nothing stored",
                buf.len(),
                declared.unwrap_or(0)
            ),
        ));
    }
    Ok(buf.freeze())
}
