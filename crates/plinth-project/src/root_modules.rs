//! Root modules of a Terraform repository that has no `stack.hcl` yet: directories with `.tf`
//! files that no other directory calls as a local module.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::WalkBuilder;

use crate::discovery::SKIPPED;
use crate::modules::direct_calls;

/// Terragrunt's working copies: they hold copies of the modules, never code of the repository.
const CACHES: [&str; 2] = [".terragrunt-cache", ".terragrunt-stack"];

/// Every directory under `root` holding `.tf` files, and whether another one calls it.
#[derive(Debug, Clone, Default)]
pub struct TerraformTree {
    /// Directories no other directory calls, sorted: the root modules.
    pub roots: Vec<PathBuf>,
    /// Directories called as a local module by another, sorted.
    pub called: Vec<PathBuf>,
}

/// Walks `root` (honouring `.gitignore`) for directories with `.tf` files and splits them into
/// root modules and called modules, following local `module` sources.
pub fn terraform_tree(root: &Path) -> TerraformTree {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .filter_entry(|entry| {
            let name = entry.file_name();
            !SKIPPED.iter().chain(CACHES.iter()).any(|s| name == *s)
        })
        .build();
    for entry in walker.flatten() {
        if entry.file_type().is_some_and(|t| t.is_file())
            && entry.path().extension().is_some_and(|e| e == "tf")
            && let Some(dir) = entry.path().parent()
        {
            dirs.insert(dir.to_path_buf());
        }
    }
    let cache = Mutex::new(HashMap::new());
    let called: BTreeSet<PathBuf> = dirs
        .iter()
        .flat_map(|d| direct_calls(d, &cache))
        .filter(|c| dirs.contains(c))
        .collect();
    TerraformTree {
        roots: dirs
            .iter()
            .filter(|d| !called.contains(*d))
            .cloned()
            .collect(),
        called: called.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_modules_are_not_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        for (file, text) in [
            (
                "envs/dev/main.tf",
                "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
            ),
            (
                "modules/app/main.tf",
                "module \"net\" {\n  source = \"../net\"\n}\n",
            ),
            (
                "modules/net/main.tf",
                "resource \"terraform_data\" \"n\" {}\n",
            ),
            ("service/main.tf", "resource \"terraform_data\" \"s\" {}\n"),
            (
                "service/.terraform/modules/x/main.tf",
                "resource \"terraform_data\" \"cached\" {}\n",
            ),
            (
                "unit/.terragrunt-cache/abc/main.tf",
                "resource \"terraform_data\" \"cached\" {}\n",
            ),
        ] {
            let p = r.join(file);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let tree = terraform_tree(r);
        assert_eq!(tree.roots, [r.join("envs/dev"), r.join("service")]);
        assert_eq!(tree.called, [r.join("modules/app"), r.join("modules/net")]);
    }
}
