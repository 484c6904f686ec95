//! `plinth check`: run governance checks on the code.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth check`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth check` is not available yet"))
}
