//! The scan: load every stack and local module once, run the rules in parallel, apply
//! suppressions and severities, and collect findings in a stable order.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use plinth_diag::{Diagnostic, Severity};
use rayon::prelude::*;
use time::Date;

use crate::engine_rules::EngineOutcome;
use crate::model::{CallSite, FileKind, ModuleModel, SourceUnit};
use crate::policy::Policy;
use crate::problems::ProblemKind;
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
    /// Whether the targets are a plinth project's stacks; outside one (plain Terraform
    /// directories), the project's conventions are notes and targets are called modules.
    pub project: bool,
    /// Directories of `.tf` files in the project that are not stacks: checked as modules,
    /// and reported (ARC006) unless a stack calls them.
    pub loose: &'a [PathBuf],
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

/// A problem of the machine the check ran on, not of the code: reported once, with its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What went wrong, one line.
    pub what: String,
    /// How to fix it.
    pub fix: String,
    /// The stacks or files it affected.
    pub affected: Vec<String>,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Stacks checked.
    pub stacks: usize,
    /// Modules checked that are not stacks (called modules, plain directories).
    pub modules: usize,
    /// Files read.
    pub files: usize,
    /// Findings silenced by valid suppressions.
    pub suppressed: usize,
    /// Whether this was a plinth project (else plain Terraform directories).
    pub project: bool,
    /// Environment problems, each once.
    pub problems: Vec<Problem>,
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
        let scope = if !self.project {
            plural(self.modules, "module")
        } else if self.modules > 0 {
            format!(
                "{} and {}",
                plural(self.stacks, "stack"),
                plural(self.modules, "module")
            )
        } else {
            plural(self.stacks, "stack")
        };
        let mut line = format!(
            "{}, {}, {} in {scope} ({}; {} suppressed)",
            plural(self.count(Severity::Error), "error"),
            plural(self.count(Severity::Warning), "warning"),
            plural(self.count(Severity::Note), "note"),
            plural(self.files, "file"),
            self.suppressed
        );
        if !self.project {
            line.push_str("; no plinth.hcl: checked as plain Terraform");
        }
        if !self.problems.is_empty() {
            line.push_str(&format!(
                "; {} not checked, see above",
                plural(self.problems.len(), "environment problem")
            ));
        }
        line
    }
}

/// A unit of parallel work: one module directory and who it belongs to.
struct Job<'a> {
    dir: PathBuf,
    stack: &'a str,
    is_stack: bool,
    environments: Vec<String>,
    engine: Option<&'a EngineOutcome>,
    /// A project directory of `.tf` files that is neither a stack nor called (ARC006).
    loose: bool,
}

struct JobResult {
    findings: Vec<Finding>,
    files: usize,
    suppressed: usize,
    problems: Vec<(ProblemKind, String, String)>,
}

