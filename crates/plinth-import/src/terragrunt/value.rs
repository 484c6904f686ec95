//! Values of a partial evaluation: what is known when converting, and what is only known when
//! plinth runs (an upstream output, a CI variable), kept as the plinth expression for it.

use serde_json::Value;

use crate::hcl::{HclExpr, escape_template_text, is_identifier, quote};
use crate::proposal::Location;

/// Why an expression could not be converted, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The expression at fault.
    pub loc: Location,
    /// What plinth cannot do with it.
    pub message: String,
}

/// A result of evaluation.
pub(crate) type Eval<T> = Result<T, Problem>;

/// One step of a reference into an upstream output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// `.name`
    Attr(String),
    /// `[0]`, `["key"]`
    Index(Value),
}

/// A value as far as it is known at conversion time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PVal {
    /// Fully known.
    Known(Value),
    /// `dependency.NAME.outputs…`: known once the upstream is applied.
    Output {
        /// The dependency block's name.
        dep: String,
        /// Steps after `outputs`.
        path: Vec<Step>,
    },
    /// `get_env("NAME", "default")`: plinth's `getenv`.
    Getenv {
        /// The variable.
        name: String,
        /// Its default.
        default: Option<String>,
    },
    /// A string with unknown parts.
    Template(Vec<Piece>),
    /// A list with unknown elements.
    List(Vec<PVal>),
    /// An object with unknown values.
    Object(Vec<(String, PVal)>),
}

/// A part of a template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// An unknown value interpolated.
    Value(PVal),
}

impl PVal {
    /// A known string.
    pub fn string(s: impl Into<String>) -> PVal {
        PVal::Known(Value::String(s.into()))
    }

    /// The value, when fully known.
    pub fn known(&self) -> Option<&Value> {
        match self {
            PVal::Known(v) => Some(v),
            _ => None,
        }
    }

    /// A list, known when every element is.
    pub fn list(items: Vec<PVal>) -> PVal {
        if items.iter().all(|i| i.known().is_some()) {
            PVal::Known(Value::Array(
                items
                    .into_iter()
                    .filter_map(|i| match i {
                        PVal::Known(v) => Some(v),
                        _ => None,
                    })
                    .collect(),
            ))
        } else {
            PVal::List(items)
        }
    }

