//! Names and durations as plinth files write them.

use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;

/// Parses `72h`, `30m`, `7d`, `45s`, `2w` into seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 604800,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Whether `name` may name a project or an environment: it becomes part of paths and keys.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// Why `name` cannot name an ephemeral copy, if it cannot: copies' names become state key
/// parts and DNS-like labels (`test-pr-42`).
pub fn copy_name_problem(name: &str) -> Option<String> {
    const RULE: &str = "a copy's name uses a-z, 0-9 and `-`, starts with a letter or digit, and has at most 63 characters";
    if name.is_empty() {
        return Some(format!("the name is empty: {RULE}"));
    }
    if name.len() > 63 {
        return Some(format!("`{name}` has {} characters: {RULE}", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("`{name}` contains {c:?}: {RULE}"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some(format!("`{name}` starts or ends with `-`: {RULE}"));
    }
    None
}

/// Reports `name` when it is not one of the `known` environments.
pub(crate) fn check_env_name(
    name: &Spanned<String>,
    known: &[&str],
    source: &Arc<SourceFile>,
    attr: &str,
    diags: &mut Vec<Diagnostic>,
) {
    if !known.contains(&name.value.as_str()) {
        let mut d = Diagnostic::error(format!(
            "`{attr}` names unknown environment `{}`",
            name.value
        ))
        .at(source, name.span.clone(), "no such environment");
        d = match crate::did_you_mean(&name.value, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("environments: {}", known.join(", "))),
        };
        diags.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("72h"), Some(259200));
        assert_eq!(parse_duration("7d"), Some(604800));
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("3 days"), None);
    }

    #[test]
    fn copy_names() {
        assert_eq!(copy_name_problem("test-pr-42"), None);
        assert!(copy_name_problem("Test").unwrap().contains("'T'"));
        assert!(copy_name_problem("a_b").is_some());
        assert!(copy_name_problem("-a").is_some());
        assert!(
            copy_name_problem(&"a".repeat(64))
                .unwrap()
                .contains("64 characters")
        );
        assert!(copy_name_problem("").is_some());
    }
}