/// A module read and parsed, waiting for its rules (which need every caller's inputs).
struct Loaded<'a> {
    job: Job<'a>,
    units: Vec<Arc<SourceUnit>>,
    module: ModuleModel,
    /// Local modules this module calls, for the next wave.
    calls: Vec<(PathBuf, CallSite)>,
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
            loose: false,
        })
        .collect();
    let mut scanned: HashSet<PathBuf> = stack_jobs.iter().map(|j| j.dir.clone()).collect();
    // Local modules are found while loading (the module blocks are parsed anyway), plus
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
    let mut loaded: Vec<Loaded<'a>> = stack_jobs
        .into_par_iter()
        .map(|job| load_job(req, job))
        .collect();
    let mut callers: HashMap<PathBuf, Callers> = HashMap::new();
    let mut next = 0;
    loop {
        for l in &mut loaded[next..] {
            for (dir, site) in l.calls.drain(..) {
                calls.push((dir.clone(), l.job.stack, l.job.environments.clone()));
                callers.entry(dir).or_default().add(site);
            }
        }
        next = loaded.len();
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
                loose: false,
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
        let jobs: Vec<Job<'a>> = if wave.is_empty() {
            // Loose directories no stack called are checked last, as modules of their own.
            req.loose
                .iter()
                .map(|d| normalize(d))
                .filter(|d| !scanned.contains(d))
                .map(|dir| Job {
                    dir,
                    stack: "",
                    is_stack: false,
                    environments: Vec::new(),
                    engine: None,
                    loose: true,
                })
                .collect()
        } else {
            wave.into_values().collect()
        };
        if jobs.is_empty() {
            break;
        }
        scanned.extend(jobs.iter().map(|j| j.dir.clone()));
        let more: Vec<Loaded<'a>> = jobs.into_par_iter().map(|job| load_job(req, job)).collect();
        loaded.extend(more);
    }
    forward_through_callers(&mut callers);
    let results: Vec<JobResult> = loaded
        .into_par_iter()
        .map(|mut l| {
            l.module.callers = callers
                .get(&l.job.dir)
                .map(|c| c.sites.clone())
                .unwrap_or_default();
            check_loaded(req, l)
        })
        .collect();
    let (stacks, modules) = if req.project {
        (req.targets.len(), results.len() - req.targets.len())
    } else {
        (0, results.len())
    };
    let mut report = Report {
        stacks,
        modules,
        project: req.project,
        ..Report::default()
    };
    let mut problems: Vec<(ProblemKind, Problem)> = Vec::new();
    for r in results {
        report.findings.extend(r.findings);
        report.files += r.files;
        report.suppressed += r.suppressed;
        for (kind, detail, affected) in r.problems {
            match problems.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, p)) => p.affected.push(affected),
                None => problems.push((kind, kind.problem(&detail, affected))),
            }
        }
    }
    report.problems = problems.into_iter().map(|(_, p)| p).collect();
    for p in &mut report.problems {
        p.affected.sort();
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
    subdir_tfvars: bool,
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
            if is_stack && subdir_tfvars && !name.starts_with('.') {
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

fn load_job<'a>(req: &CheckRequest<'_>, job: Job<'a>) -> Loaded<'a> {
    let mut files = Vec::new();
    let mut has_readme = false;
    // Outside a project every directory is a target of its own: its subdirectories'
    // .tfvars belong to them.
    module_files(
        &job.dir,
        job.is_stack,
        req.project,
        &mut files,
        &mut has_readme,
    );
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
        callers: Vec::new(),
    };
    let calls = local_calls(&job.dir, &module);
    Loaded {
        job,
        units,
        module,
        calls,
    }
}

fn check_loaded(req: &CheckRequest<'_>, loaded: Loaded<'_>) -> JobResult {
    let Loaded {
        job, units, module, ..
    } = loaded;
    let mut hits = Vec::new();
    let mut problems = Vec::new();
    for unit in &units {
        rules::check_file(unit, &mut hits);
        if let Some(why) = &unit.unreadable {
            problems.push((
                ProblemKind::Unreadable,
                why.clone(),
                unit.source.display_path().to_owned(),
            ));
        }
    }
    rules::check_module(&module, &mut hits);
    if job.loose
        && let Some(unit) = module.tf.first()
    {
        hits.push(
            Hit::new(
                "ARC006",
                unit,
                0..0,
                "no stack.hcl, and no stack calls this module",
            )
            .message(format!(
                "`{}` has .tf files but is neither a stack nor a module a stack calls",
                module.display
            )),
        );
    }
    if let Some(outcome) = job.engine {
        engine_hits(req, &job, outcome, &units, &mut hits, &mut problems);
    }
    let owner = if req.project {
        job.stack
    } else {
        module.display.as_str()
    };
    let (findings, suppressed) = finalize(req, owner, &job.environments, &units, hits);
    JobResult {
        findings,
        files: units.len(),
        suppressed,
        problems,
    }
}

/// The local modules (`./…`, `../…` sources) a module calls, with the literal inputs of
/// each call.
fn local_calls(dir: &Path, module: &ModuleModel) -> Vec<(PathBuf, CallSite)> {
    let dir_of_caller = dir;
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
                out.push((dir.clone(), CallSite::of(unit, call, dir_of_caller)));
            }
        }
    }
    out
}

/// The distinct calls of one module.
#[derive(Default)]
struct Callers {
    signatures: HashSet<String>,
    sites: Vec<CallSite>,
}

impl Callers {
    /// Adds a call unless one with the same inputs is there; whether it was added.
    fn add(&mut self, site: CallSite) -> bool {
        let added = self.signatures.insert(site.signature());
        if added {
            self.sites.push(site);
        }
        added
    }
}

/// Values forwarded through module chains (`examples/x` passes `storage_encrypted = false`
/// to the root module, which passes `var.storage_encrypted` on to `modules/db_instance`)
/// reach the module that uses them: up to three calls deep, each distinct set once.
fn forward_through_callers(callers: &mut HashMap<PathBuf, Callers>) {
    for _ in 0..3 {
        let mut added: Vec<(PathBuf, CallSite)> = Vec::new();
        for (callee, c) in callers.iter() {
            for site in c.sites.iter().filter(|s| !s.forwarded.is_empty()) {
                for outer in callers
                    .get(&site.caller_dir)
                    .map(|o| &o.sites)
                    .into_iter()
                    .flatten()
                {
                    if let Some(derived) = site.through(outer)
                        && !c.signatures.contains(&derived.signature())
                    {
                        added.push((callee.clone(), derived));
                    }
                }
            }
        }
        let mut any = false;
        for (callee, site) in added {
            any |= callers.entry(callee).or_default().add(site);
        }
        if !any {
            return;
        }
    }
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
    problems: &mut Vec<(ProblemKind, String, String)>,
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
        && let Some(kind) = ProblemKind::of_engine_failure(failure)
    {
        problems.push((kind, first_line(failure).to_owned(), job.stack.to_owned()));
    } else if let Some(failure) = &outcome.failure
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
        let Some(mut severity) = req.policy.severity(rule, envs) else {
            return;
        };
        if hit.note || (rule.project_only && !req.project) {
            severity = Severity::Note;
        }
        let help = hit.help.unwrap_or_else(|| rule.hint.to_owned());
        let diagnostic = Diagnostic::new(
            severity,
            hit.message.unwrap_or_else(|| rule.message.to_owned()),
        )
        .with_code(rule.id)
        .at(&hit.source, hit.span, hit.label)
        .with_help(help);
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
        for mut s in parsed {
            if s.checkov {
                // Ids plinth has no rule for, and rules that refuse suppression, are left to
                // checkov: the comment is the user's checkov configuration, not a finding.
                s.rules
                    .retain(|id| !req.policy.unsuppressible(registry::get(id), envs));
                valid.push((s, true));
                continue;
            }
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
