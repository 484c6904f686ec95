//! `plinth import atlantis`: `atlantis.yaml` (version 3) projects become stacks and
//! environments. A project's environment is its `workspace`, else the `-var-file` of its
//! workflow's plan step (`staging.tfvars` → staging), else its directory (`envs/prod`);
//! `autoplan` and `apply_requirements` become each environment's `pull_request` block and
//! `approvals`; `depends_on` becomes `after`. What has no equivalent is listed.

mod lines;
mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use plinth_diag::{Diagnostic, SourceFile};

use crate::discover::order;
use crate::hcl::escape_template_text;
use crate::project_file::{EnvSpec, ProjectSpec, PullRequestSpec, sanitize_name};
use crate::proposal::{Note, NoteKind, Proposal};
use crate::stack_file::StackSpec;
use lines::Lines;
use model::{RepoConfig, StepKind, step};

/// Settings of the conversion.
#[derive(Debug, Clone)]
pub struct AtlantisOptions {
    /// Project name.
    pub project: String,
}

/// Atlantis's default `when_modified`: plinth's change detection covers it.
const DEFAULT_WHEN_MODIFIED: [&str; 3] =
    ["**/*.tf*", "**/terragrunt.hcl", "**/.terraform.lock.hcl"];

/// One project, read.
struct Read {
    index: usize,
    stack: String,
    env: String,
    var_files: Vec<String>,
    autoplan: bool,
}

