//! `plinth init` in an existing Terraform repository: its root modules become stacks, its
//! environments come from per-environment var files and `envs/<env>/` directories, and its
//! `terraform_remote_state` reads are listed as the `dependency` blocks they should become.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plinth_project::{DeclaredBackend, declared_backend, remote_state_reads, terraform_tree};

use crate::hcl::HclExpr;
use crate::project_file::{EnvSpec, ProjectSpec, StateSpec, var_file_pattern};
use crate::proposal::{Note, NoteKind, Proposal};
use crate::scaffold::is_production;
use crate::stack_file::StackSpec;

/// Settings of the discovery.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    /// Project name.
    pub project: String,
    /// `terraform` or `tofu`.
    pub engine: String,
    /// Environments to declare when the repository shows none.
    pub default_environments: Vec<String>,
}

/// Directories whose `<env>.tfvars` files name environments, relative to a stack.
const VAR_FILE_DIRS: [&str; 6] = ["", "env", "envs", "environments", "vars", "tfvars"];

/// Parent directories whose children are one environment each (`envs/dev/`).
const ENV_PARENTS: [&str; 2] = ["envs", "environments"];

/// Plinth backends a declared `backend` block can map to.
const BACKENDS: [&str; 6] = ["local", "s3", "pg", "gcs", "azurerm", "http"];

/// One root module as found.
struct Root {
    id: String,
    dir: PathBuf,
    /// Environment → var file (relative to the stack) that names it.
    var_files: BTreeMap<String, String>,
    /// The environment an `envs/<env>/` directory is bound to.
    bound_env: Option<String>,
    backend: Option<DeclaredBackend>,
}

/// Proposes `plinth.hcl` and a `stack.hcl` per root module of the repository at `root`.
pub fn discover(root: &Path, options: &DiscoverOptions) -> Proposal {
    let mut p = Proposal::default();
    let tree = terraform_tree(root);
    let mut roots = Vec::new();
    for dir in &tree.roots {
        let id = rel(root, dir);
        if id.split('/').any(|c| c == "modules") {
            p.note(Note::at(
                &id,
                None,
                NoteKind::Suggestion,
                "no root module calls this module and it sits under `modules/`: treated as a \
                 library module, not a stack (add a stack.hcl to make it one)",
            ));
            continue;
        }
        roots.push(Root {
            var_files: env_var_files(dir),
            bound_env: bound_env(&id),
            backend: declared_backend(dir),
            id,
            dir: dir.clone(),
        });
    }
    let environments = environments(&roots, options);
    let state = state_block(root, &roots, &mut p);
    let mut spec = ProjectSpec {
        header: vec![
            "Proposed by `plinth init` from the Terraform code found here (DESIGN.md §2.1).".into(),
        ],
        project: options.project.clone(),
        engine: Some(options.engine.clone()),
        engine_version: Some(">= 1.6".into()),
        var_files: var_files_setting(&roots),
        state,
        environments: environments
            .iter()
            .map(|name| EnvSpec {
                name: name.clone(),
                protected: is_production(name),
                ..EnvSpec::default()
            })
            .collect(),
    };
    local_endpoints(&mut spec, &roots, &mut p);
    p.file(
        "plinth.hcl",
        spec.render(),
        "project: engine, state and environments",
    );

    let ids: BTreeMap<PathBuf, String> = roots
        .iter()
        .map(|r| (r.dir.clone(), r.id.clone()))
        .collect();
    for r in &roots {
        let mut stack = StackSpec::default();
        let envs: Vec<String> = match &r.bound_env {
            Some(env) => {
                stack
                    .header
                    .push(format!("Bound to `{env}` by its directory."));
                vec![env.clone()]
            }
            None => r.var_files.keys().cloned().collect(),
        };
        if !envs.is_empty() && envs.len() < environments.len() {
            if r.bound_env.is_none() {
                let files: Vec<&str> = r.var_files.values().map(String::as_str).collect();
                stack.header.push(format!(
                    "Environments from its var files: {}.",
                    files.join(", ")
                ));
            }
            stack.environments = Some(order(envs));
        }
        remote_state(root, r, &roots, &ids, &mut stack, &mut p);
        let path = if r.id == "." {
            "stack.hcl".to_string()
        } else {
            format!("{}/stack.hcl", r.id)
        };
        p.file(path, stack.render(), "stack: a root module");
        p.stacks.push(r.id.clone());
    }
    if roots.is_empty() {
        p.note(Note::general(
            NoteKind::NotConverted,
            "no root module found: no directory with .tf files that another does not call",
        ));
    }
    hint_other_tools(root, &mut p);
    p.environments = environments;
    p
}

