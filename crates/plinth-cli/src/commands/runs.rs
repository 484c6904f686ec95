//! `plinth runs`: list runs, or show one run.

use std::io::Write;

use comfy_table::{Table, presets};
use plinth_engine::Layout;
use plinth_run::{History, RunReport, RunRow, RunStatus};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::render::summary;
use crate::runner;

/// Arguments of `plinth runs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show this run with its instances.
    run_id: Option<String>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `plinth runs`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = crate::project::load_outline(ctx)?;
    let layout = Layout::at(&project.work_dir);
    let db = layout.database();
    if !db.is_file() {
        if args.run_id.is_some() {
            return Err(Failure::usage("no runs yet in this project"));
        }
        return print(
            args.json,
            &serde_json::json!({ "runs": [] }),
            "no runs yet\n",
        );
    }
    let rt = runner::runtime()?;
    let history = rt.block_on(History::open(&db)).map_err(Failure::failure)?;
    match args.run_id {
        None => {
            let mut rows = rt
                .block_on(history.list(args.limit))
                .map_err(Failure::failure)?;
            rows.iter_mut().for_each(|r| mark_interrupted(&layout, r));
            print(
                args.json,
                &serde_json::json!({ "runs": rows }),
                &list_table(&rows),
            )
        }
        Some(id) => {
            let Some((mut row, instances)) =
                rt.block_on(history.get(&id)).map_err(Failure::failure)?
            else {
                return Err(Failure::usage(format!("no run `{id}` (see `plinth runs`)")));
            };
            mark_interrupted(&layout, &mut row);
            let status = match row.status.as_str() {
                "failed" => RunStatus::Failed,
                "blocked" => RunStatus::Blocked,
                "interrupted" => RunStatus::Interrupted,
                _ => RunStatus::Succeeded,
            };
            let report = RunReport {
                run_id: row.run_id.clone(),
                action: row.action.clone(),
                env: row.env.clone(),
                status,
                instances,
                hooks: Vec::new(),
                next_plan: None,
                findings: Vec::new(),
            };
            let mut text = format!(
                "run {}: {} {} · {} · by {} · started {}{}{}{}{}\n",
                row.run_id,
                row.action,
                row.env,
                row.status,
                row.who,
                row.started_at,
                row.from_plan
                    .as_deref()
                    .map(|p| format!(" · applied plan {p}"))
                    .unwrap_or_default(),
                if row.approved_destructive {
                    " · --approve-destructive"
                } else {
                    ""
                },
                row.commit
                    .as_deref()
                    .map(|c| format!(" · commit {}", plinth_run::short(c)))
                    .unwrap_or_default(),
                row.skipped_promotion
                    .as_deref()
                    .map(|r| format!(" · promotion gate skipped: {r}"))
                    .unwrap_or_default(),
            );
            text.push_str(&summary::table(&report, ctx.color_stdout));
            text.push_str(&format!(
                "logs: {}\n",
                layout.run_dir(&row.run_id).display()
            ));
            let hooks = rt
                .block_on(history.hooks(&row.run_id))
                .map_err(Failure::failure)?;
            for h in &hooks {
                text.push_str(&format!(
                    "hook {} {}{}: {}\n",
                    h.phase.as_str(),
                    h.stack
                        .as_deref()
                        .map(|s| format!("{s}: "))
                        .unwrap_or_default(),
                    h.command,
                    if h.ok() {
                        "ok".to_string()
                    } else if h.timed_out {
                        "timed out".to_string()
                    } else {
                        format!(
                            "failed (exit {})",
                            h.exit_code.map_or("-".into(), |c| c.to_string())
                        )
                    }
                ));
            }
            let json =
                serde_json::json!({ "run": row, "instances": report.instances, "hooks": hooks });
            print(args.json, &json, &text)
        }
    }
}

/// A run recorded as running whose environment lock is not held by it was interrupted.
fn mark_interrupted(layout: &Layout, row: &mut RunRow) {
    if row.status == "running"
        && plinth_run::lock_holder(&layout.env_lock(&row.env))
            .is_none_or(|h| h.run_id != row.run_id)
    {
        row.status = "interrupted".to_string();
    }
}

fn list_table(rows: &[RunRow]) -> String {
    if rows.is_empty() {
        return "no runs yet\n".to_string();
    }
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.set_header([
        "RUN",
        "ACTION",
        "ENV",
        "STATUS",
        "INSTANCES",
        "STARTED",
        "BY",
    ]);
    for r in rows {
        t.add_row(vec![
            r.run_id.clone(),
            r.action.clone(),
            r.env.clone(),
            r.status.clone(),
            r.instances.to_string(),
            r.started_at.clone(),
            r.who.clone(),
        ]);
    }
    format!("{t}\n")
}

fn print(json: bool, value: &serde_json::Value, text: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    let written = if json {
        writeln!(out, "{value}")
    } else {
        out.write_all(text.as_bytes())
    };
    written.map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    Ok(Exit::Success)
}
