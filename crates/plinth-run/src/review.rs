//! Plan review: the project's team policies (Rego) and the environment's prices, loaded once
//! per plan run and applied to every saved plan's redacted JSON. Policy findings and the
//! monthly cost delta are recorded beside the plan (`PlanMeta`) and in the run report; after a
//! plan run, the environment's estimate is held against its `budget` (CST001).

use std::path::PathBuf;
use std::sync::Arc;

use plinth_check::rego::{self, PolicyError, PolicyKind, PolicySet};
use plinth_config::{Environment, PolicyDecl};
use plinth_cost::{Catalogue, Pricing, Usage};
use plinth_diag::{Diagnostic, SourceFile};
use plinth_project::Project;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RunError;
use crate::context::RunContext;
use crate::report::{InstanceStatus, RunReport};
use crate::saved::{PlanFiles, PlanMeta, read_json};

/// The name findings of the default `policies/` folder carry when no `policy` block exists.
pub const DEFAULT_POLICY: &str = "policies";

/// What a policy rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// `deny`/`violation`: an error finding; blocks apply in protected environments until an
    /// owner approves.
    Deny,
    /// `warn`: reported only.
    Warn,
}

impl Verdict {
    /// `deny` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Deny => "deny",
            Verdict::Warn => "warn",
        }
    }
}

/// One message a team policy gave on a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFinding {
    /// The `policy "NAME"` block (`policies` for the default folder).
    pub policy: String,
    /// The Rego package (`main`).
    pub package: String,
    /// The rule (`deny`, `warn_tags`).
    pub rule: String,
    /// Deny or warn.
    pub kind: Verdict,
    /// The rule's message.
    pub message: String,
}

/// What a plan changes in its instance's monthly cost (USD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostDelta {
    /// Monthly cost of the priced resources before the plan.
    pub before: f64,
    /// After it.
    pub after: f64,
    /// `after − before`.
    pub delta: f64,
    /// Whether a usage quantity in it is the catalogue's assumption.
    pub assumed: bool,
    /// Resources that could not be priced (left out of both sides).
    pub unpriced: usize,
    /// `+$12.34/month ($100.00 → $112.34)`.
    pub summary: String,
}

/// A finding about a run as a whole (the budget, CST001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinding {
    /// Rule id.
    pub rule: String,
    /// `error` or `warning`.
    pub severity: String,
    /// One line.
    pub message: String,
}

/// Policies and prices of one run.
pub struct PlanReview {
    policies: Vec<PolicySet>,
    catalogue: Catalogue,
    usage: Usage,
    region: String,
}

impl PlanReview {
    /// Loads every policy that applies to environment block `block` and the environment's
    /// prices; a policy that does not load, or a usage file that does not parse, is a
    /// configuration error of the run (exit 64), never skipped.
    pub(crate) fn load(
        project: &Project,
        environment: &Environment,
        block: &str,
    ) -> Result<PlanReview, RunError> {
        let mut policies = Vec::new();
        let decls = &project.config.policies;
        if decls.is_empty() {
            if let Some(dir) = rego::default_paths(&project.root) {
                let set = PolicySet::load(DEFAULT_POLICY, &[dir])
                    .map_err(|e| policy_error(project, None, e))?;
                policies.push(set);
            }
        } else {
            for decl in decls {
                if let Some(envs) = &decl.environments
                    && !envs.iter().any(|e| e.value == block)
                {
                    continue;
                }
                let paths: Vec<PathBuf> = decl
                    .paths
                    .iter()
                    .map(|p| project.root.join(&p.value))
                    .collect();
                let set = PolicySet::load(&decl.name.value, &paths)
                    .map_err(|e| policy_error(project, Some(decl), e))?;
                policies.push(set);
            }
        }
        let catalogue = Catalogue::builtin();
        let rel = format!("usage/{block}.toml");
        let path = project.root.join(&rel);
        let usage = match std::fs::read_to_string(&path) {
            Ok(text) => {
                Usage::parse(&rel, &text, &catalogue).map_err(|d| RunError::Config(vec![d]))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Usage::none(),
            Err(e) => return Err(RunError::Usage(format!("cannot read {rel}: {e}"))),
        };
        Ok(PlanReview {
            policies,
            region: plinth_cost::region_of(environment),
            catalogue,
            usage,
        })
    }

    fn pricing(&self) -> Pricing<'_> {
        Pricing {
            catalogue: &self.catalogue,
            usage: &self.usage,
            region: &self.region,
        }
    }

    /// Every policy's findings on one plan, in policy order; an evaluation error names the
    /// policy.
    pub(crate) fn evaluate(&self, plan: &Value) -> Result<Vec<PolicyFinding>, String> {
        let mut out = Vec::new();
        for set in &self.policies {
            let findings = set.evaluate(plan).map_err(|e| e.to_string())?;
            out.extend(findings.into_iter().map(|f| PolicyFinding {
                policy: f.policy,
                package: f.package,
                rule: f.rule,
                kind: match f.kind {
                    PolicyKind::Deny => Verdict::Deny,
                    PolicyKind::Warn => Verdict::Warn,
                },
                message: f.message,
            }));
        }
        Ok(out)
    }

