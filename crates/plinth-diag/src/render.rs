//! rustc-style rendering through annotate-snippets (the renderer rustc and cargo use).

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::{Diagnostic, Severity};

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    }
}

/// Renders one diagnostic with its source lines and carets; ANSI colour when `color`.
pub fn render(diag: &Diagnostic, color: bool) -> String {
    let mut title = level(diag.severity).primary_title(diag.message.as_str());
    if let Some(code) = &diag.code {
        title = title.id(code.as_str());
    }
    let mut group = Group::with_title(title);
    // Labels in the same file share one snippet so that rustc-style multi-caret output works.
    let mut files: Vec<&std::sync::Arc<crate::SourceFile>> = Vec::new();
    for label in &diag.labels {
        if !files
            .iter()
            .any(|f| std::sync::Arc::ptr_eq(f, &label.source))
        {
            files.push(&label.source);
        }
    }
    for (i, file) in files.iter().enumerate() {
        let mut snippet = Snippet::source(file.text())
            .path(file.display_path())
            .fold(true);
        for (j, label) in diag.labels.iter().enumerate() {
            if !std::sync::Arc::ptr_eq(&label.source, file) {
                continue;
            }
            let kind = if i == 0 && j == 0 {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let end = label.span.end.max(label.span.start).min(file.text().len());
            let start = label.span.start.min(end);
            snippet = snippet.annotation(kind.span(start..end).label(label.message.as_str()));
        }
        group = group.element(snippet);
    }
    for note in &diag.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    for help in &diag.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.decor_style(DecorStyle::Ascii).render(&[group]);
    out.push('\n');
    out
}

/// Renders several diagnostics separated by blank lines.
pub fn render_all(diags: &[Diagnostic], color: bool) -> String {
    diags
        .iter()
        .map(|d| render(d, color))
        .collect::<Vec<_>>()
        .join("\n")
}
