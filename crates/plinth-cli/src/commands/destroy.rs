//! `plinth destroy`: destroy an environment's instances in reverse dependency order.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth destroy`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth destroy`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth destroy` is not available yet"))
}
