//! `plinth env up|down|ls|reap`: ephemeral copies of an environment.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use plinth_project::Project;
use plinth_run::{CopyOptions, CopyRecord, Event, RunStatus};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::render::{progress, summary};
use crate::runner;

/// Arguments of `plinth env`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EnvCommand {
    /// Create (or bring up to date) copy NAME of an ephemeral environment: apply it whole,
    /// then run its `test` commands.
    Up {
        /// The copy's name: a-z, 0-9 and `-`, at most 63 characters.
        name: String,
        /// The ephemeral environment of plinth.hcl to copy.
        #[arg(long = "from", value_name = "TEMPLATE")]
        template: String,
        /// Apply without asking.
        #[arg(long)]
        auto_approve: bool,
        /// The pull request the copy belongs to (recorded).
        #[arg(long, value_name = "N")]
        pull_request: Option<u64>,
        #[command(flatten)]
        common: Common,
    },
    /// Destroy copy NAME in reverse dependency order; it is forgotten once the destroy
    /// succeeded.
    Down {
        /// The copy.
        name: String,
        /// Destroy without asking.
        #[arg(long)]
        auto_approve: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List the copies.
    Ls {
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Destroy every copy past its `ttl`.
    Reap {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Maximum instances running at once.
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Wait up to DURATION for another run on the copy to finish.
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    lock_timeout: String,
    /// One JSON document on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
}

/// Runs `plinth env`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let rt = runner::runtime()?;
    match args.command {
        EnvCommand::Ls { json } => {
            let list = rt
                .block_on(plinth_run::list_copies(&project))
                .map_err(|e| runner::run_failure(ctx, e))?;
            warn(ctx, list.warning.as_deref());
            print_list(&list.copies, json)
        }
        EnvCommand::Up {
            name,
            template,
            auto_approve,
            pull_request,
            common,
        } => {
            rt.block_on(async {
                plinth_run::check_copy(&project, &name, &template)
                    .map_err(|e| runner::run_failure(ctx, e))
            })?;
            if !auto_approve {
                ask(&format!(
                    "Create copy `{name}` of `{template}` and apply it? Only 'yes' will be accepted:"
                ))?;
            }
            let opts = copy_options(&name, Some(template.clone()), pull_request, &common)?;
            let total = instances_of(&project, &template);
            let report = rt.block_on(with_progress(ctx, &name, total, |tx| {
                plinth_run::env_up(Arc::clone(&project), opts, tx)
            }))?;
            if common.json {
                runner::write_json(&serde_json::json!({
                    "copy": report.copy,
                    "run": report.run,
                    "tests": report.tests,
                }))?;
            }
            if !common.json || !ctx.quiet {
                eprint!("{}", summary::table(&report.run, ctx.color_stderr));
                for t in &report.tests {
                    eprintln!(
                        "test {}: {} ({})",
                        name,
                        t.command,
                        match t.exit_code {
                            Some(0) => "passed".to_string(),
                            Some(c) => format!("failed, exit {c}"),
                            None => "did not run to the end".to_string(),
                        }
                    );
                }
                eprintln!(
                    "copy {name} of {template}: {}{}",
                    report.copy.status,
                    report
                        .copy
                        .expires_at
                        .as_deref()
                        .map(|e| format!(", expires {e}"))
                        .unwrap_or_default()
                );
                if report.copy.status == "test_failed" {
                    eprintln!(
                        "the copy is left up to look at; take it down with: plinth env down {name}"
                    );
                }
            }
            Ok(match report.run.status {
                RunStatus::Succeeded if report.succeeded() => Exit::Success,
                RunStatus::Blocked => Exit::Blocked,
                RunStatus::Interrupted => Exit::Interrupted,
                _ => Exit::Failure,
            })
        }
        EnvCommand::Down {
            name,
            auto_approve,
            common,
        } => {
            if !auto_approve {
                ask(&format!(
                    "Destroy every instance of copy `{name}`? Only 'yes' will be accepted:"
                ))?;
            }
            down(ctx, &rt, &project, &name, &common)
        }
        EnvCommand::Reap { common } => {
            let list = rt
                .block_on(plinth_run::expired_copies(&project))
                .map_err(|e| runner::run_failure(ctx, e))?;
            warn(ctx, list.warning.as_deref());
            let expired = list.copies;
            if expired.is_empty() {
                eprintln!("no copy has passed its ttl");
                return Ok(Exit::Success);
            }
            let mut worst = Exit::Success;
            for copy in expired {
                eprintln!(
                    "reaping {} (copy of {}, expired {})",
                    copy.name,
                    copy.template,
                    copy.expires_at.as_deref().unwrap_or("?")
                );
                let exit = down(ctx, &rt, &project, &copy.name, &common)?;
                if exit != Exit::Success {
                    worst = Exit::Failure;
                }
            }
            Ok(worst)
        }
    }
}

fn down(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    project: &Arc<Project>,
    name: &str,
    common: &Common,
) -> CmdResult {
    let template = rt
        .block_on(plinth_run::copy_template(project, name))
        .map_err(|e| runner::run_failure(ctx, e))?;
    let total = template.as_deref().map_or(0, |t| instances_of(project, t));
    let opts = copy_options(name, template, None, common)?;
    let report = rt.block_on(with_progress(ctx, name, total, |tx| {
        plinth_run::env_down(Arc::clone(project), opts, tx)
    }))?;
    if common.json {
        runner::write_json(&serde_json::json!({
            "copy": name,
            "removed": report.removed,
            "run": report.run,
        }))?;
    }
    if !common.json || !ctx.quiet {
        eprint!("{}", summary::table(&report.run, ctx.color_stderr));
        if report.removed {
            eprintln!("copy {name} destroyed and removed");
        } else {
            eprintln!(
                "copy {name}: the destroy did not finish; it stays listed as destroy_failed (see `plinth env ls`); fix and run `plinth env down {name}` again"
            );
        }
    }
    Ok(if report.removed {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn ask(question: &str) -> Result<(), Failure> {
    match runner::confirm(question, "yes") {
        Some(true) => Ok(()),
        Some(false) => Err(Failure::blocked("cancelled")),
        None => Err(Failure::blocked(
            "refusing: no --auto-approve, and no terminal to ask for approval",
        )),
    }
}

fn copy_options(
    name: &str,
    template: Option<String>,
    pull_request: Option<u64>,
    common: &Common,
) -> Result<CopyOptions, Failure> {
    let secs = plinth_config::parse_duration(&common.lock_timeout)
        .or_else(|| (common.lock_timeout.trim() == "0").then_some(0))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--lock-timeout {}: expected a duration like 30s or 5m",
                common.lock_timeout
            ))
        })?;
    Ok(CopyOptions {
        name: name.to_string(),
        template,
        pull_request,
        parallelism: common.jobs,
        lock_wait: Duration::from_secs(secs),
        origin: plinth_run::RunOrigin::cli(),
    })
}

