//! `--format sarif`: one SARIF 2.1.0 run, loadable by GitHub code scanning.

use plinth_diag::Severity;
use serde_json::{Value, json};

use crate::registry::RULES;
use crate::scan::Report;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The SARIF log for a report.
pub fn render(report: &Report) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.message },
                "fullDescription": { "text": r.explanation },
                "help": { "text": r.hint },
                "defaultConfiguration": { "level": level(r.default_severity) },
            })
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
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": label.source.display_path(), "uriBaseId": "%SRCROOT%" },
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
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "plinth",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/plinth",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
