//! Human output: every finding rendered rustc-style, then the summary line.

use crate::scan::Report;

/// Renders all findings and the summary line; ANSI colour when `color`.
pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&plinth_diag::render(&finding.diagnostic, color));
        out.push('\n');
    }
    out.push_str("check: ");
    out.push_str(&report.summary_line());
    out.push('\n');
    out
}