fn rel(root: &Path, dir: &Path) -> String {
    let parts: Vec<String> = dir
        .strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// `<env>.tfvars` files of a stack: environment → path relative to the stack.
fn env_var_files(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for sub in VAR_FILE_DIRS {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        names.sort();
        for name in names {
            let Some(env) = name.strip_suffix(".tfvars") else {
                continue;
            };
            // terraform.tfvars and *.auto.tfvars are loaded in every environment.
            if env == "terraform" || env.ends_with(".auto") || !crate::hcl::is_identifier(env) {
                continue;
            }
            let path = if sub.is_empty() {
                name.clone()
            } else {
                format!("{sub}/{name}")
            };
            found.entry(env.to_string()).or_insert(path);
        }
    }
    found
}

/// The environment of a stack under `envs/<env>/`.
fn bound_env(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    parts
        .windows(2)
        .find(|w| ENV_PARENTS.contains(&w[0]))
        .map(|w| w[1].to_string())
}

fn environments(roots: &[Root], options: &DiscoverOptions) -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for r in roots {
        names.extend(r.var_files.keys().cloned());
        names.extend(r.bound_env.clone());
    }
    if names.is_empty() {
        return options.default_environments.clone();
    }
    order(names.into_iter().collect())
}

/// Environments in the usual promotion order: dev before staging before prod.
pub(crate) fn order(mut envs: Vec<String>) -> Vec<String> {
    fn rank(name: &str) -> u8 {
        match name {
            "local" => 0,
            "dev" | "development" | "sandbox" => 1,
            "ci" => 2,
            "test" | "qa" | "int" | "integration" => 3,
            "uat" => 5,
            "stage" | "staging" | "preprod" | "pre-prod" => 6,
            "prod" | "production" | "prd" | "live" => 7,
            _ => 4,
        }
    }
    envs.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));
    envs.dedup();
    envs
}

