//! `plinth serve`: run the plinth server (state backend, locks, API).

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth serve`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth serve` is not available yet"))
}
