//! `hooks` blocks: commands run around an instance (in `stack.hcl`) or after an environment's
//! instances (in an `environment` block), with the outputs in hand.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;
use crate::body::Reader;

/// Default time a hook may run: 10 minutes.
pub const DEFAULT_HOOK_TIMEOUT_SECS: u64 = 600;

/// A `hooks` block.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// Run before an instance is planned (generators), in the stack directory.
    pub before_plan: Vec<Spanned<String>>,
    /// Run after a successful apply.
    pub after_apply: Vec<Spanned<String>>,
    /// Run after a successful destroy.
    pub after_destroy: Vec<Spanned<String>>,
    /// Seconds each command may run before it is killed.
    pub timeout_secs: u64,
    /// Whether sensitive outputs are passed as `PLINTH_OUTPUT_<NAME>` too (masked in logs).
    pub reveal: bool,
    /// Span of the block.
    pub span: Range<usize>,
}

impl Hooks {
    /// A stable text of the commands, for change detection.
    pub fn fingerprint(&self) -> String {
        let list = |v: &[Spanned<String>]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
        serde_json::json!({
            "before_plan": list(&self.before_plan),
            "after_apply": list(&self.after_apply),
            "after_destroy": list(&self.after_destroy),
            "timeout": self.timeout_secs,
            "reveal": self.reveal,
        })
        .to_string()
    }
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    owner: &str,
    diags: &mut Vec<Diagnostic>,
) -> Hooks {
    let what = format!("the `hooks` block of {owner}");
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span.clone(),
        &[
            "before_plan",
            "after_apply",
            "after_destroy",
            "timeout",
            "reveal",
        ],
        &[],
        diags,
    );
    let list = |name: &str, diags: &mut Vec<Diagnostic>| {
        let items = r
            .string_list(name, diags)
            .map(|l| l.value)
            .unwrap_or_default();
        for item in &items {
            if item.value.trim().is_empty() {
                diags.push(
                    Diagnostic::error(format!("an empty command in `{name}`")).at(
                        source,
                        item.span.clone(),
                        "write the command to run, e.g. `scripts/deploy.sh`",
                    ),
                );
            }
        }
        items
    };
    Hooks {
        before_plan: list("before_plan", diags),
        after_apply: list("after_apply", diags),
        after_destroy: list("after_destroy", diags),
        timeout_secs: r
            .duration("timeout", diags)
            .map_or(DEFAULT_HOOK_TIMEOUT_SECS, |t| t.value),
        reveal: r.bool("reveal", diags).is_some_and(|b| b.value),
        span,
    }
}
