//! Planning a pull request: the instances its changes affect in each environment (the
//! `--changed` rules against the merge base), the pull request's locks on all of them taken
//! at once or a place in their queues, then one saved plan run per environment bound to the
//! head commit, keeping the plans whose fingerprint did not move.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use plinth_config::{ApplyOn, Environment, Lifecycle};
use plinth_engine::Layout;
use plinth_project::{Affected, Project, Selection};
use plinth_run::{InstanceStatus, Mode, PlanMeta, Run, RunError, RunOptions, RunOrigin, RunReport};
use plinth_state::{Acquisition, PlanSummary, PullInstance};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::checkout::{Checkout, Loaded, pull_refs};
use crate::details::Section;
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::sheet::PullCtx;
use crate::summary::{EnvSection, LockCell, Row, RowResult, short};

/// What to plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlanRequest {
    /// The environments named by a comment; `None`: those with `pull_request.autoplan`.
    pub envs: Option<Vec<String>>,
    /// `--stack` globs.
    pub stacks: Vec<String>,
    /// Asked for by a comment: every selected instance is planned by the engine again, even
    /// when its earlier plan could be kept (the real infrastructure may have moved).
    pub fresh: bool,
    /// The forge user the runs are recorded for (who pushed or commented).
    pub who: String,
}

/// How long a plan waits for another run of the same environment in this pull request.
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// One environment to act on, with its affected stacks in graph order.
pub(crate) struct Target {
    pub env: Environment,
    /// Every affected stack (a plan run always covers them all, so that one run holds the
    /// environment's current plans).
    pub stacks: Vec<String>,
    /// Those the request selected (`--stack`): all of them when it named none.
    pub selected: BTreeSet<String>,
}

