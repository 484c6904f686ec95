//! `--format sarif`: one SARIF 2.1.0 run, loadable by GitHub code scanning.
//!
//! URIs are relative to the repository root (`%SRCROOT%`, declared in `originalUriBaseIds`),
//! which is where code scanning looks for files; each rule links to its entry in
//! docs/checks.md.

use std::path::Path;

use plinth_diag::Severity;
use serde_json::{Value, json};

use crate::registry::{self, DOCS_URL, RULES};
use crate::scan::Report;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Where the report's paths sit in the repository.
#[derive(Debug, Clone)]
pub struct Base<'a> {
    /// The repository root (absolute): `%SRCROOT%`.
    pub repo_root: &'a Path,
    /// The report's root relative to the repository root (`infra/` when plinth.hcl is in
    /// `infra`), `/`-separated, empty or ending in `/`.
    pub prefix: &'a str,
}

fn file_uri(dir: &Path) -> String {
    let mut path = dir.to_string_lossy().replace('\\', "/");
    if !path.ends_with('/') {
        path.push('/');
    }
    let encoded: String = path
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '#' => "%23".to_owned(),
            '%' => "%25".to_owned(),
            '?' => "%3F".to_owned(),
            c => c.to_string(),
        })
        .collect();
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

/// The SARIF log for a report.
pub fn render(report: &Report, base: &Base<'_>) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let mut rule = json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.message },
                "fullDescription": { "text": r.explanation },
                "help": { "text": r.hint },
                "helpUri": registry::help_uri(r),
                "defaultConfiguration": { "level": level(r.default_severity) },
            });
            if !r.checkov.is_empty() {
                rule["properties"] = json!({ "checkov": r.checkov });
            }
            rule
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or(0);
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": index,
                "level": level(f.diagnostic.severity),
                "message": { "text": f.diagnostic.message },
            });
            if let Some(label) = f.diagnostic.labels.first() {
                let (start_line, start_column) = label.source.line_col(label.span.start);
                let (end_line, end_column) = label.source.line_col(label.span.end.max(label.span.start));
                let uri = format!("{}{}", base.prefix, label.source.display_path());
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": start_line,
                            "startColumn": start_column,
                            "endLine": end_line,
                            "endColumn": end_column.max(if end_line == start_line { start_column } else { 1 }),
                        }
                    }
                }]);
                result["properties"] = json!({ "stack": f.stack });
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            json!({
                "level": "warning",
                "message": { "text": format!("{} (fix: {}; affected: {})", p.what, p.fix, p.affected.join(", ")) },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "plinth",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": DOCS_URL,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                "%SRCROOT%": { "uri": file_uri(base.repo_root) }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
