//! Timestamps: stored as Unix milliseconds (portable and sortable in both databases).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Unix milliseconds rendered as RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses an RFC 3339 time given by a client into Unix milliseconds.
pub(crate) fn parse_rfc3339(what: &str, text: &str) -> Result<i64, crate::StateError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|e| {
            crate::StateError::BadRequest(format!(
                "the {what} {text:?} is not an RFC 3339 time (2026-11-21T23:35:50Z): {e}"
            ))
        })
}
