//! `plinth ls`: list instances (stack × environment).

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth ls`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth ls`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth ls` is not available yet"))
}
