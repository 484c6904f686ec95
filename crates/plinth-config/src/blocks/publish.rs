//! `publish` blocks: after apply, outputs are written where applications read them.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::Value;

use crate::Spanned;
use crate::body::{Reader, one_label};
use crate::expr::{Expr, Part};
use crate::refs::check_refs;

use super::KEY_REFS;

/// A `publish` block.
#[derive(Debug, Clone)]
pub struct PublishDecl {
    /// Its name, the block label.
    pub name: Spanned<String>,
    /// `vault:MOUNT/PATH` template over `project`, `env.name`, `stack.id`.
    pub to: Spanned<Expr>,
    /// The outputs to publish (sensitive ones included); a stack without one of them
    /// publishes the others.
    pub outputs: Vec<Spanned<String>>,
    /// Environments it applies to (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
    /// Stack id globs it applies to (`None`: every stack with one of the outputs).
    pub stacks: Option<Vec<Spanned<String>>>,
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PublishDecl> {
    let name = one_label(block, source, "publish", diags)?;
    let what = format!("publish `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &["to", "outputs", "environments", "stacks"],
        &[],
        diags,
    );
    let to = r.template("to", diags);
    let to = r.require("to", to, diags)?;
    check_refs(&to.value, KEY_REFS, source, "`to`", diags);
    let prefix = match &to.value {
        Expr::Literal(Value::String(s)) => s.clone(),
        Expr::Template(parts) => match parts.first() {
            Some(Part::Text(t)) => t.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    if !prefix.starts_with("vault:") {
        diags.push(
            Diagnostic::error(format!("`to` of {what} names no known destination")).at(
                source,
                to.span.clone(),
                "expected `vault:MOUNT/PATH`",
            ),
        );
    }
    let outputs = r
        .string_list("outputs", diags)
        .map(|l| l.value)
        .unwrap_or_default();
    let outputs = r.require("outputs", Some(outputs).filter(|o| !o.is_empty()), diags)?;
    Some(PublishDecl {
        name,
        to,
        outputs,
        environments: r.string_list("environments", diags).map(|l| l.value),
        stacks: r.string_list("stacks", diags).map(|l| l.value),
    })
}
