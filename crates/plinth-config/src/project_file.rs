//! `plinth.hcl`: project settings, state backend, environments, secrets, check settings.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};
use serde_json::{Map, Value};

use crate::body::{Reader, header_span, no_labels, one_label};
use crate::expr::Expr;
use crate::refs::check_refs;
use crate::{ParseResult, Spanned, parse_hcl};

/// File name of the project file at the repository root.
pub const PROJECT_FILE: &str = "plinth.hcl";

/// The parsed `plinth.hcl`.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The file's text, for diagnostics.
    pub source: Arc<SourceFile>,
    /// The `plinth` block.
    pub plinth: PlinthSettings,
    /// The `state` block.
    pub state: StateConfig,
    /// Environments in declaration order.
    pub environments: Vec<Environment>,
    /// `secret` blocks.
    pub secrets: Vec<SecretDecl>,
    /// `check` blocks, in order (later blocks override earlier ones).
    pub checks: Vec<CheckBlock>,
}

/// Settings of the `plinth` block.
#[derive(Debug, Clone)]
pub struct PlinthSettings {
    /// Project name (defaults to the root directory's name).
    pub project: String,
    /// `terraform`, `tofu` or a path to the binary.
    pub engine: Spanned<String>,
    /// Version constraint checked before any run, e.g. `>= 1.6`.
    pub engine_version: Option<Spanned<String>>,
    /// Default parallelism of runs.
    pub parallelism: Option<usize>,
    /// Var file patterns relative to each stack (templates over `env.name`).
    pub var_files: Vec<Spanned<Expr>>,
}

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
    /// Time to live of an ephemeral environment, as written (`72h`).
    pub ttl: Option<Spanned<String>>,
    /// The environment a change must have been applied to first.
    pub promote_from: Option<Spanned<String>>,
    /// Destroy refused; safety checks are errors.
    pub protected: bool,
    /// Pull-request approvals required before apply.
    pub approvals: u64,
    /// Span of the whole block.
    pub span: Range<usize>,
}

impl Environment {
    /// A stable text of everything that affects this environment's instances, used by change
    /// detection to tell whether the block changed between two revisions.
    pub fn fingerprint(&self) -> String {
        serde_json::json!({
            "lifecycle": self.lifecycle.as_str(),
            "vars": self.vars,
            "env": self.env,
            "ttl": self.ttl.as_ref().map(|t| &t.value),
            "promote_from": self.promote_from.as_ref().map(|t| &t.value),
            "protected": self.protected,
            "approvals": self.approvals,
        })
        .to_string()
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `vault:PATH#KEY` (Vault or OpenBao KV).
    Vault {
        /// Secret path, e.g. `secret/licensing/prod`.
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
                Some((path, key)) if !path.is_empty() && !key.is_empty() => {
                    Ok(SecretSource::Vault {
                        path: path.to_string(),
                        key: key.to_string(),
                    })
                }
                _ => Err(
                    "`vault:` needs a path and a key: `vault:secret/app/${env.name}#key`".into(),
                ),
            };
        }
        Err("a secret comes from `vault:PATH#KEY` or `env:VAR`".into())
    }
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
}

/// A `check` block: per-environment rule severities.
#[derive(Debug, Clone, Default)]
pub struct CheckBlock {
    /// Environments it applies to (`None`: all).
    pub environments: Option<Vec<Spanned<String>>>,
    /// Rule id → `error` | `warning` | `note` | `off`.
    pub severity: Vec<(Spanned<String>, Spanned<String>)>,
    /// Rules that inline suppressions cannot silence.
    pub unsuppressible: Vec<Spanned<String>>,
}

const ENV_REFS: &[&str] = &["env.name"];
const KEY_REFS: &[&str] = &["project", "env.name", "stack.id"];

