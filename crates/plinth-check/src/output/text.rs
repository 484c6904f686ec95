//! Human output: every finding rendered rustc-style, then the summary line.

use rayon::prelude::*;

use crate::scan::Report;

/// Renders all findings and the summary line; ANSI colour when `color`.
pub fn render(report: &Report, color: bool) -> String {
    // Rendering thousands of snippets is the slowest part of the output; it is per finding,
    // so it parallelises like the scan.
    let rendered: Vec<String> = report
        .findings
        .par_iter()
        .map(|finding| plinth_diag::render(&finding.diagnostic, color))
        .collect();
    let mut out = String::with_capacity(rendered.iter().map(|r| r.len() + 1).sum::<usize>() + 128);
    for text in rendered {
        out.push_str(&text);
        out.push('\n');
    }
    for p in &report.problems {
        out.push_str(&format!(
            "environment problem: {}\n  = affected: {}\n  = help: {}\n\n",
            p.what,
            p.affected.join(", "),
            p.fix
        ));
    }
    out.push_str("check: ");
    out.push_str(&report.summary_line());
    out.push('\n');
    out
}
