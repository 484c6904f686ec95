//! `secret` blocks: tier-2 secrets read at run time (Vault/OpenBao KV v2 or plinth's own
//! environment) and handed to the engine as `TF_VAR_*`.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::Value;

use crate::Spanned;
use crate::body::{Reader, one_label};
use crate::expr::{Expr, Part};
use crate::refs::check_refs;

use super::ENV_REFS;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretSource {
    /// `vault:MOUNT/PATH#KEY` (Vault or OpenBao KV v2).
    Vault {
        /// Secret path including the mount, e.g. `secret/licensing/prod`.
        path: String,
        /// Key inside the secret.
        key: String,
    },
    /// `env:VAR`: the variable of plinth's own environment.
    Env(String),
}

impl SecretSource {
    /// Parses an evaluated `from` string.
    pub fn parse(text: &str) -> Result<SecretSource, String> {
        if let Some(var) = text.strip_prefix("env:") {
            if var.is_empty() {
                return Err("`env:` needs a variable name, e.g. `env:STRIPE_KEY`".into());
            }
            return Ok(SecretSource::Env(var.to_string()));
        }
        if let Some(rest) = text.strip_prefix("vault:") {
            return match rest.split_once('#') {
                Some((path, key))
                    if !key.is_empty()
                        && path.trim_matches('/').contains('/')
                        && !path.split('/').any(|p| p == ".." || p == ".") =>
                {
                    Ok(SecretSource::Vault {
                        path: path.trim_matches('/').to_string(),
                        key: key.to_string(),
                    })
                }
                _ => Err(
                    "`vault:` needs a mount, a path and a key: `vault:secret/app/${env.name}#key`"
                        .into(),
                ),
            };
        }
        Err("a secret comes from `vault:MOUNT/PATH#KEY` or `env:VAR`".into())
    }

    /// `vault` or `env`.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretSource::Vault { .. } => "vault",
            SecretSource::Env(_) => "env",
        }
    }
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Vault { path, key } => write!(f, "vault:{path}#{key}"),
            SecretSource::Env(var) => write!(f, "env:{var}"),
        }
    }
}

/// How `plinth secrets rotate` makes a new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generate {
    /// Number of characters.
    pub length: u64,
    /// Whether punctuation is used besides letters and digits.
    pub symbols: bool,
}

/// A `secret` block.
#[derive(Debug, Clone)]
pub struct SecretDecl {
    /// The variable name it is passed as (`TF_VAR_<name>`).
    pub name: Spanned<String>,
    /// Environments it applies to (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
    /// The `from` template.
    pub from: Spanned<Expr>,
    /// Age after which the secret is due for rotation, in seconds.
    pub rotate_every: Option<Spanned<u64>>,
    /// How a rotation generates the new value.
    pub generate: Option<Generate>,
}

impl SecretDecl {
    /// Whether the secret applies to environment `env`.
    pub fn applies_to(&self, env: &str) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e.value == env))
    }
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<SecretDecl> {
    let name = one_label(block, source, "secret", diags)?;
    let what = format!("secret `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span,
        &["environments", "from", "rotate_every", "generate"],
        &[],
        diags,
    );
    let environments = r.string_list("environments", diags).map(|l| l.value);
    let from = r.template("from", diags);
    let from = r.require("from", from, diags)?;
    check_refs(&from.value, ENV_REFS, source, "`from`", diags);
    let prefix = match &from.value {
        Expr::Literal(Value::String(s)) => s.clone(),
        Expr::Template(parts) => match parts.first() {
            Some(Part::Text(t)) => t.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    if !(prefix.starts_with("vault:") || prefix.starts_with("env:")) {
        diags.push(
            Diagnostic::error(format!("`from` of {what} names no known source")).at(
                source,
                from.span.clone(),
                "expected `vault:MOUNT/PATH#KEY` or `env:VAR`",
            ),
        );
    } else if let Expr::Literal(Value::String(s)) = &from.value
        && let Err(e) = SecretSource::parse(s)
    {
        diags.push(
            Diagnostic::error(format!("`from` of {what} is malformed")).at(
                source,
                from.span.clone(),
                e,
            ),
        );
    }
    let rotate_every = r.duration("rotate_every", diags);
    let generate =
        r.object("generate", diags).map(|g| {
            let mut out = Generate {
                length: 32,
                symbols: false,
            };
            for (k, v) in g.value {
                match (k.as_str(), v.value.as_literal()) {
                    ("length", Some(Value::Number(n)))
                        if n.as_u64().is_some_and(|n| (8..=1024).contains(&n)) =>
                    {
                        out.length = n.as_u64().unwrap_or(32);
                    }
                    ("symbols", Some(Value::Bool(b))) => out.symbols = b,
                    ("length", _) => diags.push(
                        Diagnostic::error(format!("`generate.length` of {what} must be 8 to 1024"))
                            .at(source, v.span, "a whole number of characters"),
                    ),
                    ("symbols", _) => diags.push(
                        Diagnostic::error(format!(
                            "`generate.symbols` of {what} must be true or false"
                        ))
                        .at(source, v.span, "not a bool"),
                    ),
                    (other, _) => diags.push(
                        Diagnostic::error(format!("unknown key `{other}` in `generate` of {what}"))
                            .at(source, v.span, "allowed: length, symbols"),
                    ),
                }
            }
            out
        });
    if generate.is_some() && prefix.starts_with("env:") {
        diags.push(
            Diagnostic::error(format!(
                "{what} comes from the environment and cannot be generated"
            ))
            .at(
                source,
                from.span.clone(),
                "plinth can only write new versions to Vault",
            )
            .with_help("remove `generate`, or read the secret from `vault:`"),
        );
    }
    Some(SecretDecl {
        name,
        environments,
        from,
        rotate_every,
        generate,
    })
}
