//! `plinth import terragrunt`: units (`terragrunt.hcl`) become stacks.
//!
//! Each unit is read as Terragrunt reads it: its `include`s merged (`root.hcl`, `_envcommon/…`),
//! locals evaluated, `read_terragrunt_config` followed (`env.hcl`, `account.hcl`,
//! `region.hcl`), `find_in_parent_folders()` and `path_relative_to_include()` computed. Then
//! `dependency` blocks become `dependency` blocks (mocks kept), `dependencies { paths }` become
//! `after`, `inputs` become `inputs` with `dependency.X.outputs.Y` kept, `remote_state` becomes
//! the `state` block, the env/account hierarchy becomes environments, and a unit whose code is
//! elsewhere gets a wrapper calling it. What cannot be converted is a note with `file:line`.

mod config;
mod convert;
mod envs;
mod eval;
mod files;
mod functions;
mod state;
mod unit;
mod value;
mod wrapper;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use plinth_diag::Diagnostic;
use plinth_project::ModuleInterface;
use rayon::prelude::*;
use serde_json::Value;

use crate::project_file::EnvSpec;
use crate::project_file::ProjectSpec;
use crate::proposal::{Location, Note, NoteKind, Proposal};
use files::Loader;
use unit::Unit;
use value::PVal;

/// The file that makes a directory a Terragrunt unit.
pub const UNIT_FILE: &str = "terragrunt.hcl";

/// Directories never searched: caches and work areas.
const SKIPPED: [&str; 5] = [
    ".git",
    ".terraform",
    ".terragrunt-cache",
    ".terragrunt-stack",
    ".plinth",
];

/// Settings of the conversion.
#[derive(Debug, Clone)]
pub struct TerragruntOptions {
    /// Project name.
    pub project: String,
}