impl ProjectConfig {
    /// Parses `plinth.hcl`; `path` is how the file is shown, `default_project` the name used when
    /// the `plinth` block sets none.
    pub fn parse(path: &str, text: &str, default_project: &str) -> ParseResult<ProjectConfig> {
        let (source, body) = parse_hcl(path, text).map_err(|d| vec![*d])?;
        let mut diags = Vec::new();
        let top = Reader::new(
            &body,
            &source,
            "plinth.hcl",
            0..0,
            &[],
            &["plinth", "state", "environment", "secret", "check"],
            &mut diags,
        );
        let mut plinth = None;
        let mut state = None;
        let mut environments: Vec<Environment> = Vec::new();
        let mut secrets = Vec::new();
        let mut checks = Vec::new();
        for block in &top.blocks {
            let kind = block.ident.value().as_str();
            let span = hcl_edit::Span::span(*block).unwrap_or_else(|| header_span(block));
            if matches!(kind, "plinth" | "state") {
                no_labels(block, &source, kind, &mut diags);
                let seen = if kind == "plinth" {
                    plinth.is_some()
                } else {
                    state.is_some()
                };
                if seen {
                    diags.push(
                        Diagnostic::error(format!("plinth.hcl declares the `{kind}` block twice"))
                            .at(&source, header_span(block), "second declaration"),
                    );
                    continue;
                }
            }
            match kind {
                "plinth" => {
                    plinth = Some(parse_plinth(
                        block,
                        &source,
                        span,
                        default_project,
                        &mut diags,
                    ))
                }
                "state" => state = parse_state(block, &source, span, &mut diags),
                "environment" => {
                    if let Some(env) = parse_environment(block, &source, span, &mut diags) {
                        if let Some(first) =
                            environments.iter().find(|e| e.name.value == env.name.value)
                        {
                            diags.push(
                                Diagnostic::error(format!(
                                    "environment `{}` is declared twice",
                                    env.name.value
                                ))
                                .at(&source, env.name.span.clone(), "declared again here")
                                .at(&source, first.name.span.clone(), "first declared here")
                                .with_help("merge the two blocks or rename one"),
                            );
                        } else {
                            environments.push(env);
                        }
                    }
                }
                "secret" => secrets.extend(parse_secret(block, &source, span, &mut diags)),
                "check" => {
                    no_labels(block, &source, kind, &mut diags);
                    checks.push(parse_check(block, &source, span, &mut diags));
                }
                _ => unreachable!("the reader only keeps known blocks"),
            }
        }
        if environments.is_empty() && diags.is_empty() {
            diags.push(
                Diagnostic::error("plinth.hcl declares no environment")
                    .at(&source, 0..0, "")
                    .with_help(
                        "add at least one: `environment \"dev\" { lifecycle = \"persistent\" }`",
                    ),
            );
        }
        let env_names: Vec<&str> = environments.iter().map(|e| e.name.value.as_str()).collect();
        for env in &environments {
            if let Some(from) = &env.promote_from {
                check_env_name(from, &env_names, &source, "promote_from", &mut diags);
                if from.value == env.name.value {
                    diags.push(
                        Diagnostic::error(format!(
                            "environment `{}` promotes from itself",
                            from.value
                        ))
                        .at(
                            &source,
                            from.span.clone(),
                            "promote_from must name another environment",
                        ),
                    );
                }
            }
        }
        check_promotion_cycle(&environments, &source, &mut diags);
        for secret in &secrets {
            for env in secret.environments.iter().flatten() {
                check_env_name(env, &env_names, &source, "environments", &mut diags);
            }
        }
        for check in &checks {
            for env in check.environments.iter().flatten() {
                check_env_name(env, &env_names, &source, "environments", &mut diags);
            }
        }
        let plinth = plinth.unwrap_or_else(|| PlinthSettings {
            project: default_project.to_string(),
            engine: Spanned::new("terraform".into(), 0..0),
            engine_version: None,
            parallelism: None,
            var_files: Vec::new(),
        });
        let state = state.unwrap_or_else(|| StateConfig {
            backend: Backend::Local,
            key: Spanned::new(default_key(), 0..0),
            config: Vec::new(),
            url: None,
        });
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.span.start));
            return Err(diags);
        }
        Ok(ProjectConfig {
            source,
            plinth,
            state,
            environments,
            secrets,
            checks,
        })
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name.value == name)
    }

    /// Names of all environments, in declaration order.
    pub fn environment_names(&self) -> impl Iterator<Item = &str> {
        self.environments.iter().map(|e| e.name.value.as_str())
    }

    /// A stable text of the settings that affect every instance (engine, var files, state),
    /// used by change detection to tell whether they changed between two revisions.
    pub fn global_fingerprint(&self) -> String {
        let exprs = |v: &[Spanned<Expr>]| v.iter().map(|e| e.value.to_string()).collect::<Vec<_>>();
        serde_json::json!({
            "project": self.plinth.project,
            "engine": self.plinth.engine.value,
            "engine_version": self.plinth.engine_version.as_ref().map(|v| &v.value),
            "var_files": exprs(&self.plinth.var_files),
            "backend": self.state.backend.name(),
            "key": self.state.key.value.to_string(),
            "config": self.state.config.iter().map(|(k, v)| format!("{k}={}", v.value)).collect::<Vec<_>>(),
            "url": self.state.url.as_ref().map(|u| u.value.to_string()),
        })
        .to_string()
    }

    /// A stable text of the secrets that apply to `env`.
    pub fn secrets_fingerprint(&self, env: &str) -> String {
        self.secrets
            .iter()
            .filter(|s| {
                s.environments
                    .as_ref()
                    .is_none_or(|envs| envs.iter().any(|e| e.value == env))
            })
            .map(|s| format!("{}={}", s.name.value, s.from.value))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The project name.
    pub fn project(&self) -> &str {
        &self.plinth.project
    }
}