impl Automation {
    /// Plans the pull request's head as `req` asks; updates the summary, details and
    /// statuses.
    pub(crate) async fn plan_pull(
        &self,
        pc: &mut PullCtx,
        req: PlanRequest,
        run: &mut JobRun,
    ) -> Result<Value, FlowError> {
        let Some(record) = self.store.pull(&pc.pull).await? else {
            return Err(FlowError::Refused(format!("no pull request {}", pc.pull)));
        };
        if record.state != plinth_state::PullState::Open {
            return Ok(json!({ "skipped": "the pull request is not open" }));
        }
        let head = record.head.clone();
        self.set_status(
            pc,
            &head,
            "plinth/plan",
            plinth_forge::StatusState::Pending,
            "planning",
        )
        .await;
        let refs = pull_refs(pc.repo.kind, pc.number, &record.base_ref);
        let co = match self.checkout(pc, &head, &refs).await? {
            Loaded::Ready(co) => co,
            Loaded::Problems(problems) => {
                pc.sheet.summary.head = head.clone();
                pc.sheet.summary.problems = problems;
                pc.sheet.summary.envs.clear();
                self.publish(pc, run).await?;
                self.set_status(
                    pc,
                    &head,
                    "plinth/plan",
                    plinth_forge::StatusState::Failure,
                    "the project cannot be planned: see the summary comment",
                )
                .await;
                return Ok(json!({ "problems": pc.sheet.summary.problems }));
            }
        };
        pc.sheet.project = Some(co.project.config.project().to_string());
        pc.sheet.summary.problems.clear();
        let affected = self.affected(pc, &co, &record.base_ref, &head).await?;
        let (targets, mut problems) = targets(&co.project, &affected, &req);
        run.log(&format!(
            "head {}: {} environment(s) to plan",
            short(&head),
            targets.len()
        ))
        .await?;

        // Persistent environments: every lock at once, or a place in the queues.
        let wanted: Vec<(String, String)> = targets
            .iter()
            .filter(|t| t.env.lifecycle == Lifecycle::Persistent)
            .flat_map(|t| {
                t.stacks
                    .iter()
                    .map(|s| (t.env.name.value.clone(), s.clone()))
            })
            .collect();
        let project_name = co.project.config.project().to_string();
        match self
            .store
            .acquire_all(&project_name, &pc.pull, wanted.iter().cloned())
            .await?
        {
            Acquisition::Acquired => pc.sheet.waiting = None,
            Acquisition::Queued {
                blockers,
                handed_over,
            } => {
                crate::jobs::plan_handed_over(
                    self,
                    &handed_over,
                    &format!("locks let go by {}", pc.pull),
                )
                .await?;
                pc.sheet.waiting = Some(req.clone());
                let holders: BTreeSet<i64> = blockers
                    .iter()
                    .filter_map(|b| b.waiting_for.as_ref().map(|p| p.number))
                    .collect();
                for t in targets
                    .iter()
                    .filter(|t| t.env.lifecycle == Lifecycle::Persistent)
                {
                    let section = waiting_section(t, &head);
                    put_section(&mut pc.sheet.summary.envs, section);
                    for stack in &t.stacks {
                        self.store
                            .upsert_pull_instance(
                                &pc.pull,
                                &PullInstance {
                                    env: t.env.name.value.clone(),
                                    stack: stack.clone(),
                                    plan: None,
                                    fingerprint: None,
                                    applied: false,
                                },
                            )
                            .await?;
                    }
                }
                pc.sheet.summary.head = head.clone();
                pc.sheet.summary.problems = std::mem::take(&mut problems);
                self.publish(pc, run).await?;
                let who: Vec<String> = holders.iter().map(|n| format!("#{n}")).collect();
                self.set_status(
                    pc,
                    &head,
                    "plinth/plan",
                    plinth_forge::StatusState::Pending,
                    &format!("queued for locks held by {}", who.join(", ")),
                )
                .await;
                return Ok(json!({ "queued_behind": holders }));
            }
        }

        let mut details = Vec::new();
        let mut planned_envs = BTreeSet::new();
        let mut failed = 0usize;
        let (mut add, mut change, mut destroy) = (0u32, 0u32, 0u32);
        for t in &targets {
            let name = t.env.name.value.clone();
            planned_envs.insert(name.clone());
            let section = if t.env.lifecycle == Lifecycle::Ephemeral {
                self.copy_up(pc, &co, &t.env, &head, run).await?
            } else {
                let (section, report) = self.plan_env(pc, &co, t, &head, &req).await?;
                if let Some(report) = &report {
                    for i in &report.instances {
                        add += i.add;
                        change += i.change;
                        destroy += i.destroy;
                        if matches!(i.status, InstanceStatus::Failed | InstanceStatus::Blocked) {
                            failed += 1;
                        }
                        if i.status == InstanceStatus::Succeeded && i.reused_from.is_none() {
                            details.push(Section {
                                title: format!(
                                    "{name}/{}: +{} ~{} -{}",
                                    i.stack, i.add, i.change, i.destroy
                                ),
                                text: crate::plan_text::from_log(&self.instance_log(
                                    pc,
                                    &report.run_id,
                                    &i.stack,
                                )),
                            });
                        }
                    }
                    self.apply_status_after_plan(pc, &t.env, &head, report)
                        .await;
                } else {
                    failed += 1;
                }
                section
            };
            put_section(&mut pc.sheet.summary.envs, section);
        }
        // Environments planned before whose instances this head no longer affects.
        if req.envs.is_none() {
            let keep: BTreeSet<&str> = targets.iter().map(|t| t.env.name.value.as_str()).collect();
            pc.sheet
                .summary
                .envs
                .retain(|s| keep.contains(s.env.as_str()) || s.copy.is_some());
        }
        order_sections(&mut pc.sheet.summary.envs, &co.project);
        self.forget_unaffected(pc, &targets, &planned_envs).await?;
        pc.sheet.summary.head = head.clone();
        pc.sheet.summary.problems = problems;
        self.publish(pc, run).await?;
        self.post_details(pc, &head, details, run).await?;
        let (state, description) = if failed > 0 {
            (
                plinth_forge::StatusState::Failure,
                format!("{failed} instance(s) could not be planned"),
            )
        } else {
            (
                plinth_forge::StatusState::Success,
                format!("planned: +{add} ~{change} -{destroy}"),
            )
        };
        self.set_status(pc, &head, "plinth/plan", state, &description)
            .await;
        Ok(json!({ "head": head, "envs": planned_envs, "failed": failed }))
    }

