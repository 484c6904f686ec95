//! `plinth approve-policy RUN`: an owner of a team policy approves the plans of run RUN that
//! the policy denied, so that `plinth apply ENV --plan RUN` passes in a protected environment.
//! Who approves is the local user (`plinth_run::who()`), never a name given on the command
//! line; through the server, the `plinth approve_policies` comment approves as the forge user.

use std::io::Write;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner;

/// Arguments of `plinth approve-policy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plan run (see `plinth runs`).
    run_id: String,
    /// Only the plans of stacks whose id matches GLOB (repeatable).
    #[arg(long = "stack", value_name = "GLOB")]
    stacks: Vec<String>,
    /// Why the denial is acceptable; recorded with the approval.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `plinth approve-policy`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = crate::project::load_outline(ctx)?;
    let approver = plinth_run::who();
    let report = runner::runtime()?
        .block_on(plinth_run::approve_policies_because(
            &project,
            &args.run_id,
            &args.stacks,
            &approver,
            args.reason.as_deref(),
        ))
        .map_err(|e| runner::run_failure(ctx, e))?;
    if args.json {
        runner::write_json(&report)?;
        return Ok(Exit::Success);
    }
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for a in &report.approved {
        text.push_str(&format!(
            "approved policy `{}` for {}/{}: {}\n",
            a.policy,
            report.env,
            a.stack,
            a.messages.join("; ")
        ));
    }
    text.push_str(&format!(
        "approved by {} in run {}; apply it with: plinth apply {} --plan {}\n",
        report.approver, report.run_id, report.env, report.run_id
    ));
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    Ok(Exit::Success)
}
