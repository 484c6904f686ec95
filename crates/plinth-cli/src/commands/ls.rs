//! `plinth ls`: list instances (stack × environment).

use std::collections::HashMap;
use std::io::Write;

use plinth_project::{Affected, ChangeSet, Project};
use plinth_run::{DriftResult, History, LastRun};

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
    let project = project::load_outline(ctx)?;
    let envs: Vec<String> = match &args.env {
        Some(env) => vec![env.clone()],
        None => project
            .config
            .environment_names()
            .map(str::to_string)
            .collect(),
    };
    // Environments' graphs are independent: each is built and checked on rayon's bounded
    // pool, then dropped at once. The listing needs no graph (a checked environment's
    // dependencies are its stacks' upstreams), so two graphs at most are ever alive.
    let found: Vec<Vec<plinth_diag::Diagnostic>> = {
        use rayon::prelude::*;
        envs.par_iter()
            .filter_map(|env| project.check_graph(env).err())
            .collect()
    };
    let mut diags = Vec::new();
    for d in found.into_iter().flatten() {
        // A cycle shows up in every environment it spans; report it once.
        let seen = d.message.starts_with("dependency cycle")
            && diags.iter().any(|e: &plinth_diag::Diagnostic| {
                e.message.starts_with("dependency cycle") && e.location() == d.location()
            });
        if !seen {
            diags.push(d);
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
    let (last_runs, drifts) = last_runs(&project)?;
    // Rows are made as they are written, from the project's own data: a listing of 250,000
    // instances never holds them all.
    let rows = || {
        envs.iter()
            .flat_map(|env| {
                project
                    .instances(env)
                    .map(move |stack| (env.as_str(), stack))
            })
            .filter(|(env, s)| affected.as_ref().is_none_or(|a| a.contains(env, &s.id)))
            .map(|(env, stack)| {
                let mut row = Row::new(&project, env, stack, affected.as_ref());
                if !last_runs.is_empty() {
                    let key = (env.to_string(), stack.id.clone());
                    row.last = last_runs.get(&key);
                    row.drift = drifts.get(&key);
                }
                row
            })
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        write_json(&mut out, &project, rows)
    } else {
        write_text(&mut out, rows, affected.is_some())
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    // The process exits next: freeing every graph and parsed file piece by piece cost a tenth
    // of the run on the 5,000-stack benchmark, for memory the OS takes back at once.
    std::mem::forget(project);
    Ok(Exit::Success)
}

struct Row<'a> {
    env: &'a str,
    stack: &'a str,
    depends_on: Vec<&'a str>,
    tags: &'a [String],
    lifecycle: &'static str,
    reason: Option<String>,
    last: Option<&'a LastRun>,
    drift: Option<&'a DriftResult>,
}

type ByInstance<T> = HashMap<(String, String), T>;

/// The latest run outcome and drift check of each instance, from `.plinth/plinth.db` when it
/// exists.
fn last_runs(project: &Project) -> Result<(ByInstance<LastRun>, ByInstance<DriftResult>), Failure> {
    let db = plinth_engine::Layout::at(&project.work_dir).database();
    if !db.is_file() {
        return Ok((HashMap::new(), HashMap::new()));
    }
    crate::runner::runtime()?
        .block_on(async {
            let history = History::open(&db).await?;
            Ok::<_, String>((history.latest().await?, history.latest_drift().await?))
        })
        .map_err(Failure::failure)
}

impl<'a> Row<'a> {
    fn new(
        project: &'a Project,
        env: &'a str,
        stack: &'a plinth_project::Stack,
        affected: Option<&Affected>,
    ) -> Self {
        let lifecycle = project
            .config
            .environment(env)
            .map_or("persistent", |e| e.lifecycle.as_str());
        let reason = affected
            .and_then(|a| a.reason(env, &stack.id))
            .map(str::to_string);
        Row {
            env,
            stack: &stack.id,
            // The environment's graph was checked: every upstream has an instance in it.
            depends_on: stack.upstream(),
            tags: stack.tags(),
            lifecycle,
            reason,
            last: None,
            drift: None,
        }
    }
}

fn write_json<'a, I: Iterator<Item = Row<'a>>>(
    out: &mut impl Write,
    project: &Project,
    rows: impl Fn() -> I,
) -> std::io::Result<()> {
    /// The document, serialised straight from borrowed rows made as they are written:
    /// building a `serde_json::Value` per instance first (and dropping it) cost as much as
    /// parsing every `stack.hcl` on a 5,000-stack repository.
    struct Instances<F>(F);
    impl<'a, I: Iterator<Item = Row<'a>>, F: Fn() -> I> serde::Serialize for Instances<F> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq((self.0)())
        }
    }
    #[derive(serde::Serialize)]
    struct Document<'a, F: serde::Serialize> {
        project: &'a str,
        instances: F,
    }
    serde_json::to_writer(
        &mut *out,
        &Document {
            project: project.config.project(),
            instances: Instances(rows),
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
        map.serialize_entry("depends_on", &self.depends_on)?;
        map.serialize_entry("tags", self.tags)?;
        map.serialize_entry("lifecycle", self.lifecycle)?;
        if let Some(last) = self.last {
            map.serialize_entry("last_run", last)?;
        }
        if let Some(drift) = self.drift {
            map.serialize_entry("drift", drift)?;
        }
        if let Some(reason) = &self.reason {
            map.serialize_entry("reason", reason)?;
        }
        map.end()
    }
}

fn write_text<'a, I: Iterator<Item = Row<'a>>>(
    out: &mut impl Write,
    rows: impl Fn() -> I,
    with_reason: bool,
) -> std::io::Result<()> {
    let width = rows()
        .map(|r| r.env.len() + r.stack.len() + 1)
        .max()
        .unwrap_or(0)
        .max("INSTANCE".len());
    let life = "LIFECYCLE".len().max(10);
    write!(
        out,
        "{:width$}  {:life$}  {:18}  {:16}  DEPENDS ON",
        "INSTANCE", "LIFECYCLE", "LAST RUN", "DRIFT"
    )?;
    writeln!(out, "{}", if with_reason { "  (WHY)" } else { "" })?;
    for r in rows() {
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
        let drift = r.drift.map_or_else(
            || "-".to_string(),
            |d| format!("{} {}", d.status, age(&d.at)),
        );
        write!(
            out,
            "{id:width$}  {:life$}  {status:18}  {drift:16}  {deps}",
            r.lifecycle
        )?;
        match &r.reason {
            Some(reason) => writeln!(out, "  ({reason})")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

/// `3m`, `5h`, `2d` since an RFC 3339 time.
fn age(at: &str) -> String {
    let Ok(t) = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
    else {
        return String::new();
    };
    let secs = (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