/// Converts the Terragrunt tree at `root` (absolute); syntax errors in its files are returned
/// as diagnostics (nothing is proposed then).
pub fn convert(root: &Path, options: &TerragruntOptions) -> Result<Proposal, Vec<Diagnostic>> {
    let loader = Loader::new(root);
    let mut notes: Vec<Note> = Vec::new();
    let (unit_files, stack_files) = find_units(root);
    for f in stack_files {
        notes.push(Note::at(
            &loader.display(&f),
            None,
            NoteKind::NotConverted,
            "explicit stacks (terragrunt.stack.hcl) are not converted: run `terragrunt stack generate` and import the generated units",
        ));
    }
    let resolved: Vec<Result<Unit, value::Problem>> = unit_files
        .par_iter()
        .map(|f| unit::resolve(&loader, f))
        .collect();
    let errors = loader.take_errors();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut units = Vec::new();
    for r in resolved {
        match r {
            Ok(u) => units.push(u),
            Err(p) => notes.push(convert::problem_note(&p, "unit not converted")),
        }
    }
    // A terragrunt.hcl that others include (the old root convention) is configuration, not a unit.
    let mut included: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for u in &units {
        for p in &u.included {
            *included.entry(p.clone()).or_default() += 1;
        }
    }
    units.retain(|u| {
        let path = u.dir.join(UNIT_FILE);
        match included.get(&path) {
            Some(n) => {
                notes.push(Note::at(
                    &u.file,
                    None,
                    NoteKind::Changed,
                    format!("included by {n} unit(s): its settings were merged into them; it is not a stack"),
                ));
                false
            }
            None => true,
        }
    });
    units.retain(|u| match u.config.attr("skip") {
        Some((_, Ok(PVal::Known(Value::Bool(true))), loc)) => {
            notes.push(Note::at(
                &loc.file,
                loc.line,
                NoteKind::Changed,
                "`skip = true`: Terragrunt never ran this unit; not converted",
            ));
            false
        }
        _ => true,
    });
    for u in &units {
        notes.extend(u.notes.iter().cloned());
    }
    let (env_of, environments) = envs::assign(&loader, &units, &mut notes);
    let index: HashMap<PathBuf, (&str, &str)> = units
        .iter()
        .map(|u| (u.dir.clone(), (u.id.as_str(), env_of[&u.id].as_str())))
        .collect();
    let interfaces: Mutex<HashMap<PathBuf, Option<ModuleInterface>>> = Mutex::new(HashMap::new());
    let read_module = |dir: &Path| -> Option<ModuleInterface> {
        if let Some(hit) = interfaces
            .lock()
            .expect("no panic holding the lock")
            .get(dir)
        {
            return hit.clone();
        }
        let i = ModuleInterface::read(dir);
        interfaces
            .lock()
            .expect("no panic holding the lock")
            .insert(dir.to_path_buf(), i.clone());
        i
    };
    let wired: Vec<(Option<convert::Wiring>, Vec<Note>)> = units
        .par_iter()
        .map(|u| {
            let mut n = Vec::new();
            let w = convert::wire(u, &index, &env_of[&u.id], &read_module, &mut n);
            (w, n)
        })
        .collect();
    // Outputs each stack must export: what the others read, and what their mocks name.
    let mut read_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (w, n) in &wired {
        notes.extend(n.iter().cloned());
        if let Some(w) = w {
            for (id, output) in &w.reads {
                read_by
                    .entry(id.clone())
                    .or_default()
                    .insert(output.clone());
            }
            for d in &w.dependencies {
                read_by
                    .entry(d.stack.clone())
                    .or_default()
                    .extend(d.mock_outputs.keys().cloned());
            }
        }
    }
    let engine = engine_settings(&units, &mut notes);
    let required_version = engine.1.clone().unwrap_or_else(|| ">= 1.6".to_string());
    let mut p = Proposal::default();
    let converted: Vec<&Unit> = units
        .iter()
        .zip(&wired)
        .filter(|(_, (w, _))| w.is_some())
        .map(|(u, _)| u)
        .collect();
    let state = state::state_block(&converted, &env_of, &mut notes);
    let spec = ProjectSpec {
        header: vec![format!("Converted by `plinth import terragrunt` from {} unit(s).", converted.len())],
        project: options.project.clone(),
        engine: Some(engine.0),
        engine_version: Some(required_version.clone()),
        var_files: None,
        state,
        environments: environments
            .iter()
            .map(|name| EnvSpec {
                name: name.clone(),
                comments: if crate::scaffold::is_production(name) {
                    vec!["Uncomment to refuse destroy here (Terragrunt's prevent_destroy, for the whole environment):".into(), "protected = true".into()]
                } else {
                    Vec::new()
                },
                ..EnvSpec::default()
            })
            .collect(),
    };
    p.file(
        "plinth.hcl",
        spec.render(),
        "project: engine, state and environments",
    );
    let empty = BTreeSet::new();
    let mut stacks: Vec<(String, Vec<convert::StackFile>)> = Vec::new();
    for (u, (w, _)) in units.iter().zip(&wired) {
        let Some(w) = w else { continue };
        let envs = (environments.len() > 1).then(|| vec![env_of[&u.id].clone()]);
        let mut files = convert::stack_files(
            u,
            w,
            envs,
            read_by.get(&u.id).unwrap_or(&empty),
            &required_version,
        );
        files.extend(generated_files(u, &files, &mut notes));
        attr_notes(u, &mut notes);
        stacks.push((u.id.clone(), files));
    }
    stacks.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, files) in stacks {
        for (path, text, purpose) in files {
            p.file(path, text, purpose);
        }
        p.stacks.push(id);
    }
    if units.is_empty() {
        notes.push(Note::general(
            NoteKind::NotConverted,
            format!("no {UNIT_FILE} found under {}", root.display()),
        ));
    }
    p.notes = dedupe(notes);
    p.environments = environments;
    Ok(p)
}

/// Every `terragrunt.hcl` (sorted) and every `terragrunt.stack.hcl` under `root`.
fn find_units(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut units = Vec::new();
    let mut stacks = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .require_git(false)
        .filter_entry(|e| !SKIPPED.iter().any(|s| e.file_name() == *s))
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if entry.file_name() == UNIT_FILE {
            units.push(entry.into_path());
        } else if entry.file_name() == "terragrunt.stack.hcl" {
            stacks.push(entry.into_path());
        }
    }
    units.sort();
    stacks.sort();
    (units, stacks)
}

/// `engine` and `engine_version` from `terraform_binary` and `terraform_version_constraint`.
fn engine_settings(units: &[Unit], notes: &mut Vec<Note>) -> (String, Option<String>) {
    let mut pick = |attr: &str| -> Option<String> {
        let mut values: BTreeMap<String, Location> = BTreeMap::new();
        for u in units {
            match u.config.attr(attr) {
                Some((_, Ok(PVal::Known(Value::String(s))), loc)) => {
                    values.entry(s.clone()).or_insert_with(|| loc.clone());
                }
                Some((_, _, loc)) => notes.push(Note::at(
                    &loc.file,
                    loc.line,
                    NoteKind::NotConverted,
                    format!("`{attr}` is not a known string"),
                )),
                None => {}
            }
        }
        if values.len() > 1 {
            let (_, loc) = values.iter().nth(1).expect("two values");
            notes.push(Note::at(
                &loc.file,
                loc.line,
                NoteKind::NotConverted,
                format!("units set different `{attr}` values; plinth has one for the project"),
            ));
        }
        values.into_keys().next()
    };
    let engine = pick("terraform_binary").map(|b| {
        if b.ends_with("tofu") {
            "tofu".to_string()
        } else {
            b
        }
    });
    (
        engine.unwrap_or_else(|| "terraform".into()),
        pick("terraform_version_constraint"),
    )
}

