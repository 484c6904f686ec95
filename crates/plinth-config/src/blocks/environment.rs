//! The `environment` block: lifecycle, variables, credentials, promotion, gates, schedules.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::{Map, Value};

use crate::Spanned;
use crate::blocks::hooks::{self, Hooks};
use crate::body::{Reader, header_span, no_labels, one_label};
use crate::names::valid_name;

/// Whether an environment lives on or is created per pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    /// Long-lived.
    Persistent,
    /// Instantiated per pull request and destroyed after its ttl.
    Ephemeral,
}

impl Lifecycle {
    /// `persistent` or `ephemeral`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Persistent => "persistent",
            Lifecycle::Ephemeral => "ephemeral",
        }
    }
}

/// Where applies of an environment may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyVia {
    /// The CLI and the server (the default).
    Anywhere,
    /// Only the server's pull-request flow; CLI apply and destroy are refused.
    Server,
}

/// When the pull-request flow applies an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOn {
    /// On a `plinth apply ENV` comment.
    Comment,
    /// After the pull request is merged.
    Merge,
}

/// The `pull_request` block of an environment.
#[derive(Debug, Clone)]
pub struct PullRequestSettings {
    /// Plan affected instances (persistent) or create a copy (ephemeral) on open and push.
    pub autoplan: bool,
    /// How applies are triggered.
    pub apply: ApplyOn,
}

/// The `drift` block of an environment.
#[derive(Debug, Clone)]
pub struct DriftSettings {
    /// Seconds between two scheduled drift checks.
    pub every: Spanned<u64>,
}

/// An `environment` block.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name, the block label.
    pub name: Spanned<String>,
    /// Persistent or ephemeral.
    pub lifecycle: Lifecycle,
    /// Values passed to every stack that declares a variable of that name.
    pub vars: Map<String, Value>,
    /// Process environment of the engine.
    pub env: BTreeMap<String, String>,
    /// Tier-1 credentials: engine environment variable → `env:VAR` source, resolved at run
    /// time and given only to this environment's engines.
    pub credentials: Vec<(String, Spanned<String>)>,
    /// Time to live of an ephemeral environment's copies, in seconds.
    pub ttl: Option<Spanned<u64>>,
    /// Commands run from the repository root after a copy is applied.
    pub test: Vec<Spanned<String>>,
    /// The environment a change must have been applied to first.
    pub promote_from: Option<Spanned<String>>,
    /// Destroy refused; safety checks are errors.
    pub protected: bool,
    /// Pull-request approvals required before apply.
    pub approvals: u64,
    /// Where applies may come from.
    pub apply_via: ApplyVia,
    /// Monthly budget in USD.
    pub budget: Option<Spanned<f64>>,
    /// Local emulator endpoints per provider (`aws = "http://localhost:4566"`).
    pub endpoints: Vec<(String, Spanned<String>)>,
    /// The `drift` schedule.
    pub drift: Option<DriftSettings>,
    /// The `pull_request` block.
    pub pull_request: Option<PullRequestSettings>,
    /// Hooks run from the repository root after the environment's instances.
    pub hooks: Option<Hooks>,
    /// Span of the whole block.
    pub span: Range<usize>,
}

