//! Severity policy: rule defaults, the environment's protection, and `check` blocks.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, Severity, SourceFile};

use crate::registry::{self, Category, Rule};

/// An environment as the policy needs it.
#[derive(Debug, Clone)]
pub struct EnvProfile {
    /// Its name.
    pub name: String,
    /// Whether it is `protected`.
    pub protected: bool,
}

/// A value with its byte span in plinth.hcl.
pub type At = (String, Range<usize>);

/// One `check` block of plinth.hcl, as written.
#[derive(Debug, Clone, Default)]
pub struct PolicyBlock {
    /// Environments it applies to; `None` means all.
    pub environments: Option<Vec<At>>,
    /// Rule id → `error|warning|note|off`.
    pub severity: Vec<(At, At)>,
    /// Rule ids that cannot be suppressed inline.
    pub unsuppressible: Vec<At>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Off,
    On(Severity),
}

#[derive(Debug)]
struct Block {
    environments: Option<Vec<String>>,
    severity: Vec<(&'static str, Level)>,
    unsuppressible: Vec<&'static str>,
}

impl Block {
    fn applies_to(&self, env: &str) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e == env))
    }
}

/// Resolved severities for every rule in every environment.
#[derive(Debug)]
pub struct Policy {
    environments: Vec<EnvProfile>,
    blocks: Vec<Block>,
}