    /// The instances the pull request's changes affect, against the merge base with its
    /// base branch.
    async fn affected(
        &self,
        pc: &PullCtx,
        co: &Checkout,
        base_ref: &str,
        head: &str,
    ) -> Result<Affected, FlowError> {
        let base = format!("refs/heads/{base_ref}");
        let merge_base = self
            .workspaces
            .merge_base(&pc.pull.repo, head, &base)
            .await?
            .ok_or_else(|| {
                FlowError::Refused(format!(
                    "head {} shares no history with {base_ref}",
                    short(head)
                ))
            })?;
        let project = Arc::clone(&co.project);
        let head = head.to_string();
        tokio::task::spawn_blocking(move || {
            let changes = plinth_run::changes_between(&project, &merge_base, &head)
                .map_err(|e| FlowError::Other(e.to_string()))?;
            project
                .affected(&changes, false)
                .map_err(|diags| FlowError::Other(plinth_diag::render_all(&diags, false)))
        })
        .await
        .map_err(|e| FlowError::Other(e.to_string()))?
    }

    /// One environment's plan run: its section of the summary and the run's report (none when
    /// the run could not start).
    async fn plan_env(
        &self,
        pc: &mut PullCtx,
        co: &Checkout,
        t: &Target,
        head: &str,
        req: &PlanRequest,
    ) -> Result<(EnvSection, Option<RunReport>), FlowError> {
        let env = t.env.name.value.clone();
        let earlier: Vec<String> = pc.sheet.plan_runs.get(&env).cloned().into_iter().collect();
        let opts = RunOptions {
            env: env.clone(),
            template: None,
            via_server: true,
            skip_promotion: None,
            selection: Selection::default(),
            changed: None,
            only: Some(t.stacks.iter().cloned().collect()),
            parallelism: None,
            approve_destructive: false,
            lock_wait: RUN_LOCK_WAIT,
            reuse_plans: earlier,
            replan: if req.fresh {
                t.selected.clone()
            } else {
                BTreeSet::new()
            },
        };
        let origin = RunOrigin::server(&req.who);
        let report = match start_and_execute(&co.project, opts, Mode::Plan, origin).await {
            Ok(report) => report,
            Err(why) => {
                let mut section = EnvSection {
                    env: env.clone(),
                    state: "could not plan".into(),
                    ..Default::default()
                };
                section.lines.push(self.redact(&why));
                return Ok((section, None));
            }
        };
        pc.sheet
            .plan_runs
            .insert(env.clone(), report.run_id.clone());
        let layout = Layout::at(&pc.work_dir());
        let mut rows = Vec::new();
        for i in &report.instances {
            let meta: Option<PlanMeta> = std::fs::read(
                layout
                    .run_instance_dir(&report.run_id, &i.stack)
                    .join("meta.json"),
            )
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
            let planned = matches!(
                i.status,
                InstanceStatus::Succeeded | InstanceStatus::Unchanged
            );
            self.store
                .upsert_pull_instance(
                    &pc.pull,
                    &PullInstance {
                        env: env.clone(),
                        stack: i.stack.clone(),
                        plan: planned.then(|| PlanSummary {
                            run_id: report.run_id.clone(),
                            commit: head.to_string(),
                            add: i64::from(i.add),
                            change: i64::from(i.change),
                            destroy: i64::from(i.destroy),
                            preview_only: i.preview_only,
                        }),
                        fingerprint: meta.as_ref().map(|m| m.fingerprint.clone()),
                        applied: false,
                    },
                )
                .await?;
            rows.push(row_of(i, meta.as_ref(), self));
        }
        let planned_all = report
            .instances
            .iter()
            .all(|i| i.status.lets_dependents_run());
        let has_changes = report
            .instances
            .iter()
            .any(|i| i.status == InstanceStatus::Succeeded);
        let applies_on_merge = t
            .env
            .pull_request
            .as_ref()
            .is_some_and(|p| p.apply == ApplyOn::Merge);
        let state = if !planned_all {
            format!("plan at `{}` incomplete", short(head))
        } else if !has_changes {
            format!("no changes at `{}`", short(head))
        } else if applies_on_merge {
            format!("planned at `{}`; applies after the merge", short(head))
        } else {
            format!("planned at `{}`", short(head))
        };
        let section = EnvSection {
            env: env.clone(),
            copy: None,
            state,
            next: (planned_all && has_changes && !applies_on_merge)
                .then(|| format!("plinth apply {env}")),
            rows,
            gates: Vec::new(),
            lines: env_lines(&report),
        };
        Ok((section, Some(report)))
    }

