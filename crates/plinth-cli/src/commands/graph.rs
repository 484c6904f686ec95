//! `plinth graph`: show the dependency graph of an environment.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth graph`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth graph`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth graph` is not available yet"))
}
