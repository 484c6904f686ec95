//! Runs: plan, apply and destroy of an environment's instances along its DAG, with saved
//! plans that cannot be applied stale, a local run lock per environment, and run history.

mod changes;
mod context;
mod copies;
mod endpoints;
mod env_lock;
mod events;
mod exec;
mod fingerprint;
mod history;
mod hooks;
mod inputs;
mod instance;
mod instance_hooks;
mod isolation;
mod lifecycle;
mod outputs;
mod policy_approval;
mod promotion;
mod publish;
mod report;
mod reuse;
mod review;
mod run_id;
mod saved;
mod saved_apply;
mod scheduler;
mod secret_admin;
mod secrets;
mod server_history;
mod server_link;
mod setup;
mod upstream;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use plinth_diag::Diagnostic;
use plinth_engine::EngineError;
use plinth_project::Project;
use tokio::sync::mpsc::UnboundedSender;

pub use changes::{ChangesError, changes_between, changes_since};
pub use context::{RunContext, RunOptions};
pub use copies::CopyRecord;
pub use env_lock::{Holder, holder as lock_holder};
pub use events::{Event, Phase};
pub use history::{DriftResult, History, LastRun, RunRow, drift_status};
pub use hooks::{HookPhase, HookReport};
pub use instance::PlanKind;
pub use lifecycle::{
    CopyList, CopyOptions, DownReport, TestResult, UpReport, check_copy, copy_template, env_down,
    env_up, expired_copies, list_copies,
};
pub use outputs::{REDACTED, StackOutputs, env_outputs, outputs_json};
pub use policy_approval::{
    ApprovalReport, PolicyApproval, approve_policies, approve_policies_because,
};
pub use promotion::{PromotionRecord, PromotionStatus, Records, promotion_report, short};
pub use report::{InstanceReport, InstanceStatus, RunReport, RunStatus};
pub use review::{CostDelta, DEFAULT_POLICY, PolicyFinding, RunFinding, Verdict};
pub use run_id::is_valid as is_valid_run_id;
pub use saved::{PlanMeta, RunManifest};
pub use secret_admin::{Rotation, SecretInfo, rotate_secret, rotations, secrets_ls};
pub use server_link::{RunOrigin, RunSource, ServerLink};

use crate::env_lock::EnvLock;
use crate::saved::{read_json, write_json};

/// Why a run could not start (instance failures are reported in the `RunReport` instead).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Configuration errors with spans (exit 64).
    #[error("configuration errors")]
    Config(Vec<Diagnostic>),
    /// A usage error (exit 64).
    #[error("{0}")]
    Usage(String),
    /// The engine cannot be used (exit 1).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Refused before touching anything: lock held, protected environment, stale or
    /// preview-only plan (exit 3).
    #[error("{0}")]
    Blocked(String),
    /// Anything else (exit 1).
    #[error("{0}")]
    Other(String),
}

/// What a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `plinth plan`.
    Plan,
    /// `plinth apply --plan RUN_ID`.
    ApplySaved(String),
    /// `plinth apply --auto-approve`.
    ApplyAuto,
    /// `plinth destroy`.
    Destroy,
    /// `plinth exec -- ARGS`: an engine command in each instance's context, one at a time.
    Exec(Vec<String>),
    /// `plinth drift`: a refreshing plan of each instance, reported and thrown away.
    Drift,
}

impl Mode {
    /// `plan`, `apply` or `destroy`.
    pub fn action(&self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::ApplySaved(_) | Mode::ApplyAuto => "apply",
            Mode::Destroy => "destroy",
            Mode::Exec(_) => "exec",
            Mode::Drift => "drift",
        }
    }
}

/// Stops a run from another task (Ctrl-C).
#[derive(Clone)]
pub struct Interrupter {
    cancelled: Arc<AtomicBool>,
    processes: Arc<plinth_engine::ProcessRegistry>,
}

impl Interrupter {
    /// Starts nothing new and asks every running engine, once, to stop.
    pub fn interrupt(&self) {
        if !self.cancelled.swap(true, Ordering::SeqCst) {
            self.processes.interrupt();
        }
    }
}

/// A run that passed its preflight and holds its environment's lock.
pub struct Run {
    ctx: Arc<RunContext>,
    cancelled: Arc<AtomicBool>,
    who: String,
    mode: Mode,
    order: Vec<String>,
    /// `--skip-promotion --reason`, when the gate was closed and overridden.
    skipped_promotion: Option<String>,
    /// Who the run is reported as on the plinth server.
    origin: RunOrigin,
    _lock: EnvLock,
}

