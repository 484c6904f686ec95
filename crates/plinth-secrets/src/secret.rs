//! A secret value that cannot be printed by accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// One secret value. `Debug` and `Display` print `***`; the text is wiped from memory on
/// drop; only [`Secret::expose`] gives it out.
#[derive(Clone)]
pub struct Secret {
    text: SecretString,
    json: bool,
}

impl Secret {
    /// A string value.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret {
            text: SecretString::from(text.into()),
            json: false,
        }
    }

    /// A non-string value of a KV secret (number, bool, list, object), kept as compact JSON
    /// so that it is written back as the same JSON type.
    pub fn json(value: &serde_json::Value) -> Secret {
        match value {
            serde_json::Value::String(s) => Secret::new(s.as_str()),
            other => Secret {
                text: SecretString::from(other.to_string()),
                json: true,
            },
        }
    }

    /// The value: the string itself, or the JSON text of a non-string value (which is also
    /// what `TF_VAR_*` expects for a complex variable).
    pub fn expose(&self) -> &str {
        self.text.expose_secret()
    }

    /// Whether the value is the JSON text of a non-string value.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Whether two values are the same (text and type).
    pub fn same_as(&self, other: &Secret) -> bool {
        self.json == other.json && self.expose() == other.expose()
    }

    /// The value as JSON, for a request body that is sent and dropped.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        if self.json {
            serde_json::from_str(self.expose())
                .unwrap_or_else(|_| serde_json::Value::String(self.expose().to_string()))
        } else {
            serde_json::Value::String(self.expose().to_string())
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-value");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:?}", Some(vec![s.clone()])), "Some([***])");
        assert_eq!(s.expose(), "hunter2-value");
    }

    #[test]
    fn json_values_keep_their_type() {
        let n = Secret::json(&serde_json::json!(42));
        assert!(n.is_json());
        assert_eq!(n.expose(), "42");
        assert_eq!(n.to_json(), serde_json::json!(42));
        let s = Secret::json(&serde_json::json!("42"));
        assert!(!s.is_json());
        assert!(!n.same_as(&s));
        assert_eq!(s.to_json(), serde_json::json!("42"));
    }
}