/// The default state key: `${project}/${env.name}/${stack.id}`.
fn default_key() -> Expr {
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

fn parse_plinth(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    default_project: &str,
    diags: &mut Vec<Diagnostic>,
) -> PlinthSettings {
    let r = Reader::new(
        &block.body,
        source,
        "the `plinth` block",
        span,
        &[
            "project",
            "engine",
            "engine_version",
            "parallelism",
            "var_files",
        ],
        &[],
        diags,
    );
    let project = r.string("project", diags);
    if let Some(p) = &project
        && !valid_name(&p.value)
    {
        diags.push(
            Diagnostic::error(format!("project name `{}` is not a valid name", p.value)).at(
                source,
                p.span.clone(),
                "use letters, digits, `-`, `_` and `.`",
            ),
        );
    }
    let engine = r
        .string("engine", diags)
        .unwrap_or_else(|| Spanned::new("terraform".into(), 0..0));
    if engine.value.trim().is_empty() {
        diags.push(Diagnostic::error("`engine` is empty").at(
            source,
            engine.span.clone(),
            "name `terraform`, `tofu` or a path",
        ));
    }
    let parallelism = r.count("parallelism", diags).and_then(|p| {
        if p.value == 0 {
            diags.push(Diagnostic::error("`parallelism` must be at least 1").at(
                source,
                p.span,
                "0 would run nothing",
            ));
            None
        } else {
            Some(p.value as usize)
        }
    });
    let var_files = r.template_list("var_files", diags).unwrap_or_default();
    for vf in &var_files {
        check_refs(&vf.value, ENV_REFS, source, "`var_files`", diags);
    }
    PlinthSettings {
        project: project.map_or_else(|| default_project.to_string(), |p| p.value),
        engine,
        engine_version: r.string("engine_version", diags),
        parallelism,
        var_files,
    }
}

fn parse_state(
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

fn parse_environment(
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
            "ttl",
            "promote_from",
            "protected",
            "approvals",
        ],
        &[],
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
    let ttl = r.string("ttl", diags);
    if let Some(t) = &ttl {
        if parse_duration(&t.value).is_none() {
            diags.push(
                Diagnostic::error(format!("`ttl` of {what} is not a duration")).at(
                    source,
                    t.span.clone(),
                    "expected a number and a unit, e.g. `72h`, `30m`, `7d`",
                ),
            );
        } else if lifecycle != Lifecycle::Ephemeral {
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
    }
    Some(Environment {
        promote_from: r.string("promote_from", diags),
        protected: r.bool("protected", diags).is_some_and(|b| b.value),
        approvals: r.count("approvals", diags).map_or(0, |a| a.value),
        name,
        lifecycle,
        vars,
        env,
        ttl,
        span,
    })
}

fn parse_secret(
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
        &["environments", "from"],
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
            Some(crate::Part::Text(t)) => t.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    if !(prefix.starts_with("vault:") || prefix.starts_with("env:")) {
        diags.push(
            Diagnostic::error(format!("`from` of {what} names no known source")).at(
                source,
                from.span.clone(),
                "expected `vault:PATH#KEY` or `env:VAR`",
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
    Some(SecretDecl {
        name,
        environments,
        from,
    })
}

fn parse_check(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> CheckBlock {
    let r = Reader::new(
        &block.body,
        source,
        "the `check` block",
        span,
        &["environments", "severity", "unsuppressible"],
        &[],
        diags,
    );
    let mut severity = Vec::new();
    if let Some(map) = r.object("severity", diags) {
        for (rule, value) in map.value {
            match &value.value {
                Expr::Literal(Value::String(level))
                    if ["error", "warning", "note", "off"].contains(&level.as_str()) =>
                {
                    // The key's own span is not kept by the object lowering; the value's is.
                    severity.push((
                        Spanned::new(rule, value.span.clone()),
                        Spanned::new(level.clone(), value.span),
                    ));
                }
                _ => diags.push(
                    Diagnostic::error(format!(
                        "severity of `{rule}` must be error, warning, note or off"
                    ))
                    .at(source, value.span, "not a severity"),
                ),
            }
        }
    }
    CheckBlock {
        environments: r.string_list("environments", diags).map(|l| l.value),
        severity,
        unsuppressible: r
            .string_list("unsuppressible", diags)
            .map(|l| l.value)
            .unwrap_or_default(),
    }
}

fn check_env_name(
    name: &Spanned<String>,
    known: &[&str],
    source: &Arc<SourceFile>,
    attr: &str,
    diags: &mut Vec<Diagnostic>,
) {
    if !known.contains(&name.value.as_str()) {
        let mut d = Diagnostic::error(format!(
            "`{attr}` names unknown environment `{}`",
            name.value
        ))
        .at(source, name.span.clone(), "no such environment");
        d = match crate::did_you_mean(&name.value, known.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("environments: {}", known.join(", "))),
        };
        diags.push(d);
    }
}

fn check_promotion_cycle(
    envs: &[Environment],
    source: &Arc<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    for start in envs {
        let mut chain = vec![start.name.value.as_str()];
        let mut current = start;
        while let Some(from) = &current.promote_from {
            let Some(next) = envs.iter().find(|e| e.name.value == from.value) else {
                break;
            };
            if next.name.value == start.name.value && chain.len() > 1 {
                // Report each cycle once, from its first-declared member.
                if envs
                    .iter()
                    .position(|e| chain.contains(&e.name.value.as_str()))
                    == envs.iter().position(|e| e.name.value == start.name.value)
                {
                    chain.push(start.name.value.as_str());
                    diags.push(
                        Diagnostic::error(format!(
                            "promotion order has a cycle: {}",
                            chain.join(" ← ")
                        ))
                        .at(
                            source,
                            start
                                .promote_from
                                .as_ref()
                                .map_or(start.name.span.clone(), |p| p.span.clone()),
                            "part of the cycle",
                        ),
                    );
                }
                break;
            }
            if chain.contains(&next.name.value.as_str()) {
                break;
            }
            chain.push(next.name.value.as_str());
            current = next;
        }
    }
}

/// Parses `72h`, `30m`, `7d`, `45s` into seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let (num, unit) = text
        .trim()
        .split_at(text.trim().find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 604800,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
plinth {
  project        = "atropos"
  engine         = "terraform"
  engine_version = ">= 1.6"
  parallelism    = 4
  var_files      = ["env/${env.name}.tfvars", "${env.name}.tfvars"]
}
state {
  backend = "local"
}
environment "dev" {
  lifecycle = "persistent"
  vars      = { region = "us-east-1", account_id = "111111111111" }
  env       = { AWS_PROFILE = "dev" }
}
environment "test" {
  lifecycle = "ephemeral"
  ttl       = "72h"
}
environment "staging" {
  promote_from = "dev"
}
environment "prod" {
  promote_from = "staging"
  protected    = true
  approvals    = 1
}
secret "stripe_secret_key" {
  environments = ["staging", "prod"]
  from         = "vault:secret/licensing/${env.name}#stripe_secret_key"
}
check {
  environments   = ["prod"]
  severity       = { ARC002 = "error" }
  unsuppressible = ["SCR001"]
}
"#;

    #[test]
    fn parses_the_design_example() {
        let cfg = ProjectConfig::parse("plinth.hcl", GOOD, "dir").unwrap();
        assert_eq!(cfg.project(), "atropos");
        assert_eq!(
            cfg.environment_names().collect::<Vec<_>>(),
            ["dev", "test", "staging", "prod"]
        );
        let prod = cfg.environment("prod").unwrap();
        assert!(prod.protected);
        assert_eq!(prod.approvals, 1);
        assert_eq!(
            cfg.environment("test").unwrap().lifecycle,
            Lifecycle::Ephemeral
        );
        assert_eq!(cfg.environment("dev").unwrap().vars["region"], "us-east-1");
        assert_eq!(cfg.plinth.var_files.len(), 2);
        assert_eq!(cfg.state.backend, Backend::Local);
        assert_eq!(cfg.secrets[0].name.value, "stripe_secret_key");
        assert_eq!(cfg.checks[0].severity[0].0.value, "ARC002");
    }

    fn errors(text: &str) -> Vec<String> {
        ProjectConfig::parse("plinth.hcl", text, "d")
            .unwrap_err()
            .iter()
            .map(|d| format!("{} {}", d.one_line(), d.help.join(" ")))
            .collect()
    }

    #[test]
    fn duplicate_environment_is_an_error_at_the_second_label() {
        let errs = errors("environment \"dev\" {}\nenvironment \"dev\" {}\n");
        assert_eq!(
            errs,
            [
                "plinth.hcl:2:13: environment `dev` is declared twice merge the two blocks or rename one"
            ]
        );
    }

    #[test]
    fn unknown_attribute_and_wrong_type_are_reported_together() {
        let errs = errors(
            "environment \"dev\" {\n  lifecycel = \"persistent\"\n  protected = \"yes\"\n}\n",
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("plinth.hcl:2:3: unknown attribute `lifecycel`"),
            "{errs:?}"
        );
        assert!(
            errs[1].starts_with(
                "plinth.hcl:3:15: `protected` in environment `dev` must be true or false"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_reference_in_var_files_is_an_error() {
        let errs =
            errors("plinth {\n  var_files = [\"${env.nmae}.tfvars\"]\n}\nenvironment \"dev\" {}\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("`env.nmae`"), "{errs:?}");
    }

    #[test]
    fn promotion_from_unknown_environment_suggests() {
        let errs = errors(
            "environment \"staging\" {}\nenvironment \"prod\" {\n  promote_from = \"stagin\"\n}\n",
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("unknown environment `stagin`"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("72h"), Some(259200));
        assert_eq!(parse_duration("7d"), Some(604800));
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("3 days"), None);
    }
}
