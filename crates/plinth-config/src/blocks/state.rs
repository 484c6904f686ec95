//! The `state` block: which backend, the key template, backend settings.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;
use crate::body::Reader;
use crate::expr::Expr;
use crate::refs::check_refs;

use super::KEY_REFS;

/// Where state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One state file per instance under `.plinth/state/`.
    Local,
    /// The plinth server's http backend.
    Plinth,
    /// Terraform's s3 backend.
    S3,
    /// Terraform's pg backend.
    Pg,
    /// Terraform's gcs backend.
    Gcs,
    /// Terraform's azurerm backend.
    Azurerm,
    /// Terraform's http backend.
    Http,
}

impl Backend {
    const NAMES: [(&'static str, Backend); 7] = [
        ("local", Backend::Local),
        ("plinth", Backend::Plinth),
        ("s3", Backend::S3),
        ("pg", Backend::Pg),
        ("gcs", Backend::Gcs),
        ("azurerm", Backend::Azurerm),
        ("http", Backend::Http),
    ];

    /// The backend's name as written in `plinth.hcl` and in Terraform.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("local", |(n, _)| n)
    }
}

/// The `state` block.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// Which backend.
    pub backend: Backend,
    /// State key template over `project`, `env.name`, `stack.id`.
    pub key: Spanned<Expr>,
    /// Backend-specific settings, interpolated like `key`.
    pub config: Vec<(String, Spanned<Expr>)>,
    /// Server URL for `backend = "plinth"`.
    pub url: Option<Spanned<Expr>>,
}

impl StateConfig {
    /// The state settings of a `plinth.hcl` without a `state` block: local, default key.
    pub(crate) fn defaults() -> StateConfig {
        StateConfig {
            backend: Backend::Local,
            key: Spanned::new(default_key(), 0..0),
            config: Vec::new(),
            url: None,
        }
    }
}

/// The default state key: `${project}/${env.name}/${stack.id}`.
pub(crate) fn default_key() -> Expr {
    use crate::expr::{Part, Reference, Step};
    let r = |root: &str, attr: Option<&str>| {
        Part::Interp(Spanned::new(
            Expr::Ref(Reference {
                root: Spanned::new(root.to_string(), 0..0),
                steps: attr
                    .map(|a| Spanned::new(Step::Attr(a.to_string()), 0..0))
                    .into_iter()
                    .collect(),
            }),
            0..0,
        ))
    };
    Expr::Template(vec![
        r("project", None),
        Part::Text("/".into()),
        r("env", Some("name")),
        Part::Text("/".into()),
        r("stack", Some("id")),
    ])
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<StateConfig> {
    let r = Reader::new(
        &block.body,
        source,
        "the `state` block",
        span,
        &["backend", "key", "config", "url"],
        &[],
        diags,
    );
    let backend_name = r
        .string("backend", diags)
        .unwrap_or_else(|| Spanned::new("local".into(), 0..0));
    let backend = match Backend::NAMES
        .iter()
        .find(|(n, _)| *n == backend_name.value)
    {
        Some((_, b)) => *b,
        None => {
            let names: Vec<&str> = Backend::NAMES.iter().map(|(n, _)| *n).collect();
            let mut d =
                Diagnostic::error(format!("unknown state backend `{}`", backend_name.value)).at(
                    source,
                    backend_name.span.clone(),
                    "not a backend plinth knows",
                );
            d = match crate::did_you_mean(&backend_name.value, names.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("backends: {}", names.join(", "))),
            };
            diags.push(d);
            return None;
        }
    };
    let key = r
        .template("key", diags)
        .unwrap_or_else(|| Spanned::new(default_key(), 0..0));
    check_refs(&key.value, KEY_REFS, source, "the state `key`", diags);
    let config = r
        .object("config", diags)
        .map(|c| c.value)
        .unwrap_or_default();
    for (_, value) in &config {
        check_refs(&value.value, KEY_REFS, source, "the state `config`", diags);
    }
    let url = r.template("url", diags);
    if let Some(u) = &url {
        check_refs(&u.value, &[], source, "`url`", diags);
    }
    if backend == Backend::Plinth && url.is_none() {
        diags.push(
            Diagnostic::error("`backend = \"plinth\"` needs the server's `url`")
                .at(source, backend_name.span.clone(), "no `url` in this block")
                .with_help("add `url = \"https://plinth.example.com\"`"),
        );
    }
    Some(StateConfig {
        backend,
        key,
        config,
        url,
    })
}
