//! `plinth state`: inspect and roll back state held by the plinth server.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth state`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth state`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth state` is not available yet"))
}
