//! Running plan/apply/destroy from the CLI: options to `plinth-run`, the progress view, the
//! summary or JSON, and exit codes.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use plinth_project::Project;
use plinth_run::{Mode, Run, RunError, RunOptions, RunReport, RunStatus};

use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::render::{progress, summary};
use crate::select::SelectArgs;
use crate::{changes, project};

/// Options every run command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The environment.
    pub env: String,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Maximum instances running at once (default: `parallelism` in plinth.hcl, else CPUs, at most 8).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Wait up to DURATION (e.g. `30s`, `5m`) for another run on this environment to finish.
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
    /// One JSON document on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failure(format!("cannot start the runtime: {e}")))
}

/// Builds the run options; `changed` is the `--changed` base if given.
pub fn options(
    ctx: &Context,
    project: &Project,
    args: &RunArgs,
    changed: Option<&str>,
    approve_destructive: bool,
) -> Result<RunOptions, Failure> {
    let secs = plinth_config::parse_duration(&args.lock_timeout)
        .or_else(|| (args.lock_timeout.trim() == "0").then_some(0))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--lock-timeout {}: expected a duration like 30s or 5m",
                args.lock_timeout
            ))
        })?;
    let changed = match changed {
        Some(base) => {
            let set = changes::since(project, base)?;
            Some(
                project
                    .affected(&set, args.select.with_dependents)
                    .map_err(|d| project::config_failure(ctx, &d))?,
            )
        }
        None => None,
    };
    // A name that is not an environment of plinth.hcl may be an ephemeral copy.
    let template = if project.config.environment(&args.env).is_none() {
        runtime()?
            .block_on(plinth_run::copy_template(project, &args.env))
            .map_err(|e| run_failure(ctx, e))?
    } else {
        None
    };
    Ok(RunOptions {
        env: args.env.clone(),
        template,
        via_server: false,
        skip_promotion: None,
        selection: args.select.selection(),
        changed,
        only: None,
        parallelism: args.jobs,
        approve_destructive,
        lock_wait: Duration::from_secs(secs),
        reuse_plans: Vec::new(),
        replan: Default::default(),
    })
}

/// Starts and executes one run with the live view; prints nothing else.
pub async fn execute(
    ctx: &Context,
    project: Arc<Project>,
    opts: RunOptions,
    mode: Mode,
) -> Result<RunReport, Failure> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let env = opts.env.clone();
    let run = Run::start(Arc::clone(&project), opts, mode, tx)
        .await
        .map_err(|e| run_failure(ctx, e))?;
    let tty = std::io::stderr().is_terminal();
    let view = tokio::spawn(progress::show(
        rx,
        env,
        run.instances().len(),
        tty,
        ctx.color_stderr,
        ctx.quiet,
        ctx.verbose.then(|| project.root.clone()),
    ));
    let interrupter = run.interrupter();
    let interrupt = tokio::spawn(async move {
        let mut first = true;
        while tokio::signal::ctrl_c().await.is_ok() {
            if first {
                interrupter.interrupt();
                eprintln!(
                    "interrupted: no new instance starts; running engines were asked to stop and are saving their state"
                );
                first = false;
            } else {
                eprintln!(
                    "still stopping: each engine got one interrupt and is finishing safely; waiting for it"
                );
            }
        }
    });
    let report = run.execute().await.map_err(|e| run_failure(ctx, e));
    interrupt.abort();
    let _ = view.await;
    report
}

/// Prints the report (table on stderr for humans, JSON on stdout) and picks the exit code.
pub fn finish(
    ctx: &Context,
    report: &RunReport,
    json: bool,
    detailed: bool,
) -> Result<Exit, Failure> {
    if json {
        write_json(report)?;
    }
    if !json || !ctx.quiet {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", summary::table(report, ctx.color_stderr));
        if report.action == "plan" && report.has_changes() {
            let blockers = report.not_appliable();
            if blockers.is_empty() {
                let _ = writeln!(
                    err,
                    "apply exactly these plans with: plinth apply {} --plan {}",
                    report.env, report.run_id
                );
            } else {
                let _ = writeln!(
                    err,
                    "these plans cannot be applied as a whole:\n  {}\napply the upstream stacks first (or plan and apply along the graph with --auto-approve), then plan again",
                    blockers.join("\n  ")
                );
            }
        }
    }
    Ok(match report.status {
        RunStatus::Failed => Exit::Failure,
        RunStatus::Blocked => Exit::Blocked,
        RunStatus::Interrupted => Exit::Interrupted,
        RunStatus::Succeeded if detailed && report.has_changes() => Exit::Changes,
        RunStatus::Succeeded => Exit::Success,
    })
}

/// Writes `value` as the one JSON document on stdout.
pub fn write_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)
        .and_then(|()| writeln!(out).map_err(serde_json::Error::io))
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))
}

/// Whether stdin is a terminal someone can answer on.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Maps a run that could not start to its exit code.
pub fn run_failure(ctx: &Context, err: RunError) -> Failure {
    match err {
        RunError::Config(diags) => project::config_failure(ctx, &diags),
        RunError::Usage(m) => Failure::usage(m),
        RunError::Blocked(m) => Failure::blocked(m),
        // A version plinth.hcl does not accept is a configuration matter; a missing binary
        // or one that does not run is a failure of the machine.
        RunError::Engine(
            e @ (plinth_engine::EngineError::WrongVersion { .. }
            | plinth_engine::EngineError::Constraint(_)),
        ) => Failure::usage(e.to_string()),
        RunError::Engine(e) => Failure::failure(e.to_string()),
        RunError::Other(m) => Failure::failure(m),
    }
}

/// Asks a yes/no question on the terminal; `None` when stdin is not a terminal.
pub fn confirm(question: &str, expected: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    Some(answer.trim() == expected)
}