    /// Forgets instances of planned environments that the head no longer affects (their
    /// locks stay until close or unlock, like every lock the pull request took).
    async fn forget_unaffected(
        &self,
        pc: &PullCtx,
        targets: &[Target],
        planned_envs: &BTreeSet<String>,
    ) -> Result<(), FlowError> {
        let now: BTreeSet<(String, String)> = targets
            .iter()
            .flat_map(|t| {
                t.stacks
                    .iter()
                    .map(|s| (t.env.name.value.clone(), s.clone()))
            })
            .collect();
        for i in self.store.pull_instances(&pc.pull).await? {
            if planned_envs.contains(&i.env) && !now.contains(&(i.env.clone(), i.stack.clone())) {
                self.store
                    .remove_pull_instance(&pc.pull, &i.env, &i.stack)
                    .await?;
            }
        }
        Ok(())
    }

    /// The engine log of an instance in a run of the pull request.
    pub(crate) fn instance_log(&self, pc: &PullCtx, run_id: &str, stack: &str) -> String {
        let path = Layout::at(&pc.work_dir())
            .run_instance_dir(run_id, stack)
            .join("engine.log");
        self.redact(&String::from_utf8_lossy(
            &std::fs::read(path).unwrap_or_default(),
        ))
    }
}

/// Starts a run and executes it; `Err` is why it could not start, as the user reads it.
pub(crate) async fn start_and_execute(
    project: &Arc<Project>,
    opts: RunOptions,
    mode: Mode,
    origin: RunOrigin,
) -> Result<RunReport, String> {
    // Progress events are for a terminal; the summary is built from the report.
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    let run = Run::start(Arc::clone(project), opts, mode, events)
        .await
        .map_err(run_error)?;
    run.reported_as(origin).execute().await.map_err(run_error)
}

/// A run error as text for a comment.
pub(crate) fn run_error(e: RunError) -> String {
    match e {
        RunError::Config(diags) => plinth_diag::render_all(&diags, false),
        other => other.to_string(),
    }
}

/// The environments a request plans, each with its affected stacks (in graph order), and the
/// problems found on the way (an unknown environment named, a graph that does not build).
pub(crate) fn targets(
    project: &Project,
    affected: &Affected,
    req: &PlanRequest,
) -> (Vec<Target>, Vec<String>) {
    let mut problems = Vec::new();
    if let Some(names) = &req.envs {
        for n in names {
            if project.config.environment(n).is_none() {
                let known: Vec<&str> = project.config.environment_names().collect();
                problems.push(format!(
                    "no environment `{n}` in plinth.hcl (environments: {})",
                    known.join(", ")
                ));
            }
        }
    }
    let selection = Selection {
        stacks: req.stacks.clone(),
        ..Selection::default()
    };
    let mut out = Vec::new();
    for env in &project.config.environments {
        let name = env.name.value.as_str();
        let wanted = match &req.envs {
            None => env.pull_request.as_ref().is_some_and(|p| p.autoplan),
            Some(names) => names.is_empty() || names.iter().any(|n| n == name),
        };
        if !wanted {
            continue;
        }
        let graph = match project.graph(name) {
            Ok(g) => g,
            Err(diags) => {
                problems.push(plinth_diag::render_all(&diags, false));
                continue;
            }
        };
        let picked = if selection.is_all() {
            None
        } else {
            match selection.apply(project, &graph) {
                Ok(p) => Some(p),
                Err(why) => {
                    problems.push(why);
                    continue;
                }
            }
        };
        let stacks: Vec<String> = graph
            .layers
            .iter()
            .flatten()
            .filter(|s| affected.contains(name, s))
            .cloned()
            .collect();
        let selected: BTreeSet<String> = stacks
            .iter()
            .filter(|s| picked.as_ref().is_none_or(|p| p.contains(*s)))
            .cloned()
            .collect();
        if selected.is_empty() {
            continue;
        }
        out.push(Target {
            env: env.clone(),
            stacks,
            selected,
        });
    }
    (out, problems)
}

