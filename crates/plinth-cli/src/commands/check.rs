//! `plinth check`: run governance checks on the code: a plinth project's stacks, or, where
//! there is no plinth.hcl, every directory of `.tf` files under the given paths.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_check::{
    CheckRequest, CheckTarget, EngineOutcome, EnvProfile, Policy, PolicyBlock, Report, registry,
};
use plinth_engine::validate::{self, StackDir, ValidateOptions};
use plinth_project::Project;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::project;

/// Output format of `plinth check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics and a summary line.
    Text,
    /// One JSON document: findings and summary.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

/// Arguments of `plinth check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only stacks under these paths (default: every stack); outside a project, the
    /// Terraform directories to check (default: the working directory).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Apply this environment's severities, and check only the stacks deployed to it.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Skip the rules that run the engine (`fmt -check`, `validate`).
    #[arg(long)]
    no_engine: bool,
    /// Explain a rule (without ID: list every rule) and exit.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    explain: Option<String>,
}

/// Runs `plinth check`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    let started = std::time::Instant::now();
    if plinth_project::find_root(&ctx.cwd).is_none() {
        return run_plain(ctx, &args, started);
    }
    let project = project::load(ctx)?;
    let loaded = started.elapsed();
    let config = &project.config;
    let profiles: Vec<EnvProfile> = config
        .environments
        .iter()
        .map(|e| EnvProfile {
            name: e.name.value.clone(),
            protected: e.protected,
        })
        .collect();
    if let Some(env) = &args.env
        && !profiles.iter().any(|p| &p.name == env)
    {
        let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        return Err(Failure::usage(format!(
            "unknown environment `{env}`\n  help: plinth.hcl declares: {}",
            known.join(", ")
        )));
    }
    let blocks: Vec<PolicyBlock> = config
        .checks
        .iter()
        .map(|c| PolicyBlock {
            environments: c.environments.as_ref().map(|l| {
                l.iter()
                    .map(|s| (s.value.clone(), s.span.clone()))
                    .collect()
            }),
            severity: c
                .severity
                .iter()
                .map(|(k, v)| {
                    (
                        (k.value.clone(), k.span.clone()),
                        (v.value.clone(), v.span.clone()),
                    )
                })
                .collect(),
            unsuppressible: c
                .unsuppressible
                .iter()
                .map(|s| (s.value.clone(), s.span.clone()))
                .collect(),
        })
        .collect();
    let policy = Policy::new(profiles, &blocks, Some(&config.source))
        .map_err(|diags| project::config_failure(ctx, &diags))?;
    let targets = select_targets(ctx, &project, &args)?;
    let loose = loose_dirs(ctx, &project, &args);
    let selected = started.elapsed();
    let engine = if args.no_engine {
        Vec::new()
    } else {
        run_engine(ctx, &project, &targets)
    };
    let project_files = [project.root.join("plinth.hcl")];
    let today = plinth_check::today_utc();
    let mut report = plinth_check::check(&CheckRequest {
        root: &project.root,
        targets: &targets,
        project_files: if args.paths.is_empty() {
            &project_files
        } else {
            &[]
        },
        policy: &policy,
        engine: &engine,
        today,
        project: true,
        loose: &loose,
    });
    let scanned = started.elapsed();
    if let Some(env) = &args.env {
        let budget = super::cost::budget_findings(ctx, &project, env, &policy)?;
        report.findings.extend(budget);
    }
    if args.paths.is_empty() {
        let (findings, problems) =
            super::check_secrets::secret_findings(ctx, &project, args.env.as_deref(), &policy)?;
        report.findings.extend(findings);
        report.problems.extend(problems);
    }
    let repo_root = repository_root(&project.root).unwrap_or_else(|| project.root.clone());
    let text = render(ctx, &args, &report, &repo_root, &project.root);
    finish(
        ctx,
        &args,
        &report,
        &text,
        [loaded, selected, scanned],
        started,
    )
}

