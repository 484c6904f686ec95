//! `policy` blocks: team rules in Rego evaluated on every plan's JSON.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;
use crate::body::{Reader, one_label};

/// A `policy` block.
#[derive(Debug, Clone)]
pub struct PolicyDecl {
    /// Its name, the block label.
    pub name: Spanned<String>,
    /// Files or directories of `.rego` files, relative to the project root.
    pub paths: Vec<Spanned<String>>,
    /// Who may approve a plan this policy denied in a protected environment.
    pub owners: Vec<String>,
    /// Environments it applies to (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PolicyDecl> {
    let name = one_label(block, source, "policy", diags)?;
    let what = format!("policy `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &["paths", "owners", "environments"],
        &[],
        diags,
    );
    let paths = r
        .string_list("paths", diags)
        .map(|l| l.value)
        .unwrap_or_else(|| vec![Spanned::new("policies/".into(), 0..0)]);
    for p in &paths {
        if p.value.starts_with('/') || p.value.split('/').any(|c| c == "..") {
            diags.push(
                Diagnostic::error(format!("policy path `{}` leaves the project", p.value)).at(
                    source,
                    p.span.clone(),
                    "use a path relative to the project root",
                ),
            );
        }
    }
    Some(PolicyDecl {
        name,
        paths,
        owners: r
            .string_list("owners", diags)
            .map(|l| l.value.into_iter().map(|o| o.value).collect())
            .unwrap_or_default(),
        environments: r.string_list("environments", diags).map(|l| l.value),
    })
}
