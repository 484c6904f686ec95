//! Reading OpenBao's file audit log: one JSON object per line, a `request` entry and a
//! `response` entry per request. Paths are logged in clear; tokens and values are HMACed.

use std::path::Path;

use serde::Deserialize;

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRequest {
    /// The API path without `/v1/`, e.g. `secret/data/app/prod`.
    pub path: String,
    /// The namespace path, e.g. `team/` (empty for the root namespace).
    pub namespace: String,
    /// `read`, `update`, `create`, `delete`, `list`.
    pub operation: String,
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    request: Option<Request>,
}

#[derive(Deserialize)]
struct Request {
    path: String,
    operation: String,
    namespace: Option<Namespace>,
}

#[derive(Deserialize)]
struct Namespace {
    #[serde(default)]
    path: String,
}

/// The requests logged in `file`, in order. A partly written last line is skipped.
pub(crate) fn read(file: &Path) -> Vec<AuditRequest> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Line>(l).ok())
        .filter(|l| l.kind == "request")
        .filter_map(|l| l.request)
        .map(|r| AuditRequest {
            path: r.path,
            namespace: r.namespace.map(|n| n.path).unwrap_or_default(),
            operation: r.operation,
        })
        .collect()
}