/// `plinth check PATH…` without a plinth.hcl: every directory of `.tf` files is a module,
/// checked with the default severities; plinth's project conventions are notes.
fn run_plain(ctx: &Context, args: &Args, started: std::time::Instant) -> CmdResult {
    if args.env.is_some() {
        return Err(Failure::usage(
            "--env needs a plinth project (no plinth.hcl in this directory or above)".to_owned(),
        ));
    }
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![ctx.cwd.clone()]
    } else {
        args.paths.iter().map(|p| ctx.cwd.join(p)).collect()
    };
    let mut dirs = Vec::new();
    for (shown, path) in args
        .paths
        .iter()
        .chain(std::iter::once(&ctx.cwd))
        .zip(&paths)
    {
        let path = path
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: {e}", shown.display())))?;
        let found = if path.is_file() {
            path.parent().map(Path::to_path_buf).into_iter().collect()
        } else {
            plinth_check::discover::tf_dirs(&path)
        };
        if found.is_empty() {
            return Err(Failure::usage(format!(
                "no .tf files under {}\n  help: pass a directory of Terraform code",
                shown.display()
            )));
        }
        for dir in found {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    let canonical: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .map(|p| {
            if p.is_file() {
                p.parent().map(Path::to_path_buf).unwrap_or(p)
            } else {
                p
            }
        })
        .collect();
    // Paths are shown relative to the repository (so SARIF results land on the right
    // files), or to the checked directory when it is not in a repository.
    let root = plain_root(&canonical);
    let repo_root = repository_root(&root).unwrap_or_else(|| root.clone());
    let root = if canonical.iter().all(|p| p.starts_with(&repo_root)) {
        repo_root.clone()
    } else {
        root
    };
    let targets: Vec<CheckTarget> = dirs
        .iter()
        .map(|dir| CheckTarget {
            id: display_of(&root, dir),
            dir: dir.clone(),
            modules: Vec::new(),
            environments: Vec::new(),
        })
        .collect();
    let selected = started.elapsed();
    let engine = if args.no_engine {
        Vec::new()
    } else {
        // The engine's working files go to a cache outside the checked code.
        let work = std::env::temp_dir()
            .join("plinth-check")
            .join(display_of(Path::new("/"), &root).replace('/', "_"));
        run_engine_in(ctx, "terraform", &work, None, &targets)
    };
    let policy = Policy::defaults();
    let report = plinth_check::check(&CheckRequest {
        root: &root,
        targets: &targets,
        project_files: &[],
        policy: &policy,
        engine: &engine,
        today: plinth_check::today_utc(),
        project: false,
        loose: &[],
    });
    let scanned = started.elapsed();
    let text = render(ctx, args, &report, &repo_root, &root);
    finish(
        ctx,
        args,
        &report,
        &text,
        [Duration::ZERO, selected, scanned],
        started,
    )
}

fn display_of(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let shown = rel.to_string_lossy().replace('\\', "/");
    if shown.is_empty() {
        ".".to_owned()
    } else {
        shown
    }
}

/// The deepest directory that contains every path.
fn plain_root(paths: &[PathBuf]) -> PathBuf {
    let mut root = paths.first().cloned().unwrap_or_default();
    for p in &paths[1.min(paths.len())..] {
        while !p.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    root
}

/// The repository's top level: the nearest directory at or above `dir` with a `.git`
/// (a directory, or a file in worktrees and submodules).
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn render(ctx: &Context, args: &Args, report: &Report, repo_root: &Path, root: &Path) -> String {
    match args.format {
        Format::Text => plinth_check::output::text::render(report, ctx.color_stdout),
        Format::Json => pretty(&plinth_check::output::json::render(report)),
        Format::Sarif => {
            let prefix = match root.strip_prefix(repo_root) {
                Ok(rel) if !rel.as_os_str().is_empty() => {
                    format!("{}/", rel.to_string_lossy().replace('\\', "/"))
                }
                _ => String::new(),
            };
            let base = plinth_check::output::sarif::Base {
                repo_root,
                prefix: &prefix,
            };
            pretty(&plinth_check::output::sarif::render(report, &base))
        }
    }
}

/// Prints the report and picks the exit code.
fn finish(
    ctx: &Context,
    args: &Args,
    report: &Report,
    text: &str,
    [loaded, selected, scanned]: [Duration; 3],
    started: std::time::Instant,
) -> CmdResult {
    let mut stdout = anstream::stdout();
    if !(ctx.quiet
        && args.format == Format::Text
        && report.findings.is_empty()
        && report.problems.is_empty())
    {
        write!(stdout, "{text}")
            .map_err(|e| Failure::failure(format!("cannot write output: {e}")))?;
    }
    let mut stderr = anstream::stderr();
    if args.format != Format::Text {
        // Machine formats carry the problems in the document; people watching CI see
        // them too.
        for p in &report.problems {
            let _ = writeln!(
                stderr,
                "environment problem: {}\n  = help: {}",
                p.what, p.fix
            );
        }
    }
    if ctx.verbose {
        let _ = writeln!(
            stderr,
            "timings: load {:.0?}, modules and selection {:.0?}, checks {:.0?}, output {:.0?}",
            loaded,
            selected - loaded,
            scanned - selected,
            started.elapsed() - scanned
        );
    }
    Ok(if report.has_errors() {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// Project directories of `.tf` files that are not stacks (under the given paths, if any).
fn loose_dirs(ctx: &Context, project: &Project, args: &Args) -> Vec<PathBuf> {
    let stack_dirs: std::collections::HashSet<&Path> =
        project.stacks.iter().map(|s| s.dir.as_path()).collect();
    let roots: Vec<PathBuf> = if args.paths.is_empty() {
        vec![project.root.clone()]
    } else {
        args.paths.iter().map(|p| ctx.cwd.join(p)).collect()
    };
    let mut out = Vec::new();
    for root in roots {
        for dir in plinth_check::discover::tf_dirs(&root) {
            if !stack_dirs.contains(dir.as_path()) && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

fn pretty(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn explain(id: &str) -> CmdResult {
    let mut stdout = anstream::stdout();
    let text = if id.is_empty() {
        registry::RULES
            .iter()
            .map(|r| {
                format!(
                    "{}  {:<8} {}\n",
                    r.id,
                    r.default_severity.as_str(),
                    r.message
                )
            })
            .collect()
    } else {
        let Some(rule) = registry::find(&id.to_ascii_uppercase()) else {
            return Err(Failure::usage(format!(
                "unknown rule id `{id}`\n  help: `plinth check --explain` lists the rules"
            )));
        };
        registry::explain(rule)
    };
    write!(stdout, "{text}").map_err(|e| Failure::failure(format!("cannot write output: {e}")))?;
    Ok(Exit::Success)
}

/// The stacks to check, each with the environments whose severities apply to it.
fn select_targets(
    ctx: &Context,
    project: &Project,
    args: &Args,
) -> Result<Vec<CheckTarget>, Failure> {
    let mut roots = Vec::new();
    for path in &args.paths {
        let abs = ctx.cwd.join(path);
        let abs = abs
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        roots.push((path, abs));
    }
    // Canonical forms only matter when paths were given; skip 5,000 syscalls otherwise.
    let stack_dirs: Vec<(usize, PathBuf)> = if roots.is_empty() {
        Vec::new()
    } else {
        project
            .stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.dir.canonicalize().unwrap_or_else(|_| s.dir.clone())))
            .collect()
    };
    let mut selected: Vec<usize> = Vec::new();
    for (shown, abs) in &roots {
        let before = selected.len();
        for (i, dir) in &stack_dirs {
            // A path selects the stacks below it, or the stack it is inside of.
            if (dir.starts_with(abs) || abs.starts_with(dir)) && !selected.contains(i) {
                selected.push(*i);
            }
        }
        if selected.len() == before
            && !stack_dirs
                .iter()
                .any(|(_, d)| d.starts_with(abs) || abs.starts_with(d))
        {
            return Err(Failure::usage(format!(
                "no stack under {}",
                shown.display()
            )));
        }
    }
    if roots.is_empty() {
        selected = (0..project.stacks.len()).collect();
    }
    let env_names: Vec<String> = project
        .config
        .environments
        .iter()
        .map(|e| e.name.value.clone())
        .collect();
    let mut targets = Vec::new();
    for i in selected {
        let stack = &project.stacks[i];
        let environments: Vec<String> = match &args.env {
            Some(env) if stack.in_env(env) => vec![env.clone()],
            Some(_) => continue,
            None => env_names
                .iter()
                .filter(|e| stack.in_env(e))
                .cloned()
                .collect(),
        };
        targets.push(CheckTarget {
            id: stack.id.clone(),
            dir: stack.dir.clone(),
            // The scan finds local modules itself while it parses the module blocks, which
            // spares a second parse of every file (Project::local_modules).
            modules: Vec::new(),
            environments,
        });
    }
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(targets)
}

/// Runs `fmt -check` and `validate` through the engine for every target.
fn run_engine(ctx: &Context, project: &Project, targets: &[CheckTarget]) -> Vec<EngineOutcome> {
    let settings = &project.config.plinth;
    let engine = engine_path(&project.root, &settings.engine.value);
    run_engine_in(
        ctx,
        &engine.to_string_lossy(),
        &project.root,
        settings.parallelism,
        targets,
    )
}

/// Runs the engine rules with `engine`, keeping its working files under `work`.
fn run_engine_in(
    ctx: &Context,
    engine: &str,
    work: &Path,
    parallelism: Option<usize>,
    targets: &[CheckTarget],
) -> Vec<EngineOutcome> {
    let parallelism = parallelism.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(8)
    });
    let options = ValidateOptions {
        engine: PathBuf::from(engine),
        root: work.to_path_buf(),
        parallelism,
        fmt: true,
        validate: true,
    };
    if !ctx.quiet {
        let mut stderr = anstream::stderr();
        let _ = writeln!(
            stderr,
            "running {engine} fmt and validate on {} {} (--no-engine skips this)",
            targets.len(),
            if work.join("plinth.hcl").exists() {
                "stacks"
            } else {
                "modules"
            }
        );
    }
    let stacks: Vec<StackDir> = targets
        .iter()
        .map(|t| StackDir {
            id: t.id.clone(),
            dir: t.dir.clone(),
        })
        .collect();
    validate::run(&options, &stacks)
}

/// `terraform`/`tofu` are looked up on PATH; anything with a slash is a path from the root.
fn engine_path(root: &Path, engine: &str) -> PathBuf {
    if engine.contains('/') {
        root.join(engine)
    } else {
        PathBuf::from(engine)
    }
}