/// `generate` blocks become files in the stack: plinth runs the code in place, generating
/// nothing at run time.
fn generated_files(
    u: &Unit,
    existing: &[convert::StackFile],
    notes: &mut Vec<Note>,
) -> Vec<convert::StackFile> {
    let prefix = if u.id == "." {
        String::new()
    } else {
        format!("{}/", u.id)
    };
    let mut out = Vec::new();
    for g in &u.config.generates {
        if g.disabled {
            continue;
        }
        let (path, contents) = match (&g.path, &g.contents) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(p), _) | (_, Err(p)) => {
                notes.push(convert::problem_note(
                    p,
                    &format!("generate \"{}\" not converted", g.name),
                ));
                continue;
            }
        };
        let rel = format!("{prefix}{}", path.trim_start_matches("./"));
        if existing.iter().any(|(p, _, _)| *p == rel) || path.contains("..") {
            notes.push(Note::at(
                &g.loc.file,
                g.loc.line,
                NoteKind::NotConverted,
                format!(
                    "generate \"{}\": {path} would replace a file plinth writes",
                    g.name
                ),
            ));
            continue;
        }
        notes.push(Note::at(
            &g.loc.file,
            g.loc.line,
            NoteKind::Changed,
            format!("generate \"{}\": written once as {path} in each stack (plinth generates no code at run time)", g.name),
        ));
        let mut text = contents.clone();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        out.push((rel, text, format!("from generate \"{}\"", g.name)));
    }
    out
}

/// Notes for top-level settings that have no stack.hcl equivalent.
fn attr_notes(u: &Unit, notes: &mut Vec<Note>) {
    for (name, _, loc) in &u.config.attrs {
        let (kind, message) = match name.as_str() {
            "terraform_binary" | "terraform_version_constraint" | "skip" => continue,
            "terragrunt_version_constraint" | "download_dir" => (NoteKind::Changed, format!("`{name}` is Terragrunt's own setting: no longer needed")),
            "prevent_destroy" => (NoteKind::NotConverted, "prevent_destroy: plinth refuses destroy for a whole environment (`protected = true` in plinth.hcl)".to_string()),
            "iam_role" | "iam_assume_role_duration" | "iam_assume_role_session_name" | "iam_web_identity_token" => (
                NoteKind::NotConverted,
                format!("`{name}`: give the engine its credentials per environment (`credentials` or `env` in plinth.hcl)"),
            ),
            "retryable_errors" | "retry_max_attempts" | "retry_sleep_interval_sec" => (NoteKind::NotConverted, format!("`{name}`: plinth does not retry engine errors")),
            other => (NoteKind::NotConverted, format!("`{other}` has no plinth equivalent")),
        };
        notes.push(Note::at(&loc.file, loc.line, kind, message));
    }
    for (name, loc) in &u.config.blocks {
        let message = match name.as_str() {
            "errors" => {
                "the `errors` block (retries, ignores) has no plinth equivalent".to_string()
            }
            "exclude" => {
                "the `exclude` block: select stacks with --stack/--tag instead".to_string()
            }
            "feature" => "feature flags are not converted".to_string(),
            other => format!("the `{other}` block has no plinth equivalent"),
        };
        notes.push(Note::at(
            &loc.file,
            loc.line,
            NoteKind::NotConverted,
            message,
        ));
    }
}

/// One note per place and message; repeats from shared files say how many units they affect.
fn dedupe(notes: Vec<Note>) -> Vec<Note> {
    let mut order: Vec<Note> = Vec::new();
    let mut counts: HashMap<(Option<Location>, NoteKind, String), usize> = HashMap::new();
    for n in notes {
        let key = (n.location.clone(), n.kind, n.message.clone());
        let count = counts.entry(key).or_default();
        if *count == 0 {
            order.push(n);
        }
        *count += 1;
    }
    for n in &mut order {
        let n_units = counts[&(n.location.clone(), n.kind, n.message.clone())];
        if n_units > 1 {
            n.message.push_str(&format!(" ({n_units} units)"));
        }
    }
    order
}
