//! Architecture conventions: ARC001 remote state, ARC002 hard-coded ids, ARC003 pinned module
//! sources, ARC004 backend in code, ARC005 README.

use std::sync::LazyLock;

use hcl_edit::structure::Structure;
use regex::Regex;

use super::Hit;
use crate::model::ModuleModel;
use crate::node::{Node, block_head, labels, literal_str};

static HARDCODED: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "ARN with a literal account id",
            Regex::new(r"\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s\x22]*").expect("valid"),
        ),
        (
            "AWS account id",
            Regex::new(r#""(\d{12})""#).expect("valid"),
        ),
        (
            "AWS resource id",
            Regex::new(r"\b(?:vpc|subnet|sg|ami)-(?:[0-9a-f]{17}|[0-9a-f]{8})\b").expect("valid"),
        ),
    ]
});

static REGION_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*"?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"?\s*[=:]\s*$"#).expect("valid")
});

static ACCOUNT_IN_MATCH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{12}").expect("valid"));

/// Documentation accounts (`123456789012`, `111111111111`): examples, not an environment.
fn placeholder_account(id: &str) -> bool {
    let first = id.as_bytes()[0];
    id.bytes().all(|b| b == first)
        || matches!(
            id,
            "123456789012" | "012345678901" | "210987654321" | "098765432109"
        )
}

/// Branch names that do not pin anything.
const BRANCHES: &[&str] = &[
    "main", "master", "develop", "dev", "trunk", "HEAD", "latest",
];

pub fn check(module: &ModuleModel, out: &mut Vec<Hit>) {
    for unit in &module.tf {
        for data in unit.blocks("data") {
            if labels(data).first() == Some(&"terraform_remote_state") {
                out.push(Hit::new(
                    "ARC001",
                    unit,
                    block_head(data),
                    "reads another state",
                ));
            }
        }
        hardcoded_ids(unit, out);
        for call in unit.blocks("module") {
            let node = Node::Body(&call.body);
            let Some(found) = node.attr("source") else {
                continue;
            };
            let Some(source) = literal_str(found.value) else {
                continue;
            };
            if let Some(problem) = unpinned(source, node.attr("version").is_some()) {
                let name = labels(call).first().copied().unwrap_or("?");
                out.push(
                    Hit::new("ARC003", unit, found.span, problem)
                        .message(format!("module `{name}` source is not pinned")),
                );
            }
        }
        for terraform in unit.blocks("terraform") {
            for block in terraform.body.iter().filter_map(Structure::as_block) {
                let what = block.ident.as_str();
                if what == "cloud" || (what == "backend" && !block.body.is_empty()) {
                    out.push(
                        Hit::new("ARC004", unit, block_head(block), "settings in code")
                            .message(format!("`{what}` settings are hard-coded in stack code")),
                    );
                }
            }
        }
    }
    if module.is_stack && !module.has_readme {
        let hit = match (&module.stack_file, module.tf.first()) {
            (Some(unit), _) | (None, Some(unit)) => {
                Hit::new("ARC005", unit, 0..0, "no README.md next to this file")
            }
            (None, None) => return,
        };
        out.push(hit.message(format!("`{}` has no README.md", module.display)));
    }
}

fn hardcoded_ids(unit: &crate::model::SourceUnit, out: &mut Vec<Hit>) {
    let text = unit.source.text();
    let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
    for (what, regex) in HARDCODED.iter() {
        for m in regex.find_iter(text) {
            if taken
                .iter()
                .any(|r| r.start <= m.start() && m.end() <= r.end)
            {
                continue;
            }
            let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line_start..m.start()];
            if before.trim_start().starts_with('#') || before.trim_start().starts_with("//") {
                continue;
            }
            // A map keyed by region (`us-east-1 = "127311923021"`) lists AWS-owned accounts
            // (ELB log delivery, ECR, …): the same in every environment.
            if REGION_KEY.is_match(before) {
                continue;
            }
            if ACCOUNT_IN_MATCH
                .find(m.as_str())
                .is_some_and(|a| placeholder_account(a.as_str()))
            {
                continue;
            }
            taken.push(m.range());
            out.push(
                Hit::new("ARC002", unit, m.range(), *what)
                    .message(format!("{what} hard-coded in stack code")),
            );
        }
    }
}

/// Why a module source is not pinned, or `None` when it is.
fn unpinned(source: &str, has_version: bool) -> Option<String> {
    if source.starts_with("./") || source.starts_with("../") {
        return None;
    }
    let is_git = source.starts_with("git::")
        || source.starts_with("git@")
        || source.starts_with("github.com/")
        || source.starts_with("bitbucket.org/")
        || source.contains(".git");
    if is_git {
        let reference = source
            .split_once('?')
            .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("ref=")));
        return match reference {
            None => Some("git source without ?ref=".into()),
            Some(r) if BRANCHES.contains(&r) => {
                Some(format!("?ref={r} is a branch, not a tag or commit"))
            }
            Some(_) => None,
        };
    }
    let is_registry =
        !source.contains("::") && !source.starts_with("http") && source.split('/').count() >= 3;
    if is_registry && !has_version {
        return Some("registry module without a version".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unpinned;

    #[test]
    fn module_sources() {
        assert!(unpinned("./modules/x", false).is_none());
        assert!(unpinned("terraform-aws-modules/vpc/aws", false).is_some());
        assert!(unpinned("terraform-aws-modules/vpc/aws", true).is_none());
        assert!(unpinned("git::https://example.com/m.git", false).is_some());
        assert!(unpinned("git::https://example.com/m.git?ref=main", false).is_some());
        assert!(unpinned("git::https://example.com/m.git?ref=v1.2.0", false).is_none());
        assert!(unpinned("github.com/org/m?ref=3f2a1b9c", false).is_none());
    }
}
