//! One unit → one stack: its `dependency` and `dependencies` blocks, its inputs, its code (in
//! place or a wrapper calling its `terraform { source }`), and notes on the rest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use plinth_project::ModuleInterface;
use serde_json::Value;

use super::files::{normalize, relative};
use super::unit::Unit;
use super::value::{PVal, Problem};
use super::wrapper::{Wrapper, is_local, local_path, module_name, module_source};
use crate::proposal::{Location, Note, NoteKind};
use crate::stack_file::{DependencySpec, StackSpec};

/// Where a unit's code is.
pub(crate) enum Code {
    /// `.tf` files in the unit's directory.
    InPlace(Option<ModuleInterface>),
    /// A module elsewhere, called by a generated wrapper.
    Module {
        /// Terraform's `source`.
        source: String,
        /// A registry module's version.
        version: Option<String>,
        /// What is known of it (local modules).
        interface: Option<ModuleInterface>,
    },
}

/// A unit's dependencies and inputs resolved against the other units (first pass).
pub(crate) struct Wiring {
    /// `dependency` blocks kept.
    pub dependencies: Vec<DependencySpec>,
    /// `after` stack ids.
    pub after: Vec<String>,
    /// Inputs kept, as plinth values.
    pub inputs: Vec<(String, PVal)>,
    /// Where the code is.
    pub code: Code,
    /// `(upstream stack id, output)` read through the dependencies.
    pub reads: Vec<(String, String)>,
}

