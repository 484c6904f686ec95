//! `plinth apply`: apply saved plans, or plan and apply with --auto-approve.

use crate::context::Context;
use crate::exit::{CmdResult, Failure};

/// Arguments of `plinth apply`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `plinth apply`.
pub fn run(_ctx: &Context, _args: Args) -> CmdResult {
    Err(Failure::usage("`plinth apply` is not available yet"))
}