    /// The plan's monthly delta; `None` when nothing it touches costs anything or could be
    /// priced (only free types such as plain `terraform_data`), so such plans show no cost.
    pub(crate) fn cost(&self, plan: &Value, stack: &str) -> Option<CostDelta> {
        let d = plinth_cost::plan_delta(plan, &self.pricing(), stack);
        if d.unpriced.is_empty() && d.before == 0.0 && d.after == 0.0 {
            return None;
        }
        Some(CostDelta {
            before: d.before,
            after: d.after,
            delta: d.delta,
            assumed: d.assumed,
            unpriced: d.unpriced.len(),
            summary: d.summary(),
        })
    }
}

/// A policy that cannot be loaded as a configuration error: a Rego syntax error at its
/// file:line:col, anything else at the `policy` block.
fn policy_error(project: &Project, decl: Option<&PolicyDecl>, e: PolicyError) -> RunError {
    let shown = |p: &std::path::Path| {
        p.strip_prefix(&project.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let d = match &e {
        PolicyError::Parse {
            policy,
            path,
            line,
            column,
            message,
        } => {
            let d = Diagnostic::error(format!("policy `{policy}`: Rego syntax error: {message}"));
            match std::fs::read_to_string(path) {
                Ok(text) if *line > 0 => {
                    let source = SourceFile::new(shown(path), text);
                    let at = source.offset(*line, (*column).max(1));
                    d.at(&source, at..at + 1, message.clone())
                }
                _ => d.with_note(format!("in {}", shown(path))),
            }
        }
        PolicyError::Empty { policy, paths } => Diagnostic::error(format!(
            "policy `{policy}`: no .rego file under {}",
            paths
                .iter()
                .map(|p| shown(p))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        other => Diagnostic::error(other.to_string()),
    };
    let d = match decl {
        Some(decl) if !matches!(e, PolicyError::Parse { .. }) => d.at(
            &project.config.source,
            decl.name.span.clone(),
            "this policy",
        ),
        _ => d,
    };
    RunError::Config(vec![d.with_help(
        "policies are Rego files with `deny`/`warn` rules in package `main` (conftest's \
         conventions); see docs/checks.md",
    )])
}

impl RunContext {
    /// The run's plan review, when it plans (`None` for runs that make no saved plan).
    pub(crate) fn review(&self) -> Option<&Arc<PlanReview>> {
        self.review.get()
    }

    /// Loads the plan review (once per run).
    pub(crate) fn load_review(&self) -> Result<(), RunError> {
        if self.review.get().is_none() {
            let review = PlanReview::load(&self.project, &self.environment, self.block())?;
            let _ = self.review.set(Arc::new(review));
        }
        Ok(())
    }

    /// CST001 after a plan run: the environment's monthly estimate against its `budget`. Plans
    /// of this run with changes count as they leave their instance (their `after`); every other
    /// stack of the environment counts as its code says (literal counts, as `plinth check
    /// --env` prices it).
    pub(crate) fn budget_findings(&self, report: &RunReport) -> Vec<RunFinding> {
        let (Some(budget), Some(review)) = (self.environment.budget.as_ref(), self.review()) else {
            return Vec::new();
        };
        let planned: std::collections::HashMap<&str, f64> = report
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Succeeded)
            .filter_map(|i| {
                let meta: PlanMeta =
                    read_json(&PlanFiles::new(&self.layout, &self.run_id, &i.stack).meta()).ok()?;
                Some((
                    i.stack.as_str(),
                    meta.cost.as_ref().map_or(0.0, |c| c.after),
                ))
            })
            .collect();
        let from_code: Vec<String> = self
            .graph
            .layers
            .iter()
            .flatten()
            .filter(|s| !planned.contains_key(s.as_str()))
            .cloned()
            .collect();
        let code = plinth_cost::estimate_stacks(&self.project, &from_code, &review.pricing());
        let monthly: f64 =
            planned.values().sum::<f64>() + code.iter().map(|c| c.monthly).sum::<f64>();
        let Some(finding) = plinth_cost::budget_finding(
            self.env(),
            budget.value,
            (monthly * 100.0).round() / 100.0,
            self.environment.protected,
        ) else {
            return Vec::new();
        };
        let unknown: usize = code.iter().map(|c| c.unknown_counts).sum();
        let mut message = format!(
            "{} (this run's plans with changes, the other stacks from their code)",
            finding.message
        );
        if unknown > 0 {
            message.push_str(&format!(
                "; {unknown} resources with unknown counts left out"
            ));
        }
        vec![RunFinding {
            rule: finding.rule.to_string(),
            severity: finding.severity.as_str().to_string(),
            message,
        }]
    }
}
