//! Run ids: sortable by time, unique across processes.

/// A new id like `20261122-001502-7f3a9c`.
pub fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_else(|_| "run".to_string());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &random[..6])
}

/// Whether `id` looks like a run id (guards paths built from user input).
pub fn is_valid(id: &str) -> bool {
    !id.is_empty() && id.len() < 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}
