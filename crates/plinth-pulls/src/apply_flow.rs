//! `plinth apply ENV` from a comment: the gates, then exactly the environment's saved plans of
//! the head, along the graph. A job resumed after the server died during an apply does not
//! apply again: it plans the environment anew and says so.

use std::collections::BTreeSet;

use plinth_config::{ApplyOn, Lifecycle};
use plinth_forge::StatusState;
use plinth_project::Selection;
use plinth_run::{InstanceStatus, Mode, RunOptions, RunOrigin, RunReport, RunStatus};
use plinth_state::PullInstance;
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::checkout::{Loaded, pull_refs};
use crate::error::FlowError;
use crate::gates::Commenter;
use crate::job_run::JobRun;
use crate::plan_flow::{PlanRequest, put_section, start_and_execute};
use crate::sheet::PullCtx;
use crate::summary::{Gate, RowResult, inline, short};

/// How long an apply waits for another run of the same environment in this pull request.
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

impl Automation {
    /// Applies `env` of the pull request for `who`, or answers why not.
    pub(crate) async fn apply_env(
        &self,
        pc: &mut PullCtx,
        env_name: &str,
        stacks: Vec<String>,
        who: Commenter<'_>,
        run: &mut JobRun,
    ) -> Result<Value, FlowError> {
        let Some(record) = self.store.pull(&pc.pull).await? else {
            return Err(FlowError::Refused(format!("no pull request {}", pc.pull)));
        };
        let head = record.head.clone();
        if run.done("replied").is_some() {
            return Ok(json!({ "resumed": "the apply had finished and was answered" }));
        }
        if let Some(plan_run) = run.done("apply_started").cloned() {
            // The server stopped while this apply ran: some instances may be applied. Their
            // saved plans are stale now; a fresh plan shows what is left, for review.
            let plan = PlanRequest {
                envs: Some(vec![env_name.to_string()]),
                stacks: Vec::new(),
                fresh: false,
                who: who.login.to_string(),
            };
            self.plan_pull(pc, plan, run).await?;
            self.reply(
                pc,
                &format!(
                    "The plinth server stopped while it applied `{}` (plan run {}). Some \
                     instances may have been applied; `{}` was planned again from its state \
                     now. Review the summary and comment `plinth apply {}` to apply the rest.",
                    inline(env_name),
                    plan_run.as_str().unwrap_or("?"),
                    inline(env_name),
                    inline(env_name)
                ),
            )
            .await?;
            return Ok(json!({ "resumed": "planned again after an interrupted apply" }));
        }
        let co = match self
            .checkout(
                pc,
                &head,
                &pull_refs(pc.repo.kind, pc.number, &record.base_ref),
            )
            .await?
        {
            Loaded::Ready(co) => co,
            Loaded::Problems(problems) => {
                self.refuse(pc, env_name, &head, &problems.join("\n"))
                    .await?;
                return Ok(json!({ "refused": "configuration" }));
            }
        };
        let Some(env) = co.project.config.environment(env_name).cloned() else {
            let known: Vec<&str> = co.project.config.environment_names().collect();
            let why = format!(
                "there is no environment `{}` (environments: {})",
                inline(env_name),
                known.join(", ")
            );
            self.refuse(pc, env_name, &head, &why).await?;
            return Ok(json!({ "refused": "unknown environment" }));
        };
        if env.lifecycle == Lifecycle::Ephemeral {
            let why = format!(
                "`{env_name}` is ephemeral: its copy for this pull request is applied on every \
                 push and destroyed on close"
            );
            self.refuse(pc, env_name, &head, &why).await?;
            return Ok(json!({ "refused": "ephemeral" }));
        }
        if env
            .pull_request
            .as_ref()
            .is_some_and(|p| p.apply == ApplyOn::Merge)
        {
            let why = format!(
                "`{env_name}` applies after the merge (`apply = \"merge\"` in plinth.hcl), not \
                 from a comment"
            );
            self.refuse(pc, env_name, &head, &why).await?;
            return Ok(json!({ "refused": "applies on merge" }));
        }
        let planned: Vec<PullInstance> = self
            .store
            .pull_instances(&pc.pull)
            .await?
            .into_iter()
            .filter(|i| i.env == env_name && !i.applied)
            .collect();
        let mut gates = self.apply_gates(pc, &env, &head, &who, &planned).await?;
        gates.push(self.locks_gate(pc, env_name).await?);
        let closed: Vec<&Gate> = gates.iter().filter(|g| !g.open).collect();
        if let Some(section) = pc
            .sheet
            .summary
            .envs
            .iter_mut()
            .find(|s| s.env == env_name && s.copy.is_none())
        {
            section.gates = gates.clone();
        }
        if !closed.is_empty() {
            self.publish(pc, run).await?;
            let lines: Vec<String> = closed
                .iter()
                .map(|g| format!("- **{}**: {}", inline(&g.name), inline(&g.detail)))
                .collect();
            self.refuse(pc, env_name, &head, &lines.join("\n")).await?;
            return Ok(
                json!({ "refused": closed.iter().map(|g| g.name.clone()).collect::<Vec<_>>() }),
            );
        }
        let Some(plan_run) = pc.sheet.plan_runs.get(env_name).cloned() else {
            self.refuse(
                pc,
                env_name,
                &head,
                "no plan run is recorded: comment `plinth plan`",
            )
            .await?;
            return Ok(json!({ "refused": "no plan run" }));
        };
        if !co.project.work_dir.join("runs").join(&plan_run).is_dir() {
            // Replicas that do not share their data directory: the plans are elsewhere.
            let plan = PlanRequest {
                envs: Some(vec![env_name.to_string()]),
                stacks: Vec::new(),
                fresh: true,
                who: who.login.to_string(),
            };
            self.plan_pull(pc, plan, run).await?;
            self.reply(
                pc,
                &format!(
                    "The saved plans of `{}` are not on this plinth server's data directory \
                     (plan run {plan_run}); `{}` was planned again here. Review and comment \
                     `plinth apply {}` again.",
                    inline(env_name),
                    inline(env_name),
                    inline(env_name)
                ),
            )
            .await?;
            return Ok(json!({ "replanned": "plans not on this replica" }));
        }
        run.mark("apply_started", json!(plan_run)).await?;
        let context = format!("plinth/apply/{env_name}");
        self.set_status(pc, &head, &context, StatusState::Pending, "applying")
            .await;
        let opts = RunOptions {
            env: env_name.to_string(),
            template: None,
            via_server: true,
            skip_promotion: None,
            selection: Selection {
                stacks,
                ..Selection::default()
            },
            changed: None,
            only: Some(planned.iter().map(|i| i.stack.clone()).collect()),
            parallelism: None,
            approve_destructive: false,
            lock_wait: RUN_LOCK_WAIT,
            reuse_plans: Vec::new(),
            replan: BTreeSet::new(),
        };
        let report = match start_and_execute(
            &co.project,
            opts,
            Mode::ApplySaved(plan_run.clone()),
            RunOrigin::server(who.login),
        )
        .await
        {
            Ok(report) => report,
            Err(why) => {
                let why = self.redact(&why);
                let gate = refusal_gate(&why);
                if let Some(section) = pc
                    .sheet
                    .summary
                    .envs
                    .iter_mut()
                    .find(|s| s.env == env_name && s.copy.is_none())
                {
                    section.gates.push(gate.clone());
                }
                self.publish(pc, run).await?;
                self.set_status(pc, &head, &context, StatusState::Failure, &why)
                    .await;
                self.refuse(pc, env_name, &head, &format!("```\n{why}\n```"))
                    .await?;
                return Ok(json!({ "refused": gate.name }));
            }
        };
        self.record_apply(pc, env_name, &head, &report).await?;
        self.publish(pc, run).await?;
        let (state, description) = match report.status {
            RunStatus::Succeeded if report.next_plan.is_none() => {
                (StatusState::Success, "applied".to_string())
            }
            RunStatus::Succeeded | RunStatus::Blocked => (
                StatusState::Pending,
                "partly applied: the rest was planned again".to_string(),
            ),
            _ => (StatusState::Failure, "the apply failed".to_string()),
        };
        self.set_status(pc, &head, &context, state, &description)
            .await;
        let text = self.apply_reply(pc, env_name, &head, &report);
        self.reply(pc, &text).await?;
        run.mark("replied", json!(true)).await?;
        Ok(json!({ "run": report.run_id, "status": report.status.as_str() }))
    }