impl Run {
    /// Checks everything that can be checked before the engine runs, and takes the lock.
    pub async fn start(
        project: Arc<Project>,
        opts: RunOptions,
        mode: Mode,
        events: UnboundedSender<Event>,
    ) -> Result<Run, RunError> {
        let run_id = run_id::new_run_id();
        let ctx = Arc::new(RunContext::prepare(project, &opts, events, run_id.clone())?);
        if matches!(mode, Mode::Plan | Mode::ApplyAuto) {
            // Once per run, before any engine starts: a policy that does not load stops the run.
            ctx.load_review()?;
        }
        if mode == Mode::Destroy && ctx.environment.protected {
            return Err(RunError::Blocked(format!(
                "environment `{}` is protected: destroy is refused",
                ctx.env()
            )));
        }
        let holder = Holder {
            run_id: run_id.clone(),
            action: mode.action().to_string(),
            pid: std::process::id(),
            who: who(),
            since: history::now(),
        };
        let lock_path = ctx.layout.env_lock(ctx.env());
        let lock = env_lock::acquire(&lock_path, &holder, opts.lock_wait).map_err(|h| {
            RunError::Blocked(format!("environment `{}` is locked: {h}", ctx.env()))
        })?;
        let _ = ctx.lock_fd.set(lock.raw_fd());
        let mut skipped_promotion = None;
        let applies = matches!(mode, Mode::ApplySaved(_) | Mode::ApplyAuto | Mode::Destroy);
        if applies
            && ctx.environment.apply_via == plinth_config::ApplyVia::Server
            && !opts.via_server
        {
            return Err(RunError::Blocked(format!(
                "environment `{env}` applies only through pull requests on the plinth server \
                 (apply_via = \"server\"): open a pull request and comment `plinth {action} {env}`",
                env = ctx.env(),
                action = if mode == Mode::Destroy {
                    "destroy"
                } else {
                    "apply"
                },
            )));
        }
        let order = match &mode {
            Mode::ApplySaved(plan_run) => saved_order(&ctx, plan_run, &opts).await?,
            _ => ctx.selected.clone(),
        };
        if matches!(mode, Mode::ApplySaved(_) | Mode::ApplyAuto) {
            let refusals: Vec<String> = ctx
                .promotion_refusals()
                .await?
                .into_iter()
                .filter(|r| {
                    order
                        .iter()
                        .any(|s| r.starts_with(&format!("{}/{s}: ", ctx.env())))
                })
                .collect();
            if !refusals.is_empty() {
                skipped_promotion = opts.skip_promotion.clone();
            }
            if !refusals.is_empty() && opts.skip_promotion.is_none() {
                let from = ctx
                    .environment
                    .promote_from
                    .as_ref()
                    .map_or("", |f| f.value.as_str());
                // The pull-request flow has no override: the way on is the other apply.
                let way_on = if opts.via_server {
                    format!("apply these changes in `{from}` first: comment `plinth apply {from}`")
                } else {
                    format!(
                        "apply these changes in `{from}` first, or override with \
                         --skip-promotion --reason TEXT (recorded)"
                    )
                };
                return Err(RunError::Blocked(format!(
                    "promotion gate: refusing to apply; nothing was applied:\n  {}\n{way_on}",
                    refusals.join("\n  "),
                )));
            }
        }
        Ok(Run {
            ctx,
            cancelled: Arc::new(AtomicBool::new(false)),
            who: holder.who,
            mode,
            order,
            skipped_promotion,
            origin: RunOrigin::cli(),
            _lock: lock,
        })
    }

    /// Reports the run as `origin` (the server's own flows: `RunOrigin::server(forge_user)`);
    /// its `who` also names the run in the local history and its promotion records.
    pub fn reported_as(mut self, origin: RunOrigin) -> Run {
        if let Some(who) = &origin.who {
            self.who = who.clone();
        }
        self.origin = origin;
        self
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.ctx.run_id
    }

    /// The instances this run will act on, in order.
    pub fn instances(&self) -> &[String] {
        &self.order
    }

    /// A handle that stops the run: no instance starts any more and each running engine
    /// gets one SIGINT, its graceful stop (an interrupted Terraform still saves its state).
    pub fn interrupter(&self) -> Interrupter {
        Interrupter {
            cancelled: Arc::clone(&self.cancelled),
            processes: Arc::clone(&self.ctx.processes),
        }
    }

