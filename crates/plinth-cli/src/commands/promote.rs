//! `plinth promote FROM TO [SELECT]`: what TO would take from FROM — per stack, current,
//! promotable, or blocked and why (fingerprints and FROM's last apply).

use std::io::Write;
use std::sync::Arc;

use crate::context::Context;
use crate::exit::{CmdResult, Exit};
use crate::runner;
use crate::select::SelectArgs;

/// Arguments of `plinth promote`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment changes come from (TO's `promote_from`).
    from: String,
    /// The environment they go to.
    to: String,
    #[command(flatten)]
    select: SelectArgs,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `plinth promote`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    if let Some(env) = project.config.environment(&args.to)
        && env
            .promote_from
            .as_ref()
            .is_some_and(|f| f.value != args.from)
    {
        eprintln!(
            "note: `{}` promotes from `{}`, not `{}`",
            args.to,
            env.promote_from.as_ref().map_or("", |f| f.value.as_str()),
            args.from
        );
    }
    let statuses = runner::runtime()?
        .block_on(plinth_run::promotion_report(
            project,
            &args.from,
            &args.to,
            &args.select.selection(),
        ))
        .map_err(|e| runner::run_failure(ctx, e))?;
    if args.json {
        runner::write_json(&serde_json::json!({
            "from": args.from,
            "to": args.to,
            "instances": statuses,
        }))?;
        return Ok(Exit::Success);
    }
    let mut out = std::io::stdout().lock();
    let width = statuses
        .iter()
        .map(|s| s.stack.len())
        .max()
        .unwrap_or(0)
        .max("STACK".len());
    let _ = writeln!(out, "{:width$}  {:10}  CODE     NOTE", "STACK", "STATUS");
    for s in &statuses {
        let _ = writeln!(
            out,
            "{:width$}  {:10}  {}  {}",
            s.stack,
            s.status,
            plinth_run::short(&s.fingerprint),
            s.reason.as_deref().unwrap_or("")
        );
    }
    let count = |st: &str| statuses.iter().filter(|s| s.status == st).count();
    let _ = writeln!(
        out,
        "{} → {}: {} current, {} promotable, {} blocked",
        args.from,
        args.to,
        count("current"),
        count("promotable"),
        count("blocked")
    );
    let _ = out.flush();
    Ok(Exit::Success)
}
