//! `plinth drift ENV [SELECT]`: a refreshing plan of each instance, not saved, reported as
//! in-sync, drifted (with counts) or failed; exit 2 when anything drifted.

use std::io::Write;
use std::sync::Arc;

use plinth_run::{InstanceStatus, Mode};

use crate::context::Context;
use crate::exit::{CmdResult, Exit};
use crate::render::summary;
use crate::runner::{self, RunArgs};

/// Arguments of `plinth drift`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
}

/// Runs `plinth drift`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let opts = runner::options(ctx, &project, &args.run, None, false)?;
    let report = runner::runtime()?.block_on(runner::execute(ctx, project, opts, Mode::Drift))?;
    let instances: Vec<serde_json::Value> = report
        .instances
        .iter()
        .map(|i| {
            let mut v = serde_json::json!({
                "stack": i.stack,
                "status": plinth_run::drift_status(i.status.as_str()),
                "add": i.add,
                "change": i.change,
                "destroy": i.destroy,
            });
            if let Some(reason) = &i.reason {
                v["reason"] = serde_json::Value::String(reason.clone());
            }
            v
        })
        .collect();
    if args.run.json {
        runner::write_json(&serde_json::json!({
            "env": report.env,
            "run_id": report.run_id,
            "instances": instances,
        }))?;
    }
    if !args.run.json || !ctx.quiet {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", summary::table(&report, ctx.color_stderr));
    }
    let drifted = report
        .instances
        .iter()
        .filter(|i| i.status == InstanceStatus::Succeeded)
        .count();
    let failed = report.instances.iter().any(|i| {
        !matches!(
            i.status,
            InstanceStatus::Succeeded | InstanceStatus::Unchanged
        )
    });
    if !ctx.quiet {
        eprintln!(
            "drift {}: {}",
            report.env,
            if drifted == 0 {
                "in sync".to_string()
            } else {
                format!(
                    "{} drifted (see `plinth runs {}` and the logs)",
                    summary::plural(drifted, "instance"),
                    report.run_id
                )
            }
        );
    }
    Ok(if drifted > 0 {
        Exit::Changes
    } else if failed {
        Exit::Failure
    } else {
        Exit::Success
    })
}
