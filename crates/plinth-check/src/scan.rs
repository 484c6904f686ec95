//! The scan: load every stack and local module once, run the rules in parallel, apply
//! suppressions and severities, and collect findings in a stable order.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use plinth_diag::{Diagnostic, Severity};
use rayon::prelude::*;
use time::Date;

use crate::engine_rules::EngineOutcome;
use crate::model::{FileKind, ModuleModel, SourceUnit};
use crate::policy::Policy;
use crate::registry::{self, Rule};
use crate::rules::{self, Hit};
use crate::suppress::{self, Suppression};

/// One stack to check.
#[derive(Debug, Clone)]
pub struct CheckTarget {
    /// Stack id (path relative to the project root, `/`-separated).
    pub id: String,
    /// Absolute stack directory.
    pub dir: PathBuf,
    /// Absolute directories of the local modules it calls (transitively).
    pub modules: Vec<PathBuf>,
    /// Environments the stack is deployed to; their severities apply.
    pub environments: Vec<String>,
}

/// Everything a scan needs.
pub struct CheckRequest<'a> {
    /// Project root; displayed paths are relative to it.
    pub root: &'a Path,
    /// Stacks to check.
    pub targets: &'a [CheckTarget],
    /// Project-level files scanned for plaintext secrets only (plinth.hcl).
    pub project_files: &'a [PathBuf],
    /// Severities and unsuppressible rules.
    pub policy: &'a Policy,
    /// Engine results, when the engine-backed rules ran.
    pub engine: &'a [EngineOutcome],
    /// The date suppressions expire against.
    pub today: Date,
}

/// One finding: a rendered-ready diagnostic plus the stack it belongs to.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// Stack id (empty for project-level files).
    pub stack: String,
    /// Severity, code, message, location and fix hint.
    pub diagnostic: Diagnostic,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Stacks checked.
    pub stacks: usize,
    /// Files read.
    pub files: usize,
    /// Findings silenced by valid suppressions.
    pub suppressed: usize,
}

impl Report {
    /// Number of findings at `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.diagnostic.severity == severity)
            .count()
    }

    /// Whether any finding is an error (the command then exits 1).
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// The closing summary line.
    pub fn summary_line(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, {} in {} ({}; {} suppressed)",
            plural(self.count(Severity::Error), "error"),
            plural(self.count(Severity::Warning), "warning"),
            plural(self.count(Severity::Note), "note"),
            plural(self.stacks, "stack"),
            plural(self.files, "file"),
            self.suppressed
        )
    }
}

/// A unit of parallel work: one module directory and who it belongs to.
struct Job<'a> {
    dir: PathBuf,
    stack: &'a str,
    is_stack: bool,
    environments: Vec<String>,
    engine: Option<&'a EngineOutcome>,
}

struct JobResult<'a> {
    findings: Vec<Finding>,
    /// Local modules this module calls: (dir, stack, environments) for the next wave.
    calls: Vec<(PathBuf, &'a str, Vec<String>)>,
    files: usize,
    suppressed: usize,
}

/// Runs every static rule (and maps engine results) over the targets.
pub fn check<'a>(req: &CheckRequest<'a>) -> Report {
    let engine: HashMap<&str, &EngineOutcome> =
        req.engine.iter().map(|o| (o.stack.as_str(), o)).collect();
    let stack_jobs: Vec<Job<'a>> = req
        .targets
        .iter()
        .map(|t| Job {
            dir: normalize(&t.dir),
            stack: &t.id,
            is_stack: true,
            environments: t.environments.clone(),
            engine: engine.get(t.id.as_str()).copied(),
        })
        .collect();
    let mut scanned: HashSet<PathBuf> = stack_jobs.iter().map(|j| j.dir.clone()).collect();
    // Local modules are found while scanning (the module blocks are parsed anyway), plus
    // any the caller listed. A module shared by several callers is checked once, under the
    // first stack (in id order) that reaches it, with the strictest severities of them all.
    let mut calls: Vec<(PathBuf, &'a str, Vec<String>)> = req
        .targets
        .iter()
        .flat_map(|t| {
            t.modules
                .iter()
                .map(move |m| (normalize(m), t.id.as_str(), t.environments.clone()))
        })
        .collect();
    let mut results: Vec<JobResult<'a>> =
        stack_jobs.par_iter().map(|job| run_job(req, job)).collect();
    loop {
        for r in &mut results {
            calls.append(&mut r.calls);
        }
        let mut wave: HashMap<PathBuf, Job<'a>> = HashMap::new();
        for (dir, stack, envs) in calls.drain(..) {
            if scanned.contains(&dir) {
                continue;
            }
            let job = wave.entry(dir.clone()).or_insert_with(|| Job {
                dir,
                stack,
                is_stack: false,
                environments: Vec::new(),
                engine: None,
            });
            if stack < job.stack {
                job.stack = stack;
            }
            for env in envs {
                if !job.environments.contains(&env) {
                    job.environments.push(env);
                }
            }
        }
        if wave.is_empty() {
            break;
        }
        let jobs: Vec<Job<'a>> = wave.into_values().collect();
        scanned.extend(jobs.iter().map(|j| j.dir.clone()));
        let more: Vec<JobResult<'a>> = jobs.par_iter().map(|job| run_job(req, job)).collect();
        results.extend(more);
    }
    let mut report = Report {
        stacks: req.targets.len(),
        ..Report::default()
    };
    for r in results {
        report.findings.extend(r.findings);
        report.files += r.files;
        report.suppressed += r.suppressed;
    }
    for path in req.project_files {
        let Ok(unit) = SourceUnit::load(path, display(req.root, path), FileKind::Hcl) else {
            continue;
        };
        report.files += 1;
        let mut hits = Vec::new();
        rules::check_file(&unit, &mut hits);
        let all_envs: Vec<String> = req
            .policy
            .environments()
            .iter()
            .map(|e| e.name.clone())
            .collect();
        let (findings, suppressed) = finalize(req, "", &all_envs, &[Arc::new(unit)], hits);
        report.findings.extend(findings);
        report.suppressed += suppressed;
    }
    report.findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            let (path, line, col) = f.diagnostic.location().unwrap_or(("", 0, 0));
            (path.to_owned(), line, col, f.rule.id)
        };
        key(a).cmp(&key(b))
    });
    report
}

