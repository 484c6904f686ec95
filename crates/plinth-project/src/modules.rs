//! Local modules called by a stack (`module` blocks whose source is `./…` or `../…`),
//! followed transitively.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use hcl_edit::expr::Expression;
use hcl_edit::structure::Structure;
use rayon::prelude::*;

use crate::Project;

impl Project {
    /// Absolute directories of the local modules each stack calls, transitively, by stack id.
    ///
    /// Files that do not parse are skipped: the engine reports those, and a guess here would
    /// only hide a stack from change detection less often than it would mislead.
    pub fn local_modules(&self) -> HashMap<String, Vec<PathBuf>> {
        let cache: Mutex<HashMap<PathBuf, Vec<PathBuf>>> = Mutex::new(HashMap::new());
        self.stacks
            .par_iter()
            .map(|stack| {
                let mut seen = BTreeSet::new();
                let mut todo = vec![stack.dir.clone()];
                while let Some(dir) = todo.pop() {
                    for module in direct_calls(&dir, &cache) {
                        if seen.insert(module.clone()) {
                            todo.push(module);
                        }
                    }
                }
                (stack.id.clone(), seen.into_iter().collect())
            })
            .collect()
    }
}

/// The local module directories the `.tf` files of `dir` call, memoised in `cache`.
impl Project {
    /// For each stack whose local modules (transitively) hold one of `files`: the stack's
    /// index, the module directory and the file. Closures are walked and dropped one stack at
    /// a time, so 50,000 stacks do not keep 50,000 of them.
    pub(crate) fn module_hits<'f>(
        &self,
        files: &'f [PathBuf],
    ) -> Vec<(usize, PathBuf, &'f PathBuf)> {
        let cache: Mutex<HashMap<PathBuf, Vec<PathBuf>>> = Mutex::new(HashMap::new());
        let mut hits: Vec<(usize, PathBuf, &PathBuf)> = self
            .stacks
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, stack)| {
                let mut seen = BTreeSet::new();
                let mut todo = vec![stack.dir.clone()];
                while let Some(dir) = todo.pop() {
                    for module in direct_calls(&dir, &cache) {
                        if seen.insert(module.clone()) {
                            todo.push(module);
                        }
                    }
                }
                let mut found = Vec::new();
                for file in files {
                    if let Some(module) = seen.iter().find(|m| file.starts_with(m)) {
                        found.push((i, module.clone(), file));
                    }
                }
                found
            })
            .collect();
        hits.sort_by_key(|(i, _, _)| *i);
        hits
    }
}

pub(crate) fn direct_calls(
    dir: &Path,
    cache: &Mutex<HashMap<PathBuf, Vec<PathBuf>>>,
) -> Vec<PathBuf> {
    if let Some(hit) = cache
        .lock()
        .expect("no panics while holding the lock")
        .get(dir)
    {
        return hit.clone();
    }
    let mut calls = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            // Most .tf files call no module: a substring test spares parsing them, which was
            // nine tenths of `--changed` on the 5,000-stack benchmark.
            if path.extension().is_some_and(|e| e == "tf")
                && let Ok(text) = std::fs::read_to_string(&path)
                && text.contains("module")
            {
                calls.extend(
                    module_sources(&text)
                        .into_iter()
                        .map(|src| normalize(&dir.join(src))),
                );
            }
        }
    }
    calls.sort();
    calls.dedup();
    cache
        .lock()
        .expect("no panics while holding the lock")
        .insert(dir.to_path_buf(), calls.clone());
    calls
}

/// The local `source` paths of the `module` blocks in one `.tf` file.
fn module_sources(text: &str) -> Vec<String> {
    let Ok(body) = hcl_edit::parser::parse_body(text.strip_prefix('\u{feff}').unwrap_or(text))
    else {
        return Vec::new();
    };
    body.iter()
        .filter_map(|s| match s {
            Structure::Block(b) if b.ident.value().as_str() == "module" => {
                b.body.get_attribute("source")
            }
            _ => None,
        })
        .filter_map(|attr| match &attr.value {
            Expression::String(s) if s.starts_with("./") || s.starts_with("../") => {
                Some(s.value().clone())
            }
            _ => None,
        })
        .collect()
}

/// Lexically removes `.` and `..` (the module may not exist yet, so no canonicalize).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_local_sources_only() {
        let text = r#"
module "a" { source = "../../components/a" }
module "b" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}
module "c" { source = "./c" }
"#;
        assert_eq!(module_sources(text), ["../../components/a", "./c"]);
        assert_eq!(
            normalize(Path::new("/r/envs/dev/../../components/a")),
            Path::new("/r/components/a")
        );
    }
}