    /// Executes the run and records it in the history.
    pub async fn execute(self) -> Result<RunReport, RunError> {
        let ctx = self.ctx;
        let history = History::open(&ctx.layout.database())
            .await
            .map_err(RunError::Other)?;
        let from_plan = match &self.mode {
            Mode::ApplySaved(p) => Some(p.as_str()),
            _ => None,
        };
        let start = history::RunStart {
            run_id: &ctx.run_id,
            action: self.mode.action(),
            env: ctx.env(),
            who: &self.who,
            from_plan,
            approved_destructive: ctx.approve_destructive,
            commit: ctx.commit.as_deref(),
            skipped_promotion: self.skipped_promotion.as_deref(),
        };
        let started_at = history::now();
        history.start(&start).await.map_err(RunError::Other)?;
        let server = server_history::RunReporter::open(&ctx, &start, &started_at, &self.origin);
        if let Some(server) = &server {
            server.started(&self.order).await;
        }
        let mut prerequisites: HashMap<String, Vec<String>> = ctx
            .graph
            .nodes
            .iter()
            .map(|n| (n.stack.clone(), n.depends_on.clone()))
            .collect();
        let mut order = self.order.clone();
        let mut parallelism = ctx.parallelism;
        if let Mode::Exec(_) = self.mode {
            // One after another, each attached to the terminal; a failure stops nothing.
            prerequisites.clear();
            parallelism = 1;
        }
        if self.mode == Mode::Drift {
            // Each instance is compared with what it reads from state: a failed upstream
            // check says nothing about its dependents.
            prerequisites.clear();
        }
        if self.mode == Mode::Destroy {
            // Dependents go first; a stack waits for everything that depends on it.
            order.reverse();
            prerequisites = ctx
                .graph
                .nodes
                .iter()
                .map(|n| {
                    (
                        n.stack.clone(),
                        ctx.graph
                            .dependents_of(&n.stack)
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                    )
                })
                .collect();
        }
        let mode = self.mode.clone();
        let worker_ctx = Arc::clone(&ctx);
        let cancelled = Arc::clone(&self.cancelled);
        let instances = scheduler::run_dag(
            &order,
            &prerequisites,
            parallelism,
            &ctx.events,
            move |stack| {
                let ctx = Arc::clone(&worker_ctx);
                let mode = mode.clone();
                let cancelled = cancelled.load(Ordering::SeqCst);
                async move {
                    if cancelled {
                        let report = InstanceReport::new(&stack, InstanceStatus::Skipped)
                            .because("run interrupted");
                        let _ = ctx.events.send(Event::Finished(report.clone()));
                        return report;
                    }
                    match mode {
                        Mode::Plan => ctx.run_instance(stack, PlanKind::Save).await,
                        Mode::ApplyAuto => ctx.run_instance(stack, PlanKind::Apply).await,
                        Mode::Destroy => ctx.run_instance(stack, PlanKind::Destroy).await,
                        Mode::ApplySaved(plan_run) => ctx.run_saved(stack, plan_run).await,
                        Mode::Exec(args) => ctx.exec_instance(stack, args).await,
                        Mode::Drift => ctx.run_instance(stack, PlanKind::Drift).await,
                    }
                }
            },
        )
        .await;
        let report = RunReport {
            run_id: ctx.run_id.clone(),
            action: self.mode.action().to_string(),
            env: ctx.env().to_string(),
            status: RunReport::status_of(&instances),
            instances,
            hooks: Vec::new(),
            next_plan: None,
            findings: Vec::new(),
        };
        let mut report = report;
        if self.cancelled.load(Ordering::SeqCst) {
            report.status = RunStatus::Interrupted;
        }
        if self.mode == Mode::Plan {
            report.findings = ctx.budget_findings(&report);
            let (planned, not_planned): (Vec<&InstanceReport>, Vec<&InstanceReport>) =
                report.instances.iter().partition(|i| {
                    matches!(
                        i.status,
                        InstanceStatus::Succeeded | InstanceStatus::Unchanged
                    )
                });
            let manifest = RunManifest {
                run_id: ctx.run_id.clone(),
                action: "plan".into(),
                env: ctx.env().to_string(),
                planned: planned.iter().map(|i| i.stack.clone()).collect(),
                not_planned: not_planned
                    .iter()
                    .map(|i| saved::NotPlanned {
                        stack: i.stack.clone(),
                        status: i.status.as_str().to_string(),
                        reason: i.reason.clone(),
                    })
                    .collect(),
            };
            write_json(&ctx.layout.run_dir(&ctx.run_id).join("run.json"), &manifest)
                .map_err(|e| RunError::Other(e.to_string()))?;
        }
        if report.status == RunStatus::Succeeded {
            let phase = match self.mode {
                Mode::ApplySaved(_) | Mode::ApplyAuto => Some(hooks::HookPhase::AfterApply),
                Mode::Destroy => Some(hooks::HookPhase::AfterDestroy),
                _ => None,
            };
            if let Some(phase) = phase {
                report.hooks = ctx.environment_hooks(phase).await;
                if report.hooks.iter().any(|h| !h.ok()) {
                    report.status = RunStatus::Failed;
                }
            }
        }
        if matches!(self.mode, Mode::ApplySaved(_) | Mode::ApplyAuto) {
            let applied: Vec<String> = report
                .instances
                .iter()
                .filter(|i| i.status.lets_dependents_run())
                .map(|i| i.stack.clone())
                .collect();
            let records = ctx
                .record_applied(&applied, &self.who)
                .await
                .map_err(RunError::Other)?;
            if let Some(server) = &server {
                server.promotions_applied(&records).await;
            }
        }
        history.finish(&report).await.map_err(RunError::Other)?;
        if let Some(server) = &server {
            server.finished(&report).await;
        }
        Ok(report)
    }
}

