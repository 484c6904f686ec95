//! `plinth cost`: an environment's monthly cost, from its code or exactly from a saved plan,
//! priced offline against the built-in catalogue (or a team's, `--prices`), with usage from
//! `usage/ENV.toml` (or `--usage`). Also the budget finding (CST001) of `plinth check --env`.

use std::io::Write;
use std::path::{Path, PathBuf};

use plinth_check::{Finding, Policy, registry};
use plinth_cost::{Basis, BudgetStatus, Catalogue, EnvCost, InstanceCost, Pricing, Usage};
use plinth_engine::Layout;
use plinth_project::Project;
use plinth_run::RunManifest;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::project;
use crate::select::SelectArgs;

/// Output format of `plinth cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table per instance, the total, and what it assumes or leaves out.
    Text,
    /// One JSON document (DESIGN.md section 4).
    Json,
}

/// Arguments of `plinth cost`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment.
    env: String,
    #[command(flatten)]
    select: SelectArgs,
    /// Price the saved plans of this run (their `after` values, exact counts) instead of the
    /// code.
    #[arg(long, value_name = "RUN_ID")]
    plan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// A price catalogue applied over the built-in one (same format; `replace = true` in its
    /// `[catalogue]` table to use it alone).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Usage quantities of the environment (default: usage/ENV.toml, when it exists).
    #[arg(long, value_name = "FILE")]
    usage: Option<PathBuf>,
}

/// Runs `plinth cost`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = project::load(ctx)?;
    let graph = project::graph(ctx, &project, &args.env)?;
    let picked = args
        .select
        .selection()
        .apply(&project, &graph)
        .map_err(Failure::usage)?;
    let order: Vec<String> = graph
        .layers
        .iter()
        .flatten()
        .filter(|s| picked.contains(*s))
        .cloned()
        .collect();
    let catalogue = catalogue(ctx, args.prices.as_deref())?;
    let usage = usage(ctx, &project, &args.env, args.usage.as_deref(), &catalogue)?;
    let environment = project
        .config
        .environment(&args.env)
        .expect("the graph checked the environment");
    let region = plinth_cost::region_of(environment);
    let pricing = Pricing {
        catalogue: &catalogue,
        usage: &usage,
        region: &region,
    };
    let (basis, instances) = match &args.plan {
        None => (
            Basis::Code,
            plinth_cost::estimate_stacks(&project, &order, &pricing),
        ),
        Some(run) => {
            let narrowed = !args.select.selection().is_all();
            let wanted = |s: &str| !narrowed || picked.contains(s);
            (
                Basis::Plan,
                from_plan(&project, run, &args.env, &wanted, &pricing)?,
            )
        }
    };
    let mut cost = EnvCost::new(
        &args.env,
        &region,
        basis,
        &catalogue,
        usage.file.clone(),
        instances,
    );
    cost.run_id = args.plan.clone();
    cost.budget = environment.budget.as_ref().map(|b| {
        let finding =
            plinth_cost::budget_finding(&args.env, b.value, cost.monthly, environment.protected);
        BudgetStatus {
            budget: b.value,
            over: finding.is_some(),
            severity: finding.map(|f| f.severity.as_str().to_owned()),
        }
    });
    let text = match args.format {
        Format::Text => plinth_cost::render::text(&cost),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&cost).expect("estimates serialise");
            s.push('\n');
            s
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::failure(format!("cannot write to stdout: {e}")))?;
    // The process exits next: the OS takes the parsed code back at once (see `graph`).
    std::mem::forget(cost);
    std::mem::forget(project);
    Ok(Exit::Success)
}

/// The built-in catalogue, with `--prices FILE` applied.
fn catalogue(ctx: &Context, file: Option<&Path>) -> Result<Catalogue, Failure> {
    let builtin = Catalogue::builtin();
    let Some(file) = file else {
        return Ok(builtin);
    };
    let text = std::fs::read_to_string(ctx.cwd.join(file))
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    builtin
        .with_file(&file.display().to_string(), &text)
        .map_err(|d| project::config_failure(ctx, &[d]))
}

