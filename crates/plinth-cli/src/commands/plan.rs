//! `plinth plan`: plan an environment along its dependency graph.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth plan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth plan`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth plan` is not available yet"))
}
