//! Inline suppressions: `# plinth:ignore RULE[,RULE…] reason="…" [expires=YYYY-MM-DD]`.
//!
//! A comment on its own line covers the block or attribute that starts on the next code line
//! (all of its lines); a comment at the end of a line covers the construct starting on that
//! line, or just that line.

use std::ops::{Range, RangeInclusive};
use std::sync::LazyLock;

use hcl_edit::Span;
use hcl_edit::structure::{Body, Structure};
use regex::Regex;
use time::Date;

use crate::model::SourceUnit;

/// One parsed suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rule ids named.
    pub rules: Vec<String>,
    /// The mandatory reason.
    pub reason: Option<String>,
    /// Optional expiry date (the last day it applies).
    pub expires: Option<Date>,
    /// Span of the comment, for findings about the comment itself.
    pub span: Range<usize>,
    /// 1-based lines covered.
    pub lines: RangeInclusive<usize>,
    /// What is wrong with the comment's syntax, if anything.
    pub malformed: Option<String>,
    /// A `#checkov:skip=CKV_…` comment, translated to the plinth rules it corresponds to:
    /// honoured for migrating users, never itself a finding.
    pub checkov: bool,
}

impl Suppression {
    /// Whether this suppression covers a finding of `rule` starting on `line`.
    pub fn covers(&self, rule: &str, line: usize) -> bool {
        self.lines.contains(&line) && self.rules.iter().any(|r| r == rule)
    }
}

static COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:#|//)\s*plinth:ignore\b(.*)$").expect("valid regex"));
static RULE_LIST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*([A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)").expect("valid"));
static OPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*([a-z_]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))"#).expect("valid regex")
});

/// checkov's skip comment (checkov/common/comment/enum.py also accepts the bridgecrew and
/// cortex prefixes): `#checkov:skip=CKV_AWS_20,CKV_AWS_21:reason`.
static CHECKOV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:#|//)\s*(?:checkov|bridgecrew|cortex):skip=\s*([A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)(?::\s*(.*))?$")
        .expect("valid regex")
});

/// Every suppression comment in a file.
pub fn parse(unit: &SourceUnit) -> Vec<Suppression> {
    let text = unit.source.text();
    let mut out = Vec::new();
    if text.contains(":skip=") {
        checkov_skips(unit, &mut out);
    }
    if !text.contains("plinth:ignore") {
        return out;
    }
    let lines: Vec<(usize, &str)> = line_offsets(text);
    for (index, &(offset, line)) in lines.iter().enumerate() {
        let Some(caps) = COMMENT.captures(line) else {
            continue;
        };
        let whole = caps.get(0).expect("group 0");
        let span = offset + whole.start()..offset + line.trim_end().len();
        let own_line = line[..whole.start()].trim().is_empty();
        let line_no = index + 1;
        let target = if own_line {
            lines[index + 1..]
                .iter()
                .position(|(_, l)| {
                    let t = l.trim_start();
                    !t.is_empty() && !t.starts_with('#') && !t.starts_with("//")
                })
                .map_or(line_no, |p| line_no + 1 + p)
        } else {
            line_no
        };
        let end = unit
            .body
            .as_ref()
            .and_then(|b| construct_end_line(b, unit, target))
            .unwrap_or(target);
        let (rules, reason, expires, malformed) =
            parse_options(caps.get(1).map_or("", |m| m.as_str()));
        out.push(Suppression {
            rules,
            reason,
            expires,
            span,
            lines: target..=end.max(target),
            malformed,
            checkov: false,
        });
    }
    out
}

