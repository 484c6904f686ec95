//! Telling a rate-limit answer from an error, and how long the forge wants us to wait.
//!
//! GitHub: primary limits answer 403 or 429 with `X-RateLimit-Remaining: 0` and
//! `X-RateLimit-Reset` (epoch seconds); secondary limits answer 403 or 429 with `Retry-After`
//! (seconds), or with only a message, in which case its docs say to wait at least a minute.
//! GitLab: 429 with `Retry-After` and `RateLimit-Reset` (epoch seconds). Gitea: 429.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// How hard a client tries again after a rate limit or a server error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff when the forge does not say how long to wait; doubled each retry.
    pub base_delay: Duration,
    /// The longest computed backoff.
    pub max_delay: Duration,
    /// The most time one call may spend waiting; a forge asking for more fails the call at
    /// once, so that the job can be retried later instead of holding a worker.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) when the forge named none.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// GitHub's advice for a secondary limit that names no wait.
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Whether an answer is a rate limit; if so, the wait the forge asks for, when it says.
pub(crate) fn rate_limited(
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now: SystemTime,
) -> Option<Option<Duration>> {
    let named_wait = retry_after(headers, now)
        .or_else(|| reset_at(headers, "ratelimit-reset", now))
        .or_else(|| reset_at(headers, "x-ratelimit-reset", now));
    let exhausted = header(headers, "x-ratelimit-remaining") == Some("0")
        || header(headers, "ratelimit-remaining") == Some("0");
    let says_limit = body.to_ascii_lowercase().contains("rate limit");
    match status {
        429 => Some(named_wait.or(says_limit.then_some(SECONDARY_LIMIT_WAIT))),
        403 if headers.contains_key("retry-after") || exhausted => Some(named_wait),
        403 if says_limit => Some(named_wait.or(Some(SECONDARY_LIMIT_WAIT))),
        _ => None,
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(date.unix_timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or_default())
}

/// A reset time in epoch seconds, as a wait from `now`.
fn reset_at(headers: &HeaderMap, name: &str, now: SystemTime) -> Option<Duration> {
    let epoch: u64 = header(headers, name)?.parse().ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(epoch);
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let waits: Vec<_> = (0..4).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
        assert_eq!(p.backoff(40), Duration::from_millis(350));
    }

    #[test]
    fn github_secondary_limit_uses_retry_after() {
        let now = SystemTime::now();
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            rate_limited(403, &h, "", now),
            Some(Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn github_primary_limit_waits_until_the_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000042"),
        ]);
        assert_eq!(
            rate_limited(403, &h, "API rate limit exceeded", now),
            Some(Some(Duration::from_secs(42)))
        );
    }

    #[test]
    fn gitlab_429_uses_ratelimit_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(500);
        let h = headers(&[("ratelimit-reset", "503")]);
        assert_eq!(
            rate_limited(429, &h, "Retry later", now),
            Some(Some(Duration::from_secs(3)))
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute() {
        let h = HeaderMap::new();
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert_eq!(
            rate_limited(403, &h, body, SystemTime::now()),
            Some(Some(SECONDARY_LIMIT_WAIT))
        );
    }

    #[test]
    fn a_plain_403_is_not_a_rate_limit() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(
            rate_limited(
                403,
                &h,
                "Resource not accessible by integration",
                SystemTime::now()
            ),
            None
        );
    }

    #[test]
    fn an_http_date_retry_after_counts_from_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21 07:27:50 UTC
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(
            rate_limited(429, &h, "", now),
            Some(Some(Duration::from_secs(10)))
        );
    }
}
