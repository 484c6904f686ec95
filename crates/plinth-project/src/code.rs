//! What plinth needs to know of a stack's Terraform code without running the engine: the
//! variables it declares, what `init` depends on, whether it needs registry providers, the
//! resources it declares (`facts`), and a digest of every file a plan reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hcl_edit::structure::{Body, Structure};
use sha2::{Digest, Sha256};

use crate::facts::{CodeFacts, Collector};

/// Static facts about one stack's code.
#[derive(Debug, Clone)]
pub struct StackCode {
    /// Variables the root module declares; `None` when a `.tf` file does not parse (the
    /// engine will report it).
    pub variables: Option<BTreeSet<String>>,
    /// Text that `init` depends on: `terraform` blocks, module sources and versions (of the
    /// stack and its local modules) and the dependency lock file.
    pub init_key: String,
    /// Whether any provider outside Terraform's built-in one may be needed.
    pub needs_providers: bool,
    /// SHA-256 over every file of the stack and its local modules.
    pub digest: String,
    /// The resources of the stack and its local modules, from the same parse.
    pub facts: CodeFacts,
    /// Root variables declared `sensitive = true` (their values are redacted from stored
    /// plan JSON).
    pub sensitive_variables: BTreeSet<String>,
    /// Root variables declared `ephemeral = true` (Terraform ≥ 1.10): kept out of the plan
    /// file, so they are given again when a saved plan is applied.
    pub ephemeral_variables: BTreeSet<String>,
}

impl StackCode {
    /// Reads the stack in `dir` and the local module directories it calls.
    pub fn read(dir: &Path, modules: &[PathBuf]) -> StackCode {
        let mut variables = Some(BTreeSet::new());
        let mut sensitive_variables = BTreeSet::new();
        let mut ephemeral_variables = BTreeSet::new();
        let mut init_key = String::new();
        let mut needs_providers = false;
        let mut facts = Collector::new(dir);
        for (i, d) in std::iter::once(dir)
            .chain(modules.iter().map(PathBuf::as_path))
            .enumerate()
        {
            for file in tf_files(d) {
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                let Ok(body) =
                    hcl_edit::parser::parse_body(text.strip_prefix('\u{feff}').unwrap_or(&text))
                else {
                    if i == 0 {
                        variables = None;
                    }
                    // Unparseable code: make `init` run again rather than trust a stale one.
                    init_key.push_str(&text);
                    facts.unparsed(file);
                    continue;
                };
                if i == 0 {
                    for (name, sensitive, ephemeral) in declared_variables(&body) {
                        if sensitive {
                            sensitive_variables.insert(name.clone());
                        }
                        if ephemeral {
                            ephemeral_variables.insert(name.clone());
                        }
                        if let Some(vars) = variables.as_mut() {
                            vars.insert(name);
                        }
                    }
                }
                needs_providers |= uses_providers(&body);
                init_key.push_str(&init_relevant(&body, &text));
                facts.add(d, file, text, body);
            }
        }
        if let Ok(lock) = std::fs::read_to_string(dir.join(".terraform.lock.hcl")) {
            init_key.push_str(&lock);
        }
        let mut h = Sha256::new();
        for d in std::iter::once(dir).chain(modules.iter().map(PathBuf::as_path)) {
            crate::tree_digest::hash_tree(d, d, &mut h, &Default::default());
        }
        StackCode {
            variables,
            init_key,
            needs_providers,
            digest: hex::encode(h.finalize()),
            facts: facts.finish(),
            sensitive_variables,
            ephemeral_variables,
        }
    }
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        // plinth writes this one into the stack; its backend settings reach `init` on their own.
        .filter(|p| {
            p.file_name()
                .is_none_or(|n| !crate::tree_digest::is_generated(&n.to_string_lossy()))
        })
        .collect();
    files.sort();
    files
}

/// `(name, sensitive, ephemeral)` of each `variable` block.
fn declared_variables(body: &Body) -> impl Iterator<Item = (String, bool, bool)> + '_ {
    let flag = |b: &hcl_edit::structure::Block, key: &str| {
        b.body
            .get_attribute(key)
            .is_some_and(|a| matches!(&a.value, hcl_edit::expr::Expression::Bool(v) if *v.value()))
    };
    body.blocks()
        .filter(|b| b.ident.value().as_str() == "variable")
        .filter_map(move |b| {
            b.labels.first().map(|l| {
                (
                    l.as_str().to_string(),
                    flag(b, "sensitive"),
                    flag(b, "ephemeral"),
                )
            })
        })
}

fn uses_providers(body: &Body) -> bool {
    body.blocks().any(|b| match b.ident.value().as_str() {
        "provider" => true,
        "resource" | "data" | "ephemeral" => b
            .labels
            .first()
            .is_some_and(|t| !t.as_str().starts_with("terraform_")),
        "terraform" => b.body.blocks().any(|inner| {
            inner.ident.value().as_str() == "required_providers" && !inner.body.is_empty()
        }),
        _ => false,
    })
}

fn init_relevant(body: &Body, text: &str) -> String {
    use hcl_edit::Span;
    let slice = |span: Option<std::ops::Range<usize>>| {
        span.and_then(|r| text.get(r))
            .unwrap_or_default()
            .to_string()
    };
    let mut out = String::new();
    for s in body.iter() {
        let Structure::Block(b) = s else { continue };
        match b.ident.value().as_str() {
            "terraform" => out.push_str(&slice(b.span())),
            "module" => {
                for key in ["source", "version"] {
                    if let Some(a) = b.body.get_attribute(key) {
                        out.push_str(&slice(a.span()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The backend override file plinth generates into stacks; it is not the user's code.
pub const GENERATED_OVERRIDE: &str = "plinth_backend_override.tf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_variables_providers_and_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(
            d.join("main.tf"),
            "variable \"a\" {}\nvariable \"b\" {}\nresource \"terraform_data\" \"x\" {}\n",
        )
        .unwrap();
        let code = StackCode::read(d, &[]);
        assert_eq!(
            code.variables.unwrap().into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(!code.needs_providers);
        std::fs::write(d.join("aws.tf"), "resource \"aws_s3_bucket\" \"b\" {}\n").unwrap();
        let code2 = StackCode::read(d, &[]);
        assert!(code2.needs_providers);
        assert_ne!(code.digest, code2.digest);
        std::fs::write(
            d.join(GENERATED_OVERRIDE),
            "terraform {\n  backend \"local\" {}\n}\n",
        )
        .unwrap();
        let code3 = StackCode::read(d, &[]);
        assert_eq!(
            code3.digest, code2.digest,
            "generated files do not change the digest"
        );
        assert_eq!(
            code3.init_key, code2.init_key,
            "generated files do not change what init depends on"
        );
    }
}
