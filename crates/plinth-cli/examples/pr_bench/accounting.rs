//! Who planned what: every instance of every server plan run (from the run history and the
//! plan records in the pull requests' work directories: kept or made by the engine), and the
//! engine processes the shim logged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::server::Api;

/// One instance of one plan run.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The run.
    pub run_id: String,
    /// The head commit it planned.
    pub commit: String,
    /// Who the run was for (the pusher, or who commented `plinth plan`).
    pub who: String,
    /// The stack.
    pub stack: String,
    /// The run's status for the instance.
    pub status: String,
    /// `Some(true)`: an earlier plan kept; `Some(false)`: made by the engine; `None`: no plan
    /// record found.
    pub kept: Option<bool>,
}

/// Every instance of the server's plan runs of `project`, with whether its plan was kept.
pub async fn plan_records(
    api: &Api,
    project: &str,
    data_dir: &Path,
) -> Result<Vec<Planned>, String> {
    let kept = kept_by_run(&data_dir.join("pulls"));
    let mut out = Vec::new();
    for run in api.runs(project).await? {
        if run["action"] != "plan" || run["source"] != "server" {
            continue;
        }
        let run_id = text(&run["run_id"]);
        for i in run["instances"].as_array().into_iter().flatten() {
            let stack = text(&i["stack"]);
            out.push(Planned {
                kept: kept.get(&(run_id.clone(), stack.clone())).copied(),
                run_id: run_id.clone(),
                commit: text(&run["commit"]),
                who: text(&run["who"]),
                stack,
                status: text(&i["status"]),
            });
        }
    }
    Ok(out)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `(run, stack) → kept` from every `meta.json` under `dir` (the plan records; a kept one
/// names the run whose engine made it in `reused_from`).
fn kept_by_run(dir: &Path) -> BTreeMap<(String, String), bool> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(path);
            } else if path.file_name().is_some_and(|n| n == "meta.json") {
                let Some(meta) = std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                else {
                    continue;
                };
                if let (Some(run), Some(stack)) = (meta["run_id"].as_str(), meta["stack"].as_str())
                {
                    out.insert(
                        (run.to_string(), stack.to_string()),
                        meta.get("reused_from").is_some_and(|r| !r.is_null()),
                    );
                }
            }
        }
    }
    out
}

/// One engine process, as the shim logged it.
#[derive(Debug, Clone)]
pub struct EngineCall {
    /// Start, seconds since the epoch.
    pub start: f64,
    /// End, seconds since the epoch.
    pub end: f64,
    /// The subcommand (`init`, `plan`, `show`, `version`, …).
    pub sub: String,
    /// Its working directory: the stack's directory in a head's worktree.
    pub cwd: String,
}

impl EngineCall {
    /// The head commit and stack of its working directory
    /// (`…/worktrees/acme+infra/SHA/stacks/s01`).
    pub fn head_and_stack(&self) -> Option<(String, String)> {
        let rest = self.cwd.split("/worktrees/").nth(1)?;
        let mut parts = rest.splitn(3, '/');
        let _repo = parts.next()?;
        let sha = parts.next()?;
        let stack = parts.next()?;
        Some((sha.to_string(), stack.to_string()))
    }
}

