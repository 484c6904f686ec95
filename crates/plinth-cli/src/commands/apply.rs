//! `plinth apply`: apply saved plans, or plan and apply with `--auto-approve`.

use std::collections::BTreeSet;
use std::sync::Arc;

use plinth_project::Project;
use plinth_run::{InstanceStatus, Mode, RunOptions, RunReport, RunStatus};

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
    /// Apply although the promotion gate is closed (the upstream environment has not applied
    /// this code); needs --reason, and the history records who, when and why.
    #[arg(long, requires = "reason")]
    skip_promotion: bool,
    /// Why the promotion gate is overridden.
    #[arg(long, value_name = "TEXT", requires = "skip_promotion")]
    reason: Option<String>,
}

/// Runs `plinth apply`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let mut opts = runner::options(ctx, &project, &args.run, None, args.approve_destructive)?;
    if args.skip_promotion {
        let reason = args.reason.clone().unwrap_or_default();
        if reason.trim().is_empty() {
            return Err(Failure::usage("--reason needs a text saying why"));
        }
        opts.skip_promotion = Some(reason);
    }
    let rt = runner::runtime()?;
    if args.auto_approve {
        let report = rt.block_on(runner::execute(ctx, project, opts, Mode::ApplyAuto))?;
        return runner::finish(ctx, &report, args.run.json, false);
    }
    let plan_run = match args.plan_run {
        Some(run) => run,
        None => match plan_and_ask(ctx, &rt, &project, &opts)? {
            Ok(run) => run,
            Err(exit) => return Ok(exit),
        },
    };
    apply_saved(ctx, &rt, project, opts, plan_run, args.run.json)
}

/// Plans, shows the summary and asks on the terminal; `Ok(Err(exit))` when nothing is to be
/// applied.
fn plan_and_ask(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    project: &Arc<Project>,
    opts: &RunOptions,
) -> Result<Result<String, Exit>, Failure> {
    if !runner::stdin_is_terminal() {
        return Err(Failure::blocked(
            "refusing to apply: no --plan RUN_ID or --auto-approve, and no terminal to ask for approval",
        ));
    }
    let plan = rt.block_on(runner::execute(
        ctx,
        Arc::clone(project),
        opts.clone(),
        Mode::Plan,
    ))?;
    let exit = runner::finish(ctx, &plan, false, false)?;
    if !plan.has_changes() {
        return Ok(Err(exit));
    }
    // Saying yes could only be refused: finish() has said why these plans cannot be applied.
    if !plan.not_appliable().is_empty() {
        return Err(Failure::blocked(format!(
            "not asking: the plans of run {} cannot be applied as they are (see above)",
            plan.run_id
        )));
    }
    Ok(match ask(&plan) {
        true => Ok(plan.run_id),
        false => Err(Exit::Blocked),
    })
}

fn ask(plan: &RunReport) -> bool {
    let yes = runner::confirm(
        &format!(
            "Apply these plans to `{}`? Only 'yes' will be accepted:",
            plan.env
        ),
        "yes",
    ) == Some(true);
    if !yes {
        eprintln!(
            "Apply cancelled; the plans are kept as run {}.",
            plan.run_id
        );
    }
    yes
}

/// Applies the saved plans of `plan_run`. When an upstream applied here changed outputs a
/// dependent's plan read, the rest is planned again at once: applied after a yes on a
/// terminal, or left as the one command that continues.
fn apply_saved(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    project: Arc<Project>,
    opts: RunOptions,
    mut plan_run: String,
    json: bool,
) -> CmdResult {
    loop {
        let mut report = rt.block_on(runner::execute(
            ctx,
            Arc::clone(&project),
            opts.clone(),
            Mode::ApplySaved(plan_run.clone()),
        ))?;
        let remaining = replan_set(&report);
        if remaining.is_empty() || report.status == RunStatus::Interrupted {
            return runner::finish(ctx, &report, json, false);
        }
        if !ctx.quiet {
            eprint!(
                "{}",
                crate::render::summary::table(&report, ctx.color_stderr)
            );
            eprintln!(
                "outputs that {} of {} read changed in this apply: planning {} again",
                if remaining.len() == 1 { "one" } else { "some" },
                report.env,
                remaining
                    .iter()
                    .map(|s| format!("{}/{s}", report.env))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let mut replan_opts = opts.clone();
        replan_opts.only = Some(remaining);
        let plan = rt.block_on(runner::execute(
            ctx,
            Arc::clone(&project),
            replan_opts,
            Mode::Plan,
        ))?;
        let plan_exit = runner::finish(ctx, &plan, false, false)?;
        if plan.status != RunStatus::Succeeded || !plan.not_appliable().is_empty() {
            report.next_plan = Some(plan.run_id.clone());
            return finish_quietly(&report, json).map(|()| plan_exit);
        }
        if !plan.has_changes() {
            return finish_quietly(&report, json).map(|()| Exit::Success);
        }
        if runner::stdin_is_terminal() && !json {
            if !ask(&plan) {
                return Ok(Exit::Blocked);
            }
            plan_run = plan.run_id;
            continue;
        }
        report.next_plan = Some(plan.run_id.clone());
        finish_quietly(&report, json)?;
        return Err(Failure::blocked(format!(
            "applied what could be applied; the rest was planned again as run {run}: review it, then continue with:\n  plinth apply {env} --plan {run}",
            run = plan.run_id,
            env = report.env
        )));
    }
}

/// The JSON document of the apply (its table was shown before the re-plan).
fn finish_quietly(report: &RunReport, json: bool) -> Result<(), Failure> {
    if json {
        runner::write_json(report)?;
    }
    Ok(())
}

/// The instances an apply left because their plan read outputs that changed under them, and
/// everything skipped behind those.
fn replan_set(report: &RunReport) -> BTreeSet<String> {
    let needs_a_fix = report.instances.iter().any(|i| {
        i.status == InstanceStatus::Failed || (i.status == InstanceStatus::Blocked && !i.replan)
    });
    if needs_a_fix || !report.instances.iter().any(|i| i.replan) {
        return BTreeSet::new();
    }
    report
        .instances
        .iter()
        .filter(|i| i.replan || i.status == InstanceStatus::Skipped)
        .map(|i| i.stack.clone())
        .collect()
}
