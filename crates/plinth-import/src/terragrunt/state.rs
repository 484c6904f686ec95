//! `remote_state` blocks → plinth's one `state` block: the backend, a key template that gives
//! every stack the key Terragrunt gave its unit, and the settings every unit shares.

use std::collections::BTreeMap;

use serde_json::Value;

use super::unit::Unit;
use super::value::PVal;
use crate::hcl::{HclExpr, escape_template_text};
use crate::project_file::StateSpec;
use crate::proposal::{Note, NoteKind};

/// Settings only Terragrunt reads (bucket and lock-table creation); Terraform's backends do
/// not accept them.
const TERRAGRUNT_ONLY: &[&str] = &[
    "skip_bucket_versioning",
    "skip_bucket_ssencryption",
    "skip_bucket_accesslogging",
    "skip_bucket_root_access",
    "skip_bucket_enforced_tls",
    "skip_bucket_public_access_blocking",
    "skip_bucket_creation",
    "disable_bucket_update",
    "enable_lock_table_ssencryption",
    "s3_bucket_tags",
    "dynamodb_table_tags",
    "accesslogging_bucket_tags",
    "accesslogging_bucket_name",
    "accesslogging_target_prefix",
    "accesslogging_target_object_partition_date_source",
    "bucket_sse_algorithm",
    "bucket_sse_kms_key_id",
    "skip_accesslogging_bucket_acl",
    "skip_accesslogging_bucket_enforced_tls",
    "skip_accesslogging_bucket_public_access_blocking",
    "skip_accesslogging_bucket_ssencryption",
    "enable_bucket_policy_only",
    "gcs_bucket_labels",
    "project",
    "location",
];

/// Plinth's names for the backends it configures.
const BACKENDS: [&str; 6] = ["local", "s3", "gcs", "azurerm", "pg", "http"];

