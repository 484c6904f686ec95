//! Turning HCL text into an hcl-edit body, with parse errors as diagnostics.

use std::sync::Arc;

use hcl_edit::structure::Body;
use plinth_diag::{Diagnostic, SourceFile};

/// The text of a configuration file read as `bytes`, or an error at the first byte that is
/// not UTF-8 (HCL files are UTF-8; Terraform refuses the same files).
pub fn decode_utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, Box<Diagnostic>> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let source = SourceFile::new(path, String::from_utf8_lossy(bytes).into_owned());
        // Offsets of the lossy text match the original up to the first invalid byte, which
        // it shows as U+FFFD (three bytes).
        let shown = at..at + '\u{fffd}'.len_utf8();
        Box::new(
            Diagnostic::error(format!("{path} is not valid UTF-8"))
                .at(&source, shown, format!("byte 0x{:02x} here", bytes[at]))
                .with_help("save the file as UTF-8"),
        )
    })
}

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
            // The parser notices a missing `}` only at the end of the file; the brace that was
            // never closed is what the user needs to see.
            if text[start..].trim().is_empty()
                && let Some(open) = crate::brackets::unclosed(text)
            {
                let ch = &text[open..open + 1];
                return Err(Box::new(
                    Diagnostic::error(format!("HCL syntax error: `{ch}` is never closed"))
                        .at(&source, open..open + 1, "opened here")
                        .with_help(format!(
                            "add the closing `{}`; the file ends before it",
                            match ch {
                                "{" => "}",
                                "[" => "]",
                                _ => ")",
                            }
                        )),
                ));
            }
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
    use super::{decode_utf8, parse_hcl};

    #[test]
    fn syntax_error_points_at_line_and_column() {
        let err = parse_hcl("x/stack.hcl", "stack {\n  tags = [\"a\",\n}\n").unwrap_err();
        let (path, line, _col) = err.location().unwrap();
        assert_eq!(path, "x/stack.hcl");
        assert_eq!(line, 3);
        assert!(err.message.starts_with("HCL syntax error"));
    }

    #[test]
    fn an_unclosed_brace_is_reported_where_it_opens() {
        let err = parse_hcl(
            "s.hcl",
            "stack {\n  tags = [\"a\"]\n\ndependency \"x\" {\n  stack = \"y\"\n",
        )
        .unwrap_err();
        assert_eq!(err.location(), Some(("s.hcl", 4, 16)), "{}", err.one_line());
        assert!(
            err.message.contains("`{` is never closed"),
            "{}",
            err.message
        );
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = decode_utf8("s.hcl", b"stack {\n  tags = [\"\xff\"]\n}\n").unwrap_err();
        assert_eq!(err.location(), Some(("s.hcl", 2, 12)), "{}", err.one_line());
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        assert!(parse_hcl("bom.hcl", "\u{feff}stack {}\n").is_ok());
    }
}