/// Converts `atlantis.yaml` (or `.yml`) at `root`; a file that is not valid YAML is a
/// diagnostic at its line and column.
pub fn convert(root: &Path, options: &AtlantisOptions) -> Result<Proposal, Vec<Diagnostic>> {
    let (name, text) = ["atlantis.yaml", "atlantis.yml"]
        .iter()
        .find_map(|n| std::fs::read_to_string(root.join(n)).ok().map(|t| (*n, t)))
        .ok_or_else(|| {
            vec![Diagnostic::error(format!(
                "no atlantis.yaml in {}",
                root.display()
            ))]
        })?;
    let config: RepoConfig =
        yaml_serde::from_str(&text).map_err(|e| vec![yaml_error(name, &text, &e)])?;
    let lines = Lines::new(&text);
    let mut p = Proposal::default();
    let note = |p: &mut Proposal, line: Option<usize>, kind, message: String| {
        p.note(Note::at(name, line, kind, message))
    };
    if config.version != Some(3) {
        note(
            &mut p,
            lines.top("version"),
            NoteKind::Changed,
            format!("version {:?}: read as version 3", config.version),
        );
    }
    for key in config.other.keys() {
        let message = match key.as_str() {
            "parallel_plan" | "parallel_apply" => format!(
                "`{key}`: plinth always runs independent stacks in parallel (`parallelism` in plinth.hcl)"
            ),
            "automerge" => {
                "`automerge` has no equivalent: plinth does not merge pull requests".to_string()
            }
            other => format!("`{other}` has no plinth equivalent"),
        };
        let kind = if key.starts_with("parallel_") {
            NoteKind::Changed
        } else {
            NoteKind::NotConverted
        };
        note(&mut p, lines.top(key), kind, message);
    }

    let mut reads: Vec<Read> = Vec::new();
    for (i, project) in config.projects.iter().enumerate() {
        let label = project.name.clone().unwrap_or_else(|| {
            format!(
                "{} ({})",
                project.dir,
                project.workspace.as_deref().unwrap_or("default")
            )
        });
        let stack = normalize_dir(&project.dir);
        if !root.join(&stack).is_dir() {
            note(
                &mut p,
                lines.project(i, Some("dir")),
                NoteKind::NotConverted,
                format!(
                    "project {label}: directory `{}` does not exist",
                    project.dir
                ),
            );
            continue;
        }
        let mut var_files = Vec::new();
        let workflow = project
            .workflow
            .as_ref()
            .and_then(|w| config.workflows.get(w).map(|wf| (w, wf)));
        if let Some(w) = &project.workflow
            && workflow.is_none()
        {
            note(
                &mut p,
                lines.project(i, Some("workflow")),
                NoteKind::NotConverted,
                format!(
                    "project {label}: workflow `{w}` is not in this file (a server-side workflow?); its steps are not converted"
                ),
            );
        }
        if let Some((wname, wf)) = workflow {
            for (stage, steps) in [("plan", &wf.plan), ("apply", &wf.apply)] {
                for s in steps.iter().flat_map(|s| &s.steps) {
                    match step(s) {
                        StepKind::Builtin("plan", args) => {
                            let (files, rest) = split_var_files(&args);
                            var_files.extend(files);
                            if !rest.is_empty() {
                                note(
                                    &mut p,
                                    lines.workflow(wname, Some("extra_args")),
                                    NoteKind::NotConverted,
                                    format!(
                                        "workflow {wname}: plan arguments {rest:?} have no equivalent"
                                    ),
                                );
                            }
                        }
                        StepKind::Builtin(b @ ("init" | "apply" | "show"), args) => {
                            if !args.is_empty() {
                                note(
                                    &mut p,
                                    lines.workflow(wname, Some("extra_args")),
                                    NoteKind::NotConverted,
                                    format!(
                                        "workflow {wname}: {b} arguments {args:?} have no equivalent"
                                    ),
                                );
                            }
                        }
                        StepKind::Builtin(other, _) => note(
                            &mut p,
                            lines.workflow(wname, Some(other)),
                            NoteKind::NotConverted,
                            format!(
                                "workflow {wname}: step `{other}` is not converted (policies: `policy` blocks in plinth.hcl)"
                            ),
                        ),
                        StepKind::Run(cmd) => note(
                            &mut p,
                            lines.workflow(wname, Some(&cmd)),
                            NoteKind::NotConverted,
                            format!(
                                "workflow {wname} ({stage}): `run: {cmd}` has no equivalent; after an apply, a stack's `hooks {{ after_apply }}` can run it"
                            ),
                        ),
                        StepKind::Env(var) => note(
                            &mut p,
                            lines.workflow(wname, Some(&var)),
                            NoteKind::NotConverted,
                            format!(
                                "workflow {wname}: env step `{var}`: set it in the environment's `env` (static) or `credentials`"
                            ),
                        ),
                        StepKind::Other(k) => note(
                            &mut p,
                            lines.workflow(wname, None),
                            NoteKind::NotConverted,
                            format!("workflow {wname}: step `{k}` is not converted"),
                        ),
                    }
                }
            }
            for key in wf.other.keys() {
                note(
                    &mut p,
                    lines.workflow(wname, Some(key)),
                    NoteKind::NotConverted,
                    format!("workflow {wname}: `{key}` is not converted"),
                );
            }
        }
        let env = project_env(project, &var_files, &stack);
        if let Some(ws) = project.workspace.as_deref().filter(|w| *w != "default") {
            note(
                &mut p,
                lines.project(i, Some("workspace")),
                NoteKind::Changed,
                format!(
                    "project {label}: workspace `{ws}` becomes environment `{env}`; plinth keeps one state per instance, not workspaces: move the workspace's state to it"
                ),
            );
        }
        let mut autoplan = true;
        if let Some(a) = &project.autoplan {
            autoplan = a.enabled.unwrap_or(true);
            if let Some(when) = &a.when_modified
                && when.iter().map(String::as_str).collect::<Vec<_>>() != DEFAULT_WHEN_MODIFIED
            {
                note(
                    &mut p,
                    lines.project(i, Some("when_modified")),
                    NoteKind::NotConverted,
                    format!(
                        "project {label}: when_modified {when:?} has no equivalent: plinth plans a stack when its code, the local modules it calls or its var files change"
                    ),
                );
            }
        }
        for key in project.other.keys() {
            let (kind, message) = match key.as_str() {
                "execution_order_group" => (NoteKind::NotConverted, "execution_order_group: plinth orders by `after` and dependencies (use depends_on)".to_string()),
                "plan_requirements" | "import_requirements" => (NoteKind::NotConverted, format!("{key} have no equivalent (plinth gates applies only)")),
                "repo_locks" | "repo_locking" => (NoteKind::Changed, format!("{key}: plinth locks each instance for the pull request that plans it")),
                "branch" => (NoteKind::NotConverted, "branch: plinth plans pull requests against the default branch".to_string()),
                other => (NoteKind::NotConverted, format!("`{other}` has no plinth equivalent")),
            };
            note(
                &mut p,
                lines.project(i, Some(key)),
                kind,
                format!("project {label}: {message}"),
            );
        }
        reads.push(Read {
            index: i,
            stack,
            env,
            var_files,
            autoplan,
        });
    }

    let envs = order(
        reads
            .iter()
            .map(|r| r.env.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    );
    let mut env_specs: Vec<EnvSpec> = Vec::new();
    for env in &envs {
        let of_env: Vec<&Read> = reads.iter().filter(|r| &r.env == env).collect();
        let autoplans: BTreeSet<bool> = of_env.iter().map(|r| r.autoplan).collect();
        if autoplans.len() > 1 {
            note(
                &mut p,
                None,
                NoteKind::NotConverted,
                format!(
                    "environment {env}: some projects autoplan and some do not; plinth sets autoplan per environment (on)"
                ),
            );
        }
        let mut approvals = 0;
        let mut seen = BTreeSet::new();
        for r in &of_env {
            let project = &config.projects[r.index];
            for req in project.apply_requirements.iter().flatten() {
                match req.as_str() {
                    "approved" => approvals = 1,
                    other if seen.insert(other.to_string()) => note(
                        &mut p,
                        lines.project(r.index, Some("apply_requirements")),
                        NoteKind::NotConverted,
                        format!(
                            "apply requirement `{other}` has no equivalent (plinth requires `approvals` and a plan that is not stale)"
                        ),
                    ),
                    _ => {}
                }
            }
        }
        env_specs.push(EnvSpec {
            name: env.clone(),
            approvals,
            pull_request: Some(PullRequestSpec {
                autoplan: autoplans.contains(&true),
                apply: None,
            }),
            ..EnvSpec::default()
        });
    }
    let versions: BTreeSet<String> = config
        .projects
        .iter()
        .filter_map(|p| p.terraform_version.clone())
        .collect();
    let engine_version = match versions.iter().collect::<Vec<_>>().as_slice() {
        [] => ">= 1.6".to_string(),
        [one] => format!("= {}", one.trim_start_matches('v')),
        _ => {
            note(
                &mut p,
                None,
                NoteKind::NotConverted,
                format!(
                    "projects pin different terraform versions ({}); plinth has one engine_version",
                    versions.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            ">= 1.6".to_string()
        }
    };
    let spec = ProjectSpec {
        header: vec![format!(
            "Converted by `plinth import atlantis` from {name} ({} project(s)).",
            config.projects.len()
        )],
        project: options.project.clone(),
        engine: Some("terraform".into()),
        engine_version: Some(engine_version),
        var_files: var_files_setting(&reads, &mut p, name),
        state: None,
        environments: env_specs,
    };
    p.file(
        "plinth.hcl",
        spec.render(),
        "project: environments and pull-request settings",
    );

    let by_name: BTreeMap<&str, &Read> = reads
        .iter()
        .filter_map(|r| config.projects[r.index].name.as_deref().map(|n| (n, r)))
        .collect();
    let mut stacks: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for r in &reads {
        let entry = stacks.entry(r.stack.clone()).or_default();
        entry.0.insert(r.env.clone());
        for dep in config.projects[r.index].depends_on.iter().flatten() {
            match by_name.get(dep.as_str()) {
                Some(up) if up.env == r.env && up.stack != r.stack => {
                    entry.1.insert(up.stack.clone());
                }
                Some(up) if up.stack == r.stack => {}
                Some(up) => note(
                    &mut p,
                    lines.project(r.index, Some("depends_on")),
                    NoteKind::NotConverted,
                    format!(
                        "depends_on {dep}: it is in environment {}, not {}; plinth orders within one environment",
                        up.env, r.env
                    ),
                ),
                None => note(
                    &mut p,
                    lines.project(r.index, Some("depends_on")),
                    NoteKind::NotConverted,
                    format!("depends_on {dep}: no project of that name"),
                ),
            }
        }
    }
    for (stack, (stack_envs, after)) in &stacks {
        let spec = StackSpec {
            header: vec![format!(
                "Converted by `plinth import atlantis` from {name}."
            )],
            environments: (stack_envs.len() < envs.len())
                .then(|| order(stack_envs.iter().cloned().collect())),
            after: after.iter().cloned().collect(),
            ..StackSpec::default()
        };
        let path = if stack == "." {
            "stack.hcl".to_string()
        } else {
            format!("{stack}/stack.hcl")
        };
        p.file(
            path,
            spec.render(),
            "stack for the project(s) in this directory",
        );
        p.stacks.push(stack.clone());
    }
    p.environments = envs;
    Ok(p)
}

fn yaml_error(name: &str, text: &str, e: &yaml_serde::Error) -> Diagnostic {
    let source = SourceFile::new(name, text);
    let message = e.to_string();
    match e.location() {
        Some(loc) => {
            let offset = loc.index().min(text.len());
            Diagnostic::error(format!("{name} is not a valid Atlantis repo config")).at(
                &source,
                offset..(offset + 1).min(text.len()),
                message,
            )
        }
        None => Diagnostic::error(format!("{name}: {message}")),
    }
}

fn normalize_dir(dir: &str) -> String {
    let d = dir.trim().trim_start_matches("./").trim_end_matches('/');
    if d.is_empty() || d == "." {
        ".".into()
    } else {
        d.to_string()
    }
}

/// `-var-file X` / `-var-file=X` arguments, and the others.
fn split_var_files(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a2 = a.trim_start_matches('-');
        if a2 == "var-file" {
            if let Some(v) = it.next() {
                files.push(v.clone());
            }
        } else if let Some(v) = a2.strip_prefix("var-file=") {
            files.push(v.to_string());
        } else {
            rest.push(a.clone());
        }
    }
    (files, rest)
}

fn project_env(project: &model::Project, var_files: &[String], stack: &str) -> String {
    if let Some(ws) = project.workspace.as_deref().filter(|w| *w != "default") {
        return sanitize_name(ws);
    }
    if let Some(last) = var_files.last() {
        let stem = last.rsplit('/').next().unwrap_or(last);
        let stem = stem.strip_suffix(".tfvars").unwrap_or(stem);
        return sanitize_name(stem);
    }
    let parts: Vec<&str> = stack.split('/').collect();
    if let Some(w) = parts
        .windows(2)
        .find(|w| matches!(w[0], "envs" | "environments" | "env"))
    {
        return sanitize_name(w[1]);
    }
    if let Some(c) = parts.iter().rev().find(|c| {
        matches!(
            **c,
            "dev"
                | "development"
                | "qa"
                | "test"
                | "stage"
                | "staging"
                | "prod"
                | "production"
                | "uat"
                | "sandbox"
        )
    }) {
        return c.to_string();
    }
    if let Some(n) = &project.name {
        // Several projects on one directory without workspaces differ by name only.
        return sanitize_name(n);
    }
    "default".into()
}

/// `var_files` patterns from the projects' `-var-file` arguments, the environment's name
/// replaced by `${env.name}`; `None` when plinth's default finds them.
fn var_files_setting(reads: &[Read], p: &mut Proposal, name: &str) -> Option<Vec<String>> {
    let mut patterns: Vec<String> = Vec::new();
    for r in reads {
        for f in &r.var_files {
            let f = f.trim_start_matches("./");
            let pattern = if f.contains(&r.env) {
                escape_template_text(f).replacen(&r.env, "${env.name}", 1)
            } else {
                p.note(Note::at(name, None, NoteKind::Changed, format!("var file {f} does not name its environment: plinth reads it in every environment of stack {}", r.stack)));
                escape_template_text(f)
            };
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
    }
    let default = ["env/${env.name}.tfvars", "${env.name}.tfvars"];
    if patterns.iter().all(|p| default.contains(&p.as_str())) {
        return None;
    }
    Some(patterns.into_iter().map(|p| format!("\"{p}\"")).collect())
}
