//! The secret rules that read plinth.hcl (and Vault): SCR005, a variable fed by a `secret`
//! block that is not `sensitive`; SCR006, a Vault secret older than its `rotate_every`.

use plinth_check::{Finding, Policy, Problem, registry};
use plinth_diag::{Diagnostic, SourceFile};
use plinth_project::Project;

use crate::context::Context;
use crate::exit::Failure;
use crate::runner;

/// SCR005 for `env` (every environment without one) and, with an environment, SCR006.
pub fn secret_findings(
    ctx: &Context,
    project: &Project,
    env: Option<&str>,
    policy: &Policy,
) -> Result<(Vec<Finding>, Vec<Problem>), Failure> {
    let mut findings = Vec::new();
    let mut problems = Vec::new();
    let envs: Vec<String> = match env {
        Some(e) => vec![e.to_string()],
        None => project
            .config
            .environment_names()
            .map(str::to_string)
            .collect(),
    };
    let scr005 = registry::get("SCR005");
    for decl in &project.config.secrets {
        let in_envs: Vec<String> = envs
            .iter()
            .filter(|e| decl.applies_to(e))
            .cloned()
            .collect();
        let Some(severity) = policy.severity(scr005, &in_envs) else {
            continue;
        };
        if in_envs.is_empty() {
            continue;
        }
        let name = &decl.name.value;
        for stack in &project.stacks {
            if !in_envs.iter().any(|e| stack.in_env(e)) {
                continue;
            }
            let Some(iface) = plinth_project::ModuleInterface::read(&stack.dir) else {
                continue;
            };
            if iface
                .variables
                .iter()
                .any(|v| &v.name == name && !v.sensitive)
            {
                let mut d = Diagnostic::new(
                    severity,
                    format!(
                        "variable `{name}` of stack `{}` gets secret `{name}` but is not sensitive",
                        stack.id
                    ),
                )
                .with_code("SCR005")
                .with_help(scr005.hint);
                if let Some((source, span)) = variable_location(project, &stack.dir, name) {
                    d = d.at(&source, span, "declared without `sensitive = true`");
                }
                findings.push(Finding {
                    rule: scr005,
                    stack: stack.id.clone(),
                    diagnostic: d,
                });
            }
        }
    }
    let Some(env) = env else {
        return Ok((findings, problems));
    };
    let scr006 = registry::get("SCR006");
    let Some(severity) = policy.severity(scr006, &[env.to_string()]) else {
        return Ok((findings, problems));
    };
    if !project
        .config
        .secrets
        .iter()
        .any(|s| s.applies_to(env) && s.rotate_every.is_some())
    {
        return Ok((findings, problems));
    }
    let infos = runner::runtime()?
        .block_on(plinth_run::secrets_ls(project, env))
        .map_err(|e| runner::run_failure(ctx, e))?;
    for info in infos {
        match info.status.as_str() {
            "due" => {
                let decl = project
                    .config
                    .secrets
                    .iter()
                    .find(|s| s.name.value == info.name)
                    .expect("listed from the config");
                let d = Diagnostic::new(
                    severity,
                    format!(
                        "secret `{}` ({}) is {} days old; it is rotated every {} days",
                        info.name,
                        info.location,
                        info.age_days.unwrap_or(0),
                        info.rotate_every_days.unwrap_or(0)
                    ),
                )
                .with_code("SCR006")
                .with_help(scr006.hint)
                .at(
                    &project.config.source,
                    decl.rotate_every
                        .as_ref()
                        .map_or(decl.name.span.clone(), |r| r.span.clone()),
                    "its rotation period",
                );
                findings.push(Finding {
                    rule: scr006,
                    stack: String::new(),
                    diagnostic: d,
                });
            }
            "missing" if info.rotate_every_days.is_some() => problems.push(Problem {
                what: format!(
                    "cannot read the age of secret `{}` ({}): {}",
                    info.name,
                    info.location,
                    info.detail.unwrap_or_default()
                ),
                fix: "check VAULT_ADDR and the token (`plinth doctor`)".into(),
                affected: vec![info.name.clone()],
            }),
            _ => {}
        }
    }
    Ok((findings, problems))
}

/// Where `variable "NAME"` is declared among the stack's `.tf` files.
fn variable_location(
    project: &Project,
    dir: &std::path::Path,
    name: &str,
) -> Option<(std::sync::Arc<SourceFile>, std::ops::Range<usize>)> {
    let needle = format!("variable \"{name}\"");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).ok()?;
        if let Some(at) = text.find(&needle) {
            let shown = file
                .strip_prefix(&project.root)
                .unwrap_or(&file)
                .display()
                .to_string();
            return Some((SourceFile::new(shown, text), at..at + needle.len()));
        }
    }
    None
}
