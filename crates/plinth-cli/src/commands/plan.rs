//! `plinth plan`: plan an environment along its dependency graph.

use std::sync::Arc;

use plinth_run::Mode;

use crate::context::Context;
use crate::exit::CmdResult;
use crate::runner::{self, RunArgs};

/// Arguments of `plinth plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Only instances affected by changes since BASE (default: the merge-base with the
    /// default branch).
    #[arg(long, value_name = "BASE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    changed: Option<String>,
    /// Exit 2 when some instance has changes.
    #[arg(long)]
    detailed_exitcode: bool,
}

/// Runs `plinth plan`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let opts = runner::options(ctx, &project, &args.run, args.changed.as_deref(), false)?;
    let report = runner::runtime()?.block_on(runner::execute(ctx, project, opts, Mode::Plan))?;
    runner::finish(ctx, &report, args.run.json, args.detailed_exitcode)
}