/// `--usage FILE`, else `usage/ENV.toml` in the project when it exists, else none.
fn usage(
    ctx: &Context,
    project: &Project,
    env: &str,
    file: Option<&Path>,
    catalogue: &Catalogue,
) -> Result<Usage, Failure> {
    let (path, shown) = match file {
        Some(f) => (ctx.cwd.join(f), f.display().to_string()),
        None => {
            let rel = format!("usage/{env}.toml");
            let path = project.root.join(&rel);
            if !path.is_file() {
                return Ok(Usage::none());
            }
            (path, rel)
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    Usage::parse(&shown, &text, catalogue).map_err(|d| project::config_failure(ctx, &[d]))
}

/// The saved plans of `run`, priced from their `after` values, with each plan's delta.
fn from_plan(
    project: &Project,
    run: &str,
    env: &str,
    wanted: &dyn Fn(&str) -> bool,
    pricing: &Pricing<'_>,
) -> Result<Vec<InstanceCost>, Failure> {
    if !plinth_run::is_valid_run_id(run) {
        return Err(Failure::usage(format!("`{run}` is not a run id")));
    }
    let layout = Layout::at(&project.work_dir);
    let manifest: RunManifest = read_json(&layout.run_dir(run).join("run.json"))
        .map_err(|_| Failure::usage(format!("no saved plan run `{run}` (see `plinth runs`)")))?;
    if manifest.env != env {
        return Err(Failure::usage(format!(
            "run {run} planned environment `{}`, not `{env}`",
            manifest.env
        )));
    }
    let mut instances = Vec::new();
    for stack in manifest.planned.iter().filter(|s| wanted(s)) {
        let path = layout.run_instance_dir(run, stack).join("plan.json");
        let plan: serde_json::Value = read_json(&path).map_err(Failure::failure)?;
        let mut cost = plinth_cost::plan_estimate(&plan, pricing, stack);
        cost.delta = Some(plinth_cost::plan_delta(&plan, pricing, stack).delta);
        instances.push(cost);
    }
    Ok(instances)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// CST001 for `plinth check --env ENV`: the environment's estimate from its code (built-in
/// prices, `usage/ENV.toml` when present) against its `budget`, at the severity the check
/// policy gives the rule (error in protected environments, warning elsewhere).
pub fn budget_findings(
    ctx: &Context,
    project: &Project,
    env: &str,
    policy: &Policy,
) -> Result<Vec<Finding>, Failure> {
    let Some(environment) = project.config.environment(env) else {
        return Ok(Vec::new());
    };
    let (Some(budget), Some(severity)) = (
        environment.budget.as_ref(),
        policy.severity(registry::get(plinth_cost::BUDGET_RULE), &[env.to_owned()]),
    ) else {
        return Ok(Vec::new());
    };
    let graph = project::graph(ctx, project, env)?;
    let stacks: Vec<String> = graph.layers.into_iter().flatten().collect();
    let catalogue = Catalogue::builtin();
    let usage = usage(ctx, project, env, None, &catalogue)?;
    let region = plinth_cost::region_of(environment);
    let pricing = Pricing {
        catalogue: &catalogue,
        usage: &usage,
        region: &region,
    };
    let cost = EnvCost::new(
        env,
        &region,
        Basis::Code,
        &catalogue,
        usage.file.clone(),
        plinth_cost::estimate_stacks(project, &stacks, &pricing),
    );
    let Some(finding) =
        plinth_cost::budget_finding(env, budget.value, cost.monthly, environment.protected)
    else {
        return Ok(Vec::new());
    };
    let mut notes = vec![format!(
        "prices: {} (read {}), region {region}; usage: {}",
        catalogue.sources[0].name,
        catalogue.date(),
        usage
            .file
            .as_deref()
            .unwrap_or("the catalogue's assumptions")
    )];
    if cost.unpriced > 0 || cost.unknown_counts > 0 {
        notes.push(format!(
            "{} unpriced resources and {} with unknown counts are not in the estimate",
            cost.unpriced, cost.unknown_counts
        ));
    }
    let at = Some((&project.config.source, budget.span.clone()));
    Ok(vec![finding.into_check_finding(at, severity, notes)])
}
