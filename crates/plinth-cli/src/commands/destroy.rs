//! `plinth destroy`: destroy an environment's instances in reverse dependency order.

use std::sync::Arc;

use plinth_run::Mode;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner::{self, RunArgs};

/// Arguments of `plinth destroy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Destroy without asking.
    #[arg(long)]
    auto_approve: bool,
}

/// Runs `plinth destroy`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let env = args.run.env.clone();
    if project
        .config
        .environment(&env)
        .is_some_and(|e| e.protected)
    {
        return Err(Failure::blocked(format!(
            "environment `{env}` is protected: destroy is refused"
        )));
    }
    if !args.auto_approve {
        match runner::confirm(
            &format!(
                "Destroy every selected instance of `{env}`? Type the environment name to confirm:"
            ),
            &env,
        ) {
            None => {
                return Err(Failure::blocked(
                    "refusing to destroy: no --auto-approve, and no terminal to ask for confirmation",
                ));
            }
            Some(false) => {
                eprintln!("Destroy cancelled.");
                return Ok(Exit::Blocked);
            }
            Some(true) => {}
        }
    }
    let opts = runner::options(ctx, &project, &args.run, None, false)?;
    let report = runner::runtime()?.block_on(runner::execute(ctx, project, opts, Mode::Destroy))?;
    runner::finish(ctx, &report, args.run.json, false)
}