    /// Whether the pull request holds every lock of the environment's instances.
    async fn locks_gate(&self, pc: &PullCtx, env: &str) -> Result<Gate, FlowError> {
        let view = self.store.pull_view(&pc.pull).await?;
        let waiting: Vec<String> = view
            .iter()
            .flat_map(|v| v.instances.iter())
            .filter(|i| i.env == env && i.lock != "held" && !i.applied)
            .map(|i| match i.waiting_for {
                Some(n) => format!("{} (held by #{n})", i.stack),
                None => i.stack.clone(),
            })
            .collect();
        Ok(Gate {
            name: "locks".into(),
            open: waiting.is_empty(),
            detail: if waiting.is_empty() {
                "held by this pull request".into()
            } else {
                format!("not held: {}", waiting.join(", "))
            },
        })
    }

    /// Records what an apply did: instances applied, the plan run made for the rest.
    async fn record_apply(
        &self,
        pc: &mut PullCtx,
        env: &str,
        head: &str,
        report: &RunReport,
    ) -> Result<(), FlowError> {
        for i in self.store.pull_instances(&pc.pull).await? {
            if i.env != env {
                continue;
            }
            let Some(r) = report.instances.iter().find(|r| r.stack == i.stack) else {
                continue;
            };
            if r.status.lets_dependents_run() {
                self.store
                    .upsert_pull_instance(
                        &pc.pull,
                        &PullInstance {
                            applied: true,
                            ..i.clone()
                        },
                    )
                    .await?;
            }
        }
        if let Some(next) = &report.next_plan {
            pc.sheet.plan_runs.insert(env.to_string(), next.clone());
        }
        let mut section = pc
            .sheet
            .summary
            .envs
            .iter()
            .find(|s| s.env == env && s.copy.is_none())
            .cloned()
            .unwrap_or_default();
        section.env = env.to_string();
        for r in &report.instances {
            let result = match r.status {
                InstanceStatus::Succeeded | InstanceStatus::Unchanged => RowResult::Applied {
                    add: r.add,
                    change: r.change,
                    destroy: r.destroy,
                },
                InstanceStatus::Failed => RowResult::Failed {
                    reason: self.redact(crate::plan_flow::without_log_path(
                        r.reason.as_deref().unwrap_or("failed"),
                    )),
                },
                InstanceStatus::Blocked | InstanceStatus::Skipped => RowResult::NotRun {
                    reason: self.redact(crate::plan_flow::without_log_path(
                        r.reason.as_deref().unwrap_or(r.status.as_str()),
                    )),
                },
            };
            match section.rows.iter_mut().find(|row| row.stack == r.stack) {
                Some(row) => row.result = result,
                None => section.rows.push(crate::summary::Row {
                    stack: r.stack.clone(),
                    result,
                    preview_only: false,
                    kept: false,
                    stateful: Vec::new(),
                    notes: Vec::new(),
                    lock: crate::summary::LockCell::None,
                }),
            }
        }
        let all_applied = section
            .rows
            .iter()
            .all(|r| matches!(r.result, RowResult::Applied { .. } | RowResult::NoChanges));
        section.state = if all_applied {
            format!("applied at `{}`", short(head))
        } else {
            format!("apply at `{}` incomplete", short(head))
        };
        section.next = (!all_applied).then(|| format!("plinth apply {env}"));
        put_section(&mut pc.sheet.summary.envs, section);
        Ok(())
    }