/// `var_files` when the stacks keep their var files somewhere the default does not look.
fn var_files_setting(roots: &[Root]) -> Option<Vec<String>> {
    let mut dirs: Vec<&str> = Vec::new();
    for r in roots {
        for path in r.var_files.values() {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    if dirs.iter().all(|d| *d == "env" || d.is_empty()) {
        return None;
    }
    dirs.sort_by_key(|d| VAR_FILE_DIRS.iter().position(|v| v == d));
    Some(dirs.iter().map(|d| var_file_pattern(d)).collect())
}

/// The `state` block from the backends the root modules declare.
fn state_block(root: &Path, roots: &[Root], p: &mut Proposal) -> Option<StateSpec> {
    let declared: Vec<(&Root, &DeclaredBackend)> = roots
        .iter()
        .filter_map(|r| r.backend.as_ref().map(|b| (r, b)))
        .collect();
    for (r, b) in &declared {
        p.note(Note::at(
            &rel(root, &b.file),
            Some(b.line),
            NoteKind::Changed,
            format!(
                "`{}` declares backend \"{}\": plinth configures each instance's backend itself \
                 (plinth_backend_override.tf) with the key ${{project}}/${{env.name}}/${{stack.id}}; \
                 move existing state there (`terraform state pull`/`push`) and delete the block \
                 (`plinth check` flags it as ARC004)",
                r.id, b.kind
            ),
        ));
    }
    let kinds: BTreeSet<&str> = declared.iter().map(|(_, b)| b.kind.as_str()).collect();
    let kind = match kinds.iter().collect::<Vec<_>>().as_slice() {
        [] => return None,
        [one] if BACKENDS.contains(one) => **one,
        _ => {
            p.note(Note::general(
                NoteKind::NotConverted,
                format!(
                    "the root modules declare backends {}: plinth has one `state` block; the \
                     local backend is proposed, set the one you want in plinth.hcl",
                    kinds.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
            return None;
        }
    };
    if kind == "local" {
        return None;
    }
    // Settings every block agrees on carry over; the per-stack key is plinth's to choose.
    let mut config: Vec<(String, HclExpr)> = Vec::new();
    if let Some((_, first)) = declared.first() {
        for (k, v) in &first.config {
            if matches!(
                k.as_str(),
                "key" | "prefix" | "path" | "workspace_key_prefix"
            ) {
                continue;
            }
            if declared.iter().all(|(_, b)| b.config.get(k) == Some(v)) {
                config.push((k.clone(), HclExpr::str(v)));
            }
        }
    }
    Some(StateSpec {
        backend: kind.to_string(),
        key: None,
        config,
    })
}

/// Each `terraform_remote_state` read: matched to a stack it becomes `after` plus a note on the
/// `dependency` block to write; unmatched it is listed.
fn remote_state(
    root: &Path,
    r: &Root,
    roots: &[Root],
    ids: &BTreeMap<PathBuf, String>,
    stack: &mut StackSpec,
    p: &mut Proposal,
) {
    for read in remote_state_reads(&r.dir) {
        let upstream = match_read(r, &read, roots, ids);
        let file = rel(root, &read.file);
        let wiring: Vec<String> = read
            .outputs
            .iter()
            .map(|o| format!("{o} = dependency.{}.outputs.{o}", read.name))
            .collect();
        let message = match &upstream {
            Some(id) => {
                if !stack.after.contains(id) {
                    stack.after.push(id.clone());
                }
                format!(
                    "data.terraform_remote_state.{} reads the state of stack `{id}`: make it \
                     `dependency \"{}\" {{ stack = \"{id}\" }}` with inputs {{ {} }} and variables \
                     in place of the data source (proposed for now: `after = [\"{id}\"]`)",
                    read.name,
                    read.name,
                    wiring.join(", ")
                )
            }
            None => format!(
                "data.terraform_remote_state.{} ({}) reads state this repository does not \
                 produce as a stack: keep it, or make its producer a stack and use a \
                 `dependency` block",
                read.name,
                describe(&read.config, read.backend.as_deref())
            ),
        };
        p.note(Note::at(
            &file,
            Some(read.line),
            NoteKind::Suggestion,
            message,
        ));
    }
}

fn describe(config: &BTreeMap<String, String>, backend: Option<&str>) -> String {
    let mut parts = vec![format!("backend {}", backend.unwrap_or("?"))];
    for key in ["bucket", "key", "path", "prefix"] {
        if let Some(v) = config.get(key) {
            parts.push(format!("{key} {v:?}"));
        }
    }
    parts.join(", ")
}

fn match_read(
    r: &Root,
    read: &plinth_project::RemoteStateRead,
    roots: &[Root],
    ids: &BTreeMap<PathBuf, String>,
) -> Option<String> {
    if let Some(path) = read.config.get("path") {
        let target = normalize(&r.dir.join(path));
        return ids
            .iter()
            .filter(|(dir, _)| target.starts_with(dir) && **dir != r.dir)
            .max_by_key(|(dir, _)| dir.components().count())
            .map(|(_, id)| id.clone());
    }
    let key = read
        .config
        .get("key")
        .or_else(|| read.config.get("prefix"))?;
    let by_backend = roots.iter().find(|o| {
        o.id != r.id
            && o.backend.as_ref().is_some_and(|b| {
                b.config.get("key").or_else(|| b.config.get("prefix")) == Some(key)
                    && read
                        .config
                        .get("bucket")
                        .is_none_or(|bucket| b.config.get("bucket").is_none_or(|x| x == bucket))
            })
    });
    if let Some(o) = by_backend {
        return Some(o.id.clone());
    }
    // `network/terraform.tfstate` for a stack `network`: the key names the stack's path.
    let stem = key
        .trim_end_matches("/terraform.tfstate")
        .trim_end_matches(".tfstate");
    roots
        .iter()
        .find(|o| o.id != r.id && (o.id == stem || stem.ends_with(&format!("/{}", o.id))))
        .map(|o| o.id.clone())
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// An environment called `local` for code on the AWS provider gets LocalStack's endpoint.
fn local_endpoints(spec: &mut ProjectSpec, roots: &[Root], p: &mut Proposal) {
    let Some(local) = spec.environments.iter_mut().find(|e| e.name == "local") else {
        return;
    };
    let uses_aws = roots.iter().any(|r| {
        std::fs::read_dir(&r.dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.path().extension().is_some_and(|x| x == "tf")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| {
                        t.contains("provider \"aws\"") || t.contains("resource \"aws_")
                    })
            })
    });
    if uses_aws {
        local
            .endpoints
            .push(("aws".into(), "http://localhost:4566".into()));
        p.note(Note::general(
            NoteKind::Suggestion,
            "environment `local` points the aws provider at http://localhost:4566 (LocalStack); \
             change `endpoints` in plinth.hcl if your emulator listens elsewhere",
        ));
    }
}

fn hint_other_tools(root: &Path, p: &mut Proposal) {
    if root.join("atlantis.yaml").is_file() || root.join("atlantis.yml").is_file() {
        p.note(Note::general(
            NoteKind::Suggestion,
            "atlantis.yaml found: `plinth import atlantis` converts its projects, workflows and \
             apply requirements",
        ));
    }
    let terragrunt = ignore::WalkBuilder::new(root)
        .hidden(false)
        .max_depth(Some(6))
        .build()
        .flatten()
        .any(|e| e.file_name() == "terragrunt.hcl");
    if terragrunt {
        p.note(Note::general(
            NoteKind::Suggestion,
            "terragrunt.hcl files found: `plinth import terragrunt` converts the units with their \
             dependencies, inputs and remote state",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_order_is_promotion_order() {
        let envs = order(vec![
            "prod".into(),
            "dev".into(),
            "staging".into(),
            "zeta".into(),
        ]);
        assert_eq!(envs, ["dev", "zeta", "staging", "prod"]);
        assert_eq!(bound_env("envs/dev"), Some("dev".into()));
        assert_eq!(
            bound_env("team/environments/prod/network"),
            Some("prod".into())
        );
        assert_eq!(bound_env("services/api"), None);
    }
}
