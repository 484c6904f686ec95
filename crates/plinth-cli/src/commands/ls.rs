//! `plinth ls`: list instances (stack × environment).

use std::collections::HashMap;
use std::io::Write;

use plinth_project::{Affected, ChangeSet, Project};
use plinth_run::{History, LastRun};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::{changes, project};

/// Arguments of `plinth ls`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment's instances.
    env: Option<String>,
    /// Only instances affected by changes since BASE (default: the merge-base with the
    /// default branch); uncommitted and untracked files count.
    #[arg(long, value_name = "BASE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    changed: Option<String>,
    /// With --changed: add every instance downstream of a changed one.
    #[arg(long, requires = "changed")]
    with_dependents: bool,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `plinth ls`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = project::load(ctx)?;
    let envs: Vec<String> = match &args.env {
        Some(env) => vec![env.clone()],
        None => project
            .config
            .environment_names()
            .map(str::to_string)
            .collect(),
    };
    // Environments' graphs are independent; building them side by side takes a fifth off
    // the serial part of `ls` on the 5,000-stack benchmark. Rayon's pool bounds the threads
    // however many environments there are.
    let built: Vec<_> = {
        use rayon::prelude::*;
        envs.par_iter().map(|env| project.graph(env)).collect()
    };
    let mut graphs = Vec::with_capacity(envs.len());
    let mut diags = Vec::new();
    for result in built {
        match result {
            Ok(g) => graphs.push(g),
            Err(found) => {
                for d in found {
                    // A cycle shows up in every environment it spans; report it once.
                    let seen = d.message.starts_with("dependency cycle")
                        && diags.iter().any(|e: &plinth_diag::Diagnostic| {
                            e.message.starts_with("dependency cycle")
                                && e.location() == d.location()
                        });
                    if !seen {
                        diags.push(d);
                    }
                }
            }
        }
    }
    if !diags.is_empty() {
        return Err(project::config_failure(ctx, &diags));
    }
    let affected: Option<Affected> = match &args.changed {
        Some(base) => {
            let set: ChangeSet = changes::since(&project, base)?;
            Some(
                project
                    .affected(&set, args.with_dependents)
                    .map_err(|d| project::config_failure(ctx, &d))?,
            )
        }
        None => None,
    };
    let last_runs = last_runs(&project)?;
    let rows: Vec<Row> = graphs
        .iter()
        .flat_map(|g| g.nodes.iter().map(move |n| (g.env.as_str(), n)))
        .filter(|(env, n)| affected.as_ref().is_none_or(|a| a.contains(env, &n.stack)))
        .map(|(env, n)| {
            let mut row = Row::new(&project, env, &n.stack, &n.depends_on, affected.as_ref());
            if !last_runs.is_empty() {
                row.last = last_runs.get(&(env.to_string(), n.stack.clone()));
            }
            row
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        write_json(&mut out, &project, &rows)
    } else {
        write_text(&mut out, &rows, affected.is_some())
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    // The process exits next: freeing every graph and parsed file piece by piece cost a tenth
    // of the run on the 5,000-stack benchmark, for memory the OS takes back at once.
    std::mem::forget(rows);
    std::mem::forget(graphs);
    std::mem::forget(project);
    Ok(Exit::Success)
}

struct Row<'a> {
    env: &'a str,
    stack: &'a str,
    depends_on: &'a [String],
    tags: &'a [String],
    lifecycle: &'static str,
    reason: Option<String>,
    last: Option<&'a LastRun>,
}

/// The latest run outcome of each instance, from `.plinth/plinth.db` when it exists.
fn last_runs(project: &Project) -> Result<HashMap<(String, String), LastRun>, Failure> {
    let db = plinth_engine::Layout::new(&project.root).database();
    if !db.is_file() {
        return Ok(HashMap::new());
    }
    crate::runner::runtime()?
        .block_on(async { History::open(&db).await?.latest().await })
        .map_err(Failure::failure)
}

impl<'a> Row<'a> {
    fn new(
        project: &'a Project,
        env: &'a str,
        stack: &'a str,
        depends_on: &'a [String],
        affected: Option<&Affected>,
    ) -> Self {
        let lifecycle = project
            .config
            .environment(env)
            .map_or("persistent", |e| e.lifecycle.as_str());
        let tags = project.stack(stack).map_or(&[][..], |s| s.tags());
        let reason = affected
            .and_then(|a| a.reason(env, stack))
            .map(str::to_string);
        Row {
            env,
            stack,
            depends_on,
            tags,
            lifecycle,
            reason,
            last: None,
        }
    }
}

fn write_json(out: &mut impl Write, project: &Project, rows: &[Row]) -> std::io::Result<()> {
    /// The document, serialised straight from borrowed rows: building a `serde_json::Value`
    /// per instance first (and dropping it) cost as much as parsing every `stack.hcl` on a
    /// 5,000-stack repository.
    #[derive(serde::Serialize)]
    struct Document<'a> {
        project: &'a str,
        instances: &'a [Row<'a>],
    }
    serde_json::to_writer(
        &mut *out,
        &Document {
            project: project.config.project(),
            instances: rows,
        },
    )?;
    writeln!(out)
}

/// The `ls --json` instance shape of DESIGN.md section 4, plus `last_run` and `reason` when
/// known.
impl serde::Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("env", self.env)?;
        map.serialize_entry("stack", self.stack)?;
        map.serialize_entry("id", &format_args!("{}/{}", self.env, self.stack))?;
        map.serialize_entry("depends_on", self.depends_on)?;
        map.serialize_entry("tags", self.tags)?;
        map.serialize_entry("lifecycle", self.lifecycle)?;
        if let Some(last) = self.last {
            map.serialize_entry("last_run", last)?;
        }
        if let Some(reason) = &self.reason {
            map.serialize_entry("reason", reason)?;
        }
        map.end()
    }
}

fn write_text(out: &mut impl Write, rows: &[Row], with_reason: bool) -> std::io::Result<()> {
    let width = rows
        .iter()
        .map(|r| r.env.len() + r.stack.len() + 1)
        .max()
        .unwrap_or(0)
        .max("INSTANCE".len());
    let life = "LIFECYCLE".len().max(10);
    write!(
        out,
        "{:width$}  {:life$}  {:18}  DEPENDS ON",
        "INSTANCE", "LIFECYCLE", "LAST RUN"
    )?;
    writeln!(out, "{}", if with_reason { "  (WHY)" } else { "" })?;
    for r in rows {
        let id = format!("{}/{}", r.env, r.stack);
        let deps = if r.depends_on.is_empty() {
            "-".to_string()
        } else {
            r.depends_on.join(", ")
        };
        let status = r.last.map_or_else(
            || "never run".to_string(),
            |l| format!("{} {}", l.action, l.status),
        );
        write!(
            out,
            "{id:width$}  {:life$}  {status:18}  {deps}",
            r.lifecycle
        )?;
        match &r.reason {
            Some(reason) => writeln!(out, "  ({reason})")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}
