//! Estimates from the code alone: the resource facts `StackCode::read` collected, with literal
//! counts multiplied in and unknown counts reported.

use plinth_project::{CodeFacts, InstanceCount};

use crate::attrs::Attrs;
use crate::price::{Pricing, Quote, quote};
use crate::report::{InstanceCost, ResourceCost, Status, round};

/// The monthly cost of one stack's code in the environment `pricing` is for.
pub fn estimate_code(stack: &str, facts: &CodeFacts, pricing: &Pricing<'_>) -> InstanceCost {
    let mut resources = Vec::with_capacity(facts.resources.len() + facts.modules.len());
    for r in &facts.resources {
        let a = Attrs::new(&r.kind, &r.attributes, &r.unknown, pricing.catalogue);
        let q = quote(pricing, stack, &r.address, &a);
        resources.push(resource_cost(&r.address, &a, q, &r.count));
    }
    for m in &facts.modules {
        resources.push(ResourceCost {
            address: m.address.clone(),
            kind: "module".into(),
            monthly: 0.0,
            count: m.count.known(),
            status: Status::Unpriced,
            reason: Some(format!(
                "module `{}` is not local: its resources are priced from a plan (--plan RUN)",
                m.source
            )),
            each: 0.0,
            fixed: 0.0,
            usage: 0.0,
            assumed: false,
            standin: false,
            components: Vec::new(),
        });
    }
    let notes = facts
        .unparsed
        .iter()
        .map(|p| {
            format!(
                "{} does not parse: its resources are not counted",
                p.display()
            )
        })
        .collect();
    InstanceCost::new(stack, resources, notes)
}

/// A priced resource block with `count` instances.
pub(crate) fn resource_cost(
    address: &str,
    a: &Attrs<'_>,
    q: Quote,
    count: &InstanceCount,
) -> ResourceCost {
    let each = q.monthly();
    let (fixed, usage) = q.split();
    let assumed = q.assumed();
    let status = match q.status {
        // Priced, but none of its components applies (a gateway VPC endpoint): free.
        Status::Priced if q.components.is_empty() => Status::Free,
        s => s,
    };
    let (status, reason, n) = match (status, count) {
        (Status::Priced, InstanceCount::Known(n)) => (Status::Priced, None, *n as f64),
        (Status::Priced, InstanceCount::Unknown(why)) => {
            (Status::UnknownCount, Some(why.clone()), 0.0)
        }
        (status, _) => (status, q.reason.clone(), 0.0),
    };
    ResourceCost {
        address: address.to_owned(),
        kind: a.kind.to_owned(),
        monthly: round(each * n),
        count: count.known(),
        status,
        reason,
        each,
        fixed: round(fixed * n),
        usage: round(usage * n),
        assumed,
        standin: a.standin,
        components: q.components,
    }
}
