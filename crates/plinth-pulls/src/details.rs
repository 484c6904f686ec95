//! Plan details as comments below a forge's size limit: each instance's plan text in a
//! collapsible section with a code block, a long text split across comments with the code
//! block closed at the end of one comment and opened again at the top of the next.

/// One instance's plan text.
#[derive(Debug, Clone)]
pub struct Section {
    /// `staging/network: +1 ~0 -0`.
    pub title: String,
    /// The plan as the engine printed it (already masked).
    pub text: String,
}

/// Room kept in every comment for its header line (`part i of n`), written once the number
/// of parts is known.
const HEADER_ROOM: usize = 200;

/// The comments holding `sections`, each at most `limit` bytes (bytes, not characters: a
/// byte count is never below the character count the forges limit). `title` heads each one.
pub fn split(title: &str, sections: &[Section], limit: usize) -> Vec<String> {
    let budget = limit.saturating_sub(HEADER_ROOM).max(1_000);
    let mut bodies: Vec<String> = Vec::new();
    let mut current = String::new();
    for section in sections {
        let fence = fence_for(&section.text);
        let open = format!(
            "<details><summary>{}</summary>\n\n{fence}diff\n",
            escape_html(&section.title)
        );
        let close = format!("{fence}\n</details>\n\n");
        let reopen = format!(
            "<details open><summary>{} (continued)</summary>\n\n{fence}diff\n",
            escape_html(&section.title)
        );
        // A section starts a new comment when not even its opening and a first line fit.
        if !current.is_empty() && current.len() + open.len() + close.len() + 80 > budget {
            bodies.push(std::mem::take(&mut current));
        }
        current.push_str(&open);
        for piece in lines_within(
            &section.text,
            budget.saturating_sub(reopen.len() + close.len()),
        ) {
            if current.len() + piece.len() + 1 + close.len() > budget {
                current.push_str(&close);
                bodies.push(std::mem::take(&mut current));
                current.push_str(&reopen);
            }
            current.push_str(piece);
            current.push('\n');
        }
        current.push_str(&close);
    }
    if !current.is_empty() {
        bodies.push(current);
    }
    let n = bodies.len();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let part = if n > 1 {
                format!(" (part {} of {n})", i + 1)
            } else {
                String::new()
            };
            let mut header: String = format!("{title}{part}");
            truncate(&mut header, HEADER_ROOM - 4);
            format!("{header}\n\n{body}")
        })
        .collect()
}

/// The lines of `text`, each longer than `max` bytes cut into pieces at character boundaries.
fn lines_within(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let max = max.max(4);
    text.lines().flat_map(move |line| {
        let mut pieces = Vec::new();
        let mut rest = line;
        while rest.len() > max {
            let mut cut = max;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            pieces.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        pieces.push(rest);
        pieces
    })
}

/// A code fence longer than any run of backticks in `text`, so that the text cannot close
/// the block early (CommonMark: a fence closes only with at least as many backticks).
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Text for HTML content (a `<summary>`), inert.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(title: &str, lines: usize, width: usize) -> Section {
        Section {
            title: title.into(),
            text: (0..lines)
                .map(|i| format!("{i:06} {}", "x".repeat(width)))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Every comment within the limit, every fence balanced, every line of the input present
    /// once and in order.
    fn check(sections: &[Section], limit: usize) -> Vec<String> {
        let bodies = split("plinth plan details for #7", sections, limit);
        for body in &bodies {
            assert!(body.len() <= limit, "{} > {limit}", body.len());
            let fences = body.lines().filter(|l| l.starts_with("```")).count();
            assert_eq!(fences % 2, 0, "unbalanced fences in a part:\n{body}");
            assert_eq!(
                body.matches("<details").count(),
                body.matches("</details>").count()
            );
        }
        let joined: Vec<&str> = bodies
            .iter()
            .flat_map(|b| b.lines())
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        let expected: Vec<&str> = sections.iter().flat_map(|s| s.text.lines()).collect();
        assert_eq!(joined, expected);
        bodies
    }

    #[test]
    fn a_small_plan_is_one_comment() {
        let bodies = check(&[section("dev/net: +1 ~0 -0", 10, 20)], 65_536);
        assert_eq!(bodies.len(), 1);
        assert!(!bodies[0].contains("part 1"));
    }

    #[test]
    fn a_plan_over_the_limit_is_split_with_the_block_reopened() {
        let big = section("prod/app: +400 ~0 -0", 3_000, 60);
        assert!(big.text.len() > 150_000);
        let bodies = check(&[big, section("prod/net: +1 ~0 -0", 5, 10)], 65_536);
        assert!(bodies.len() >= 3, "{}", bodies.len());
        assert!(bodies[0].contains("(part 1 of"));
        assert!(bodies[1].contains("prod/app: +400 ~0 -0 (continued)"));
    }

    #[test]
    fn one_line_longer_than_a_comment_is_cut() {
        let line = Section {
            title: "t".into(),
            text: format!("0{}", "é".repeat(40_000)),
        };
        let bodies = split("x", &[line], 10_000);
        assert!(bodies.len() > 7);
        for b in &bodies {
            assert!(b.len() <= 10_000);
        }
    }

    #[test]
    fn backticks_in_the_plan_cannot_close_the_block() {
        let s = Section {
            title: "<b>dev</b>".into(),
            text: "0 ```\n1 `````".into(),
        };
        let body = &split("x", &[s], 65_536)[0];
        assert!(body.contains("``````diff"), "{body}");
        assert!(body.contains("&lt;b&gt;dev"));
    }
}
