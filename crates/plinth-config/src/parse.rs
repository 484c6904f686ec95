//! Turning HCL text into an hcl-edit body, with parse errors as diagnostics.

use std::sync::Arc;

use hcl_edit::structure::Body;
use plinth_diag::{Diagnostic, SourceFile};

/// Parses `text` (shown as `path`) as an HCL body.
///
/// A leading UTF-8 byte-order mark is dropped first: Go HCL accepts it, hcl-edit does not.
pub fn parse_hcl(path: &str, text: &str) -> Result<(Arc<SourceFile>, Body), Box<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = SourceFile::new(path, text);
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Ok((source, body)),
        Err(err) => {
            let loc = err.location();
            let start = loc.offset().min(text.len());
            let end = (start + 1).min(text.len()).max(start);
            let message = err
                .message()
                .lines()
                .next()
                .unwrap_or("invalid HCL")
                .to_string();
            Err(Box::new(
                Diagnostic::error(format!("HCL syntax error: {message}"))
                    .at(&source, start..end, message.clone())
                    .with_help("fix the syntax; `terraform fmt` shows the same file's errors"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_hcl;

    #[test]
    fn syntax_error_points_at_line_and_column() {
        let err = parse_hcl("x/stack.hcl", "stack {\n  tags = [\"a\",\n}\n").unwrap_err();
        let (path, line, _col) = err.location().unwrap();
        assert_eq!(path, "x/stack.hcl");
        assert_eq!(line, 3);
        assert!(err.message.starts_with("HCL syntax error"));
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        assert!(parse_hcl("bom.hcl", "\u{feff}stack {}\n").is_ok());
    }
}
