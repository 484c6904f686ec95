//! A token held in memory that never prints.
//!
//! Written by hand rather than taken from `secrecy`: the only property needed is that `Debug`
//! and `Display` cannot show the value (tokens live for the process's life, so zeroizing on
//! drop would buy nothing), and that is ten lines.

use std::fmt;

/// A secret string: API token, installation token, webhook secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
