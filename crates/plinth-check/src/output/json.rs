//! `--format json`: `{"findings": [...], "problems": [...], "summary": {...}}` (DESIGN.md
//! section 4, plus the environment problems and the module count).

use plinth_diag::Severity;
use serde_json::{Value, json};

use crate::scan::Report;

/// The JSON document for a report.
pub fn render(report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (file, line, column) = f.diagnostic.location().unwrap_or(("", 0, 0));
            json!({
                "rule": f.rule.id,
                "severity": f.diagnostic.severity.as_str(),
                "stack": f.stack,
                "file": file,
                "line": line,
                "column": column,
                "message": f.diagnostic.message,
                "help": f.rule.hint,
            })
        })
        .collect();
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| json!({ "problem": p.what, "fix": p.fix, "affected": p.affected }))
        .collect();
    json!({
        "findings": findings,
        "problems": problems,
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "notes": report.count(Severity::Note),
            "project": report.project,
            "stacks": report.stacks,
            "modules": report.modules,
            "files": report.files,
            "suppressed": report.suppressed,
        }
    })
}
