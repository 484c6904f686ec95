//! `plinth apply`: apply saved plans, or plan and apply with `--auto-approve`.

use std::sync::Arc;

use plinth_run::{Mode, RunStatus};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner::{self, RunArgs};

/// Arguments of `plinth apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Apply exactly the plans saved by this plan run; refuses preview-only or stale plans.
    #[arg(long = "plan", value_name = "RUN_ID", conflicts_with = "auto_approve")]
    plan_run: Option<String>,
    /// Plan and apply instance by instance along the graph, without asking.
    #[arg(long)]
    auto_approve: bool,
    /// Allow plans that delete or replace stateful resources in a protected environment
    /// (recorded in the run history).
    #[arg(long)]
    approve_destructive: bool,
}

/// Runs `plinth apply`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let opts = runner::options(ctx, &project, &args.run, None, args.approve_destructive)?;
    let rt = runner::runtime()?;
    if let Some(plan_run) = args.plan_run {
        let report = rt.block_on(runner::execute(
            ctx,
            project,
            opts,
            Mode::ApplySaved(plan_run),
        ))?;
        return runner::finish(ctx, &report, args.run.json, false);
    }
    if args.auto_approve {
        let report = rt.block_on(runner::execute(ctx, project, opts, Mode::ApplyAuto))?;
        return runner::finish(ctx, &report, args.run.json, false);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Failure::blocked(
            "refusing to apply: no --plan RUN_ID or --auto-approve, and no terminal to ask for approval",
        ));
    }
    let plan = rt.block_on(runner::execute(
        ctx,
        Arc::clone(&project),
        opts.clone(),
        Mode::Plan,
    ))?;
    let exit = runner::finish(ctx, &plan, false, false)?;
    if plan.status != RunStatus::Succeeded || !plan.has_changes() {
        return Ok(exit);
    }
    // Saying yes could only be refused: a preview-only plan is never applied.
    let previews: Vec<String> = plan
        .instances
        .iter()
        .filter(|i| i.preview_only)
        .map(|i| format!("{}/{}", plan.env, i.stack))
        .collect();
    if !previews.is_empty() {
        return Err(Failure::blocked(format!(
            "not asking: {} planned with mock outputs (preview only), so these plans cannot be \
             applied; apply their upstream stacks first, or plan and apply along the graph with \
             --auto-approve",
            previews.join(", ")
        )));
    }
    match runner::confirm(
        &format!(
            "Apply these plans to `{}`? Only 'yes' will be accepted:",
            plan.env
        ),
        "yes",
    ) {
        Some(true) => {
            let report = rt.block_on(runner::execute(
                ctx,
                project,
                opts,
                Mode::ApplySaved(plan.run_id.clone()),
            ))?;
            runner::finish(ctx, &report, args.run.json, false)
        }
        _ => {
            eprintln!(
                "Apply cancelled; the plans are kept as run {}.",
                plan.run_id
            );
            Ok(Exit::Blocked)
        }
    }
}
