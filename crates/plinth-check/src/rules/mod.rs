//! The HCL rules, one file per family. Each family reads the parsed model and pushes `Hit`s;
//! severity, suppression and rendering are applied afterwards by the scan.

mod architecture;
mod azure;
mod google;
mod hygiene;
mod iam;
mod ports;
mod safety;
mod secrets;

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use plinth_diag::SourceFile;

use crate::model::{Defaults, FileKind, ModuleModel, SourceUnit};

/// A rule violation before severity and suppression are applied.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Rule id.
    pub rule: &'static str,
    /// File of the primary span.
    pub source: Arc<SourceFile>,
    /// Primary span.
    pub span: Range<usize>,
    /// Text under the caret.
    pub label: String,
    /// A specific message replacing the rule's one-line message.
    pub message: Option<String>,
    /// A specific fix replacing the rule's hint.
    pub help: Option<String>,
    /// Reported as a note whatever the rule's severity (a milder case of the rule).
    pub note: bool,
}

impl Hit {
    /// A hit in `unit` at `span`.
    pub fn new(
        rule: &'static str,
        unit: &SourceUnit,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Hit {
        Hit {
            rule,
            source: Arc::clone(&unit.source),
            span,
            label: label.into(),
            message: None,
            help: None,
            note: false,
        }
    }

    /// Replaces the fix hint.
    pub fn help(mut self, help: impl Into<String>) -> Hit {
        self.help = Some(help.into());
        self
    }

    /// Marks the hit as a note.
    pub fn into_note(mut self) -> Hit {
        self.note = true;
        self
    }

    /// Replaces the one-line message.
    pub fn message(mut self, message: impl Into<String>) -> Hit {
        self.message = Some(message.into());
        self
    }
}

/// Runs value-reading rules once per binding of the module (its defaults, then each
/// caller's inputs); a hit only a caller's values produce names that caller.
fn per_binding(
    module: &ModuleModel,
    out: &mut Vec<Hit>,
    rules: impl Fn(&Defaults<'_>, &mut Vec<Hit>),
) {
    // Several hits of one rule may share a span (one per statement of a policy document);
    // the label tells them apart.
    let mut seen: HashSet<(&'static str, usize, usize, String)> = HashSet::new();
    for (defaults, site) in module.bindings() {
        let mut hits = Vec::new();
        rules(&defaults, &mut hits);
        for mut hit in hits {
            let key = (
                hit.rule,
                Arc::as_ptr(&hit.source) as usize,
                hit.span.start,
                hit.label.clone(),
            );
            if !seen.insert(key) {
                continue;
            }
            if let Some(site) = site {
                let message = hit
                    .message
                    .take()
                    .unwrap_or_else(|| crate::registry::get(hit.rule).message.to_owned());
                hit.message = Some(format!("{message} (with the values of {})", site.from));
            }
            out.push(hit);
        }
    }
}

/// Rules that read one file on its own (syntax, plaintext secrets). Files that could not
/// be read at all are environment problems, reported by the scan, not findings.
pub fn check_file(unit: &SourceUnit, out: &mut Vec<Hit>) {
    if unit.unreadable.is_some() {
        return;
    }
    if let Some((offset, message)) = &unit.parse_error {
        let end = (*offset + 1).min(unit.source.text().len());
        let message = if message.starts_with("cannot read") {
            message.clone()
        } else {
            format!("file is not valid HCL: {message}")
        };
        out.push(Hit::new("FMT007", unit, *offset..end.max(*offset), "here").message(message));
    }
    secrets::plaintext(unit, out);
}

/// Rules that read a whole module (a stack's root module or a local module).
pub fn check_module(module: &ModuleModel, out: &mut Vec<Hit>) {
    debug_assert!(module.tf.iter().all(|u| u.kind == FileKind::Tf));
    hygiene::check(module, out);
    secrets::check(module, out);
    architecture::check(module, out);
    per_binding(module, out, |d, hits| {
        iam::check(module, d, hits);
        safety::check(module, d, hits);
        azure::check(module, d, hits);
        google::check(module, d, hits);
    });
}
