//! Governance checks over stack code and plans.
//!
//! Every `.tf`, `.tfvars` and `.hcl` file of every stack and of the local modules it calls is
//! read and parsed once (hcl-edit, in parallel with rayon); the rules in `rules/` read the
//! parsed model; `policy` decides severities per environment; `suppress` applies inline
//! `# plinth:ignore` comments; `output` renders text, JSON and SARIF. Plan-time rules over
//! plan JSON are in `plan_rules`. This crate spawns no processes: engine-backed results
//! (`fmt`, `validate`) come in as `EngineOutcome`s.

mod engine_rules;
mod model;
mod node;
pub mod output;
pub mod plan_rules;
mod policy;
pub mod registry;
mod rules;
mod scan;
mod suppress;

pub use engine_rules::{EngineDiagnostic, EngineOutcome};
pub use policy::{At, EnvProfile, Policy, PolicyBlock};
pub use registry::{RULES, Rule};
pub use scan::{CheckRequest, CheckTarget, Finding, Report, check};
pub use suppress::parse_date;

/// Today's date in UTC: suppressions expire against it.
pub fn today_utc() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}
