//! Aligning the `=` of consecutive attributes the way `terraform fmt` does.
//!
//! Written by hand: hcl-edit keeps formatting but never aligns, and hcl-rs's formatter does not
//! follow `terraform fmt`'s rule. That rule (hclwrite's `formatCells`): a line whose first `=`
//! is followed by a bracket-balanced rest of the line is an assignment; consecutive assignment
//! lines form a chain, and every `=` of a chain moves one column past its longest lead. Any
//! other line (a block header, a blank line, a value opening a multi-line bracket) ends the
//! chain.

/// Aligns `text`, which has one space before each `=`.
pub(crate) fn align(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let leads: Vec<Option<usize>> = lines.iter().map(|l| assignment(l)).collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < lines.len() {
        if leads[i].is_none() {
            out.push_str(lines[i]);
            push_newline(&mut out, i, lines.len());
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && leads[i].is_some() {
            i += 1;
        }
        let width = (start..i)
            .filter_map(|k| leads[k].map(|eq| lines[k][..eq].trim_end().len()))
            .max()
            .unwrap_or(0);
        for k in start..i {
            let eq = leads[k].expect("chain lines are assignments");
            let lead = lines[k][..eq].trim_end();
            out.push_str(lead);
            out.extend(std::iter::repeat_n(' ', width - lead.len() + 1));
            out.push_str(&lines[k][eq..]);
            push_newline(&mut out, k, lines.len());
        }
    }
    out
}

fn push_newline(out: &mut String, index: usize, count: usize) {
    if index + 1 < count {
        out.push('\n');
    }
}

/// The byte offset of the assignment's `=` when `line` is an assignment in hclwrite's sense.
fn assignment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut state = Scanner::default();
    let mut eq = None;
    let mut seen_token = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if state.in_code() {
            if c == b'#' || (c == b'/' && bytes.get(i + 1) == Some(&b'/')) {
                break;
            }
            if eq.is_none() && c == b'=' {
                let prev = i.checked_sub(1).map(|p| bytes[p]);
                let next = bytes.get(i + 1).copied();
                let operator = matches!(prev, Some(b'=' | b'!' | b'<' | b'>'))
                    || matches!(next, Some(b'=' | b'>'));
                if !operator {
                    if !seen_token {
                        return None;
                    }
                    eq = Some(i);
                    state.depth = 0;
                    i += 1;
                    continue;
                }
            }
            if !c.is_ascii_whitespace() {
                seen_token = true;
            }
        }
        i += state.step(bytes, i);
    }
    eq.filter(|_| state.depth == 0 && state.in_code())
}

/// Just enough of HCL's lexical structure to tell code from string text and count brackets.
#[derive(Default)]
struct Scanner {
    /// Bracket balance of code since the `=` (or since the line start before it).
    depth: i64,
    /// Open contexts: `true` for a string, `false` for an interpolation inside one.
    stack: Vec<(bool, i64)>,
}

impl Scanner {
    fn in_code(&self) -> bool {
        self.stack.last().is_none_or(|(is_str, _)| !is_str)
    }

    /// Consumes the token at `i`; returns how many bytes it took.
    fn step(&mut self, bytes: &[u8], i: usize) -> usize {
        let c = bytes[i];
        if !self.in_code() {
            return match c {
                b'\\' => 2,
                b'"' => {
                    self.stack.pop();
                    1
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    if bytes.get(i.wrapping_sub(1)) == Some(&c) {
                        // `$${` and `%%{` are escapes, not interpolations.
                        2
                    } else {
                        self.stack.push((false, 0));
                        2
                    }
                }
                _ => 1,
            };
        }
        match c {
            b'"' => self.stack.push((true, 0)),
            b'{' | b'[' | b'(' => {
                if let Some((false, d)) = self.stack.last_mut() {
                    *d += 1;
                } else {
                    self.depth += 1;
                }
            }
            b'}' | b']' | b')' => match self.stack.last_mut() {
                Some((false, d)) if *d == 0 && c == b'}' => {
                    self.stack.pop();
                }
                Some((false, d)) => *d -= 1,
                _ => self.depth -= 1,
            },
            _ => {}
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_chains_and_breaks_them_at_multi_line_values() {
        let text = "dependency \"a\" {\n  stack = \"x\"\n  mock_outputs = {\n    vpc_id = \"v\"\n    ids = [\"a\", \"b\"]\n  }\n}\n\ninputs = {\n  a = dependency.a.outputs.vpc_id\n  long_name = \"${dependency.a.outputs.x}-y\"\n  \"quoted key\" = \"a = b\"\n}\n";
        let want = "dependency \"a\" {\n  stack = \"x\"\n  mock_outputs = {\n    vpc_id = \"v\"\n    ids    = [\"a\", \"b\"]\n  }\n}\n\ninputs = {\n  a            = dependency.a.outputs.vpc_id\n  long_name    = \"${dependency.a.outputs.x}-y\"\n  \"quoted key\" = \"a = b\"\n}\n";
        assert_eq!(align(text), want);
    }

    #[test]
    fn operators_and_comments_are_not_assignments() {
        assert_eq!(assignment("  a = b == c"), Some(4));
        assert_eq!(assignment("# a = b"), None);
        assert_eq!(assignment("  x = {"), None);
        assert_eq!(assignment("  x = { a = 1 }"), Some(4));
        assert_eq!(assignment("  \"${x}\","), None);
        assert_eq!(assignment("  k = \"$${literal}\""), Some(4));
    }
}