fn row_of(i: &plinth_run::InstanceReport, meta: Option<&PlanMeta>, auto: &Automation) -> Row {
    let reason = i
        .reason
        .as_deref()
        .map(|r| auto.redact(without_log_path(r)));
    let result = match i.status {
        InstanceStatus::Succeeded => RowResult::Changes {
            add: i.add,
            change: i.change,
            destroy: i.destroy,
        },
        InstanceStatus::Unchanged => RowResult::NoChanges,
        InstanceStatus::Failed => RowResult::Failed {
            reason: reason.clone().unwrap_or_else(|| "failed".into()),
        },
        InstanceStatus::Blocked | InstanceStatus::Skipped => RowResult::NotRun {
            reason: reason.clone().unwrap_or_else(|| i.status.as_str().into()),
        },
    };
    let mut notes: Vec<String> = i
        .policy_findings
        .iter()
        .map(|f| {
            let kind = match f.kind {
                plinth_run::Verdict::Deny => "deny",
                plinth_run::Verdict::Warn => "warn",
            };
            format!("policy {} {kind}: {}", f.policy, auto.redact(&f.message))
        })
        .collect();
    if let Some(cost) = &i.cost {
        notes.push(cost.clone());
    }
    Row {
        stack: i.stack.clone(),
        result,
        preview_only: i.preview_only,
        kept: i.reused_from.is_some(),
        stateful: meta.map(|m| m.stateful.clone()).unwrap_or_default(),
        notes,
        lock: LockCell::None,
    }
}

/// The lines under an environment's table: its monthly cost delta, and the run's findings
/// (the budget, CST001).
fn env_lines(report: &RunReport) -> Vec<String> {
    let mut lines = Vec::new();
    let priced: Vec<f64> = report
        .instances
        .iter()
        .filter_map(|i| i.monthly_delta)
        .collect();
    if !priced.is_empty() {
        let total: f64 = priced.iter().sum();
        let sign = if total < 0.0 { "-" } else { "+" };
        lines.push(format!(
            "cost: {sign}${:.2}/month for this change ({} priced instance(s))",
            total.abs(),
            priced.len()
        ));
    }
    for f in &report.findings {
        lines.push(format!("{} {}: {}", f.rule, f.severity, f.message));
    }
    lines
}

/// A reason without the `; log: PATH` the CLI adds: a path on the server means nothing on
/// the pull request (the details comment and the job's log hold the engine's output).
pub(crate) fn without_log_path(reason: &str) -> &str {
    reason.split("; log: ").next().unwrap_or(reason)
}

fn waiting_section(t: &Target, head: &str) -> EnvSection {
    EnvSection {
        env: t.env.name.value.clone(),
        copy: None,
        state: format!("waiting for locks to plan `{}`", short(head)),
        next: None,
        rows: t
            .stacks
            .iter()
            .map(|s| Row {
                stack: s.clone(),
                result: RowResult::Waiting,
                preview_only: false,
                kept: false,
                stateful: Vec::new(),
                notes: Vec::new(),
                lock: LockCell::None,
            })
            .collect(),
        gates: Vec::new(),
        lines: Vec::new(),
    }
}

/// Replaces the section of the same environment (or copy), or adds it in order.
pub(crate) fn put_section(envs: &mut Vec<EnvSection>, section: EnvSection) {
    match envs
        .iter_mut()
        .find(|s| s.env == section.env && s.copy == section.copy)
    {
        Some(s) => *s = section,
        None => envs.push(section),
    }
}

/// Sections in the project's environment order.
pub(crate) fn order_sections(envs: &mut [EnvSection], project: &Project) {
    let rank: BTreeMap<&str, usize> = project
        .config
        .environment_names()
        .enumerate()
        .map(|(i, n)| (n, i))
        .collect();
    envs.sort_by_key(|s| rank.get(s.env.as_str()).copied().unwrap_or(usize::MAX));
}
