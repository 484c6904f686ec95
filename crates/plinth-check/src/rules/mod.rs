//! The HCL rules, one file per family. Each family reads the parsed model and pushes `Hit`s;
//! severity, suppression and rendering are applied afterwards by the scan.

mod architecture;
mod hygiene;
mod iam;
mod safety;
mod secrets;

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::SourceFile;

use crate::model::{FileKind, ModuleModel, SourceUnit};

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
        }
    }

    /// Replaces the one-line message.
    pub fn message(mut self, message: impl Into<String>) -> Hit {
        self.message = Some(message.into());
        self
    }
}

/// Rules that read one file on its own (syntax, plaintext secrets).
pub fn check_file(unit: &SourceUnit, out: &mut Vec<Hit>) {
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
    safety::check(module, out);
    iam::check(module, out);
}
