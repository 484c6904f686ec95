//! Usage files: the monthly quantities of usage-based prices (requests, GB stored, GB
//! processed…) for one environment, as Infracost's `infracost-usage.yml` has them, in TOML:
//!
//! ```toml
//! [types.aws_dynamodb_table]                 # every table of every stack in the environment
//! monthly_write_request_units = 50_000_000
//!
//! [stacks."services/orders"."aws_dynamodb_table.orders"]   # one resource of one stack
//! monthly_write_request_units = 100_000_000
//! ```
//!
//! A resource's address may be written with or without instance keys
//! (`module.table["consent"].aws_dynamodb_table.this` or `module.table.aws_dynamodb_table.this`);
//! the exact one wins, then the one without keys, then the type's quantities, then the
//! catalogue's assumption.

use std::collections::{BTreeMap, HashMap};

use plinth_diag::{Diagnostic, SourceFile};
use serde::Deserialize;

use crate::catalogue::Catalogue;

/// The usage quantities of one environment.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// The file they came from (`usage/prod.toml`), if any.
    pub file: Option<String>,
    types: HashMap<String, BTreeMap<String, f64>>,
    stacks: HashMap<String, HashMap<String, BTreeMap<String, f64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsage {
    #[serde(default)]
    types: BTreeMap<String, toml::Spanned<BTreeMap<String, f64>>>,
    #[serde(default)]
    stacks: BTreeMap<String, BTreeMap<String, toml::Spanned<BTreeMap<String, f64>>>>,
}

impl Usage {
    /// No usage file: every usage-based price takes the catalogue's assumption.
    pub fn none() -> Usage {
        Usage::default()
    }

    /// Parses a usage file; every key must be one the catalogue reads (for a `[types.T]` table,
    /// one that T's prices read), and every quantity non-negative.
    pub fn parse(display: &str, text: &str, catalogue: &Catalogue) -> Result<Usage, Diagnostic> {
        let source = SourceFile::new(display, text);
        let raw: RawUsage = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::error(format!("invalid usage file {display}: {}", e.message()));
            match e.span() {
                Some(span) => d.at(&source, span, "here"),
                None => d,
            }
        })?;
        let check = |table: &toml::Spanned<BTreeMap<String, f64>>,
                     known: &dyn Fn(&str) -> bool,
                     help: String| {
            for (key, value) in table.get_ref() {
                let at = key_span(text, table.span().start, key).unwrap_or(table.span());
                if !known(key) {
                    return Err(Diagnostic::error(format!("unknown usage key `{key}`"))
                        .at(&source, at, "not a usage quantity of the catalogue")
                        .with_help(help.clone()));
                }
                if !(value.is_finite() && *value >= 0.0) {
                    return Err(Diagnostic::error(format!(
                        "usage `{key}` must be a non-negative number"
                    ))
                    .at(&source, at, "here"));
                }
            }
            Ok(())
        };
        let mut usage = Usage {
            file: Some(display.to_owned()),
            ..Usage::default()
        };
        for (kind, table) in raw.types {
            let keys = catalogue.usage_keys(&kind);
            let help = if keys.is_empty() {
                format!("the price catalogue has no usage-based price for {kind}")
            } else {
                format!("{kind} reads: {}", keys.join(", "))
            };
            check(&table, &|k| keys.contains(&k), help)?;
            usage.types.insert(kind, table.into_inner());
        }
        for (stack, resources) in raw.stacks {
            let mut by_address = HashMap::new();
            for (address, table) in resources {
                check(
                    &table,
                    &|k| catalogue.knows_usage_key(k),
                    "no price in the catalogue reads this key".into(),
                )?;
                by_address.insert(address, table.into_inner());
            }
            usage.stacks.insert(stack, by_address);
        }
        Ok(usage)
    }

    /// The stated quantity of `key` for the resource at `address` (of type `kind`) in `stack`.
    pub fn get(&self, stack: &str, address: &str, kind: &str, key: &str) -> Option<f64> {
        let resources = self.stacks.get(stack);
        let exact = resources
            .and_then(|r| r.get(address))
            .and_then(|t| t.get(key));
        exact
            .or_else(|| {
                let bare = without_keys(address);
                resources
                    .and_then(|r| r.get(bare.as_str()))
                    .and_then(|t| t.get(key))
            })
            .or_else(|| self.types.get(kind).and_then(|t| t.get(key)))
            .copied()
    }
}

/// Where `key = …` is written in the table that starts at `from` (toml gives spans of values,
/// not of keys).
fn key_span(text: &str, from: usize, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = from;
    for (i, line) in text.get(from..)?.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 {
            if trimmed.starts_with('[') {
                return None;
            }
            let bare = trimmed.trim_start_matches(['"', '\'']);
            if let Some(after) = bare.strip_prefix(key)
                && after
                    .trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with('=')
            {
                let start = offset + (line.len() - trimmed.len());
                return Some(start..start + trimmed.trim_end().len());
            }
        }
        offset += line.len();
    }
    None
}

/// An address without its instance keys: `module.t["a"].x.y[0]` becomes `module.t.x.y`.
pub fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        } else if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys_are_stripped() {
        assert_eq!(
            without_keys(r#"module.table["fp-events"].terraform_data.table"#),
            "module.table.terraform_data.table"
        );
        assert_eq!(without_keys(r#"aws_x.y["a]b"]"#), "aws_x.y");
        assert_eq!(without_keys("aws_x.y[0]"), "aws_x.y");
    }

    #[test]
    fn precedence_and_validation() {
        let c = Catalogue::builtin();
        let u = Usage::parse(
            "usage/prod.toml",
            r#"
[types.aws_lambda_function]
monthly_requests = 1000

[stacks."svc"."aws_lambda_function.api"]
monthly_requests = 5000

[stacks."svc".'module.m["a"].aws_lambda_function.f']
monthly_requests = 7
"#,
            &c,
        )
        .unwrap();
        let get = |addr| u.get("svc", addr, "aws_lambda_function", "monthly_requests");
        assert_eq!(get("aws_lambda_function.api"), Some(5000.0));
        assert_eq!(get("aws_lambda_function.api[2]"), Some(5000.0));
        assert_eq!(get(r#"module.m["a"].aws_lambda_function.f"#), Some(7.0));
        assert_eq!(get(r#"module.m["b"].aws_lambda_function.f"#), Some(1000.0));
        assert_eq!(
            u.get(
                "other",
                "aws_lambda_function.api",
                "aws_lambda_function",
                "monthly_requests"
            ),
            Some(1000.0)
        );
        assert_eq!(
            u.get("svc", "x", "aws_lambda_function", "request_duration_ms"),
            None
        );

        let typo = Usage::parse(
            "usage/prod.toml",
            "[types.aws_lambda_function]\nmonthly_request = 1\n",
            &c,
        )
        .unwrap_err();
        assert!(typo.message.contains("monthly_request"), "{}", typo.message);
        assert!(typo.help[0].contains("monthly_requests"), "{:?}", typo.help);
        assert_eq!(
            typo.location().map(|(_, l, _)| l),
            Some(2),
            "the key's line"
        );
        let negative = Usage::parse(
            "u.toml",
            "[types.aws_sns_topic]\nmonthly_requests = -1\n",
            &c,
        )
        .unwrap_err();
        assert!(negative.message.contains("non-negative"));
    }
}
