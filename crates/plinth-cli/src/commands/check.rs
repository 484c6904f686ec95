//! `plinth check`: run governance checks on the code.

use std::io::Write;
use std::path::{Path, PathBuf};

use plinth_check::{
    CheckRequest, CheckTarget, EngineOutcome, EnvProfile, Policy, PolicyBlock, registry,
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
    /// Only stacks under these paths (default: every stack).
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
    let selected = started.elapsed();
    let engine = if args.no_engine {
        Vec::new()
    } else {
        run_engine(ctx, &project, &targets)
    };
    let project_files = [project.root.join("plinth.hcl")];
    let today = plinth_check::today_utc();
    let report = plinth_check::check(&CheckRequest {
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
    });
    let scanned = started.elapsed();
    let text = match args.format {
        Format::Text => plinth_check::output::text::render(&report, ctx.color_stdout),
        Format::Json => pretty(&plinth_check::output::json::render(&report)),
        Format::Sarif => pretty(&plinth_check::output::sarif::render(&report)),
    };
    let mut stdout = anstream::stdout();
    if !(ctx.quiet && args.format == Format::Text && report.findings.is_empty()) {
        write!(stdout, "{text}")
            .map_err(|e| Failure::failure(format!("cannot write output: {e}")))?;
    }
    if ctx.verbose {
        let mut stderr = anstream::stderr();
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
    let parallelism = settings.parallelism.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(8)
    });
    let options = ValidateOptions {
        engine: engine_path(&project.root, &settings.engine.value),
        root: project.root.clone(),
        parallelism,
        fmt: true,
        validate: true,
    };
    if !ctx.quiet {
        let mut stderr = anstream::stderr();
        let _ = writeln!(
            stderr,
            "running {} fmt and validate on {} stacks (--no-engine skips this)",
            settings.engine.value,
            targets.len()
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