/// Resolves `unit`'s wiring; `None` when it cannot become a stack (the notes say why).
pub(crate) fn wire(
    unit: &Unit,
    units: &HashMap<PathBuf, (&str, &str)>,
    env: &str,
    modules: &dyn Fn(&Path) -> Option<ModuleInterface>,
    notes: &mut Vec<Note>,
) -> Option<Wiring> {
    let code = code(unit, modules, notes)?;
    let mut dependencies = Vec::new();
    let mut after: Vec<String> = Vec::new();
    // Dependencies whose outputs Terragrunt never read (skip_outputs): their mocks.
    let mut mocked: Vec<(String, Value)> = Vec::new();
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for dep in &unit.config.dependencies {
        let at = |kind, message: String| Note::at(&dep.loc.file, dep.loc.line, kind, message);
        if dep.disabled {
            notes.push(at(
                NoteKind::Changed,
                format!(
                    "dependency \"{}\" has `enabled = false`: left out",
                    dep.name
                ),
            ));
            dropped.insert(dep.name.clone());
            continue;
        }
        let target = match &dep.config_path {
            Ok(p) => normalize(p),
            Err(p) => {
                notes.push(problem_note(
                    p,
                    &format!("dependency \"{}\" not converted", dep.name),
                ));
                dropped.insert(dep.name.clone());
                continue;
            }
        };
        let Some((target_id, target_env)) = units.get(&target).copied() else {
            notes.push(at(
                NoteKind::NotConverted,
                format!(
                    "dependency \"{}\": {} is not a unit of this tree; inputs reading it are left out",
                    dep.name,
                    target.display()
                ),
            ));
            dropped.insert(dep.name.clone());
            continue;
        };
        if target_env != env {
            notes.push(at(
                NoteKind::NotConverted,
                format!(
                    "dependency \"{}\" on `{target_id}` crosses environments ({env} → {target_env}); plinth wires \
                     outputs within one environment: pass the value as an environment `vars` entry instead",
                    dep.name
                ),
            ));
            dropped.insert(dep.name.clone());
            continue;
        }
        for (name, loc) in &dep.extras {
            let message = match name.as_str() {
                "mock_outputs_allowed_terraform_commands" => {
                    "plinth uses mock_outputs only for preview plans, which it never applies"
                        .to_string()
                }
                "mock_outputs_merge_with_state" | "mock_outputs_merge_strategy_with_state" => {
                    format!(
                        "`{name}`: plinth uses mocks only while the upstream has no state at all"
                    )
                }
                other => format!("dependency setting `{other}` has no plinth equivalent"),
            };
            notes.push(Note::at(&loc.file, loc.line, NoteKind::Changed, message));
        }
        let mocks = match &dep.mock_outputs {
            None => serde_json::Map::new(),
            Some(Ok(Value::Object(m))) => m.clone(),
            Some(Ok(_)) => {
                notes.push(at(
                    NoteKind::NotConverted,
                    format!("mock_outputs of \"{}\" is not an object", dep.name),
                ));
                serde_json::Map::new()
            }
            Some(Err(p)) => {
                notes.push(problem_note(
                    p,
                    &format!("mock_outputs of \"{}\" not converted", dep.name),
                ));
                serde_json::Map::new()
            }
        };
        by_name.insert(dep.name.clone(), target_id.to_string());
        if dep.skip_outputs {
            notes.push(at(
                NoteKind::Changed,
                format!(
                    "dependency \"{}\" has skip_outputs: Terragrunt always gave its mock_outputs, so they \
                     become literal inputs and `{target_id}` an `after` entry",
                    dep.name
                ),
            ));
            mocked.push((dep.name.clone(), Value::Object(mocks)));
            if !after.contains(&target_id.to_string()) {
                after.push(target_id.to_string());
            }
            continue;
        }
        dependencies.push(DependencySpec {
            name: dep.name.clone(),
            stack: target_id.to_string(),
            mock_outputs: mocks,
        });
    }
    if let Some((paths, loc)) = &unit.config.after {
        for path in paths {
            match path {
                Ok(p) => match units.get(&normalize(p)) {
                    Some((id, target_env)) if *target_env == env => {
                        let id = id.to_string();
                        if !after.contains(&id) && !dependencies.iter().any(|d| d.stack == id) && id != unit.id {
                            after.push(id);
                        }
                    }
                    Some((id, target_env)) => notes.push(Note::at(
                        &loc.file,
                        loc.line,
                        NoteKind::NotConverted,
                        format!("dependencies path `{id}` is in environment {target_env}, not {env}: plinth orders within one environment"),
                    )),
                    None => notes.push(Note::at(
                        &loc.file,
                        loc.line,
                        NoteKind::NotConverted,
                        format!("dependencies path {} is not a unit of this tree", p.display()),
                    )),
                },
                Err(p) => notes.push(problem_note(p, "dependencies path not converted")),
            }
        }
    }
    let declared: Option<BTreeSet<&str>> = match &code {
        Code::InPlace(Some(i))
        | Code::Module {
            interface: Some(i), ..
        } => Some(i.variables.iter().map(|v| v.name.as_str()).collect()),
        _ => None,
    };
    let mut inputs = Vec::new();
    let mut reads = Vec::new();
    for entry in &unit.config.inputs {
        let at = |kind, message: String| Note::at(&entry.loc.file, entry.loc.line, kind, message);
        let mut value = match &entry.value {
            Ok(v) => v.clone(),
            Err(p) => {
                let what = if entry.key == "*" {
                    "inputs".to_string()
                } else {
                    format!("input `{}`", entry.key)
                };
                notes.push(problem_note(p, &format!("{what} not converted")));
                continue;
            }
        };
        let mut refs = Vec::new();
        value.dependencies(&mut refs);
        if let Some(d) = refs.iter().find(|d| dropped.contains(*d)) {
            notes.push(at(
                NoteKind::NotConverted,
                format!(
                    "input `{}` reads dependency \"{d}\", which was not converted",
                    entry.key
                ),
            ));
            continue;
        }
        let mut missing_mock = None;
        for (dep, mocks) in &mocked {
            match value.substitute(dep, mocks) {
                Some(v) => value = v,
                None => missing_mock = Some(dep.clone()),
            }
        }
        if let Some(dep) = missing_mock {
            notes.push(at(
                NoteKind::NotConverted,
                format!(
                    "input `{}` reads an output of \"{dep}\" (skip_outputs) that has no mock",
                    entry.key
                ),
            ));
            continue;
        }
        if let Some(vars) = &declared
            && !vars.contains(entry.key.as_str())
        {
            notes.push(at(
                NoteKind::Changed,
                format!(
                    "input `{}`: the module declares no such variable (Terragrunt's TF_VAR_{} was ignored; \
                     plinth refuses inputs a stack does not declare): left out",
                    entry.key, entry.key
                ),
            ));
            continue;
        }
        let mut outs = Vec::new();
        value.outputs(&mut outs);
        for (dep, output) in outs {
            if let Some(id) = by_name.get(&dep) {
                reads.push((id.clone(), output));
            }
        }
        inputs.push((entry.key.clone(), value));
    }
    if let Code::InPlace(Some(i))
    | Code::Module {
        interface: Some(i), ..
    } = &code
    {
        for v in i.variables.iter().filter(|v| v.required) {
            if !inputs.iter().any(|(k, _)| *k == v.name) {
                notes.push(Note::at(
                    &unit.file,
                    None,
                    NoteKind::Suggestion,
                    format!(
                        "the module requires variable `{}`, which the unit's inputs do not set",
                        v.name
                    ),
                ));
            }
        }
    }
    Some(Wiring {
        dependencies,
        after,
        inputs,
        code,
        reads,
    })
}

