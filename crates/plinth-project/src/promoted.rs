//! What a promotion compares: the code of a stack that moves from one environment to the
//! next — its files and the local modules it calls, without the var files that belong to
//! one environment (`env/prod.tfvars` legitimately differs from `env/staging.tfvars`), but
//! with var files every environment shares.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use plinth_config::Scope;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Project;
use crate::modules::normalize;
use crate::tree_digest::{hash_tree, tree_digest};

/// The promoted code of one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotedCode {
    /// Digest of the stack's files (less per-environment var files), its local modules and
    /// its shared var files.
    pub fingerprint: String,
    /// Each local module it calls: `(path relative to the project root, digest)`.
    pub modules: Vec<(String, String)>,
}

struct EnvName<'a>(&'a str);

impl Scope for EnvName<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        (name == "env").then(|| json!({ "name": self.0, "template": self.0 }))
    }
}

impl Project {
    /// The promoted code of stack `id`, which calls the local modules `modules` (absolute
    /// directories, as [`Project::local_modules`] lists them).
    pub fn promoted_code(&self, id: &str, modules: &[PathBuf]) -> Option<PromotedCode> {
        let stack = self.stack(id)?;
        let (per_env, shared) = self.var_file_paths(&stack.dir);
        let mut h = Sha256::new();
        hash_tree(&stack.dir, &stack.dir, &mut h, &per_env);
        for file in shared.iter().filter(|f| !f.starts_with(&stack.dir)) {
            if let Ok(bytes) = std::fs::read(file) {
                h.update(b"shared var file\0");
                h.update(self.relative(file).as_bytes());
                h.update([0]);
                h.update(&bytes);
            }
        }
        let mut mods: Vec<(String, String)> = modules
            .iter()
            .map(|m| (self.relative(m), tree_digest(m)))
            .collect();
        mods.sort();
        for (path, digest) in &mods {
            h.update(b"module\0");
            h.update(path.as_bytes());
            h.update([0]);
            h.update(digest.as_bytes());
        }
        Some(PromotedCode {
            fingerprint: hex::encode(h.finalize()),
            modules: mods,
        })
    }

    /// The var files of a stack in `dir`: those that depend on the environment (excluded
    /// from promotion) and those every environment shares (included).
    fn var_file_paths(&self, dir: &Path) -> (HashSet<PathBuf>, HashSet<PathBuf>) {
        let mut per_env = HashSet::new();
        let mut shared = HashSet::new();
        for pattern in &self.config.plinth.var_files {
            let by_env = !pattern.value.references().is_empty();
            for env in self.config.environment_names() {
                if let Ok(Value::String(rel)) = pattern.value.evaluate(&EnvName(env)) {
                    let path = normalize(&dir.join(rel));
                    if by_env {
                        per_env.insert(path);
                    } else {
                        shared.insert(path);
                    }
                }
            }
        }
        (per_env, shared)
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(root: &Path) -> Project {
        std::fs::write(
            root.join("plinth.hcl"),
            "environment \"staging\" {}\nenvironment \"prod\" {\n  promote_from = \"staging\"\n}\n",
        )
        .unwrap();
        Project::load(root).unwrap()
    }

    #[test]
    fn per_environment_var_files_do_not_count_shared_code_does() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("app/env")).unwrap();
        std::fs::create_dir_all(root.join("mod")).unwrap();
        std::fs::write(root.join("app/stack.hcl"), "").unwrap();
        std::fs::write(
            root.join("app/main.tf"),
            "module \"m\" { source = \"../mod\" }\n",
        )
        .unwrap();
        std::fs::write(root.join("app/env/prod.tfvars"), "size = 1\n").unwrap();
        std::fs::write(root.join("mod/main.tf"), "# v1\n").unwrap();
        let p = project(&root);
        let mods = vec![root.join("mod")];
        let a = p.promoted_code("app", &mods).unwrap();
        std::fs::write(root.join("app/env/prod.tfvars"), "size = 2\n").unwrap();
        std::fs::write(root.join("app/staging.tfvars"), "size = 3\n").unwrap();
        assert_eq!(
            p.promoted_code("app", &mods).unwrap(),
            a,
            "per-env var files"
        );
        std::fs::write(root.join("mod/main.tf"), "# v2\n").unwrap();
        let b = p.promoted_code("app", &mods).unwrap();
        assert_ne!(
            b.fingerprint, a.fingerprint,
            "a module change is promoted code"
        );
        assert_eq!(b.modules[0].0, "mod");
        assert_ne!(b.modules[0].1, a.modules[0].1);
    }
}
