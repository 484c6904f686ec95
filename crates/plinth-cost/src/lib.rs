//! Monthly cost estimates, offline: from a stack's code (the resource facts of
//! `plinth_project::StackCode`, with literal counts) or exactly from a saved plan's JSON, priced
//! against a catalogue of list prices kept as data (`prices/catalogue.toml`, embedded; a team
//! replaces or extends it with a file of the same format) and usage quantities per environment.
//!
//! Resources the catalogue does not know are *unpriced*, never $0; types that cost nothing by
//! themselves (IAM, security groups, routes…) are *free*; a count the code does not decide is
//! reported with the price of one instance and left out of the total. `terraform_data`
//! stand-ins whose `input` carries `resource_type` are priced as that type.
//!
//! ```no_run
//! # fn demo(code: &plinth_project::StackCode, plan_json: &serde_json::Value) {
//! use plinth_cost::{Catalogue, Pricing, Usage};
//! let catalogue = Catalogue::builtin();
//! let usage = Usage::none();
//! let pricing = Pricing { catalogue: &catalogue, usage: &usage, region: "eu-west-1" };
//! let from_code = plinth_cost::estimate_code("services/orders", &code.facts, &pricing);
//! let delta = plinth_cost::plan_delta(plan_json, &pricing, "services/orders");
//! println!("{} / {}", from_code.monthly, delta.summary());
//! # }
//! ```
//!
//! Pure domain: no processes, no network, no SQL.

// Catalogue and usage-file errors are `Diagnostic`s with spans, rendered at file:line:col like
// every configuration error; they are rare and returned once, so their size does not matter.
#![allow(clippy::result_large_err)]

mod attrs;
mod budget;
mod catalogue;
mod estimate;
mod plan;
mod price;
mod project;
mod region;
pub mod render;
mod report;
mod usage;

pub use budget::{BUDGET_RULE, BudgetFinding, budget_finding};
pub use catalogue::{BUILTIN, Catalogue, CatalogueSource, Component, Prices};
pub use estimate::estimate_code;
pub use plan::{Delta, ResourceDelta, Unpriced, plan_delta, plan_estimate};
pub use price::Pricing;
pub use project::estimate_stacks;
pub use region::{DEFAULT_REGION, region_of};
pub use report::{Basis, BudgetStatus, ComponentCost, EnvCost, InstanceCost, ResourceCost, Status};
pub use usage::{Usage, without_keys};