    /// An object, known when every value is (later duplicate keys win, as in HCL's merge).
    pub fn object(entries: Vec<(String, PVal)>) -> PVal {
        let mut deduped: Vec<(String, PVal)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match deduped.iter_mut().find(|(dk, _)| *dk == k) {
                Some(slot) => slot.1 = v,
                None => deduped.push((k, v)),
            }
        }
        if deduped.iter().all(|(_, v)| v.known().is_some()) {
            let mut map = serde_json::Map::new();
            for (k, v) in deduped {
                if let PVal::Known(v) = v {
                    map.insert(k, v);
                }
            }
            PVal::Known(Value::Object(map))
        } else {
            PVal::Object(deduped)
        }
    }

    /// A template, collapsed to a known string when every piece is text.
    pub fn template(pieces: Vec<Piece>) -> PVal {
        let mut merged: Vec<Piece> = Vec::new();
        for piece in pieces {
            match (merged.last_mut(), piece) {
                (Some(Piece::Text(a)), Piece::Text(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        match merged.as_slice() {
            [] => PVal::string(""),
            [Piece::Text(t)] => PVal::string(t.clone()),
            // "${dependency.x.outputs.y}" alone is the value itself, not a string of it.
            [Piece::Value(v)] => v.clone(),
            _ => PVal::Template(merged),
        }
    }

    /// The entries of an object value, known or not.
    pub fn entries(&self) -> Option<Vec<(String, PVal)>> {
        match self {
            PVal::Known(Value::Object(m)) => Some(
                m.iter()
                    .map(|(k, v)| (k.clone(), PVal::Known(v.clone())))
                    .collect(),
            ),
            PVal::Object(entries) => Some(entries.clone()),
            _ => None,
        }
    }

    /// Every `dependency` name referenced.
    pub fn dependencies(&self, out: &mut Vec<String>) {
        match self {
            PVal::Output { dep, .. } => {
                if !out.contains(dep) {
                    out.push(dep.clone());
                }
            }
            PVal::Template(pieces) => pieces.iter().for_each(|p| {
                if let Piece::Value(v) = p {
                    v.dependencies(out)
                }
            }),
            PVal::List(items) => items.iter().for_each(|i| i.dependencies(out)),
            PVal::Object(entries) => entries.iter().for_each(|(_, v)| v.dependencies(out)),
            PVal::Known(_) | PVal::Getenv { .. } => {}
        }
    }

    /// Every `(dependency, first output name)` referenced.
    pub fn outputs(&self, out: &mut Vec<(String, String)>) {
        match self {
            PVal::Output { dep, path } => {
                if let Some(Step::Attr(o)) = path.first() {
                    let pair = (dep.clone(), o.clone());
                    if !out.contains(&pair) {
                        out.push(pair);
                    }
                }
            }
            PVal::Template(pieces) => pieces.iter().for_each(|p| {
                if let Piece::Value(v) = p {
                    v.outputs(out)
                }
            }),
            PVal::List(items) => items.iter().for_each(|i| i.outputs(out)),
            PVal::Object(entries) => entries.iter().for_each(|(_, v)| v.outputs(out)),
            PVal::Known(_) | PVal::Getenv { .. } => {}
        }
    }

    /// Replaces references to `dep` with values from `mocks`; `None` when a referenced output
    /// has no mock.
    pub fn substitute(&self, dep: &str, mocks: &Value) -> Option<PVal> {
        Some(match self {
            PVal::Output { dep: d, path } if d == dep => {
                let mut v = mocks;
                for step in path {
                    v = match step {
                        Step::Attr(a) => v.get(a)?,
                        Step::Index(Value::Number(n)) => v.get(n.as_u64()? as usize)?,
                        Step::Index(Value::String(k)) => v.get(k)?,
                        Step::Index(_) => return None,
                    };
                }
                PVal::Known(v.clone())
            }
            PVal::Template(pieces) => {
                let mut out = Vec::new();
                for p in pieces {
                    out.push(match p {
                        Piece::Text(t) => Piece::Text(t.clone()),
                        Piece::Value(v) => match v.substitute(dep, mocks)? {
                            PVal::Known(Value::String(s)) => Piece::Text(s),
                            PVal::Known(other) if !other.is_object() && !other.is_array() => {
                                Piece::Text(other.to_string())
                            }
                            other => Piece::Value(other),
                        },
                    });
                }
                PVal::template(out)
            }
            PVal::List(items) => PVal::list(
                items
                    .iter()
                    .map(|i| i.substitute(dep, mocks))
                    .collect::<Option<_>>()?,
            ),
            PVal::Object(entries) => PVal::object(
                entries
                    .iter()
                    .map(|(k, v)| v.substitute(dep, mocks).map(|v| (k.clone(), v)))
                    .collect::<Option<_>>()?,
            ),
            other => other.clone(),
        })
    }

    /// The plinth expression for this value.
    pub fn to_hcl(&self) -> HclExpr {
        match self {
            PVal::Known(v) => HclExpr::from(v),
            PVal::Output { .. } | PVal::Getenv { .. } => HclExpr::raw(self.reference()),
            PVal::Template(pieces) => {
                let mut s = String::from("\"");
                for p in pieces {
                    match p {
                        Piece::Text(t) => s.push_str(&escape_template_text(t)),
                        Piece::Value(v) => {
                            s.push_str("${");
                            s.push_str(&v.reference());
                            s.push('}');
                        }
                    }
                }
                s.push('"');
                HclExpr::raw(s)
            }
            PVal::List(items) => HclExpr::List(items.iter().map(PVal::to_hcl).collect()),
            PVal::Object(entries) => HclExpr::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_hcl()))
                    .collect(),
            ),
        }
    }

    /// The expression text of a reference or getenv call (other values render as HCL).
    fn reference(&self) -> String {
        match self {
            PVal::Output { dep, path } => {
                let mut s = format!("dependency.{dep}.outputs");
                for step in path {
                    match step {
                        Step::Attr(a) if is_identifier(a) => {
                            s.push('.');
                            s.push_str(a);
                        }
                        Step::Attr(a) => s.push_str(&format!("[{}]", quote(a))),
                        Step::Index(Value::String(k)) => s.push_str(&format!("[{}]", quote(k))),
                        Step::Index(v) => s.push_str(&format!("[{v}]")),
                    }
                }
                s
            }
            PVal::Getenv { name, default } => match default {
                Some(d) => format!("getenv({}, {})", quote(name), quote(d)),
                None => format!("getenv({})", quote(name)),
            },
            other => other.to_hcl().render(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(dep: &str, o: &str) -> PVal {
        PVal::Output {
            dep: dep.into(),
            path: vec![Step::Attr(o.into())],
        }
    }

    #[test]
    fn unknown_parts_stay_plinth_expressions() {
        let t = PVal::template(vec![
            Piece::Text("https://".into()),
            Piece::Value(out("backend", "domain")),
            Piece::Text("/${x}".into()),
        ]);
        assert_eq!(
            t.to_hcl().render(0),
            "\"https://${dependency.backend.outputs.domain}/$${x}\""
        );
        assert_eq!(
            PVal::template(vec![Piece::Value(out("a", "b"))]),
            out("a", "b")
        );
        let o = PVal::object(vec![
            ("a".into(), PVal::string("x")),
            ("a".into(), PVal::string("y")),
        ]);
        assert_eq!(o, PVal::Known(json!({"a": "y"})));
        let mocked = t
            .substitute("backend", &json!({"domain": "mock.local"}))
            .unwrap();
        assert_eq!(mocked, PVal::string("https://mock.local/${x}"));
        assert!(out("a", "missing").substitute("a", &json!({})).is_none());
    }
}
