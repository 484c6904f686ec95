//! Pricing one resource instance: its type's components, with the settings and usage they
//! depend on, for one region.

use crate::attrs::{self, Attrs, Lookup};
use crate::catalogue::{Catalogue, Component, Prices};
use crate::report::{ComponentCost, Status, round};

/// Prices, usage quantities and the region: everything an estimate depends on besides the
/// resources.
#[derive(Debug, Clone, Copy)]
pub struct Pricing<'a> {
    /// The price catalogue.
    pub catalogue: &'a Catalogue,
    /// The environment's usage quantities.
    pub usage: &'a crate::Usage,
    /// The region the environment runs in.
    pub region: &'a str,
}

/// One instance of one resource, priced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quote {
    pub status: Status,
    pub reason: Option<String>,
    pub components: Vec<ComponentCost>,
}

impl Quote {
    pub(crate) fn monthly(&self) -> f64 {
        round(self.components.iter().map(|c| c.monthly).sum())
    }

    pub(crate) fn split(&self) -> (f64, f64) {
        let part = |usage: bool| {
            round(
                self.components
                    .iter()
                    .filter(|c| c.usage == usage)
                    .map(|c| c.monthly)
                    .sum(),
            )
        };
        (part(false), part(true))
    }

    pub(crate) fn assumed(&self) -> bool {
        self.components.iter().any(|c| c.assumed && c.monthly > 0.0)
    }

    fn unpriced(reason: String) -> Quote {
        Quote {
            status: Status::Unpriced,
            reason: Some(reason),
            components: Vec::new(),
        }
    }
}

/// Prices one instance of the resource at `address` in `stack`.
pub(crate) fn quote(pricing: &Pricing<'_>, stack: &str, address: &str, a: &Attrs<'_>) -> Quote {
    let catalogue = pricing.catalogue;
    if catalogue.is_free(a.kind) {
        return Quote {
            status: Status::Free,
            reason: None,
            components: Vec::new(),
        };
    }
    let mut components = Vec::new();
    let mut any = false;
    for c in catalogue.components(a.kind) {
        any = true;
        match component(pricing, stack, address, a, c) {
            Ok(Some(cost)) => components.push(cost),
            Ok(None) => {}
            Err(reason) => return Quote::unpriced(reason),
        }
    }
    if !any {
        return Quote::unpriced(format!("no price for {} in the catalogue", a.kind));
    }
    Quote {
        status: Status::Priced,
        reason: None,
        components,
    }
}

/// One component's cost; `None` when its `when` does not apply; `Err` with the reason when
/// it cannot be priced.
fn component(
    pricing: &Pricing<'_>,
    stack: &str,
    address: &str,
    a: &Attrs<'_>,
    c: &Component,
) -> Result<Option<ComponentCost>, String> {
    let setting = |path: &str| match a.get(path) {
        Lookup::Known(v) => Ok(Some(v)),
        Lookup::Unknown => Err(format!(
            "`{path}` is not known from the code (price it from a plan: --plan RUN)"
        )),
        Lookup::Absent => Ok(None),
    };
    for (path, allowed) in &c.when {
        let value = setting(path)?.and_then(attrs::text);
        if !value.is_some_and(|v| allowed.contains(&v)) {
            return Ok(None);
        }
    }
    let regional = match &c.prices {
        Prices::Regional(r) => r,
        Prices::Keyed(keyed) => {
            let mut key = Vec::with_capacity(c.by.len());
            for path in &c.by {
                match setting(path)?.and_then(attrs::text) {
                    Some(v) => key.push(v),
                    None => {
                        return Err(format!("`{path}` is not set, and the price depends on it"));
                    }
                }
            }
            let key = key.join(" ");
            keyed.get(&key).ok_or_else(|| {
                format!(
                    "no price for {} {} `{key}` in the catalogue",
                    a.kind,
                    c.by.join(" ")
                )
            })?
        }
    };
    let price = *regional
        .get(pricing.region)
        .or_else(|| regional.get("*"))
        .ok_or_else(|| format!("no {} price for {} in {}", c.name, a.kind, pricing.region))?;
    let mut quantity = c.quantity;
    if c.hourly {
        quantity *= pricing.catalogue.hours_per_month;
    }
    for path in &c.multiply {
        let value = setting(path)?
            .ok_or_else(|| format!("`{path}` is not set, and the price depends on it"))?;
        quantity *= attrs::quantity(value).ok_or_else(|| format!("`{path}` is not a number"))?;
    }
    let mut assumed = false;
    for key in &c.usage {
        let stated = pricing.usage.get(stack, address, a.kind, key);
        let value = stated.unwrap_or_else(|| {
            assumed = true;
            pricing.catalogue.assumed_usage(a.kind, key).unwrap_or(0.0)
        });
        quantity *= value;
    }
    quantity /= c.per;
    // Factors scale the quantity (a Multi-AZ instance runs twice the instance-hours), so that
    // quantity × price is always the monthly amount shown.
    for (path, factors) in &c.factor {
        if let Some(f) = setting(path)?
            .and_then(attrs::text)
            .and_then(|v| factors.get(&v))
        {
            quantity *= f;
        }
    }
    let monthly = quantity * price;
    Ok(Some(ComponentCost {
        name: c.name.clone(),
        unit: c.unit.clone(),
        quantity: round(quantity),
        price,
        monthly: round(monthly),
        usage: c.is_usage(),
        assumed,
        source: c.source.clone(),
        read: c.read.clone(),
    }))
}
