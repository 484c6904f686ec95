//! `plinth token`: manage API tokens.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth token`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth token`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth token` is not available yet"))
}