    fn apply_reply(&self, pc: &PullCtx, env: &str, head: &str, report: &RunReport) -> String {
        let mut text = format!(
            "**plinth apply {}** at `{}`: {} (run {})\n\n| stack | result |\n|---|---|\n",
            inline(env),
            short(head),
            report.status.as_str(),
            report.run_id
        );
        for i in &report.instances {
            let result = match i.status {
                InstanceStatus::Succeeded => {
                    format!("applied +{} ~{} -{}", i.add, i.change, i.destroy)
                }
                InstanceStatus::Unchanged => "no changes".to_string(),
                other => format!(
                    "{}: {}",
                    other.as_str(),
                    inline(&self.redact(crate::plan_flow::without_log_path(
                        i.reason.as_deref().unwrap_or("")
                    )))
                ),
            };
            text.push_str(&format!("| `{}` | {result} |\n", i.stack.replace('`', "'")));
        }
        for i in report
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Failed)
        {
            let log = self.instance_log(pc, &report.run_id, &i.stack);
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            text.push_str(&format!(
                "\n<details><summary>{} log (last lines)</summary>\n\n````\n{}\n````\n</details>\n",
                crate::details::escape_html(&i.stack),
                tail.join("\n").replace("````", "'''")
            ));
        }
        if report.next_plan.is_some() {
            text.push_str(&format!(
                "\nOutputs moved under some plans during this apply: they were planned again. \
                 Review the summary and comment `plinth apply {}` to apply them.\n",
                inline(env)
            ));
        }
        text
    }

    /// Answers a refused apply with its reasons.
    async fn refuse(
        &self,
        pc: &PullCtx,
        env: &str,
        head: &str,
        why: &str,
    ) -> Result<(), FlowError> {
        self.reply(
            pc,
            &format!(
                "**plinth apply {}** at `{}` refused; nothing was applied:\n\n{why}",
                inline(env),
                short(head)
            ),
        )
        .await
    }
}

/// The gate a run's own refusal names.
fn refusal_gate(why: &str) -> Gate {
    let name = if why.contains("promotion gate") {
        "promotion"
    } else if why.contains("stale") || why.contains("preview-only") {
        "plans current"
    } else if why.contains("policy") {
        "policies"
    } else if why.contains("stateful") || why.contains("protected") {
        "protected destroy"
    } else {
        "run"
    };
    Gate {
        name: name.into(),
        open: false,
        detail: why.lines().next().unwrap_or(why).to_string(),
    }
}
