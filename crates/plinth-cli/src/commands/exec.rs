//! `plinth exec ENV [SELECT] -- ARGS…`: an engine command in each selected instance's
//! context (its data dir, backend, var file, credentials, secrets), one after another, with
//! a header per instance — Terragrunt's `run --all -- …`. The exit code is the worst one.

use std::sync::Arc;

use plinth_run::{InstanceStatus, Mode, Run};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner::{self, RunArgs};

/// Arguments of `plinth exec`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plinth exec dev --stack infra/plumbing/network -- state list\n  plinth exec prod --stack services/edge-api -- import aws_s3_bucket.logs my-logs-bucket\n  plinth exec dev --stack app -- console"
)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// The engine command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "ARGS")]
    engine_args: Vec<String>,
}

/// Runs `plinth exec`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    if args.run.json {
        return Err(Failure::usage(
            "exec attaches the engine to the terminal; it has no --json",
        ));
    }
    let project = Arc::new(crate::project::load(ctx)?);
    let opts = runner::options(ctx, &project, &args.run, None, false)?;
    let rt = runner::runtime()?;
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let run = Run::start(project, opts, Mode::Exec(args.engine_args.clone()), tx)
            .await
            .map_err(|e| runner::run_failure(ctx, e))?;
        // The engine is in the foreground and handles Ctrl-C itself; plinth waits for it.
        let ignore = tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let report = run.execute().await.map_err(|e| runner::run_failure(ctx, e));
        ignore.abort();
        let _ = drain.await;
        let report = report?;
        let mut worst = 0;
        for i in &report.instances {
            let code = match (i.status, i.exit_code) {
                (_, Some(code)) => code,
                (InstanceStatus::Succeeded | InstanceStatus::Unchanged, None) => 0,
                (InstanceStatus::Blocked, None) => i32::from(Exit::Blocked.code()),
                _ => 1,
            };
            if code != 0
                && let Some(reason) = &i.reason
            {
                eprintln!("{}/{}: {reason}", report.env, i.stack);
            }
            worst = worst.max(code);
        }
        Ok(Exit::Code(worst.clamp(0, 255) as u8))
    })
}
