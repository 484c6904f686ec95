//! `plinth runs`: list runs, or show one run.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth runs`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth runs`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth runs` is not available yet"))
}