/// The `state` block for `units` (`None`: plinth's default local backend).
pub(crate) fn state_block(
    units: &[&Unit],
    envs: &BTreeMap<String, String>,
    notes: &mut Vec<Note>,
) -> Option<StateSpec> {
    let with: Vec<(&Unit, &super::config::RemoteStateDecl)> = units
        .iter()
        .filter_map(|u| u.config.remote_state.as_ref().map(|r| (*u, r)))
        .collect();
    if with.len() < units.len() {
        notes.push(Note::general(
            NoteKind::Changed,
            format!(
                "{} unit(s) have no remote_state: Terragrunt kept their state in its working \
                 directory; plinth keeps each instance's state under .plinth/state/",
                units.len() - with.len()
            ),
        ));
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, r) in &with {
        match &r.backend {
            Ok(b) => *counts.entry(b.clone()).or_default() += 1,
            Err(p) => notes.push(Note::at(
                &p.loc.file,
                p.loc.line,
                NoteKind::NotConverted,
                p.message.clone(),
            )),
        }
    }
    let backend = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(b, _)| b.clone())?;
    if counts.len() > 1 {
        notes.push(Note::general(
            NoteKind::NotConverted,
            format!(
                "the units use several backends ({}): plinth has one `state` block; `{backend}` is proposed",
                counts.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let same: Vec<(&Unit, &super::config::RemoteStateDecl)> = with
        .into_iter()
        .filter(|(_, r)| r.backend.as_deref().ok() == Some(backend.as_str()))
        .collect();
    for (_, r) in &same {
        for (name, loc) in &r.extras {
            let message = match name.as_str() {
                "generate" => "remote_state `generate`: plinth writes the backend itself (plinth_backend_override.tf)".to_string(),
                other => format!("remote_state `{other}` has no plinth equivalent"),
            };
            let kind = if name == "generate" {
                NoteKind::Changed
            } else {
                NoteKind::NotConverted
            };
            notes.push(Note::at(&loc.file, loc.line, kind, message));
        }
    }
    if !BACKENDS.contains(&backend.as_str()) {
        notes.push(Note::at(
            &same[0].1.loc.file,
            same[0].1.loc.line,
            NoteKind::NotConverted,
            format!("backend \"{backend}\" is not one plinth configures (local, s3, gcs, azurerm, pg, http, plinth): the local backend is proposed"),
        ));
        return None;
    }
    let key_attr = match backend.as_str() {
        "gcs" => "prefix",
        "local" => "path",
        "http" => "address",
        _ => "key",
    };
    if backend == "local" {
        notes.push(Note::at(
            &same[0].1.loc.file,
            same[0].1.loc.line,
            NoteKind::Changed,
            "local state moves: plinth keeps each instance's state in .plinth/state/ENV/STACK/terraform.tfstate; \
             copy each unit's state file there before the first plan",
        ));
        return None;
    }
    let key = key_template(&same, key_attr, notes);
    let mut keys: Vec<String> = Vec::new();
    for (_, r) in &same {
        for (k, _, _) in &r.config {
            if k != key_attr && !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut config = Vec::new();
    for k in keys {
        if TERRAGRUNT_ONLY.contains(&k.as_str()) {
            let loc = same.iter().find_map(|(_, r)| {
                r.config
                    .iter()
                    .find(|(n, _, _)| *n == k)
                    .map(|(_, _, l)| l.clone())
            });
            let loc = loc.unwrap_or_else(|| same[0].1.loc.clone());
            notes.push(Note::at(
                &loc.file,
                loc.line,
                NoteKind::Changed,
                format!("remote_state config `{k}` drives Terragrunt's bucket creation; dropped (plinth does not create the bucket)"),
            ));
            continue;
        }
        if let Some(v) = shared_value(&same, &k, envs, notes) {
            config.push((k, v));
        }
    }
    if matches!(backend.as_str(), "s3" | "gcs" | "azurerm") {
        notes.push(Note::at(
            &same[0].1.loc.file,
            same[0].1.loc.line,
            NoteKind::Changed,
            "Terragrunt creates a missing state bucket (and lock table); plinth does not: they must exist",
        ));
    }
    Some(StateSpec {
        backend,
        key,
        config,
    })
}

/// `"PREFIX${stack.id}SUFFIX"` when every unit's key is its id between the same text.
fn key_template(
    units: &[(&Unit, &super::config::RemoteStateDecl)],
    key_attr: &str,
    notes: &mut Vec<Note>,
) -> Option<String> {
    let mut template: Option<(String, String)> = None;
    let mut first_loc = None;
    for (unit, r) in units {
        let Some((_, value, loc)) = r.config.iter().find(|(k, _, _)| k == key_attr) else {
            continue;
        };
        first_loc.get_or_insert(loc.clone());
        let key = match value {
            Ok(PVal::Known(Value::String(s))) => s.clone(),
            Ok(_) => {
                notes.push(Note::at(
                    &loc.file,
                    loc.line,
                    NoteKind::NotConverted,
                    format!("state `{key_attr}` depends on a value known only at run time"),
                ));
                return None;
            }
            Err(p) => {
                notes.push(Note::at(
                    &p.loc.file,
                    p.loc.line,
                    NoteKind::NotConverted,
                    format!("state `{key_attr}` not converted: {}", p.message),
                ));
                return None;
            }
        };
        let parts = key
            .find(&unit.id)
            .map(|i| (key[..i].to_string(), key[i + unit.id.len()..].to_string()));
        match (&template, parts) {
            (None, Some(p)) => template = Some(p),
            (Some(t), Some(p)) if *t == p => {}
            _ => {
                notes.push(Note::at(
                    &loc.file,
                    loc.line,
                    NoteKind::NotConverted,
                    format!(
                        "state `{key_attr}` `{key}` of {} is not its stack id between the same text as the \
                         other units' keys: plinth's default key ${{project}}/${{env.name}}/${{stack.id}} \
                         is proposed; move the existing state to it",
                        unit.id
                    ),
                ));
                return None;
            }
        }
    }
    template.map(|(prefix, suffix)| {
        format!(
            "\"{}${{stack.id}}{}\"",
            escape_template_text(&prefix),
            escape_template_text(&suffix)
        )
    })
}

/// A `config` setting: literal when every unit agrees, a template over `env.name` when it
/// varies with the environment only.
fn shared_value(
    units: &[(&Unit, &super::config::RemoteStateDecl)],
    key: &str,
    envs: &BTreeMap<String, String>,
    notes: &mut Vec<Note>,
) -> Option<HclExpr> {
    let mut values: Vec<(String, Value, &crate::proposal::Location)> = Vec::new();
    for (unit, r) in units {
        let Some((_, value, loc)) = r.config.iter().find(|(k, _, _)| k == key) else {
            continue;
        };
        match value {
            Ok(PVal::Known(v)) => values.push((
                envs.get(&unit.id).cloned().unwrap_or_default(),
                v.clone(),
                loc,
            )),
            Ok(_) => {
                notes.push(Note::at(
                    &loc.file,
                    loc.line,
                    NoteKind::NotConverted,
                    format!("state config `{key}` depends on a value known only at run time"),
                ));
                return None;
            }
            Err(p) => {
                notes.push(Note::at(
                    &p.loc.file,
                    p.loc.line,
                    NoteKind::NotConverted,
                    format!("state config `{key}` not converted: {}", p.message),
                ));
                return None;
            }
        }
    }
    let (_, first, loc) = values.first()?;
    if values.iter().all(|(_, v, _)| v == first) {
        return Some(HclExpr::from(first));
    }
    let templated: Vec<Option<String>> = values
        .iter()
        .map(|(env, v, _)| match v {
            Value::String(s) if !env.is_empty() && s.contains(env.as_str()) => {
                Some(escape_template_text(s).replace(env.as_str(), "${env.name}"))
            }
            _ => None,
        })
        .collect();
    if let Some(Some(t)) = templated.first()
        && templated.iter().all(|x| x.as_ref() == Some(t))
    {
        return Some(HclExpr::raw(format!("\"{t}\"")));
    }
    notes.push(Note::at(
        &loc.file,
        loc.line,
        NoteKind::NotConverted,
        format!("state config `{key}` differs between units and not by environment name: the first value is proposed; set it per environment by hand"),
    ));
    Some(HclExpr::from(first))
}
