//! Expressions to write into generated HCL: literals, lists, objects and raw expression text
//! (references, templates), rendered the way `terraform fmt` leaves them.

use serde_json::Value;

/// An expression of a generated file.
#[derive(Debug, Clone, PartialEq)]
pub enum HclExpr {
    /// Expression text written as is: `dependency.vpc.outputs.vpc_id`, `module.x.y`.
    Raw(String),
    /// A string literal.
    Str(String),
    /// A literal value.
    Literal(Value),
    /// A list.
    List(Vec<HclExpr>),
    /// An object with its keys in order.
    Object(Vec<(String, HclExpr)>),
}

/// Lists whose one-line form is longer than this are written one element per line.
const MAX_INLINE: usize = 80;

impl HclExpr {
    /// A string literal.
    pub fn str(s: impl Into<String>) -> HclExpr {
        HclExpr::Str(s.into())
    }

    /// Expression text written as is.
    pub fn raw(s: impl Into<String>) -> HclExpr {
        HclExpr::Raw(s.into())
    }

    /// A list of string literals.
    pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> HclExpr {
        HclExpr::List(
            items
                .into_iter()
                .map(|s| HclExpr::str(s.as_ref()))
                .collect(),
        )
    }

    /// Renders at nesting level `indent` (two spaces each); multi-line values end without a
    /// newline, their closing bracket at `indent`.
    pub(crate) fn render(&self, indent: usize) -> String {
        match self {
            HclExpr::Raw(text) => text.clone(),
            HclExpr::Str(s) => quote(s),
            HclExpr::Literal(v) => render_value(v, indent),
            HclExpr::List(items) => {
                if items.is_empty() {
                    return "[]".into();
                }
                let inline: Vec<String> = items.iter().map(|i| i.render(indent + 1)).collect();
                let width: usize = inline.iter().map(|s| s.len() + 2).sum();
                if width <= MAX_INLINE && inline.iter().all(|s| !s.contains('\n')) {
                    return format!("[{}]", inline.join(", "));
                }
                let pad = "  ".repeat(indent + 1);
                let mut out = String::from("[\n");
                for item in inline {
                    out.push_str(&format!("{pad}{item},\n"));
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
                out
            }
            HclExpr::Object(entries) => {
                if entries.is_empty() {
                    return "{}".into();
                }
                let pad = "  ".repeat(indent + 1);
                let mut out = String::from("{\n");
                for (key, value) in entries {
                    out.push_str(&format!(
                        "{pad}{} = {}\n",
                        object_key(key),
                        value.render(indent + 1)
                    ));
                }
                out.push_str(&"  ".repeat(indent));
                out.push('}');
                out
            }
        }
    }
}

impl From<&Value> for HclExpr {
    fn from(v: &Value) -> Self {
        match v {
            Value::String(s) => HclExpr::Str(s.clone()),
            Value::Array(items) => HclExpr::List(items.iter().map(HclExpr::from).collect()),
            Value::Object(map) => HclExpr::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), HclExpr::from(v)))
                    .collect(),
            ),
            other => HclExpr::Literal(other.clone()),
        }
    }
}

fn render_value(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => HclExpr::from(other).render(indent),
    }
}

/// An object key: bare when it is an identifier, quoted otherwise.
pub(crate) fn object_key(key: &str) -> String {
    if is_identifier(key) {
        key.to_string()
    } else {
        quote(key)
    }
}

/// Whether `s` is an HCL identifier (and so usable as a bare key, block label or name).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A quoted HCL string: escapes, and `${`/`%{` doubled so they stay literal text.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    out.push_str(&escape_template_text(s));
    out.push('"');
    out
}

/// Text placed inside a quoted template, escaped.
pub fn escape_template_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_literals_lists_and_objects() {
        let v = json!({"a": [1, "x"], "b c": {"d": null}, "e": "${not} %{interp}"});
        assert_eq!(
            HclExpr::from(&v).render(0),
            "{\n  a = [1, \"x\"]\n  \"b c\" = {\n    d = null\n  }\n  e = \"$${not} %%{interp}\"\n}"
        );
        let long = HclExpr::strings((0..12).map(|i| format!("subnet-{i:08}")));
        assert!(long.render(1).starts_with("[\n    \"subnet-00000000\",\n"));
        assert!(long.render(1).ends_with(",\n  ]"));
        assert_eq!(quote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
    }
}
