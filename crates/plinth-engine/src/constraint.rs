//! Terraform-style version constraints (`>= 1.6, < 2.0`, `~> 1.6`).
//!
//! Hand-written because Terraform's constraint language differs from Cargo's `semver`
//! requirements (`~>` is pessimistic, a bare version means `=`), and it is thirty lines.

use std::cmp::Ordering;

/// A version like `1.11.4` (pre-release suffixes are ignored for comparison).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub Vec<u64>);

impl Version {
    /// Parses `1.11.4`, `v1.6`, `1.12.0-beta1`.
    pub fn parse(text: &str) -> Option<Version> {
        let core = text
            .trim()
            .trim_start_matches('v')
            .split(['-', '+'])
            .next()?;
        let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty() && p.len() <= 3).map(Version)
    }

    fn cmp_padded(&self, other: &Version) -> Ordering {
        let n = self.0.len().max(other.0.len());
        let get = |v: &Version, i: usize| v.0.get(i).copied().unwrap_or(0);
        (0..n)
            .map(|i| get(self, i).cmp(&get(other, i)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// Whether `version` satisfies every comma-separated clause of `constraint`.
pub fn satisfies(version: &Version, constraint: &str) -> Result<bool, String> {
    for clause in constraint.split(',') {
        let clause = clause.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("=", clause));
        let want = Version::parse(rest)
            .ok_or_else(|| format!("`{clause}` is not a version constraint"))?;
        let ord = version.cmp_padded(&want);
        let ok = match op {
            "=" => ord == Ordering::Equal,
            "!=" => ord != Ordering::Equal,
            ">" => ord == Ordering::Greater,
            ">=" => ord != Ordering::Less,
            "<" => ord == Ordering::Less,
            "<=" => ord != Ordering::Greater,
            _ => {
                // `~> 1.6` allows 1.6 up to (not including) 2.0; `~> 1.6.2` up to 1.7.
                let mut upper = want.0.clone();
                if upper.len() > 1 {
                    upper.pop();
                }
                let last = upper.len() - 1;
                upper[last] += 1;
                ord != Ordering::Less && version.cmp_padded(&Version(upper)) == Ordering::Less
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str, c: &str) -> bool {
        satisfies(&Version::parse(v).unwrap(), c).unwrap()
    }

    #[test]
    fn terraform_constraints() {
        assert!(ok("1.11.4", ">= 1.6"));
        assert!(!ok("1.5.7", ">= 1.6"));
        assert!(ok("1.11.4", ">= 1.6, < 2.0"));
        assert!(ok("1.9.0", "~> 1.6"));
        assert!(!ok("2.0.0", "~> 1.6"));
        assert!(ok("1.6.9", "~> 1.6.2"));
        assert!(!ok("1.7.0", "~> 1.6.2"));
        assert!(ok("1.11.4", "1.11.4"));
        assert!(ok("1.12.0-beta1", ">= 1.12"));
        assert!(satisfies(&Version::parse("1.0").unwrap(), ">= banana").is_err());
    }
}
