//! Governance checks over stack code and plans.
//!
//! Every `.tf`, `.tfvars` and `.hcl` file of every stack and of the local modules it calls is
//! read and parsed once (hcl-edit, in parallel with rayon); the rules in `rules/` read the
//! parsed model; `policy` decides severities per environment; `suppress` applies inline
//! `# plinth:ignore` comments; `output` renders text, JSON and SARIF. Plan-time rules over
//! plan JSON are in `plan_rules`; team policies in Rego (conftest conventions) in `rego`. This crate spawns no processes: engine-backed results
//! (`fmt`, `validate`) come in as `EngineOutcome`s.

pub mod discover;
mod engine_rules;
mod model;
mod node;
pub mod output;
pub mod plan_rules;
mod policy;
mod problems;
pub mod registry;
pub mod rego;
mod rules;
mod scan;
mod suppress;

pub use engine_rules::{EngineDiagnostic, EngineOutcome};
pub use policy::{At, EnvProfile, Policy, PolicyBlock};
pub use registry::{RULES, Rule};
pub use scan::{CheckRequest, CheckTarget, Finding, Problem, Report, check};
pub use suppress::parse_date;

/// Today's date in UTC: suppressions expire against it.
pub fn today_utc() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}
