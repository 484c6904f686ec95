//! Text rendering of estimates: a table per instance, components under each resource, the
//! environment's total, and what the total leaves out or assumes.

use std::fmt::Write;

use crate::report::{Basis, EnvCost, InstanceCost, ResourceCost, Status};

/// `$1,234.56`; `<$0.01` for a positive amount under a cent.
pub fn money(x: f64) -> String {
    if x > 0.0 && x < 0.005 {
        return "<$0.01".into();
    }
    let cents = (x.abs() * 100.0).round() as u64;
    let sign = if x < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// `+$1.20`, `-$3.00` or `$0.00`: a change in cost.
pub fn signed(x: f64) -> String {
    let m = money(x);
    if x > 0.0 { format!("+{m}") } else { m }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A quantity: whole numbers with separators, others with up to four decimals.
fn quantity(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        return thousands(q as u64);
    }
    let s = format!("{q:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn price(p: f64) -> String {
    let s = format!("${p:.10}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}00")
    } else if s.split('.').nth(1).is_some_and(|d| d.len() == 1) {
        format!("{s}0")
    } else {
        s.to_owned()
    }
}

/// The whole report of `plinth cost ENV`.
pub fn text(cost: &EnvCost) -> String {
    let mut out = String::new();
    let basis = match (&cost.basis, &cost.run_id) {
        (Basis::Plan, Some(run)) => format!("from plan {run}"),
        (Basis::Plan, None) => "from plans".into(),
        (Basis::Code, _) => "from code".into(),
    };
    let prices: Vec<String> = cost
        .prices
        .iter()
        .map(|s| match &s.file {
            Some(f) => format!("{} ({f}, read {})", s.name, s.date),
            None => format!("{} (read {})", s.name, s.date),
        })
        .collect();
    let _ = writeln!(
        out,
        "{}: monthly estimate in {} {basis}, region {}",
        cost.env, cost.currency, cost.region
    );
    let _ = writeln!(out, "prices: {}", prices.join(" + "));
    let _ = writeln!(
        out,
        "usage: {}",
        cost.usage_file
            .as_deref()
            .unwrap_or("none (catalogue assumptions)")
    );
    for instance in &cost.instances {
        out.push('\n');
        instance_text(&mut out, &cost.env, instance);
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "total {}: {}/month (fixed {}, usage {}{}) over {} instance{}",
        cost.env,
        money(cost.monthly),
        money(cost.fixed),
        money(cost.usage),
        if cost.assumed { "*" } else { "" },
        cost.instances.len(),
        if cost.instances.len() == 1 { "" } else { "s" }
    );
    if cost.assumed {
        let _ = writeln!(
            out,
            "* includes assumed usage (the catalogue's defaults, marked *): state it in {}",
            cost.usage_file
                .clone()
                .unwrap_or_else(|| format!("usage/{}.toml", cost.env))
        );
    }
    if cost.unpriced > 0 || cost.unknown_counts > 0 {
        let _ = writeln!(
            out,
            "not in the total: {} unpriced resource{}, {} with a count unknown from the code{}",
            cost.unpriced,
            if cost.unpriced == 1 { "" } else { "s" },
            cost.unknown_counts,
            if cost.basis == Basis::Code && cost.unknown_counts > 0 {
                " (a saved plan has the exact count: --plan RUN)"
            } else {
                ""
            }
        );
    }
    if let Some(b) = &cost.budget {
        let _ = writeln!(
            out,
            "budget: {}/month, {}",
            money(b.budget),
            if b.over {
                format!(
                    "over by {} (CST001, {})",
                    money(cost.monthly - b.budget),
                    b.severity.as_deref().unwrap_or("warning")
                )
            } else {
                format!("within it ({} left)", money(b.budget - cost.monthly))
            }
        );
    }
    out
}

fn instance_text(out: &mut String, env: &str, i: &InstanceCost) {
    let _ = writeln!(
        out,
        "{env}/{}: {}/month{}{}",
        i.stack,
        money(i.monthly),
        if i.assumed { "*" } else { "" },
        i.delta
            .map(|d| format!(" ({} in this plan)", signed(d)))
            .unwrap_or_default()
    );
    let shown: Vec<&ResourceCost> = i
        .resources
        .iter()
        .filter(|r| r.status != Status::Free)
        .collect();
    let width = shown
        .iter()
        .map(|r| r.address.len())
        .max()
        .unwrap_or(0)
        .clamp(8, 64);
    let kind_width = shown
        .iter()
        .map(|r| r.kind.len())
        .max()
        .unwrap_or(0)
        .clamp(4, 40);
    for r in &shown {
        let count = r.count.map_or("?".into(), |n| n.to_string());
        let (amount, note) = match r.status {
            Status::Priced => (
                money(r.monthly),
                if r.assumed && r.monthly > 0.0 {
                    "*".to_owned()
                } else {
                    String::new()
                },
            ),
            Status::UnknownCount => (
                format!("{} each", money(r.each)),
                format!("count unknown: {}", r.reason.as_deref().unwrap_or("")),
            ),
            Status::Unpriced => (
                "-".into(),
                format!("unpriced: {}", r.reason.as_deref().unwrap_or("")),
            ),
            Status::Free => unreachable!("free resources are summarised"),
        };
        let line = format!(
            "  {:<width$}  {:<kind_width$}  {count:>5}  {amount:>12}  {note}",
            r.address, r.kind
        );
        let _ = writeln!(out, "{}", line.trim_end());
        if r.components.len() > 1 || r.components.iter().any(|c| c.usage) {
            for c in &r.components {
                let _ = writeln!(
                    out,
                    "      {}: {} × {} per {} = {}{}",
                    c.name,
                    quantity(c.quantity),
                    price(c.price),
                    c.unit,
                    money(c.monthly),
                    if c.assumed { " *" } else { "" }
                );
            }
        }
    }
    let free: Vec<&ResourceCost> = i
        .resources
        .iter()
        .filter(|r| r.status == Status::Free)
        .collect();
    if !free.is_empty() {
        let mut kinds: Vec<&str> = free.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let more = kinds.len().saturating_sub(4);
        kinds.truncate(4);
        let _ = writeln!(
            out,
            "  + {} free ({}{})",
            free.len(),
            kinds.join(", "),
            match more {
                0 => String::new(),
                1 => ", 1 more type".into(),
                n => format!(", {n} more types"),
            }
        );
    }
    for n in &i.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(money(1234.567), "$1,234.57");
        assert_eq!(money(0.004), "<$0.01");
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(-3.0), "-$3.00");
        assert_eq!(signed(12.3), "+$12.30");
        assert_eq!(signed(-0.5), "-$0.50");
        assert_eq!(price(0.045), "$0.045");
        assert_eq!(price(3.0), "$3.00");
        assert_eq!(price(0.5), "$0.50");
        assert_eq!(price(0.0000166667), "$0.0000166667");
        assert_eq!(quantity(1_000_000.0), "1,000,000");
        assert_eq!(quantity(0.125), "0.125");
    }
}
