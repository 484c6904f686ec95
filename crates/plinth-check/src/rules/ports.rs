//! Port ranges as clouds write them (`"22"`, `"20-25"`, `"*"`), shared by the firewall rules.

use hcl_edit::expr::Expression;

/// The `ports` that any of `ranges` covers.
pub fn admin_ports_in(ranges: &[&str], ports: &[u32]) -> Vec<u32> {
    ports
        .iter()
        .copied()
        .filter(|p| ranges.iter().any(|r| covers(r, *p)))
        .collect()
}

fn covers(range: &str, port: u32) -> bool {
    let range = range.trim();
    if range == "*" || range.eq_ignore_ascii_case("any") {
        return true;
    }
    match range.split_once('-') {
        Some((from, to)) => match (from.trim().parse::<u32>(), to.trim().parse::<u32>()) {
            (Ok(from), Ok(to)) => (from..=to).contains(&port),
            _ => false,
        },
        None => range.parse::<u32>() == Ok(port),
    }
}

/// The literal strings of a string or of a list of strings.
pub fn strings(expr: &Expression) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match expr {
        Expression::Array(a) => a.iter().filter_map(|e| e.as_str()).collect(),
        e => e.as_str().into_iter().collect(),
    };
    items.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(admin_ports_in(&["*"], &[22, 3389]), vec![22, 3389]);
        assert_eq!(admin_ports_in(&["20-25"], &[22, 3389]), vec![22]);
        assert_eq!(admin_ports_in(&["3389"], &[22, 3389]), vec![3389]);
        assert!(admin_ports_in(&["443", "8000-8080"], &[22, 3389]).is_empty());
    }
}