/// A warning line on stderr (shown with `--quiet` too: something was left out).
fn warn(ctx: &Context, warning: Option<&str>) {
    if let Some(text) = warning {
        eprintln!("{}", progress::warning_line(text, ctx.color_stderr));
    }
}

fn instances_of(project: &Project, template: &str) -> usize {
    project.graph(template).map_or(0, |g| g.nodes.len())
}

/// Runs `work` with the live progress view fed by its events.
async fn with_progress<F, Fut, T>(
    ctx: &Context,
    env: &str,
    total: usize,
    work: F,
) -> Result<T, Failure>
where
    F: FnOnce(tokio::sync::mpsc::UnboundedSender<Event>) -> Fut,
    Fut: std::future::Future<Output = Result<T, plinth_run::RunError>>,
{
    let (tx, rx): (_, UnboundedReceiver<Event>) = tokio::sync::mpsc::unbounded_channel();
    let view = tokio::spawn(progress::show(
        rx,
        env.to_string(),
        total,
        std::io::stderr().is_terminal(),
        ctx.color_stderr,
        ctx.quiet,
        None,
    ));
    let result = work(tx).await.map_err(|e| runner::run_failure(ctx, e));
    let _ = view.await;
    result
}

fn print_list(copies: &[CopyRecord], json: bool) -> CmdResult {
    if json {
        let environments: Vec<serde_json::Value> = copies
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "template": c.template,
                    "created_at": c.created_at,
                    "expires_at": c.expires_at,
                    "pull_request": c.pull_request,
                    "instances": c.instances,
                    "status": c.status,
                    "creator": c.creator,
                    "last_run": c.last_run,
                })
            })
            .collect();
        runner::write_json(&serde_json::json!({ "environments": environments }))?;
        return Ok(Exit::Success);
    }
    let mut out = std::io::stdout().lock();
    if copies.is_empty() {
        let _ = writeln!(out, "no copies");
        return Ok(Exit::Success);
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING);
    t.set_header([
        "COPY",
        "TEMPLATE",
        "STATUS",
        "INSTANCES",
        "PR",
        "CREATED",
        "EXPIRES",
        "BY",
    ]);
    for c in copies {
        t.add_row(vec![
            c.name.clone(),
            c.template.clone(),
            c.status.clone(),
            c.instances.to_string(),
            c.pull_request.map_or_else(|| "-".into(), |n| n.to_string()),
            c.created_at.clone(),
            c.expires_at.clone().unwrap_or_else(|| "-".into()),
            c.creator.clone(),
        ]);
    }
    let _ = writeln!(out, "{t}");
    Ok(Exit::Success)
}