impl Environment {
    /// A stable text of everything that affects this environment's instances, used by change
    /// detection to tell whether the block changed between two revisions.
    pub fn fingerprint(&self) -> String {
        let pairs = |v: &[(String, Spanned<String>)]| {
            v.iter()
                .map(|(k, s)| format!("{k}={}", s.value))
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "lifecycle": self.lifecycle.as_str(),
            "vars": self.vars,
            "env": self.env,
            "credentials": pairs(&self.credentials),
            "endpoints": pairs(&self.endpoints),
            "ttl": self.ttl.as_ref().map(|t| t.value),
            "promote_from": self.promote_from.as_ref().map(|t| &t.value),
            "protected": self.protected,
            "approvals": self.approvals,
            "hooks": self.hooks.as_ref().map(Hooks::fingerprint),
        })
        .to_string()
    }

    /// The names of the environment variables `credentials` reads, with the engine variable
    /// each one sets: `(ENGINE_VAR, SOURCE_VAR)`.
    pub fn credential_sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.credentials
            .iter()
            .map(|(k, v)| (k.as_str(), v.value.strip_prefix("env:").unwrap_or(&v.value)))
    }
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Environment> {
    let name = one_label(block, source, "environment", diags)?;
    if !valid_name(&name.value) {
        diags.push(
            Diagnostic::error(format!("environment name `{}` is not valid", name.value)).at(
                source,
                name.span.clone(),
                "use letters, digits, `-`, `_` and `.`; it becomes part of paths and state keys",
            ),
        );
    }
    let what = format!("environment `{}`", name.value);
    let r = Reader::new(
        &block.body,
        source,
        &what,
        span.clone(),
        &[
            "lifecycle",
            "vars",
            "env",
            "credentials",
            "ttl",
            "test",
            "promote_from",
            "protected",
            "approvals",
            "apply_via",
            "budget",
            "endpoints",
        ],
        &["drift", "pull_request", "hooks"],
        diags,
    );
    let lifecycle = match r.string("lifecycle", diags) {
        None => Lifecycle::Persistent,
        Some(l) if l.value == "persistent" => Lifecycle::Persistent,
        Some(l) if l.value == "ephemeral" => Lifecycle::Ephemeral,
        Some(l) => {
            diags.push(
                Diagnostic::error(format!("unknown lifecycle `{}`", l.value)).at(
                    source,
                    l.span,
                    "expected `persistent` or `ephemeral`",
                ),
            );
            Lifecycle::Persistent
        }
    };
    let vars = r
        .literal_map("vars", diags)
        .map(|m| m.value)
        .unwrap_or_default();
    let mut env = BTreeMap::new();
    if let Some(m) = r.object("env", diags) {
        for (k, v) in m.value {
            match v.value.as_literal() {
                Some(Value::String(s)) => {
                    env.insert(k, s);
                }
                _ => diags.push(
                    Diagnostic::error(format!("`env` values of {what} must be strings")).at(
                        source,
                        v.span,
                        "process environment values are strings",
                    ),
                ),
            }
        }
    }
    let credentials = r.string_map("credentials", diags).unwrap_or_default();
    for (key, value) in &credentials {
        let var = value.value.strip_prefix("env:");
        if var.is_none_or(|v| v.is_empty() || !is_env_var_name(v)) {
            diags.push(
                Diagnostic::error(format!("credential `{key}` of {what} names no source"))
                    .at(source, value.span.clone(), "expected `env:VARIABLE`")
                    .with_help(
                        "credentials come from plinth's own environment (CI or the server): \
                         `AWS_ACCESS_KEY_ID = \"env:STAGING_AWS_KEY_ID\"`",
                    ),
            );
        }
        if !is_env_var_name(key) {
            diags.push(
                Diagnostic::error(format!(
                    "credential `{key}` of {what} is not a variable name"
                ))
                .at(
                    source,
                    value.span.clone(),
                    "the key is the engine's environment variable",
                ),
            );
        }
    }
    let ttl = r.duration("ttl", diags);
    if let Some(t) = &ttl
        && lifecycle != Lifecycle::Ephemeral
    {
        diags.push(
            Diagnostic::error(format!(
                "`ttl` only applies to ephemeral environments, and {what} is persistent"
            ))
            .at(
                source,
                t.span.clone(),
                "remove it or set `lifecycle = \"ephemeral\"`",
            ),
        );
    }
    let test = r
        .string_list("test", diags)
        .map(|l| l.value)
        .unwrap_or_default();
    if !test.is_empty() && lifecycle != Lifecycle::Ephemeral {
        diags.push(
            Diagnostic::error(format!(
                "`test` only applies to ephemeral environments, and {what} is persistent"
            ))
            .at(
                source,
                r.attr_span("test").unwrap_or(0..0),
                "tests run after a copy is applied",
            ),
        );
    }
    let apply_via = match r.string("apply_via", diags) {
        None => ApplyVia::Anywhere,
        Some(v) if v.value == "server" => ApplyVia::Server,
        Some(v) if v.value == "anywhere" => ApplyVia::Anywhere,
        Some(v) => {
            diags.push(
                Diagnostic::error(format!("unknown apply_via `{}`", v.value)).at(
                    source,
                    v.span,
                    "expected `server` (only the pull-request flow applies) or `anywhere`",
                ),
            );
            ApplyVia::Anywhere
        }
    };
    let endpoints = r.string_map("endpoints", diags).unwrap_or_default();
    for (provider, url) in &endpoints {
        if !super::endpoints::KNOWN.contains(&provider.as_str()) {
            diags.push(
                Diagnostic::error(format!("no endpoint override for provider `{provider}`"))
                    .at(source, url.span.clone(), "unknown provider")
                    .with_help(format!(
                        "endpoints can be set for: {}",
                        super::endpoints::KNOWN.join(", ")
                    )),
            );
        } else if !(url.value.starts_with("http://") || url.value.starts_with("https://")) {
            diags.push(
                Diagnostic::error(format!("endpoint of `{provider}` is not a URL")).at(
                    source,
                    url.span.clone(),
                    "expected http://HOST:PORT",
                ),
            );
        }
    }
    let mut drift = None;
    let mut pull_request = None;
    let mut hooks_block = None;
    for inner in &r.blocks {
        let kind = inner.ident.value().as_str();
        no_labels(inner, source, kind, diags);
        let inner_span = hcl_edit::Span::span(*inner).unwrap_or_else(|| header_span(inner));
        let twice = match kind {
            "drift" => drift.is_some(),
            "pull_request" => pull_request.is_some(),
            _ => hooks_block.is_some(),
        };
        if twice {
            diags.push(
                Diagnostic::error(format!("{what} declares `{kind}` twice")).at(
                    source,
                    header_span(inner),
                    "second declaration",
                ),
            );
            continue;
        }
        match kind {
            "drift" => drift = parse_drift(inner, source, inner_span, &what, diags),
            "pull_request" => {
                pull_request = Some(parse_pull_request(inner, source, inner_span, &what, diags))
            }
            _ => hooks_block = Some(hooks::parse(inner, source, inner_span, &what, diags)),
        }
    }
    if let Some(h) = &hooks_block
        && !h.before_plan.is_empty()
    {
        diags.push(
            Diagnostic::error(format!(
                "`before_plan` hooks belong in a stack's hooks block, not in {what}"
            ))
            .at(
                source,
                h.span.clone(),
                "environment hooks run after its instances",
            ),
        );
    }
    let protected = r.bool("protected", diags).is_some_and(|b| b.value);
    if protected && lifecycle == Lifecycle::Ephemeral {
        diags.push(
            Diagnostic::error(format!("{what} is ephemeral and cannot be protected")).at(
                source,
                r.attr_span("protected").unwrap_or(0..0),
                "copies are destroyed on close and by the reaper",
            ),
        );
    }
    Some(Environment {
        promote_from: r.string("promote_from", diags),
        protected,
        approvals: r.count("approvals", diags).map_or(0, |a| a.value),
        budget: r.number("budget", diags),
        name,
        lifecycle,
        vars,
        env,
        credentials,
        ttl,
        test,
        apply_via,
        endpoints,
        drift,
        pull_request,
        hooks: hooks_block,
        span,
    })
}

