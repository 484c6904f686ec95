//! Diagnostics with source spans, rendered rustc-style.
//!
//! Config errors and check findings share this type so that every message a user sees points
//! at `file:line:col` with the offending source line and a caret.

mod render;
mod source;

use std::ops::Range;
use std::sync::Arc;

pub use render::{render, render_all};
pub use source::SourceFile;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational.
    Note,
    /// Worth fixing; does not fail the command.
    Warning,
    /// Fails the command.
    Error,
}

impl Severity {
    /// Lower-case name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A place in a source file.
#[derive(Debug, Clone)]
pub struct Label {
    /// The file the span belongs to.
    pub source: Arc<SourceFile>,
    /// Byte range within the file's text.
    pub span: Range<usize>,
    /// Text shown under the caret; may be empty.
    pub message: String,
}

impl Label {
    /// A label on `span` of `source`.
    pub fn new(source: &Arc<SourceFile>, span: Range<usize>, message: impl Into<String>) -> Self {
        Label {
            source: Arc::clone(source),
            span,
            message: message.into(),
        }
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        self.source.line_col(self.span.start)
    }
}

/// One message for the user, optionally anchored in source code.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// A stable id (rule id, or none for config errors).
    pub code: Option<String>,
    /// One-line message.
    pub message: String,
    /// The primary label first, then secondary ones.
    pub labels: Vec<Label>,
    /// `help:` lines: what to do about it.
    pub help: Vec<String>,
    /// `note:` lines: context.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with a message and no location yet.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }

    /// A diagnostic of the given severity.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: None,
            message: message.into(),
            labels: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the stable id.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds a label (the first one added is the primary location).
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// Adds a label at `span` of `source`.
    pub fn at(
        self,
        source: &Arc<SourceFile>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        self.with_label(Label::new(source, span, message))
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Adds a `note:` line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The primary location as (display path, line, column), if any.
    pub fn location(&self) -> Option<(&str, usize, usize)> {
        self.labels.first().map(|l| {
            let (line, col) = l.line_col();
            (l.source.display_path(), line, col)
        })
    }

    /// `file:line:col: message`, the one-line form used in logs and JSON.
    pub fn one_line(&self) -> String {
        match self.location() {
            Some((path, line, col)) => format!("{path}:{line}:{col}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.one_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_one_based_line_and_column() {
        let src = SourceFile::new("a/stack.hcl", "stack {\n  bogus = 1\n}\n");
        let d = Diagnostic::error("unknown attribute `bogus`").at(&src, 10..15, "not allowed here");
        assert_eq!(d.location(), Some(("a/stack.hcl", 2, 3)));
        assert_eq!(d.one_line(), "a/stack.hcl:2:3: unknown attribute `bogus`");
        let text = render(&d, false);
        assert!(text.contains("a/stack.hcl:2:3"), "{text}");
        assert!(text.contains("bogus = 1"), "{text}");
        assert!(text.contains("^^^^^"), "{text}");
    }
}
