//! Per-environment var files: which instances read a file through `plinth.var_files`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use plinth_config::Scope;
use serde_json::{Value, json};

use crate::Project;
use crate::modules::normalize;

/// The var files of every stack in every environment, resolved the way the runner reads
/// them (relative to the stack's directory), by absolute path.
///
/// Kept by path rather than by pattern so that a file outside the stack's directory (a
/// shared `../../env/prod.tfvars`) maps to every instance that reads it.
pub(crate) struct VarFiles {
    /// Path → `(environment, stack index)` of each reader, including environments where the
    /// stack has no instance (a var file for those affects nothing, rather than everything).
    readers: HashMap<PathBuf, Vec<(String, usize)>>,
}

/// `var_files` patterns may only use `env.name` (checked when plinth.hcl is parsed).
struct EnvScope<'a>(&'a str);

impl Scope for EnvScope<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        (name == "env").then(|| json!({ "name": self.0 }))
    }
}

impl VarFiles {
    /// Resolves every pattern for every stack and environment of `project`, keeping the
    /// readers of `files` only (a repository-wide map would hold a path per stack, pattern
    /// and environment).
    pub(crate) fn for_files(project: &Project, files: &[PathBuf]) -> VarFiles {
        let wanted: std::collections::HashSet<&Path> = files.iter().map(PathBuf::as_path).collect();
        let mut readers: HashMap<PathBuf, Vec<(String, usize)>> = HashMap::new();
        for env in project.config.environment_names() {
            let rels: Vec<String> = project
                .config
                .plinth
                .var_files
                .iter()
                .filter_map(|p| match p.value.evaluate(&EnvScope(env)) {
                    Ok(Value::String(s)) => Some(s),
                    _ => None,
                })
                .collect();
            for (i, stack) in project.stacks.iter().enumerate() {
                for rel in &rels {
                    let path = normalize(&stack.dir.join(rel));
                    if wanted.contains(path.as_path()) {
                        readers.entry(path).or_default().push((env.to_string(), i));
                    }
                }
            }
        }
        VarFiles { readers }
    }

    /// `(environment, stack index)` of every instance that reads `file` as a var file.
    pub(crate) fn readers(&self, file: &Path) -> &[(String, usize)] {
        self.readers.get(file).map_or(&[], Vec::as_slice)
    }
}