fn display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Files of a module directory: its own `.tf`/`.tfvars`/`.hcl` files, and (for stacks)
/// `.tfvars` in subdirectories that are not stacks themselves.
fn module_files(
    dir: &Path,
    is_stack: bool,
    out: &mut Vec<(PathBuf, FileKind)>,
    has_readme: &mut bool,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if is_stack && !name.starts_with('.') {
                subdirs.push(path);
            }
            continue;
        }
        if name.eq_ignore_ascii_case("readme.md") {
            *has_readme = true;
        }
        // The lock file is the engine's, and the backend override is what plinth itself
        // writes into each stack (plinth-engine's `OVERRIDE_FILE`): neither is stack code.
        if name == ".terraform.lock.hcl" || name == "plinth_backend_override.tf" {
            continue;
        }
        if let Some(kind) = FileKind::of(&path) {
            out.push((path, kind));
        }
    }
    for sub in subdirs {
        if sub.join("stack.hcl").exists() {
            continue;
        }
        tfvars_below(&sub, out);
    }
}

fn tfvars_below(dir: &Path, out: &mut Vec<(PathBuf, FileKind)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match entry.file_type() {
            Ok(t) if t.is_dir() && !hidden && !path.join("stack.hcl").exists() => {
                tfvars_below(&path, out)
            }
            Ok(t) if t.is_file() && FileKind::of(&path) == Some(FileKind::Tfvars) => {
                out.push((path, FileKind::Tfvars));
            }
            _ => {}
        }
    }
}

fn run_job<'a>(req: &CheckRequest<'_>, job: &Job<'a>) -> JobResult<'a> {
    let mut files = Vec::new();
    let mut has_readme = false;
    module_files(&job.dir, job.is_stack, &mut files, &mut has_readme);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let units: Vec<Arc<SourceUnit>> = files
        .iter()
        .filter(|(_, kind)| job.is_stack || *kind == FileKind::Tf)
        .map(|(path, kind)| {
            Arc::new(SourceUnit::load_or_report(
                path,
                display(req.root, path),
                *kind,
            ))
        })
        .collect();
    let mut hits = Vec::new();
    for unit in &units {
        rules::check_file(unit, &mut hits);
    }
    let module = ModuleModel {
        display: if job.is_stack {
            job.stack.to_owned()
        } else {
            display(req.root, &job.dir)
        },
        is_stack: job.is_stack,
        tf: units
            .iter()
            .filter(|u| u.kind == FileKind::Tf)
            .cloned()
            .collect(),
        has_readme,
        stack_file: units
            .iter()
            .find(|u| u.source.display_path().ends_with("stack.hcl"))
            .cloned(),
    };
    rules::check_module(&module, &mut hits);
    if let Some(outcome) = job.engine {
        engine_hits(req, job, outcome, &units, &mut hits);
    }
    let calls = local_calls(&job.dir, &module)
        .into_iter()
        .map(|dir| (dir, job.stack, job.environments.clone()))
        .collect();
    let (findings, suppressed) = finalize(req, job.stack, &job.environments, &units, hits);
    JobResult {
        findings,
        calls,
        files: units.len(),
        suppressed,
    }
}

/// Directories of the local modules (`./…`, `../…` sources) a module calls.
fn local_calls(dir: &Path, module: &ModuleModel) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for unit in &module.tf {
        for call in unit.blocks("module") {
            if let Some(source) = call
                .body
                .get_attribute("source")
                .and_then(|a| a.value.as_str())
                && (source.starts_with("./") || source.starts_with("../"))
            {
                let dir = normalize(&dir.join(source));
                if !out.contains(&dir) {
                    out.push(dir);
                }
            }
        }
    }
    out
}