fn is_env_var_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_drift(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<DriftSettings> {
    let where_ = format!("the `drift` block of {what}");
    let r = Reader::new(&block.body, source, &where_, span, &["every"], &[], diags);
    let every = r.duration("every", diags);
    let every = r.require("every", every, diags)?;
    if every.value < 300 {
        diags.push(
            Diagnostic::error("drift checks at most every 5 minutes").at(
                source,
                every.span.clone(),
                "too often: each check plans every instance",
            ),
        );
    }
    Some(DriftSettings { every })
}

fn parse_pull_request(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> PullRequestSettings {
    let where_ = format!("the `pull_request` block of {what}");
    let r = Reader::new(
        &block.body,
        source,
        &where_,
        span,
        &["autoplan", "apply"],
        &[],
        diags,
    );
    let apply = match r.string("apply", diags) {
        None => ApplyOn::Comment,
        Some(a) if a.value == "comment" => ApplyOn::Comment,
        Some(a) if a.value == "merge" => ApplyOn::Merge,
        Some(a) => {
            diags.push(
                Diagnostic::error(format!("unknown apply mode `{}`", a.value)).at(
                    source,
                    a.span,
                    "expected `comment` or `merge`",
                ),
            );
            ApplyOn::Comment
        }
    };
    PullRequestSettings {
        autoplan: r.bool("autoplan", diags).is_none_or(|b| b.value),
        apply,
    }
}