fn code(
    unit: &Unit,
    modules: &dyn Fn(&Path) -> Option<ModuleInterface>,
    notes: &mut Vec<Note>,
) -> Option<Code> {
    let in_place = |notes: &mut Vec<Note>| {
        let interface = modules(&unit.dir);
        if interface.is_none() {
            notes.push(Note::at(
                &unit.file,
                None,
                NoteKind::NotConverted,
                "the unit has no `terraform { source }` and no .tf files (or one does not parse): no stack written",
            ));
            return None;
        }
        Some(Code::InPlace(interface))
    };
    let Some((source, loc)) = &unit.config.source else {
        return in_place(notes);
    };
    let source = match source {
        Ok(s) => s,
        Err(p) => {
            notes.push(problem_note(
                p,
                "terraform source not converted; no stack written",
            ));
            return None;
        }
    };
    for (name, loc) in &unit.config.terraform_extras {
        notes.push(terraform_extra(name, loc));
    }
    if !is_local(source) {
        let (source, version) = module_source(source);
        notes.push(Note::at(
            &loc.file,
            loc.line,
            NoteKind::Changed,
            "remote module source: a wrapper stack calls it; plinth cannot read the module, so every input is passed, \
             the outputs other units read are exported by name and all of them as `module_outputs` (sensitive)",
        ));
        return Some(Code::Module {
            source,
            version,
            interface: None,
        });
    }
    let dir = normalize(&unit.dir.join(local_path(source)));
    if dir == unit.dir {
        return in_place(notes);
    }
    let Some(interface) = modules(&dir) else {
        notes.push(Note::at(
            &loc.file,
            loc.line,
            NoteKind::NotConverted,
            format!(
                "terraform source {} has no readable .tf files: no stack written",
                dir.display()
            ),
        ));
        return None;
    };
    let mut rel = relative(&unit.dir, &dir);
    if !rel.starts_with("..") {
        rel = format!("./{rel}");
    }
    Some(Code::Module {
        source: rel,
        version: None,
        interface: Some(interface),
    })
}

fn terraform_extra(name: &str, loc: &Location) -> Note {
    let (kind, message) = match name.split(' ').next().unwrap_or(name) {
        "before_hook" | "after_hook" | "error_hook" => (
            NoteKind::NotConverted,
            format!(
                "{name} is not converted: plinth runs `hooks {{ after_apply = [...] }}` from stack.hcl; move the command there or into CI"
            ),
        ),
        "extra_arguments" => (
            NoteKind::NotConverted,
            format!(
                "{name} is not converted: var files belong in plinth.hcl `var_files`; other CLI flags have no equivalent"
            ),
        ),
        "terraform.include_in_copy"
        | "terraform.exclude_from_copy"
        | "terraform.copy_terraform_lock_file" => (
            NoteKind::Changed,
            format!("`{name}`: plinth runs the code in place, nothing is copied"),
        ),
        _ => (
            NoteKind::NotConverted,
            format!("`{name}` in the terraform block has no plinth equivalent"),
        ),
    };
    Note::at(&loc.file, loc.line, kind, message)
}

/// A note for a problem, at the problem's own place.
pub(crate) fn problem_note(p: &Problem, what: &str) -> Note {
    Note {
        location: Some(p.loc.clone()),
        kind: NoteKind::NotConverted,
        message: format!("{what}: {}", p.message),
    }
}

/// A file of a stack: path, text, why it is written.
pub(crate) type StackFile = (String, String, String);

/// Writes the stack of a wired unit: `stack.hcl` and, for a module elsewhere, the wrapper.
pub(crate) fn stack_files(
    unit: &Unit,
    wiring: &Wiring,
    environments: Option<Vec<String>>,
    read_by_others: &BTreeSet<String>,
    required_version: &str,
) -> Vec<StackFile> {
    let mut header = vec![format!(
        "Converted by `plinth import terragrunt` from {}.",
        unit.file
    )];
    if !unit.included.is_empty() {
        let names: Vec<String> = unit
            .included
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect();
        header.push(format!("Includes merged: {}.", names.join(", ")));
    }
    let spec = StackSpec {
        header,
        description: None,
        environments,
        tags: Vec::new(),
        after: wiring.after.clone(),
        dependencies: wiring.dependencies.clone(),
        inputs: wiring
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_hcl()))
            .collect(),
    };
    let prefix = if unit.id == "." {
        String::new()
    } else {
        format!("{}/", unit.id)
    };
    let mut files = vec![(
        format!("{prefix}stack.hcl"),
        spec.render(),
        "stack for the unit".to_string(),
    )];
    if let Code::Module {
        source,
        version,
        interface,
    } = &wiring.code
    {
        let outputs: Vec<(String, bool)> = match interface {
            Some(i) => i
                .outputs
                .iter()
                .map(|o| (o.name.clone(), o.sensitive))
                .collect(),
            None => read_by_others.iter().map(|o| (o.clone(), false)).collect(),
        };
        let wrapper = Wrapper {
            unit_file: &unit.file,
            module_name: module_name(
                unit.dir
                    .file_name()
                    .map_or("module".into(), |n| n.to_string_lossy())
                    .as_ref(),
            ),
            source: source.clone(),
            version: version.clone(),
            interface: interface.as_ref(),
            variables: wiring.inputs.iter().map(|(k, _)| k.clone()).collect(),
            outputs,
            all_outputs: interface.is_none(),
            required_version: required_version.to_string(),
        };
        // A main.tf of the user's own stays; one from an earlier import is this wrapper.
        let theirs = std::fs::read_to_string(unit.dir.join("main.tf"))
            .is_ok_and(|t| !t.starts_with("# Written by `plinth import terragrunt`"));
        let name = if theirs {
            "plinth_module.tf"
        } else {
            "main.tf"
        };
        files.push((
            format!("{prefix}{name}"),
            wrapper.render(),
            format!("wrapper calling {source}"),
        ));
    }
    files
}