/// Resolves `.` and `..` lexically, so that two spellings of a module directory compare
/// equal without a syscall per path (symlinks are not followed, like terraform).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn engine_hits(
    req: &CheckRequest<'_>,
    job: &Job<'_>,
    outcome: &EngineOutcome,
    units: &[Arc<SourceUnit>],
    hits: &mut Vec<Hit>,
) {
    let unit_for = |rel: &Path| {
        let wanted = display(req.root, &job.dir.join(rel));
        units.iter().find(|u| u.source.display_path() == wanted)
    };
    let anchor = units
        .iter()
        .find(|u| u.kind == FileKind::Tf)
        .or_else(|| units.first());
    for file in &outcome.unformatted {
        if let Some(unit) = unit_for(file).or(anchor) {
            hits.push(
                Hit::new(
                    "FMT001",
                    unit,
                    0..0,
                    "`terraform fmt` would change this file",
                )
                .message(format!("{} is not formatted", unit.source.display_path())),
            );
        }
    }
    if let Some(failure) = &outcome.failure
        && let Some(unit) = anchor
    {
        hits.push(
            Hit::new("FMT002", unit, 0..0, "engine failed for this stack")
                .message(format!("engine failed: {}", first_line(failure))),
        );
    }
    for d in &outcome.diagnostics {
        let located = d.file.as_deref().and_then(unit_for);
        let Some(unit) = located.or(anchor) else {
            continue;
        };
        let (start, end) = if located.is_some() {
            let s = unit.source.offset(d.start.0, d.start.1);
            let e = unit.source.offset(d.end.0, d.end.1).max(s);
            (s, e)
        } else {
            (0, 0)
        };
        let mut message = format!("terraform validate: {}", d.summary);
        if d.severity == "warning" {
            message.push_str(" (warning)");
        }
        hits.push(Hit::new("FMT002", unit, start..end, first_line(&d.detail)).message(message));
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Applies suppressions and severities, and adds findings about the suppressions.
fn finalize(
    req: &CheckRequest<'_>,
    stack: &str,
    envs: &[String],
    units: &[Arc<SourceUnit>],
    hits: Vec<Hit>,
) -> (Vec<Finding>, usize) {
    let mut suppressions: HashMap<*const plinth_diag::SourceFile, Vec<(Suppression, bool)>> =
        HashMap::new();
    let mut findings = Vec::new();
    let push = |rule: &'static Rule, hit: Hit, findings: &mut Vec<Finding>| {
        let Some(severity) = req.policy.severity(rule, envs) else {
            return;
        };
        let diagnostic = Diagnostic::new(
            severity,
            hit.message.unwrap_or_else(|| rule.message.to_owned()),
        )
        .with_code(rule.id)
        .at(&hit.source, hit.span, hit.label)
        .with_help(rule.hint);
        findings.push(Finding {
            rule,
            stack: stack.to_owned(),
            diagnostic,
        });
    };
    for unit in units {
        let parsed = suppress::parse(unit);
        if parsed.is_empty() {
            continue;
        }
        let mut valid = Vec::new();
        for s in parsed {
            let problem = suppression_problem(req, envs, &s);
            let ok = problem.is_none();
            if let Some((rule, message)) = problem {
                let hit = Hit::new(rule, unit, s.span.clone(), "this suppression").message(message);
                push(registry::get(rule), hit, &mut findings);
            }
            valid.push((s, ok));
        }
        suppressions.insert(Arc::as_ptr(&unit.source), valid);
    }
    let mut suppressed = 0;
    for hit in hits {
        let rule = registry::get(hit.rule);
        let (line, _) = hit.source.line_col(hit.span.start);
        let silenced = suppressions
            .get(&Arc::as_ptr(&hit.source))
            .is_some_and(|list| list.iter().any(|(s, ok)| *ok && s.covers(rule.id, line)));
        if silenced && !req.policy.unsuppressible(rule, envs) {
            suppressed += 1;
            continue;
        }
        push(rule, hit, &mut findings);
    }
    (findings, suppressed)
}

/// The finding a suppression comment itself deserves, if any.
fn suppression_problem(
    req: &CheckRequest<'_>,
    envs: &[String],
    s: &Suppression,
) -> Option<(&'static str, String)> {
    if let Some(problem) = &s.malformed {
        return Some(("SUP001", format!("invalid suppression: {problem}")));
    }
    if s.rules.is_empty() {
        return Some(("SUP001", "invalid suppression: no rule id".into()));
    }
    for id in &s.rules {
        let Some(rule) = registry::find(id) else {
            return Some((
                "SUP001",
                format!("invalid suppression: unknown rule id `{id}`"),
            ));
        };
        if req.policy.unsuppressible(rule, envs) {
            return Some(("SUP001", format!("{id} cannot be suppressed")));
        }
    }
    if s.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Some(("SUP001", "suppression without a reason=\"…\"".into()));
    }
    if let Some(expires) = s.expires
        && expires < req.today
    {
        return Some((
            "SUP002",
            format!("suppression of {} expired on {expires}", s.rules.join(", ")),
        ));
    }
    None
}
