//! What an estimate says: per component, per resource, per instance and per environment. The
//! JSON of `plinth cost --format json` is these types serialised (DESIGN.md section 4).

use serde::Serialize;

use crate::catalogue::CatalogueSource;

/// One priced component of one resource instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComponentCost {
    /// What is charged.
    pub name: String,
    /// The unit of `price`.
    pub unit: String,
    /// Monthly quantity in that unit.
    pub quantity: f64,
    /// Price per unit.
    pub price: f64,
    /// `quantity × price`.
    pub monthly: f64,
    /// Whether the quantity is usage (requests, GB…) rather than fixed by the code.
    pub usage: bool,
    /// Whether a usage quantity is the catalogue's assumption rather than a stated one.
    pub assumed: bool,
    /// Where the price was read.
    pub source: String,
    /// When it was read.
    pub read: String,
}

/// How far a resource could be priced.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every component has a price.
    Priced,
    /// The type costs nothing by itself (IAM, security groups, routes…).
    Free,
    /// Not in the catalogue, or a setting the price depends on is unknown: not in the total,
    /// never counted as $0.
    Unpriced,
    /// Priced, but the number of instances is unknown from the code: not in the total.
    UnknownCount,
}

/// One resource block (from code) or resource instance (from a plan).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceCost {
    /// Address (without instance keys when from code).
    pub address: String,
    /// Effective type (a stand-in's `resource_type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Monthly cost of all its instances; 0 unless priced with a known count.
    pub monthly: f64,
    /// Instances; `null` when unknown from the code.
    pub count: Option<u64>,
    /// How far it could be priced.
    pub status: Status,
    /// Why it is unpriced, or what decides its unknown count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Monthly cost of one instance.
    pub each: f64,
    /// The fixed part of `monthly` (hours, keys, alarms…).
    pub fixed: f64,
    /// The usage part of `monthly`.
    pub usage: f64,
    /// Whether any usage quantity is an assumption.
    pub assumed: bool,
    /// Whether it is a `terraform_data` stand-in.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub standin: bool,
    /// The components of one instance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentCost>,
}

/// One instance (stack in an environment).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InstanceCost {
    /// Stack id.
    pub stack: String,
    /// Monthly total of the priced resources.
    pub monthly: f64,
    /// Its fixed part.
    pub fixed: f64,
    /// Its usage part.
    pub usage: f64,
    /// Whether any usage quantity in it is an assumption.
    pub assumed: bool,
    /// Resources left out of the total because they are unpriced.
    pub unpriced: usize,
    /// Resources left out of the total because their count is unknown.
    pub unknown_counts: usize,
    /// What the saved plan changes in `monthly` (`after − before`), when priced from a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// Every resource, in code or plan order.
    pub resources: Vec<ResourceCost>,
    /// What makes the estimate incomplete besides resources (files that do not parse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl InstanceCost {
    /// Adds up the resources into the instance's totals.
    pub(crate) fn new(stack: &str, resources: Vec<ResourceCost>, notes: Vec<String>) -> Self {
        let mut out = InstanceCost {
            stack: stack.to_owned(),
            monthly: 0.0,
            fixed: 0.0,
            usage: 0.0,
            assumed: false,
            unpriced: 0,
            unknown_counts: 0,
            delta: None,
            resources,
            notes,
        };
        for r in &out.resources {
            match r.status {
                Status::Unpriced => out.unpriced += 1,
                Status::UnknownCount => out.unknown_counts += 1,
                Status::Priced | Status::Free => {}
            }
            out.monthly += r.monthly;
            out.fixed += r.fixed;
            out.usage += r.usage;
            out.assumed |= r.assumed && r.monthly > 0.0;
        }
        out.monthly = round(out.monthly);
        out.fixed = round(out.fixed);
        out.usage = round(out.usage);
        out
    }

    /// Whether everything in it was priced.
    pub fn is_complete(&self) -> bool {
        self.unpriced == 0 && self.unknown_counts == 0 && self.notes.is_empty()
    }
}

/// Where the estimate's numbers come from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The code alone (literal counts and settings).
    Code,
    /// A saved plan's `after` values.
    Plan,
}

/// The budget of the environment against the estimate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetStatus {
    /// USD per month, from `budget` in plinth.hcl.
    pub budget: f64,
    /// Whether the estimate exceeds it.
    pub over: bool,
    /// `error` in protected environments, `warning` elsewhere, when over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// An environment's estimate: `plinth cost ENV`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnvCost {
    /// Environment.
    pub env: String,
    /// Currency of every amount.
    pub currency: String,
    /// Monthly total of the priced resources of every instance.
    pub monthly: f64,
    /// Its fixed part.
    pub fixed: f64,
    /// Its usage part.
    pub usage: f64,
    /// Region the prices are for.
    pub region: String,
    /// Code or plan.
    pub basis: Basis,
    /// The saved plan run, with `basis = plan`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The catalogues the prices come from, with their dates.
    pub prices: Vec<CatalogueSource>,
    /// The usage file, if one was read.
    pub usage_file: Option<String>,
    /// Whether any usage quantity in the total is an assumption.
    pub assumed: bool,
    /// Resources left out of the total because they are unpriced.
    pub unpriced: usize,
    /// Resources left out of the total because their count is unknown.
    pub unknown_counts: usize,
    /// The environment's budget, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetStatus>,
    /// Every instance, in the order given.
    pub instances: Vec<InstanceCost>,
}

impl EnvCost {
    /// Adds up instances into an environment estimate.
    pub fn new(
        env: &str,
        region: &str,
        basis: Basis,
        catalogue: &crate::Catalogue,
        usage_file: Option<String>,
        instances: Vec<InstanceCost>,
    ) -> EnvCost {
        let sum = |f: fn(&InstanceCost) -> f64| round(instances.iter().map(f).sum());
        EnvCost {
            env: env.to_owned(),
            currency: catalogue.currency.clone(),
            monthly: sum(|i| i.monthly),
            fixed: sum(|i| i.fixed),
            usage: sum(|i| i.usage),
            region: region.to_owned(),
            basis,
            run_id: None,
            prices: catalogue.sources.clone(),
            usage_file,
            assumed: instances.iter().any(|i| i.assumed),
            unpriced: instances.iter().map(|i| i.unpriced).sum(),
            unknown_counts: instances.iter().map(|i| i.unknown_counts).sum(),
            budget: None,
            instances,
        }
    }
}

/// Amounts are kept to a millionth of a dollar: sums of sub-cent prices stay exact enough, and
/// JSON shows no floating-point noise.
pub(crate) fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
