//! Change detection: which instances a set of changed files can affect.
//!
//! Rules (most specific first): a per-environment var file affects, in that environment only,
//! the instances that read it (its own stack's, or every stack's for a shared `../` file); any
//! other file of a stack affects all its instances; a file in a
//! local module affects every stack that calls it; an `environment` block of `plinth.hcl`
//! affects that environment's instances, and the rest of `plinth.hcl` affects everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plinth_config::{PROJECT_FILE, ProjectConfig};
use plinth_diag::Diagnostic;

use crate::Project;
use crate::discovery::SKIPPED;
use crate::var_files::VarFiles;

/// What changed since a base revision.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// Changed, added, deleted and untracked files, as absolute paths.
    pub files: Vec<PathBuf>,
    /// `plinth.hcl` as it was at the base; `None` if it did not exist or did not parse.
    pub base_config: Option<ProjectConfig>,
}

/// Affected instances, keyed by `(env, stack)`, each with the reason it was picked.
#[derive(Debug, Clone, Default)]
pub struct Affected {
    /// `(env, stack id)` → why.
    pub instances: BTreeMap<(String, String), String>,
}

impl Affected {
    fn add(&mut self, env: &str, stack: &str, reason: impl FnOnce() -> String) {
        self.instances
            .entry((env.to_string(), stack.to_string()))
            .or_insert_with(reason);
    }

    /// Whether `env/stack` is affected.
    pub fn contains(&self, env: &str, stack: &str) -> bool {
        self.instances
            .contains_key(&(env.to_string(), stack.to_string()))
    }

    /// Why `env/stack` is affected.
    pub fn reason(&self, env: &str, stack: &str) -> Option<&str> {
        self.instances
            .get(&(env.to_string(), stack.to_string()))
            .map(String::as_str)
    }
}

impl Project {
    /// The instances `changes` can affect, plus their dependents when `with_dependents`.
    pub fn affected(
        &self,
        changes: &ChangeSet,
        with_dependents: bool,
    ) -> Result<Affected, Vec<Diagnostic>> {
        let mut out = Affected::default();
        let envs: Vec<&str> = self.config.environment_names().collect();
        let (module_hits, var_files) = if changes.files.is_empty() {
            (Vec::new(), None)
        } else {
            (
                self.module_hits(&changes.files),
                Some(VarFiles::for_files(self, &changes.files)),
            )
        };
        let project_file = self.root.join(PROJECT_FILE);

        for file in &changes.files {
            let rel = file.strip_prefix(&self.root).unwrap_or(file);
            // Engine caches and plinth's work area are never code, even when a repository
            // forgot to ignore them (discovery skips them for the same reason).
            if rel
                .components()
                .any(|c| SKIPPED.iter().any(|s| c.as_os_str() == *s))
            {
                continue;
            }
            let rel_display = rel.display().to_string();
            if *file == project_file {
                self.project_file_changes(changes.base_config.as_ref(), &mut out);
                continue;
            }
            // A var file affects the instances that read it, in their environments only
            // (its own stack's, or several stacks' for a shared file outside them).
            let readers = var_files.as_ref().map_or(&[][..], |v| v.readers(file));
            for (env, i) in readers {
                let stack = &self.stacks[*i];
                if stack.in_env(env) {
                    out.add(env, &stack.id, || format!("var file {rel_display} changed"));
                }
            }
            // Any other file belongs to the deepest stack directory containing it.
            if let Some((owner, stack)) = self
                .stacks
                .iter()
                .enumerate()
                .filter(|(_, s)| file.starts_with(&s.dir))
                .max_by_key(|(_, s)| s.dir.as_os_str().len())
                && !readers.iter().any(|(_, i)| *i == owner)
            {
                for env in envs.iter().filter(|e| stack.in_env(e)) {
                    out.add(env, &stack.id, || format!("{rel_display} changed"));
                }
            }
            for (i, module, _) in module_hits.iter().filter(|(_, _, f)| *f == file) {
                let stack = &self.stacks[*i];
                let module = module
                    .strip_prefix(&self.root)
                    .map(path_to_slash)
                    .unwrap_or_default();
                for env in envs.iter().filter(|e| stack.in_env(e)) {
                    out.add(env, &stack.id, || {
                        format!("module {module} changed ({rel_display})")
                    });
                }
            }
        }
        if with_dependents {
            let direct: Vec<(String, String)> = out.instances.keys().cloned().collect();
            for env in &envs {
                let seeds: BTreeSet<String> = direct
                    .iter()
                    .filter(|(e, _)| e == env)
                    .map(|(_, s)| s.clone())
                    .collect();
                if seeds.is_empty() {
                    continue;
                }
                let graph = self.graph(env)?;
                for id in graph.with_downstream(&seeds) {
                    if !seeds.contains(&id) {
                        out.add(env, &id, || "depends on a changed instance".to_string());
                    }
                }
            }
        }
        Ok(out)
    }

    fn project_file_changes(&self, base: Option<&ProjectConfig>, out: &mut Affected) {
        let everything = |out: &mut Affected, why: &str| {
            for env in self.config.environment_names() {
                for stack in self.instances(env) {
                    out.add(env, &stack.id, || why.to_string());
                }
            }
        };
        let Some(base) = base else {
            everything(out, "plinth.hcl is new or its base version does not parse");
            return;
        };
        if base.global_fingerprint() != self.config.global_fingerprint() {
            everything(out, "project settings in plinth.hcl changed");
            return;
        }
        for env in &self.config.environments {
            let name = env.name.value.as_str();
            let changed = match base.environment(name) {
                None => Some("environment `{}` is new"),
                Some(old) if old.fingerprint() != env.fingerprint() => {
                    Some("environment `{}` changed in plinth.hcl")
                }
                Some(_)
                    if base.secrets_fingerprint(name) != self.config.secrets_fingerprint(name) =>
                {
                    Some("secrets of environment `{}` changed in plinth.hcl")
                }
                Some(_) => None,
            };
            if let Some(why) = changed {
                for stack in self.instances(name) {
                    out.add(name, &stack.id, || why.replace("{}", name));
                }
            }
        }
    }
}

fn path_to_slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