impl Policy {
    /// Validates the `check` blocks against the rule registry and the environments; every
    /// problem is a diagnostic pointing into `source` (plinth.hcl).
    pub fn new(
        environments: Vec<EnvProfile>,
        blocks: &[PolicyBlock],
        source: Option<&Arc<SourceFile>>,
    ) -> Result<Policy, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut error =
            |message: String, span: &Range<usize>, label: &str, help: Option<String>| {
                let mut d = Diagnostic::error(message);
                if let Some(src) = source {
                    d = d.at(src, span.clone(), label);
                }
                if let Some(h) = help {
                    d = d.with_help(h);
                }
                errors.push(d);
            };
        let known_rule = |id: &str| registry::find(id).map(|r| r.id);
        let mut resolved = Vec::new();
        for block in blocks {
            let mut out = Block {
                environments: None,
                severity: Vec::new(),
                unsuppressible: Vec::new(),
            };
            if let Some(envs) = &block.environments {
                let mut names = Vec::new();
                for (name, span) in envs {
                    if environments.iter().any(|e| &e.name == name) {
                        names.push(name.clone());
                    } else {
                        let known: Vec<&str> =
                            environments.iter().map(|e| e.name.as_str()).collect();
                        error(
                            format!("unknown environment `{name}` in check block"),
                            span,
                            "not declared in plinth.hcl",
                            Some(format!("declared environments: {}", known.join(", "))),
                        );
                    }
                }
                out.environments = Some(names);
            }
            for ((id, id_span), (level, level_span)) in &block.severity {
                let Some(rule) = known_rule(id) else {
                    error(
                        format!("unknown rule id `{id}` in check block"),
                        id_span,
                        "no such rule",
                        Some("`plinth check --explain ID` lists the rules".into()),
                    );
                    continue;
                };
                let level = match level.as_str() {
                    "error" => Level::On(Severity::Error),
                    "warning" => Level::On(Severity::Warning),
                    "note" => Level::On(Severity::Note),
                    "off" => Level::Off,
                    _ => {
                        error(
                            format!("unknown severity `{level}` for {id}"),
                            level_span,
                            "expected error, warning, note or off",
                            None,
                        );
                        continue;
                    }
                };
                out.severity.push((rule, level));
            }
            for (id, span) in &block.unsuppressible {
                match known_rule(id) {
                    Some(rule) => out.unsuppressible.push(rule),
                    None => error(
                        format!("unknown rule id `{id}` in check block"),
                        span,
                        "no such rule",
                        None,
                    ),
                }
            }
            resolved.push(out);
        }
        if errors.is_empty() {
            Ok(Policy {
                environments,
                blocks: resolved,
            })
        } else {
            Err(errors)
        }
    }

    /// Rule defaults only (no environments, no blocks).
    pub fn defaults() -> Policy {
        Policy {
            environments: Vec::new(),
            blocks: Vec::new(),
        }
    }

    /// The declared environments.
    pub fn environments(&self) -> &[EnvProfile] {
        &self.environments
    }

    fn level_in(&self, rule: &Rule, env: Option<&EnvProfile>) -> Level {
        let protected = env.is_some_and(|e| e.protected);
        let mut level = Level::On(match rule.category {
            Category::Safety | Category::Plan if protected => Severity::Error,
            Category::Safety | Category::Plan => Severity::Warning,
            _ => rule.default_severity,
        });
        for block in &self.blocks {
            if env.is_none_or(|e| block.applies_to(&e.name))
                && let Some((_, l)) = block.severity.iter().rev().find(|(id, _)| *id == rule.id)
            {
                level = *l;
            }
        }
        level
    }

    /// The severity of `rule` for a stack deployed to `envs` (the strictest of them);
    /// `None` when the rule is off everywhere. With no environments, the defaults apply.
    pub fn severity(&self, rule: &Rule, envs: &[String]) -> Option<Severity> {
        let profiles: Vec<&EnvProfile> = self
            .environments
            .iter()
            .filter(|e| envs.contains(&e.name))
            .collect();
        if profiles.is_empty() {
            return match self.level_in(rule, None) {
                Level::On(s) => Some(s),
                Level::Off => None,
            };
        }
        profiles
            .into_iter()
            .filter_map(|e| match self.level_in(rule, Some(e)) {
                Level::On(s) => Some(s),
                Level::Off => None,
            })
            .max()
    }

    /// Whether `rule` refuses inline suppression for a stack deployed to `envs`.
    pub fn unsuppressible(&self, rule: &Rule, envs: &[String]) -> bool {
        rule.unsuppressible
            || self.blocks.iter().any(|b| {
                b.unsuppressible.contains(&rule.id)
                    && (b.environments.is_none() || envs.iter().any(|e| b.applies_to(e)))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Vec<EnvProfile> {
        vec![
            EnvProfile {
                name: "dev".into(),
                protected: false,
            },
            EnvProfile {
                name: "prod".into(),
                protected: true,
            },
        ]
    }

    fn at(s: &str) -> At {
        (s.to_owned(), 0..1)
    }

    #[test]
    fn safety_rules_are_errors_only_where_protected() {
        let p = Policy::new(envs(), &[], None).unwrap();
        let rule = registry::get("SAF004");
        assert_eq!(p.severity(rule, &["dev".into()]), Some(Severity::Warning));
        assert_eq!(p.severity(rule, &["prod".into()]), Some(Severity::Error));
        assert_eq!(
            p.severity(rule, &["dev".into(), "prod".into()]),
            Some(Severity::Error)
        );
    }

    #[test]
    fn check_blocks_raise_lower_and_scope_by_environment() {
        let blocks = [
            PolicyBlock {
                severity: vec![(at("FMT005"), at("off"))],
                ..Default::default()
            },
            PolicyBlock {
                environments: Some(vec![at("prod")]),
                severity: vec![(at("ARC002"), at("error"))],
                unsuppressible: vec![at("SAF001")],
            },
        ];
        let p = Policy::new(envs(), &blocks, None).unwrap();
        assert_eq!(p.severity(registry::get("FMT005"), &["prod".into()]), None);
        assert_eq!(
            p.severity(registry::get("ARC002"), &["dev".into()]),
            Some(Severity::Warning)
        );
        assert_eq!(
            p.severity(registry::get("ARC002"), &["prod".into()]),
            Some(Severity::Error)
        );
        assert!(p.unsuppressible(registry::get("SAF001"), &["prod".into()]));
        assert!(!p.unsuppressible(registry::get("SAF001"), &["dev".into()]));
    }

    #[test]
    fn unknown_ids_levels_and_environments_are_errors() {
        let blocks = [PolicyBlock {
            environments: Some(vec![at("qa")]),
            severity: vec![(at("XYZ999"), at("error")), (at("ARC002"), at("fatal"))],
            unsuppressible: vec![at("NOPE01")],
        }];
        let errors = Policy::new(envs(), &blocks, None).unwrap_err();
        let text: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        assert_eq!(errors.len(), 4, "{text:?}");
        assert!(text.iter().any(|m| m.contains("`qa`")));
        assert!(text.iter().any(|m| m.contains("XYZ999")));
        assert!(text.iter().any(|m| m.contains("fatal")));
    }
}