/// The instances of a saved plan run to apply, refusing (before touching any state) plans that
/// are preview-only, stale or missing an approval.
async fn saved_order(
    ctx: &Arc<RunContext>,
    plan_run: &str,
    opts: &RunOptions,
) -> Result<Vec<String>, RunError> {
    if !run_id::is_valid(plan_run) {
        return Err(RunError::Usage(format!("`{plan_run}` is not a run id")));
    }
    let manifest: RunManifest =
        read_json(&ctx.layout.run_dir(plan_run).join("run.json")).map_err(|_| {
            RunError::Usage(format!(
                "no saved plan run `{plan_run}` (see `plinth runs`)"
            ))
        })?;
    if manifest.env != ctx.env() {
        return Err(RunError::Usage(format!(
            "run {plan_run} planned environment `{}`, not `{}`",
            manifest.env,
            ctx.env()
        )));
    }
    let narrowed = !opts.selection.is_all() || opts.changed.is_some() || opts.only.is_some();
    let wanted = |s: &String| !narrowed || ctx.selected.contains(s);
    // A run that could not plan everything is not a plan of the environment: applying the
    // rest would report success for instances that never planned.
    let missing: Vec<String> = manifest
        .not_planned
        .iter()
        .filter(|n| wanted(&n.stack))
        .map(|n| {
            format!(
                "{}/{} {}{}",
                ctx.env(),
                n.stack,
                n.status,
                n.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    if !missing.is_empty() {
        let planned: Vec<&str> = manifest
            .planned
            .iter()
            .filter(|s| wanted(s))
            .map(String::as_str)
            .collect();
        let hint = if planned.is_empty() {
            "fix them and plan again".to_string()
        } else {
            format!(
                "fix them and plan again, or apply only what planned with --stack {}",
                planned.join(" --stack ")
            )
        };
        return Err(RunError::Blocked(format!(
            "refusing to apply plan {plan_run}; nothing was applied: it has no plan for\n  {}\n{hint}",
            missing.join("\n  ")
        )));
    }
    let order: Vec<String> = manifest
        .planned
        .iter()
        .filter(|s| wanted(s))
        .cloned()
        .collect();
    let mut refusals = Vec::new();
    for stack in &order {
        let meta: PlanMeta = read_json(&saved::PlanFiles::new(&ctx.layout, plan_run, stack).meta())
            .map_err(RunError::Other)?;
        if let Err(report) = ctx.check_saved(stack, &meta).await {
            refusals.push(format!(
                "{}/{stack}: {}",
                ctx.env(),
                report.reason.unwrap_or_default()
            ));
        }
    }
    if !refusals.is_empty() {
        return Err(RunError::Blocked(format!(
            "refusing to apply plan {plan_run}; nothing was applied:\n  {}",
            refusals.join("\n  ")
        )));
    }
    Ok(order)
}

/// `user@host` of this process.
pub fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .or_else(user_from_passwd)
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

/// The login name of this process's uid, for environments (CI, containers) without `$USER`.
fn user_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid)
        .map(|f| f[0].to_string())
}
