//! Text that reaches the database from clients (lock IDs, lineages, query parameters): what
//! either database can store, refused with a 400 otherwise — PostgreSQL rejects a NUL byte
//! in TEXT with an error that would otherwise surface as a 500.

use crate::error::StateError;

/// Longest lock ID accepted (Terraform sends a UUID).
pub(crate) const MAX_LOCK_ID: usize = 200;
/// Longest lineage accepted (Terraform sends a UUID).
pub(crate) const MAX_LINEAGE: usize = 200;

/// Refuses an empty value, one longer than `max` characters, or one with control characters.
pub(crate) fn check_field(what: &str, value: &str, max: usize) -> Result<(), StateError> {
    if value.is_empty() {
        return Err(StateError::BadRequest(format!("the {what} is empty")));
    }
    let n = value.chars().count();
    if n > max {
        return Err(StateError::BadRequest(format!(
            "the {what} has {n} characters; at most {max} are accepted"
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(StateError::BadRequest(format!(
            "the {what} contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// Like [`check_field`], but line breaks and tabs are allowed (engine diagnostics, reasons).
pub(crate) fn check_multiline(what: &str, value: &str, max: usize) -> Result<(), StateError> {
    let n = value.chars().count();
    if n > max {
        return Err(StateError::BadRequest(format!(
            "the {what} has {n} characters; at most {max} are accepted"
        )));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(StateError::BadRequest(format!(
            "the {what} contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// Refuses anything but 1..=`max` characters of `[A-Za-z0-9._-]` (kinds, names, ids that
/// end up in URLs, state keys and metric labels).
pub(crate) fn check_slug(what: &str, value: &str, max: usize) -> Result<(), StateError> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid {what} {value:?}: use 1 to {max} letters, digits, `.`, `_` and `-`"
        )))
    }
}

/// Refuses text that is not one JSON document (stored as text, read back by the server).
pub(crate) fn check_json(what: &str, value: &str) -> Result<(), StateError> {
    serde_json::from_str::<serde::de::IgnoredAny>(value)
        .map(|_| ())
        .map_err(|e| StateError::BadRequest(format!("the {what} is not valid JSON: {e}")))
}

/// Log text as either database stores it: PostgreSQL refuses NUL in TEXT, so a NUL becomes
/// U+FFFD rather than failing the whole append.
pub(crate) fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, keeping the start.
pub(crate) fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts `text` to at most `max` bytes on a character boundary, keeping the end.
pub(crate) fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Deepest nesting of arrays and objects accepted in a state: Go's encoding/json, which
/// Terraform reads states with, refuses deeper documents, so storing one would lose the state.
pub(crate) const MAX_DEPTH: usize = 10_000;

/// Refuses bodies Terraform could not read back: invalid UTF-8, or nesting deeper than
/// [`MAX_DEPTH`].
pub(crate) fn check_state_text(body: &[u8]) -> Result<(), StateError> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(StateError::BadRequest(format!(
            "the state is not valid UTF-8 (at byte {}); nothing stored",
            e.valid_up_to()
        )));
    }
    // A byte scan rather than a parse: serde_json's own limit is 128, far below what real
    // states may nest, and it would reject those.
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if max > MAX_DEPTH {
        return Err(StateError::BadRequest(format!(
            "the state nests {max} levels deep; Terraform reads at most {MAX_DEPTH}, so it could \\
             not read this state back; nothing stored"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_bodies() {
        assert!(
            check_field("lock ID", "a\0b", 200)
                .unwrap_err()
                .to_string()
                .contains("U+0000")
        );
        assert!(
            check_field("lock ID", &"x".repeat(201), 200)
                .unwrap_err()
                .to_string()
                .contains("201 characters")
        );
        assert!(check_field("lock ID", "8b7c-…", 200).is_ok());
        assert!(check_state_text(b"{\"a\": \"\\\\\\\"[[[\"}").is_ok());
        assert_eq!(head("aé", 2), "a");
        assert_eq!(tail("éa", 2), "a");
        assert_eq!(tail("abc", 5), "abc");
        assert!(check_slug("kind", "plan-7.x_y", 64).is_ok());
        assert!(check_slug("kind", "a b", 64).is_err());
        assert!(check_json("payload", "{\"a\":1}").is_ok());
        assert!(check_json("payload", "{").is_err());
        let deep = format!("{}{}", "[".repeat(10_001), "]".repeat(10_001));
        assert!(
            check_state_text(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("10001 levels")
        );
        assert!(
            check_state_text(b"{\"a\": \"\xff\"}")
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
    }
}
