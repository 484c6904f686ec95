//! Finding the bracket a file never closes, for a syntax error that the parser can only see
//! at the end of the file.

/// The byte offset of the innermost `{`, `[` or `(` still open at the end of `text`, skipping
/// strings, `${…}` interpolations, heredocs and comments.
///
/// Written by hand: the parser gives no partial tree on error, and HCL's lexical rules needed
/// here (quotes, escapes, comments, heredoc markers) fit in a small scanner.
pub(crate) fn unclosed(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // Open brackets, and for each string nesting level the bracket depth it started at.
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut in_string: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(&depth) = in_string.last()
            && open.len() == depth
        {
            // Inside a quoted string (not inside one of its interpolations).
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_string.pop();
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    open.push((b'{', i + 1));
                    i += 1;
                }
                b'\n' => {
                    in_string.pop();
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_string.push(open.len()),
            b'#' => i = line_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 1);
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => i = heredoc_end(text, i),
            b'{' | b'[' | b'(' => open.push((c, i)),
            b'}' | b']' | b')' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.last().map(|&(_, at)| at)
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// The offset of the last byte of the heredoc starting at `from` (`<<EOF` or `<<-EOF`).
fn heredoc_end(text: &str, from: usize) -> usize {
    let rest = &text[from + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if marker.is_empty() {
        return from + 1;
    }
    let body_start = text[from..].find('\n').map_or(text.len(), |p| from + p + 1);
    let mut at = body_start;
    for line in text[body_start..].split_inclusive('\n') {
        if line.trim() == marker {
            return at + line.len() - 1;
        }
        at += line.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::unclosed;

    #[test]
    fn skips_strings_comments_and_heredocs() {
        assert_eq!(unclosed("a {\n  b = \"}\" # }\n"), Some(2));
        assert_eq!(unclosed("a {\n  b = \"${x}\"\n}\n"), None);
        assert_eq!(unclosed("a = <<EOF\n{\nEOF\nb = [\n"), Some(20));
        assert_eq!(unclosed("/* { */ c = 1\n"), None);
    }
}
