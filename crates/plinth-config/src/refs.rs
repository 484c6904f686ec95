//! Static checks of the references an expression may use in a given place.

use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::expr::{Expr, Reference};

/// Reports every reference in `expr` that is not one of the `allowed` paths (`env.name`, …).
pub(crate) fn check_refs(
    expr: &Expr,
    allowed: &[&str],
    source: &Arc<SourceFile>,
    place: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for r in expr.references() {
        let written = r.display();
        if !allowed.contains(&written.as_str()) {
            diags.push(unknown_ref(r, &written, allowed, source, place));
        }
    }
}

/// The error for a reference that is not allowed in `place`.
pub(crate) fn unknown_ref(
    r: &Reference,
    written: &str,
    allowed: &[&str],
    source: &Arc<SourceFile>,
    place: &str,
) -> Diagnostic {
    let span = r.root.span.start..r.steps.last().map_or(r.root.span.end, |s| s.span.end);
    let d = Diagnostic::error(format!("`{written}` cannot be used in {place}")).at(
        source,
        span,
        "unknown reference",
    );
    match crate::did_you_mean(written, allowed.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None if allowed.is_empty() => d.with_help(format!("{place} must be a literal")),
        None => d.with_help(format!("{place} may use: {}", allowed.join(", "))),
    }
}
