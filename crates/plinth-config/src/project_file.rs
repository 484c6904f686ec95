//! `plinth.hcl`: the project file. Each block is parsed by its module under `blocks/`; this
//! file dispatches them and checks what spans several blocks (environment names, promotion
//! order).

use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::blocks::check::CheckBlock;
use crate::blocks::environment::Environment;
use crate::blocks::plinth::PlinthSettings;
use crate::blocks::policy::PolicyDecl;
use crate::blocks::publish::PublishDecl;
use crate::blocks::secret::SecretDecl;
use crate::blocks::state::StateConfig;
use crate::blocks::vault::VaultConfig;
use crate::blocks::{self};
use crate::body::{Reader, header_span, no_labels};
use crate::names::check_env_name;
use crate::{ParseResult, parse_hcl};

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
    /// The `vault` block (defaults from the environment when absent).
    pub vault: Option<VaultConfig>,
    /// `policy` blocks.
    pub policies: Vec<PolicyDecl>,
    /// `publish` blocks.
    pub publishes: Vec<PublishDecl>,
}

const SINGLE_BLOCKS: &[&str] = &["plinth", "state", "vault"];

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
            &[
                "plinth",
                "state",
                "environment",
                "secret",
                "check",
                "vault",
                "policy",
                "publish",
            ],
            &mut diags,
        );
        let mut plinth = None;
        let mut state = None;
        let mut vault = None;
        let mut environments: Vec<Environment> = Vec::new();
        let mut secrets: Vec<SecretDecl> = Vec::new();
        let mut checks = Vec::new();
        let mut policies: Vec<PolicyDecl> = Vec::new();
        let mut publishes: Vec<PublishDecl> = Vec::new();
        let mut seen_single: Vec<&str> = Vec::new();
        for block in &top.blocks {
            let kind = block.ident.value().as_str();
            let span = hcl_edit::Span::span(*block).unwrap_or_else(|| header_span(block));
            if SINGLE_BLOCKS.contains(&kind) || kind == "check" {
                no_labels(block, &source, kind, &mut diags);
            }
            if SINGLE_BLOCKS.contains(&kind) {
                if seen_single.contains(&kind) {
                    diags.push(
                        Diagnostic::error(format!("plinth.hcl declares the `{kind}` block twice"))
                            .at(&source, header_span(block), "second declaration"),
                    );
                    continue;
                }
                seen_single.push(kind);
            }
            match kind {
                "plinth" => {
                    plinth = Some(blocks::plinth::parse(
                        block,
                        &source,
                        span,
                        default_project,
                        &mut diags,
                    ))
                }
                "state" => state = blocks::state::parse(block, &source, span, &mut diags),
                "vault" => vault = Some(blocks::vault::parse(block, &source, span, &mut diags)),
                "environment" => {
                    if let Some(env) = blocks::environment::parse(block, &source, span, &mut diags)
                    {
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
                "secret" => {
                    if let Some(secret) = blocks::secret::parse(block, &source, span, &mut diags) {
                        if let Some(first) =
                            secrets.iter().find(|s| s.name.value == secret.name.value)
                        {
                            diags.push(
                                Diagnostic::error(format!(
                                    "secret `{}` is declared twice",
                                    secret.name.value
                                ))
                                .at(&source, secret.name.span.clone(), "declared again here")
                                .at(&source, first.name.span.clone(), "first declared here")
                                .with_help(
                                    "one block per secret; list every environment it applies to \
                                     in `environments`",
                                ),
                            );
                        } else {
                            secrets.push(secret);
                        }
                    }
                }
                "check" => checks.push(blocks::check::parse(block, &source, span, &mut diags)),
                "policy" => {
                    if let Some(p) = blocks::policy::parse(block, &source, span, &mut diags) {
                        if policies.iter().any(|q| q.name.value == p.name.value) {
                            diags.push(
                                Diagnostic::error(format!(
                                    "policy `{}` is declared twice",
                                    p.name.value
                                ))
                                .at(
                                    &source,
                                    p.name.span.clone(),
                                    "declared again here",
                                ),
                            );
                        } else {
                            policies.push(p);
                        }
                    }
                }
                "publish" => {
                    if let Some(p) = blocks::publish::parse(block, &source, span, &mut diags) {
                        if publishes.iter().any(|q| q.name.value == p.name.value) {
                            diags.push(
                                Diagnostic::error(format!(
                                    "publish `{}` is declared twice",
                                    p.name.value
                                ))
                                .at(
                                    &source,
                                    p.name.span.clone(),
                                    "declared again here",
                                ),
                            );
                        } else {
                            publishes.push(p);
                        }
                    }
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
                if let Some(upstream) = environments.iter().find(|e| e.name.value == from.value)
                    && upstream.lifecycle == blocks::environment::Lifecycle::Ephemeral
                {
                    diags.push(
                        Diagnostic::error(format!(
                            "environment `{}` promotes from ephemeral `{}`",
                            env.name.value, from.value
                        ))
                        .at(
                            &source,
                            from.span.clone(),
                            "copies come and go: promote from a persistent environment",
                        ),
                    );
                }
            }
        }
        check_promotion_cycle(&environments, &source, &mut diags);
        let scoped = secrets
            .iter()
            .filter_map(|s| s.environments.as_ref())
            .chain(checks.iter().filter_map(|c| c.environments.as_ref()))
            .chain(policies.iter().filter_map(|p| p.environments.as_ref()))
            .chain(publishes.iter().filter_map(|p| p.environments.as_ref()));
        for list in scoped {
            for env in list {
                check_env_name(env, &env_names, &source, "environments", &mut diags);
            }
        }
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.span.start));
            return Err(diags);
        }
        Ok(ProjectConfig {
            source,
            plinth: plinth.unwrap_or_else(|| PlinthSettings::defaults(default_project)),
            state: state.unwrap_or_else(StateConfig::defaults),
            environments,
            secrets,
            checks,
            vault,
            policies,
            publishes,
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
        let exprs = |v: &[crate::Spanned<crate::Expr>]| {
            v.iter().map(|e| e.value.to_string()).collect::<Vec<_>>()
        };
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
            .filter(|s| s.applies_to(env))
            .map(|s| format!("{}={}", s.name.value, s.from.value))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The project name.
    pub fn project(&self) -> &str {
        &self.plinth.project
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backend, Lifecycle};

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

    /// DESIGN.md section 2.1, every block.
    const DESIGN: &str = r#"
plinth {
  project = "atropos"
}
environment "dev" {
  env = { AWS_PROFILE = "dev" }
}
environment "test" {
  lifecycle = "ephemeral"
  ttl       = "72h"
  test      = ["scripts/smoke.sh"]
  pull_request {
    autoplan = true
  }
}
environment "staging" {
  promote_from = "dev"
  credentials  = { AWS_ACCESS_KEY_ID = "env:STAGING_AWS_KEY_ID" }
  drift { every = "6h" }
  pull_request {
    autoplan = true
    apply    = "merge"
  }
  hooks {
    after_apply = ["scripts/notify.sh"]
  }
}
environment "prod" {
  promote_from = "staging"
  protected    = true
  approvals    = 1
  apply_via    = "server"
  budget       = 250
}
environment "local" {
  endpoints = { aws = "http://localhost:4566" }
}
vault {
  address = "https://vault.internal:8200"
  auth    = "approle"
}
secret "stripe_secret_key" {
  environments = ["staging", "prod"]
  from         = "vault:secret/licensing/${env.name}#stripe_secret_key"
  rotate_every = "90d"
  generate     = { length = 48 }
}
policy "plans" {
  paths  = ["policies/"]
  owners = ["platform-lead", "security"]
}
publish "runtime" {
  to      = "vault:secret/${project}/${env.name}/${stack.id}"
  outputs = ["db_password", "api_url"]
}
"#;

    #[test]
    fn parses_every_block_of_the_design() {
        let cfg = ProjectConfig::parse("plinth.hcl", DESIGN, "d").unwrap();
        let env = |n: &str| cfg.environment(n).unwrap();
        assert_eq!(env("test").ttl.as_ref().unwrap().value, 72 * 3600);
        assert_eq!(env("test").test[0].value, "scripts/smoke.sh");
        assert!(env("test").pull_request.as_ref().unwrap().autoplan);
        let staging = env("staging");
        assert_eq!(
            staging.credential_sources().collect::<Vec<_>>(),
            [("AWS_ACCESS_KEY_ID", "STAGING_AWS_KEY_ID")]
        );
        assert_eq!(staging.drift.as_ref().unwrap().every.value, 6 * 3600);
        assert_eq!(
            staging.pull_request.as_ref().unwrap().apply,
            crate::ApplyOn::Merge
        );
        assert_eq!(
            staging.hooks.as_ref().unwrap().after_apply[0].value,
            "scripts/notify.sh"
        );
        assert_eq!(env("prod").apply_via, crate::ApplyVia::Server);
        assert_eq!(env("prod").budget.as_ref().unwrap().value, 250.0);
        assert_eq!(env("local").endpoints[0].0, "aws");
        assert_eq!(cfg.vault.as_ref().unwrap().auth, crate::VaultAuth::AppRole);
        let secret = &cfg.secrets[0];
        assert_eq!(secret.rotate_every.as_ref().unwrap().value, 90 * 86400);
        assert_eq!(secret.generate.as_ref().unwrap().length, 48);
        assert_eq!(cfg.policies[0].owners, ["platform-lead", "security"]);
        assert_eq!(cfg.publishes[0].outputs.len(), 2);
        assert_eq!(cfg.plinth.var_files.len(), 2, "the default var files");
        assert_eq!(
            cfg.plinth.var_files[0].value.to_string(),
            "\"env/${env.name}.tfvars\""
        );
    }

    #[test]
    fn var_files_can_be_turned_off() {
        let cfg = ProjectConfig::parse(
            "plinth.hcl",
            "plinth {\n  var_files = []\n}\nenvironment \"dev\" {}\n",
            "d",
        )
        .unwrap();
        assert!(cfg.plinth.var_files.is_empty());
        let cfg = ProjectConfig::parse("plinth.hcl", "environment \"dev\" {}\n", "d").unwrap();
        assert_eq!(cfg.plinth.var_files.len(), 2);
    }

    #[test]
    fn a_second_secret_of_the_same_name_is_an_error() {
        let errs = errors(
            "environment \"dev\" {}\nsecret \"a\" {\n  from = \"env:A\"\n}\nsecret \"a\" {\n  from = \"env:B\"\n}\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("plinth.hcl:5:8: secret `a` is declared twice"),
            "{errs:?}"
        );
    }

    #[test]
    fn credentials_need_an_env_source_and_ttl_an_ephemeral_environment() {
        let errs = errors(
            "environment \"dev\" {\n  credentials = { AWS_KEY = \"vault:x\" }\n  ttl = \"1h\"\n  apply_via = \"ci\"\n}\n",
        );
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs[0].contains("credential `AWS_KEY` of environment `dev` names no source"),
            "{errs:?}"
        );
        assert!(
            errs[1].contains("`ttl` only applies to ephemeral"),
            "{errs:?}"
        );
        assert!(errs[2].contains("unknown apply_via `ci`"), "{errs:?}");
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
}
