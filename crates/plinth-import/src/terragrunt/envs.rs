//! Environments from Terragrunt's directory hierarchy: the nearest `env.hcl` above a unit (or
//! `account.hcl` when there is none) names its environment.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::files::Loader;
use super::functions::read_terragrunt_config;
use super::unit::Unit;
use crate::project_file::sanitize_name;
use crate::proposal::{Note, NoteKind};

/// Marker files, nearest first, with the locals that name the environment.
const MARKERS: [(&str, &[&str]); 2] = [
    (
        "env.hcl",
        &[
            "environment",
            "env",
            "env_name",
            "environment_name",
            "stage",
        ],
    ),
    ("account.hcl", &["account_name", "account", "environment"]),
];

/// Environment of units outside any hierarchy.
pub(crate) const DEFAULT_ENV: &str = "default";

/// The environment of every unit (by id) and the environments in promotion order.
pub(crate) fn assign(
    loader: &Loader,
    units: &[Unit],
    notes: &mut Vec<Note>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut of_unit = BTreeMap::new();
    let mut unplaced = 0;
    for unit in units {
        let env = MARKERS
            .iter()
            .find_map(|(marker, keys)| marker_env(loader, &unit.dir, marker, keys))
            .or_else(|| known_env_dir(&unit.id));
        match env {
            Some(e) => {
                of_unit.insert(unit.id.clone(), e);
            }
            None => {
                unplaced += 1;
                of_unit.insert(unit.id.clone(), DEFAULT_ENV.to_string());
            }
        }
    }
    if unplaced > 0 {
        notes.push(Note::general(
            NoteKind::Changed,
            format!(
                "{unplaced} unit(s) have no env.hcl or account.hcl above them: they form the \
                 environment `{DEFAULT_ENV}`; rename it in plinth.hcl (and in `environments` of \
                 their stack.hcl files) to what it is"
            ),
        ));
    }
    let mut names: Vec<String> = of_unit.values().cloned().collect();
    names.sort();
    names.dedup();
    (of_unit, crate::discover::order(names))
}

fn marker_env(loader: &Loader, dir: &Path, marker: &str, keys: &[&str]) -> Option<String> {
    let found = dir
        .ancestors()
        .take_while(|d| d.starts_with(&loader.root))
        .find(|d| d.join(marker).is_file())?;
    let named = read_terragrunt_config(loader, &found.join(marker))
        .ok()
        .and_then(|v| v.known().cloned())
        .and_then(|v| {
            keys.iter()
                .find_map(|k| match v.get("locals").and_then(|l| l.get(*k)) {
                    Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    _ => None,
                })
        });
    let name = named.or_else(|| found.file_name().map(|n| n.to_string_lossy().into_owned()))?;
    Some(sanitize_name(&name))
}

/// A path component that is a usual environment name (`live/prod/vpc`).
fn known_env_dir(id: &str) -> Option<String> {
    id.split('/')
        .find(|c| {
            matches!(
                *c,
                "dev"
                    | "development"
                    | "qa"
                    | "test"
                    | "stage"
                    | "staging"
                    | "prod"
                    | "production"
                    | "sandbox"
                    | "uat"
            )
        })
        .map(str::to_string)
}
