//! New random values for `plinth secrets rotate`, from the operating system's RNG.

use crate::error::SecretError;
use crate::secret::Secret;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// Punctuation that needs no quoting in a shell variable, JSON, HCL or a URL userinfo
/// escape: no quotes, backslash, backtick, space, `$` or `%`.
const SYMBOLS: &[u8] = b"!#&()*+,-./:;<=>?@[]^_{|}~";

/// A random value of `length` characters: letters and digits, plus punctuation when
/// `symbols`. Each character class in use appears at least once (password policies ask for
/// it), and the value is otherwise uniform over the alphabet.
pub fn generate(length: usize, symbols: bool) -> Result<Secret, SecretError> {
    let mut alphabet = [LOWER, UPPER, DIGITS].concat();
    let mut classes: Vec<&[u8]> = vec![LOWER, UPPER, DIGITS];
    if symbols {
        alphabet.extend_from_slice(SYMBOLS);
        classes.push(SYMBOLS);
    }
    if length < classes.len() {
        return Err(SecretError::NotConfigured(format!(
            "a generated secret needs at least {} characters",
            classes.len()
        )));
    }
    // Bytes at or above the largest multiple of the alphabet's size are dropped, so that
    // every character is equally likely (a plain `% len` would favour the first ones).
    let limit = 256 - 256 % alphabet.len();
    loop {
        let mut out = Vec::with_capacity(length);
        let mut buf = [0u8; 64];
        while out.len() < length {
            getrandom::fill(&mut buf).map_err(|e| {
                SecretError::NotConfigured(format!("the OS random number generator failed: {e}"))
            })?;
            out.extend(
                buf.iter()
                    .filter(|&&b| (b as usize) < limit)
                    .map(|&b| alphabet[b as usize % alphabet.len()])
                    .take(length - out.len()),
            );
        }
        if classes.iter().all(|c| out.iter().any(|b| c.contains(b))) {
            // Only ASCII bytes from the alphabet were pushed.
            let text = String::from_utf8(out).unwrap_or_default();
            return Ok(Secret::new(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn lengths_alphabets_and_classes() {
        for (len, symbols) in [(8, false), (48, false), (8, true), (1024, true)] {
            let v = generate(len, symbols).unwrap();
            let s = v.expose();
            assert_eq!(s.len(), len);
            assert!(s.bytes().any(|b| b.is_ascii_lowercase()));
            assert!(s.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(s.bytes().any(|b| b.is_ascii_digit()));
            assert_eq!(s.bytes().any(|b| SYMBOLS.contains(&b)), symbols, "{len}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || SYMBOLS.contains(&b))
            );
        }
        assert!(generate(2, false).is_err());
    }

    #[test]
    fn values_differ_and_cover_the_alphabet() {
        let many: HashSet<String> = (0..200)
            .map(|_| generate(32, true).unwrap().expose().to_string())
            .collect();
        assert_eq!(many.len(), 200);
        let seen: HashSet<u8> = many.iter().flat_map(|s| s.bytes()).collect();
        // 6,400 draws over 88 characters: every one shows up.
        assert_eq!(seen.len(), 62 + SYMBOLS.len());
    }
}
