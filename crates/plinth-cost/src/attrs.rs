//! A resource's settings as the pricer reads them, from code facts or a plan's `after`:
//! known values, settings present but unknown, and the provider's defaults for absent ones.

use serde_json::{Map, Value};

use crate::catalogue::Catalogue;

/// What a setting is, as far as the code or plan tells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lookup<'a> {
    /// Its value (written, or the provider's default).
    Known(&'a Value),
    /// Present, but only the engine knows its value.
    Unknown,
    /// Neither written nor defaulted.
    Absent,
}

/// One resource instance's settings.
pub(crate) struct Attrs<'a> {
    /// The effective type (a stand-in's `resource_type`).
    pub kind: &'a str,
    /// Whether it is a `terraform_data` stand-in.
    pub standin: bool,
    map: &'a Map<String, Value>,
    unknown: Vec<&'a str>,
    catalogue: &'a Catalogue,
}

impl<'a> Attrs<'a> {
    /// Settings of a resource of block type `kind`; a `terraform_data` whose `input` names a
    /// `resource_type` is read as that type, from `input`.
    pub(crate) fn new(
        kind: &'a str,
        map: &'a Map<String, Value>,
        unknown: &'a [String],
        catalogue: &'a Catalogue,
    ) -> Attrs<'a> {
        if kind == "terraform_data"
            && let Some(Value::Object(input)) = map.get("input")
            && let Some(Value::String(real)) = input.get("resource_type")
        {
            return Attrs {
                kind: real,
                standin: true,
                map: input,
                unknown: unknown
                    .iter()
                    .filter_map(|p| p.strip_prefix("input."))
                    .collect(),
                catalogue,
            };
        }
        Attrs {
            kind,
            standin: false,
            map,
            unknown: unknown.iter().map(String::as_str).collect(),
            catalogue,
        }
    }

    /// The setting at `path` (dotted; list elements by index; `a|b` for the first present).
    pub(crate) fn get(&self, path: &str) -> Lookup<'a> {
        for alternative in path.split('|') {
            match self.written(alternative) {
                Lookup::Absent => continue,
                found => return found,
            }
        }
        let default = self.catalogue.default_of(self.kind, path).or_else(|| {
            path.split('|')
                .find_map(|p| self.catalogue.default_of(self.kind, p))
        });
        default.map_or(Lookup::Absent, Lookup::Known)
    }

    fn written(&self, path: &str) -> Lookup<'a> {
        if self.unknown.iter().any(|u| {
            path == *u || (path.starts_with(u) && path.as_bytes().get(u.len()) == Some(&b'.'))
        }) {
            return Lookup::Unknown;
        }
        let mut parts = path.split('.');
        let Some(first) = parts.next() else {
            return Lookup::Absent;
        };
        let mut value = match self.map.get(first) {
            Some(v) => v,
            None => return Lookup::Absent,
        };
        for part in parts {
            value = match value {
                Value::Object(m) => match m.get(part) {
                    Some(v) => v,
                    None => return Lookup::Absent,
                },
                Value::Array(items) => {
                    match part.parse::<usize>().ok().and_then(|i| items.get(i)) {
                        Some(v) => v,
                        None => return Lookup::Absent,
                    }
                }
                _ => return Lookup::Absent,
            };
        }
        if value.is_null() {
            Lookup::Absent
        } else {
            Lookup::Known(value)
        }
    }
}

/// A setting as text, for `when`, `by` and `factor` (strings, numbers and booleans only).
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// A setting as a quantity: a number, a numeric string, a bool (0 or 1), or the length of a
/// list or map.
pub(crate) fn quantity(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Array(items) => Some(items.len() as f64),
        Value::Object(m) => Some(m.len() as f64),
        Value::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn stand_ins_defaults_and_unknowns() {
        let c = Catalogue::builtin();
        let Value::Object(map) = json!({
            "input": {
                "resource_type": "aws_lambda_function",
                "architectures": ["arm64"],
                "scaling": [{ "desired": 3 }],
            }
        }) else {
            unreachable!()
        };
        let unknown = vec!["input.memory_size".to_string(), "input.timeout".to_string()];
        let a = Attrs::new("terraform_data", &map, &unknown, &c);
        assert_eq!(a.kind, "aws_lambda_function");
        assert!(a.standin);
        assert_eq!(a.get("architectures.0"), Lookup::Known(&json!("arm64")));
        assert_eq!(a.get("scaling.0.desired"), Lookup::Known(&json!(3)));
        assert_eq!(a.get("memory_size"), Lookup::Unknown);
        assert_eq!(a.get("memory"), Lookup::Absent);
        let Value::Object(real) = json!({ "function_name": "f" }) else {
            unreachable!()
        };
        let r = Attrs::new("aws_lambda_function", &real, &[], &c);
        assert_eq!(
            r.get("memory_size"),
            Lookup::Known(&json!(128)),
            "provider default"
        );
        assert_eq!(text(&json!(2.0)).as_deref(), Some("2"));
        assert_eq!(quantity(&json!(["a", "b"])), Some(2.0));
    }
}
