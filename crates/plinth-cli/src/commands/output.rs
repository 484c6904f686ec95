//! `plinth output`: print every stack's outputs for an environment.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth output`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth output`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth output` is not available yet"))
}
