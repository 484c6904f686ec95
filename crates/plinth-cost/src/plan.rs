//! Estimates from a saved plan (`terraform show -json`): the `after` values of every managed
//! resource instance, and the difference from `before` as the plan's monthly delta.

use plinth_project::InstanceCount;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::attrs::Attrs;
use crate::estimate::resource_cost;
use crate::price::{Pricing, Quote, quote};
use crate::report::{InstanceCost, ResourceCost, Status, round};

/// What one plan changes in the monthly cost of its instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delta {
    /// Monthly cost of the priced resources before the plan.
    pub before: f64,
    /// After it.
    pub after: f64,
    /// `after − before`.
    pub delta: f64,
    /// Whether any usage quantity in it is an assumption.
    pub assumed: bool,
    /// Resources that could not be priced (left out of both sides).
    pub unpriced: Vec<Unpriced>,
    /// Resources the plan changes, with their share of the delta.
    pub resources: Vec<ResourceDelta>,
}

impl Delta {
    /// `+$12.34/month ($100.00 → $112.34)`, with the number of unpriced resources if any: the
    /// line for plan summaries and pull-request comments.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}/month ({} → {})",
            crate::render::signed(self.delta),
            crate::render::money(self.before),
            crate::render::money(self.after)
        );
        if !self.unpriced.is_empty() {
            s.push_str(&format!(", {} unpriced", self.unpriced.len()));
        }
        s
    }
}

/// A resource the plan changes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceDelta {
    /// Resource instance address.
    pub address: String,
    /// Effective type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The plan's actions (`["create"]`, `["delete", "create"]`…).
    pub actions: Vec<String>,
    /// Monthly cost before.
    pub before: f64,
    /// Monthly cost after.
    pub after: f64,
    /// `after − before`.
    pub delta: f64,
}

/// A resource instance that could not be priced.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unpriced {
    /// Resource instance address.
    pub address: String,
    /// Effective type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Why.
    pub reason: String,
}

/// One managed resource instance of a plan.
struct Change<'p> {
    address: &'p str,
    kind: &'p str,
    actions: Vec<String>,
    before: Option<&'p Map<String, Value>>,
    after: Option<&'p Map<String, Value>>,
    after_unknown: Vec<String>,
}

fn changes(plan: &Value) -> Vec<Change<'_>> {
    let Some(list) = plan.get("resource_changes").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter(|rc| rc.get("mode").and_then(Value::as_str) != Some("data"))
        .filter_map(|rc| {
            let change = rc.get("change")?;
            let mut after_unknown = Vec::new();
            if let Some(u) = change.get("after_unknown") {
                unknown_paths(u, "", &mut after_unknown);
            }
            Some(Change {
                address: rc.get("address").and_then(Value::as_str)?,
                kind: rc.get("type").and_then(Value::as_str)?,
                actions: change
                    .get("actions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                before: change.get("before").and_then(Value::as_object),
                after: change.get("after").and_then(Value::as_object),
                after_unknown,
            })
        })
        .collect()
}

/// `after_unknown` marks unknown values with `true`, mirroring the value's shape.
fn unknown_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Bool(true) if !prefix.is_empty() => out.push(prefix.to_owned()),
        Value::Object(m) => m.iter().for_each(|(k, v)| unknown_paths(v, &join(k), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| unknown_paths(v, &join(&i.to_string()), out)),
        _ => {}
    }
}

fn price_side(
    pricing: &Pricing<'_>,
    stack: &str,
    c: &Change<'_>,
    values: &Map<String, Value>,
    unknown: &[String],
) -> (ResourceCost, Quote) {
    let a = Attrs::new(c.kind, values, unknown, pricing.catalogue);
    let q = quote(pricing, stack, c.address, &a);
    (
        resource_cost(c.address, &a, q.clone(), &InstanceCount::Known(1)),
        q,
    )
}

/// The monthly cost of an instance as its plan leaves it (the `after` values).
pub fn plan_estimate(plan: &Value, pricing: &Pricing<'_>, stack: &str) -> InstanceCost {
    let resources = changes(plan)
        .iter()
        .filter_map(|c| {
            let after = c.after?;
            Some(price_side(pricing, stack, c, after, &c.after_unknown).0)
        })
        .collect();
    InstanceCost::new(stack, resources, Vec::new())
}

/// What the plan changes in the instance's monthly cost: `before` and `after` priced alike,
/// their difference per resource and in total. A resource unpriced on either side is left out
/// of both and listed in `unpriced`.
pub fn plan_delta(plan: &Value, pricing: &Pricing<'_>, stack: &str) -> Delta {
    let mut delta = Delta {
        before: 0.0,
        after: 0.0,
        delta: 0.0,
        assumed: false,
        unpriced: Vec::new(),
        resources: Vec::new(),
    };
    for c in changes(plan) {
        let before = c.before.map(|b| price_side(pricing, stack, &c, b, &[]));
        let after = c
            .after
            .map(|a| price_side(pricing, stack, &c, a, &c.after_unknown));
        let kind = after
            .as_ref()
            .or(before.as_ref())
            .map_or(c.kind, |(r, _)| r.kind.as_str())
            .to_owned();
        if let Some((_, q)) = [&after, &before]
            .into_iter()
            .flatten()
            .find(|(_, q)| q.status == Status::Unpriced)
        {
            delta.unpriced.push(Unpriced {
                address: c.address.to_owned(),
                kind,
                reason: q.reason.clone().unwrap_or_default(),
            });
            continue;
        }
        let b = before.as_ref().map_or(0.0, |(r, _)| r.monthly);
        let a = after.as_ref().map_or(0.0, |(r, _)| r.monthly);
        delta.assumed |= [&before, &after]
            .into_iter()
            .flatten()
            .any(|(r, _)| r.assumed && r.monthly > 0.0);
        delta.before += b;
        delta.after += a;
        if c.actions != ["no-op"] || a != b {
            delta.resources.push(ResourceDelta {
                address: c.address.to_owned(),
                kind,
                actions: c.actions.clone(),
                before: b,
                after: a,
                delta: round(a - b),
            });
        }
    }
    delta.before = round(delta.before);
    delta.after = round(delta.after);
    delta.delta = round(delta.after - delta.before);
    delta
}
