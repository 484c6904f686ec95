//! `plinth show RUN`: the resource changes of a run's plans as the engine rendered them, and
//! the engine's diagnostics for instances that failed. Everything comes from the instances'
//! logs, which were masked as they were written.

use std::io::Write;

use globset::{Glob, GlobSetBuilder};
use plinth_engine::Layout;
use plinth_run::{History, InstanceReport, InstanceStatus};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::render::summary;
use crate::runner;

/// Arguments of `plinth show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run (see `plinth runs`).
    run_id: String,
    /// Only stacks whose id matches GLOB (repeatable).
    #[arg(long = "stack", value_name = "GLOB")]
    stacks: Vec<String>,
}

/// Runs `plinth show`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = crate::project::load_outline(ctx)?;
    if !plinth_run::is_valid_run_id(&args.run_id) {
        return Err(Failure::usage(format!("`{}` is not a run id", args.run_id)));
    }
    let layout = Layout::at(&project.work_dir);
    let db = layout.database();
    let rt = runner::runtime()?;
    let found = if db.is_file() {
        rt.block_on(async { History::open(&db).await?.get(&args.run_id).await })
            .map_err(Failure::failure)?
    } else {
        None
    };
    let Some((row, instances)) = found else {
        return Err(Failure::usage(format!(
            "no run `{}` (see `plinth runs`)",
            args.run_id
        )));
    };
    let mut builder = GlobSetBuilder::new();
    for pattern in &args.stacks {
        builder.add(
            Glob::new(pattern.trim_end_matches('/'))
                .map_err(|e| Failure::usage(format!("--stack {pattern}: {e}")))?,
        );
    }
    let globs = builder.build().map_err(|e| Failure::usage(e.to_string()))?;
    let chosen: Vec<&InstanceReport> = instances
        .iter()
        .filter(|i| args.stacks.is_empty() || globs.is_match(&i.stack))
        .collect();
    if chosen.is_empty() {
        return Err(Failure::usage(format!(
            "run {} has no instance matching --stack {}",
            row.run_id,
            args.stacks.join(" --stack ")
        )));
    }
    let mut out = std::io::stdout().lock();
    let bold = anstyle::Style::new().bold();
    let paint = |s: &str| {
        if ctx.color_stdout {
            format!("{}{s}{}", bold.render(), bold.render_reset())
        } else {
            s.to_string()
        }
    };
    for instance in chosen {
        let log = layout
            .run_instance_dir(&row.run_id, &instance.stack)
            .join("engine.log");
        let header = format!(
            "── {}/{} · {} · {} ──",
            row.env,
            instance.stack,
            summary::status_text(instance, false).trim_end(),
            summary::counts(instance, false)
        );
        let _ = writeln!(out, "{}", paint(&header));
        let _ = write!(out, "{}", instance_text(instance, &log, &project.root));
        let _ = writeln!(out);
    }
    Ok(Exit::Success)
}

/// What to show of one instance: its diagnostics when it failed, its plan otherwise.
pub fn instance_text(
    instance: &InstanceReport,
    log: &std::path::Path,
    root: &std::path::Path,
) -> String {
    let shown = log.strip_prefix(root).unwrap_or(log).display().to_string();
    let Ok(text) = std::fs::read_to_string(log) else {
        return match &instance.reason {
            Some(r) => format!("{r}\n"),
            None => "(no engine output was recorded)\n".to_string(),
        };
    };
    if instance.status == InstanceStatus::Failed {
        let errors: Vec<String> = plinth_engine::messages(&text)
            .into_iter()
            .filter(|m| m.severity == "Error")
            .map(|m| {
                let mut block = m.text.clone();
                if let Some((file, line)) = &m.location {
                    block = format!("{}/{file}:{line}\n{block}", instance.stack);
                }
                block
            })
            .collect();
        let mut out = if errors.is_empty() {
            instance.reason.clone().unwrap_or_default()
        } else {
            errors.join("\n\n")
        };
        out.push_str(&format!("\nlog: {shown}\n"));
        return out;
    }
    match plinth_engine::plan_rendering(&text) {
        Some(plan) => plan,
        None => match &instance.reason {
            Some(r) => format!("{r}\n"),
            None => "(no plan output in the log)\n".to_string(),
        },
    }
}