/// The shim's log (empty when there is none).
pub fn engine_calls(log: &Path) -> Vec<EngineCall> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(4, ' ');
            Some(EngineCall {
                start: f.next()?.parse().ok()?,
                end: f.next()?.parse().ok()?,
                sub: f.next()?.to_string(),
                cwd: f.next().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// The calls that ran entirely within `[from, to]` (seconds since the epoch).
pub fn within(calls: &[EngineCall], from: f64, to: f64) -> Vec<EngineCall> {
    calls
        .iter()
        .filter(|c| c.start >= from && c.end <= to)
        .cloned()
        .collect()
}

/// Calls per subcommand.
pub fn by_subcommand(calls: &[EngineCall]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls {
        *out.entry(c.sub.clone()).or_insert(0) += 1;
    }
    out
}

/// Seconds during which at least one engine process ran.
pub fn busy(calls: &[EngineCall]) -> f64 {
    let mut spans: Vec<(f64, f64)> = calls.iter().map(|c| (c.start, c.end)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = current {
        total += ce - cs;
    }
    total
}

/// `plan` processes per (head, stack) with more than one process: an instance the engine
/// planned twice for one head.
pub fn repeated_engine_plans(calls: &[EngineCall]) -> BTreeMap<(String, String), usize> {
    let mut n: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.sub == "plan") {
        if let Some(key) = c.head_and_stack() {
            *n.entry(key).or_insert(0) += 1;
        }
    }
    n.retain(|_, count| *count > 1);
    n
}

/// What a head of a pull request should cost: the stacks whose files it changed since the
/// head planned before it (the engine must plan them), and every stack it affects.
#[derive(Debug, Clone)]
pub struct HeadPlan {
    /// The pull request.
    pub pr: u64,
    /// The commit.
    pub sha: String,
    /// Stacks changed since the previous head (all affected ones for the first head).
    pub changed: BTreeSet<String>,
    /// Stacks the pull request affects at this head.
    pub affected: BTreeSet<String>,
}

/// How a set of plan runs compares with the least work that gives the same plans.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    /// Instances the engine planned.
    pub engine: usize,
    /// Instances whose earlier plan was kept.
    pub kept: usize,
    /// The least the engine must plan: each head's changed stacks, plus every instance a
    /// `plinth plan` comment asked to plan afresh.
    pub minimum: usize,
    /// Of `minimum`, the fresh plans asked for by comments.
    pub asked: usize,
    /// Instances that should have been kept and were kept.
    pub expected_kept: usize,
    /// `(head, stack)` the engine planned more than once without being asked: bugs.
    pub twice: Vec<String>,
    /// Unchanged instances the engine planned again (wasted, though not twice for one head).
    pub redundant: Vec<String>,
    /// Changed instances whose old plan was kept: wrong plans, bugs.
    pub stale_kept: Vec<String>,
    /// Instances with no plan record, or failed.
    pub unaccounted: Vec<String>,
}

/// Compares `records` of the heads in `heads` with what each head should cost; runs for
/// `planner` are the fresh plans a comment asked for.
pub fn judge(records: &[Planned], heads: &[HeadPlan], planner: &str) -> Verdict {
    let by_sha: BTreeMap<&str, &HeadPlan> = heads.iter().map(|h| (h.sha.as_str(), h)).collect();
    let mut v = Verdict::default();
    let mut asked_runs: BTreeSet<&str> = BTreeSet::new();
    let mut made: BTreeMap<(String, String), usize> = BTreeMap::new();
    for h in heads {
        v.minimum += h.changed.len();
        v.expected_kept += h.affected.len() - h.changed.len();
    }
    for r in records {
        let Some(head) = by_sha.get(r.commit.as_str()) else {
            continue;
        };
        let asked = r.who == planner;
        let name = format!(
            "#{} {} {}",
            head.pr,
            &r.commit[..7.min(r.commit.len())],
            r.stack
        );
        if asked && asked_runs.insert(r.run_id.as_str()) {
            let n = records.iter().filter(|x| x.run_id == r.run_id).count();
            v.minimum += n;
            v.asked += n;
        }
        match r.kept {
            Some(true) => {
                v.kept += 1;
                if asked || head.changed.contains(&r.stack) {
                    v.stale_kept.push(name);
                }
            }
            Some(false) => {
                v.engine += 1;
                if !asked {
                    let count = made.entry((r.commit.clone(), r.stack.clone())).or_insert(0);
                    *count += 1;
                    if *count > 1 {
                        v.twice.push(name.clone());
                    }
                    if !head.changed.contains(&r.stack) {
                        v.redundant.push(name);
                    }
                }
            }
            None => v.unaccounted.push(format!("{name} ({})", r.status)),
        }
    }
    v
}
