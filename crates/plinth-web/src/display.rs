//! How values are shown: ages, short commits, status classes, environment order, and links
//! (each path segment percent-encoded, so a stack id never breaks out of its URL).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Characters escaped in a path segment: all but unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `45s`, `12m`, `3h`, `5d` since `ms`.
pub(crate) fn age(ms: i64, now: i64) -> String {
    span((now - ms).max(0))
}

/// A duration in milliseconds as `850ms`, `12s`, `4m`, `3h`, `5d`.
pub(crate) fn span(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        _ if ms < 1000 => format!("{ms}ms"),
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Unix ms as RFC 3339 (for `title` attributes and `<time datetime>`).
pub(crate) fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// RFC 3339 (as the store's records carry times) to Unix ms.
pub(crate) fn ms_of(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The first 7 characters of a commit.
pub(crate) fn short(commit: &str) -> &str {
    match commit.char_indices().nth(7) {
        Some((i, _)) => &commit[..i],
        None => commit,
    }
}

/// A CSS class for a run or instance status (`st-failed`); unknown statuses get `st-other`.
pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" | "applied" | "up" => "st-ok",
        "unchanged" | "in-sync" => "st-ok",
        "failed" | "destroy_failed" | "interrupted" => "st-failed",
        "running" | "pending" | "applying" | "destroying" | "queued" => "st-running",
        "blocked" | "skipped" => "st-blocked",
        "drifted" => "st-drifted",
        _ => "st-other",
    }
}

/// `+1 ~2 -0`.
pub(crate) fn counts((add, change, destroy): (i64, i64, i64)) -> String {
    format!("+{add} ~{change} -{destroy}")
}

/// The usual promotion order of environment names, then the rest alphabetically: the server
/// has no project configuration to read the real order from.
pub(crate) fn env_order(envs: &mut [String]) {
    const USUAL: &[&str] = &[
        "dev",
        "development",
        "ci",
        "test",
        "qa",
        "stage",
        "staging",
        "preprod",
        "prod",
        "production",
    ];
    envs.sort_by(|a, b| {
        let rank = |e: &str| USUAL.iter().position(|u| *u == e).unwrap_or(USUAL.len());
        rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
    });
}

/// One URL path segment, percent-encoded.
pub(crate) fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// A query-string value, percent-encoded.
pub(crate) fn query_value(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// The instance page of `project/env/stack`.
pub(crate) fn instance_href(project: &str, env: &str, stack: &str) -> String {
    let stack: Vec<String> = stack.split('/').map(segment).collect();
    format!(
        "/instances/{}/{}/{}",
        segment(project),
        segment(env),
        stack.join("/")
    )
}

/// The run page of `run_id`.
pub(crate) fn run_href(run_id: &str) -> String {
    format!("/runs/{}", segment(run_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_spans_and_commits() {
        assert_eq!(age(0, 45_000), "45s");
        assert_eq!(age(0, 3 * 3_600_000 + 5), "3h");
        assert_eq!(age(10, 0), "0ms");
        assert_eq!(span(90 * 86_400_000), "90d");
        assert_eq!(short("0123456789abcdef"), "0123456");
        assert_eq!(short("abc"), "abc");
        assert_eq!(ms_of(&rfc3339(1_700_000_000_123)), Some(1_700_000_000_123));
    }

    #[test]
    fn environments_follow_the_usual_order() {
        let mut envs: Vec<String> = ["prod", "zeta", "dev", "staging", "alpha"]
            .map(String::from)
            .to_vec();
        env_order(&mut envs);
        assert_eq!(envs, ["dev", "staging", "prod", "alpha", "zeta"]);
    }

    #[test]
    fn links_encode_every_segment() {
        assert_eq!(
            instance_href("p", "dev", "<script>alert(1)</script>"),
            "/instances/p/dev/%3Cscript%3Ealert%281%29%3C/script%3E"
        );
        assert_eq!(
            instance_href("p", "dev", "infra/net-1"),
            "/instances/p/dev/infra/net-1"
        );
    }
}
