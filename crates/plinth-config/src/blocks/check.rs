//! The `check` block: per-environment rule severities and unsuppressible rules.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::Value;

use crate::Spanned;
use crate::body::Reader;
use crate::expr::Expr;

/// A `check` block: per-environment rule severities.
#[derive(Debug, Clone, Default)]
pub struct CheckBlock {
    /// Environments it applies to (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
    /// Rule id → `error` | `warning` | `note` | `off`.
    pub severity: Vec<(Spanned<String>, Spanned<String>)>,
    /// Rules that inline suppressions cannot silence.
    pub unsuppressible: Vec<Spanned<String>>,
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> CheckBlock {
    let r = Reader::new(
        &block.body,
        source,
        "the `check` block",
        span,
        &["environments", "severity", "unsuppressible"],
        &[],
        diags,
    );
    let mut severity = Vec::new();
    if let Some(map) = r.object("severity", diags) {
        for (rule, value) in map.value {
            match &value.value {
                Expr::Literal(Value::String(level))
                    if ["error", "warning", "note", "off"].contains(&level.as_str()) =>
                {
                    // The key's own span is not kept by the object lowering; the value's is.
                    severity.push((
                        Spanned::new(rule, value.span.clone()),
                        Spanned::new(level.clone(), value.span),
                    ));
                }
                _ => diags.push(
                    Diagnostic::error(format!(
                        "severity of `{rule}` must be error, warning, note or off"
                    ))
                    .at(source, value.span, "not a severity"),
                ),
            }
        }
    }
    CheckBlock {
        environments: r.string_list("environments", diags).map(|l| l.value),
        severity,
        unsuppressible: r
            .string_list("unsuppressible", diags)
            .map(|l| l.value)
            .unwrap_or_default(),
    }
}