/// checkov skips cover the block they are written in (checkov's convention), or the block
/// that follows when written above one.
fn checkov_skips(unit: &SourceUnit, out: &mut Vec<Suppression>) {
    let text = unit.source.text();
    let lines = line_offsets(text);
    for (index, &(offset, line)) in lines.iter().enumerate() {
        let Some(caps) = CHECKOV.captures(line) else {
            continue;
        };
        let line_no = index + 1;
        let whole = caps.get(0).expect("group 0");
        let covered = unit
            .body
            .as_ref()
            .and_then(|b| enclosing_block_lines(b, unit, line_no))
            .or_else(|| {
                let next = lines[index + 1..]
                    .iter()
                    .position(|(_, l)| {
                        let t = l.trim_start();
                        !t.is_empty() && !t.starts_with('#') && !t.starts_with("//")
                    })
                    .map(|p| line_no + 1 + p)?;
                let end = unit
                    .body
                    .as_ref()
                    .and_then(|b| construct_end_line(b, unit, next))
                    .unwrap_or(next);
                Some(next..=end)
            })
            .unwrap_or(line_no..=line_no);
        let mut rules: Vec<String> = Vec::new();
        for id in caps[1].split(',').map(str::trim) {
            for rule in crate::registry::by_checkov(id) {
                if !rules.iter().any(|r| r == rule.id) {
                    rules.push(rule.id.to_owned());
                }
            }
        }
        out.push(Suppression {
            rules,
            reason: caps.get(2).map(|m| m.as_str().trim().to_owned()),
            expires: None,
            span: offset + whole.start()..offset + line.trim_end().len(),
            lines: covered,
            malformed: None,
            checkov: true,
        });
    }
}

/// The lines of the top-level block whose body contains `line`.
fn enclosing_block_lines(
    body: &Body,
    unit: &SourceUnit,
    line: usize,
) -> Option<RangeInclusive<usize>> {
    body.iter().find_map(|structure| {
        let Structure::Block(b) = structure else {
            return None;
        };
        let span = b.span()?;
        let (start, _) = unit.source.line_col(span.start);
        let (end, _) = unit
            .source
            .line_col(span.end.saturating_sub(1).max(span.start));
        (start < line && line <= end).then_some(start..=end)
    })
}

type Parsed = (Vec<String>, Option<String>, Option<Date>, Option<String>);

fn parse_options(rest: &str) -> Parsed {
    let mut malformed = None;
    let Some(list) = RULE_LIST.captures(rest) else {
        return (
            Vec::new(),
            None,
            None,
            Some("no rule id after `plinth:ignore`".into()),
        );
    };
    let rules = list[1]
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    let mut rest = &rest[list.get(0).expect("group 0").end()..];
    let (mut reason, mut expires) = (None, None);
    while !rest.trim().is_empty() {
        let Some(opt) = OPTION.captures(rest) else {
            malformed.get_or_insert_with(|| format!("cannot read `{}`", rest.trim()));
            break;
        };
        let value = opt
            .get(2)
            .or_else(|| opt.get(3))
            .map_or("", |m| m.as_str())
            .to_owned();
        match &opt[1] {
            "reason" => reason = Some(value),
            "expires" => match parse_date(&value) {
                Some(d) => expires = Some(d),
                None => {
                    malformed.get_or_insert_with(|| {
                        format!("`expires={value}` is not a date (YYYY-MM-DD)")
                    });
                }
            },
            other => {
                malformed.get_or_insert_with(|| {
                    format!("unknown option `{other}` (expected reason= or expires=)")
                });
            }
        }
        rest = &rest[opt.get(0).expect("group 0").end()..];
    }
    (rules, reason, expires, malformed)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value, &format).ok()
}

fn line_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut offset = 0;
    text.split('\n')
        .map(|line| {
            let start = offset;
            offset += line.len() + 1;
            (start, line.strip_suffix('\r').unwrap_or(line))
        })
        .collect()
}

/// The last line of the outermost block or attribute that starts on `line`.
fn construct_end_line(body: &Body, unit: &SourceUnit, line: usize) -> Option<usize> {
    for structure in body.iter() {
        let span = match structure {
            Structure::Block(b) => b.span(),
            Structure::Attribute(a) => a.span(),
        }?;
        let (start_line, _) = unit.source.line_col(span.start);
        let (end_line, _) = unit
            .source
            .line_col(span.end.saturating_sub(1).max(span.start));
        if start_line == line {
            return Some(end_line);
        }
        if start_line < line
            && line <= end_line
            && let Structure::Block(b) = structure
        {
            return construct_end_line(&b.body, unit, line);
        }
    }
    None
}
