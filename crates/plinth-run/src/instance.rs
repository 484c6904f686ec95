//! The work of one instance: plan, plan-and-apply, destroy (a saved plan is applied by
//! `saved_apply`; hooks and publishing around the engine are in `instance_hooks`).

use std::sync::Arc;
use std::time::Instant;

use plinth_check::plan_rules::{self, PlanContext};
use plinth_engine::{BackendSetup, Invocation, PlanSummary, StateSnapshot, summarize};

use crate::context::RunContext;
use crate::events::{Event, Phase};
use crate::fingerprint::{combine, details};
use crate::hooks::HookPhase;
use crate::inputs::{InputError, ResolvedInputs};
use crate::report::{InstanceReport, InstanceStatus};
use crate::saved::{PlanFiles, PlanMeta, read_json, write_json};

/// What a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// `plinth plan`: mocks allowed, the plan is saved for a later `apply --plan`.
    Save,
    /// `plinth apply --auto-approve`: real upstream outputs only, applied at once.
    Apply,
    /// `plinth destroy`: a destroy plan, applied at once.
    Destroy,
    /// `plinth drift`: a refreshing plan of what is applied, compared and thrown away.
    Drift,
}

/// A plan made and saved in this run.
struct Planned {
    meta: PlanMeta,
    inv: Invocation,
}

impl RunContext {
    pub(crate) fn phase(&self, stack: &str, phase: Phase) {
        let _ = self.events.send(Event::Phase {
            stack: stack.to_string(),
            phase,
        });
    }

    pub(crate) fn finish(
        &self,
        mut report: InstanceReport,
        started: Instant,
        files: &PlanFiles,
    ) -> InstanceReport {
        report.duration_ms = started.elapsed().as_millis() as u64;
        if files.log().is_file() {
            report.log = Some(files.log());
        }
        let _ = self.events.send(Event::Finished(report.clone()));
        report
    }

    /// Runs one instance of a `plan`, `apply --auto-approve` or `destroy` run.
    pub async fn run_instance(self: Arc<Self>, stack: String, kind: PlanKind) -> InstanceReport {
        let started = Instant::now();
        let files = PlanFiles::new(&self.layout, &self.run_id, &stack);
        // Where no plan rule can block (unprotected environments), one `apply -auto-approve`
        // plans and applies in a single engine process instead of plan, show and apply.
        let direct = kind == PlanKind::Apply && !self.environment.protected;
        if kind == PlanKind::Save
            && let Some(mut meta) = self.reuse_plan(&stack, &files).await
        {
            // The policies or prices may have changed since the plan was made: the kept plan
            // is reviewed again, as a new one would be.
            if let Err(why) = self.review_kept(&stack, &mut meta, &files) {
                let report = InstanceReport::new(&stack, InstanceStatus::Failed).because(why);
                return self.finish(report, started, &files);
            }
            let mut report = self.planned_report(&stack, &meta);
            report.reused_from = meta.reused_from;
            return self.finish(report, started, &files);
        }
        let report = match if direct {
            Err(self.apply_direct(&stack, &files).await)
        } else {
            self.plan(&stack, kind, &files).await
        } {
            Err(report) => report,
            Ok(planned) if kind == PlanKind::Save => self.planned_report(&stack, &planned.meta),
            Ok(planned) if kind == PlanKind::Drift => {
                // Not saved: a drift check leaves only its log.
                for file in [files.plan(), files.json(), files.meta()] {
                    let _ = std::fs::remove_file(file);
                }
                let mut r = self.planned_report(&stack, &planned.meta);
                r.reason = None;
                r
            }
            Ok(planned) => self.apply_now(&stack, planned, kind, &files).await,
        };
        let report = match kind {
            PlanKind::Apply => self.after(report, HookPhase::AfterApply, &files).await,
            PlanKind::Destroy => self.after(report, HookPhase::AfterDestroy, &files).await,
            PlanKind::Save | PlanKind::Drift => report,
        };
        self.finish(report, started, &files)
    }

    /// Resolves secrets, inputs and backend of an instance, initialises, and writes the generated var file.
    async fn prepare_instance(
        &self,
        stack: &str,
        kind: PlanKind,
        files: &PlanFiles,
    ) -> Result<Prepared, InstanceReport> {
        let failed = |why: String| InstanceReport::new(stack, InstanceStatus::Failed).because(why);
        let blocked =
            |why: String| InstanceReport::new(stack, InstanceStatus::Blocked).because(why);
        std::fs::create_dir_all(&files.dir)
            .map_err(|e| failed(format!("{}: {e}", files.dir.display())))?;
        self.phase(stack, Phase::Inputs);
        if matches!(kind, PlanKind::Destroy | PlanKind::Drift)
            && self
                .state(stack)
                .await
                .map_err(failed)?
                .is_none_or(|s| s.is_empty())
        {
            return Err(if kind == PlanKind::Drift {
                failed("never applied here: no state to compare".into())
            } else {
                InstanceReport::new(stack, InstanceStatus::Unchanged)
                    .because("no state: nothing to destroy")
            });
        }
        if matches!(kind, PlanKind::Save | PlanKind::Apply) {
            // Generators write files the plan reads; their output is in the instance's log.
            self.before_plan(stack, files).await?;
        }
        let secrets = self.secrets(stack).await.map_err(blocked)?;
        let inputs = self
            .inputs(stack, matches!(kind, PlanKind::Save | PlanKind::Destroy))
            .await
            .map_err(|e| match e {
                InputError::Blocked(m) => blocked(m),
                InputError::Failed(m) => failed(m),
            })?;
        let backend: BackendSetup = self.backend(stack).map_err(failed)?;
        let inv = self.invocation(stack, &backend, secrets.env, secrets.masks);
        self.phase(stack, Phase::Init);
        let log = files.log();
        self.init(stack, &inv, &backend, &log)
            .await
            .map_err(|e| failed(self.engine_failure(stack, e.to_string(), &log)))?;
        let own = self.state(stack).await.map_err(failed)?;
        let var_file = inv.data_dir.join("plinth.tfvars.json");
        write_json(&var_file, &inputs.vars)
            .map_err(|e| failed(format!("{}: {e}", var_file.display())))?;
        Ok(Prepared {
            var_arg: format!("-var-file={}", var_file.display()),
            inputs,
            backend,
            secret_names: secrets.names,
            inv,
            own,
        })
    }

    async fn plan(
        &self,
        stack: &str,
        kind: PlanKind,
        files: &PlanFiles,
    ) -> Result<Planned, InstanceReport> {
        let failed = |why: String| InstanceReport::new(stack, InstanceStatus::Failed).because(why);
        let Prepared {
            var_arg,
            inputs,
            backend,
            secret_names,
            inv,
            own,
        } = self.prepare_instance(stack, kind, files).await?;
        let log = files.log();
        self.phase(stack, Phase::Plan);
        let plan_path = files.plan();
        let out_arg = format!("-out={}", plan_path.display());
        let mut args = vec![
            "plan",
            "-input=false",
            "-no-color",
            "-lock-timeout=300s",
            "-detailed-exitcode",
            &out_arg,
            &var_arg,
        ];
        if kind == PlanKind::Destroy {
            args.push("-destroy");
        }
        let exit = inv
            .run(&args, &log)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let read = match exit.code {
            // Exit 0 of -detailed-exitcode: an empty diff, outputs included; nothing to read
            // (and nothing to review: no policy or price work for a plan without changes).
            0 => ReadPlan::default(),
            2 => self
                .read_plan(stack, kind, &inv, files)
                .await
                .map_err(failed)?,
            code => {
                return Err(failed(self.engine_failure(
                    stack,
                    format!("plan failed (exit {code})"),
                    &log,
                )));
            }
        };
        let parts = self.consumed(stack, &inputs, own.as_ref(), &backend, &secret_names);
        let meta = PlanMeta {
            run_id: self.run_id.clone(),
            env: self.env().to_string(),
            stack: stack.to_string(),
            preview_only: !inputs.mocked.is_empty(),
            mocked: inputs.mocked.clone(),
            fingerprint: combine(&parts),
            parts,
            details: details(&inputs),
            summary: read.summary,
            needs_approval: read.needs_approval,
            stateful: read.stateful,
            pending_upstream: self.pending_upstream(stack),
            reused_from: None,
            policy_findings: read.policy_findings,
            cost: read.cost,
        };
        if meta.summary.has_changes {
            self.pending
                .lock()
                .expect("no panics under this lock")
                .insert(stack.to_string());
        }
        write_json(&files.meta(), &meta)
            .map_err(|e| failed(format!("{}: {e}", files.meta().display())))?;
        Ok(Planned { meta, inv })
    }

    /// Reads a plan with changes: its JSON, change counts, the destructive changes that
    /// need an approval and, for plans that may be applied, the team policies' findings and
    /// the monthly cost delta (both on the redacted JSON, the only one stored).
    async fn read_plan(
        &self,
        stack: &str,
        kind: PlanKind,
        inv: &Invocation,
        files: &PlanFiles,
    ) -> Result<ReadPlan, String> {
        let log = files.log();
        let plan_str = files.plan().display().to_string();
        let exit = inv
            .run_to_file(&["show", "-json", &plan_str], &files.json(), &log)
            .await
            .map_err(|e| e.to_string())?;
        if exit.code != 0 {
            return Err(self.engine_failure(stack, "show -json failed".to_string(), &log));
        }
        let plan_json = self.redact_plan_json(stack, inv, &files.json())?;
        let mut summary = summarize(&plan_json);
        summary.has_changes = true;
        let ctx = PlanContext {
            env: self.env().to_string(),
            protected: self.environment.protected,
            stack: stack.to_string(),
        };
        let destructions = plan_rules::evaluate(&plan_json, &ctx);
        let line = |f: &plan_rules::PlanFinding| {
            let verb = match f.destruction {
                plan_rules::Destruction::Delete => "deletes",
                plan_rules::Destruction::Replace => "replaces",
            };
            format!("{verb} {}", f.address)
        };
        let needs_approval = destructions
            .iter()
            .filter(|f| f.blocks_apply)
            .map(line)
            .collect();
        let stateful = destructions.iter().map(line).collect();
        let (policy_findings, cost) = match self.review() {
            Some(review) if matches!(kind, PlanKind::Save | PlanKind::Apply) => {
                (review.evaluate(&plan_json)?, review.cost(&plan_json, stack))
            }
            _ => (Vec::new(), None),
        };
        Ok(ReadPlan {
            summary,
            needs_approval,
            stateful,
            policy_findings,
            cost,
        })
    }

    /// Reviews a plan kept from an earlier run again with this run's policies and prices,
    /// and records the result beside it.
    fn review_kept(
        &self,
        stack: &str,
        meta: &mut PlanMeta,
        files: &PlanFiles,
    ) -> Result<(), String> {
        let Some(review) = self.review() else {
            return Ok(());
        };
        if !meta.summary.has_changes {
            return Ok(());
        }
        let plan_json: serde_json::Value = read_json(&files.json())?;
        meta.policy_findings = review.evaluate(&plan_json)?;
        meta.cost = review.cost(&plan_json, stack);
        write_json(&files.meta(), &*meta).map_err(|e| format!("{}: {e}", files.meta().display()))
    }

    async fn apply_now(
        &self,
        stack: &str,
        planned: Planned,
        kind: PlanKind,
        files: &PlanFiles,
    ) -> InstanceReport {
        let meta = &planned.meta;
        if !meta.summary.has_changes {
            return self.planned_report(stack, meta);
        }
        if kind == PlanKind::Apply
            && self.environment.protected
            && let Some(denied) = self.denial(meta)
        {
            let mut r = self.planned_report(stack, meta);
            r.status = InstanceStatus::Blocked;
            r.reason = Some(format!(
                "{denied}; not applied: plan with `plinth plan {env}`, have an owner approve it \
                 (`plinth approve-policy RUN`), then `plinth apply {env} --plan RUN`",
                env = self.env()
            ));
            return r;
        }
        if kind == PlanKind::Apply && !meta.needs_approval.is_empty() && !self.approve_destructive {
            let mut r = self.planned_report(stack, meta);
            r.status = InstanceStatus::Blocked;
            r.reason = Some(format!(
                "plan destroys stateful resources in protected environment `{}` ({}); not applied; re-run with --approve-destructive",
                self.env(),
                meta.needs_approval.join(", ")
            ));
            return r;
        }
        self.apply_file(stack, &planned.inv, &files.plan(), &meta.summary, files)
            .await
    }

    /// `apply --auto-approve` where no plan rule can block: one engine process plans and
    /// applies; the counts come from its closing line.
    async fn apply_direct(&self, stack: &str, files: &PlanFiles) -> InstanceReport {
        let prepared = match self.prepare_instance(stack, PlanKind::Apply, files).await {
            Ok(p) => p,
            Err(report) => return report,
        };
        let args = ["-auto-approve", prepared.var_arg.as_str()];
        let log = match self.engine_apply(stack, &prepared.inv, &args, files).await {
            Ok(log) => log,
            Err(why) => return InstanceReport::new(stack, InstanceStatus::Failed).because(why),
        };
        let mut report = InstanceReport::new(stack, InstanceStatus::Succeeded);
        match applied_counts(&log) {
            Some((add, change, destroy)) => {
                (report.add, report.change, report.destroy) = (add, change, destroy);
                if add + change + destroy == 0 {
                    report.status = InstanceStatus::Unchanged;
                }
            }
            None => report.reason = Some("applied; the engine printed no resource counts".into()),
        }
        report
    }

    pub(crate) async fn apply_file(
        &self,
        stack: &str,
        inv: &Invocation,
        plan: &std::path::Path,
        summary: &PlanSummary,
        files: &PlanFiles,
    ) -> InstanceReport {
        let plan_str = plan.display().to_string();
        if let Err(why) = self.engine_apply(stack, inv, &[&plan_str], files).await {
            return InstanceReport::new(stack, InstanceStatus::Failed).because(why);
        }
        let mut report = InstanceReport::new(stack, InstanceStatus::Succeeded);
        (report.add, report.change, report.destroy) =
            (summary.add, summary.change, summary.destroy);
        report
    }

    /// Runs one engine `apply` ending with `tail` (a plan file, or `-auto-approve` and the var
    /// file) and refreshes the cached state; returns the log's text, or why it failed.
    async fn engine_apply(
        &self,
        stack: &str,
        inv: &Invocation,
        tail: &[&str],
        files: &PlanFiles,
    ) -> Result<String, String> {
        self.phase(stack, Phase::Apply);
        let log = files.log();
        let mut args = vec!["apply", "-input=false", "-no-color", "-lock-timeout=300s"];
        args.extend_from_slice(tail);
        let result = inv.run(&args, &log).await;
        // Whatever happened, the state may have moved: dependents must see the fresh one.
        self.states.refresh(stack, self.read_state(stack).await);
        match result {
            Ok(exit) if exit.code == 0 => {
                self.applied
                    .lock()
                    .expect("no panics under this lock")
                    .insert(stack.to_string());
                Ok(std::fs::read_to_string(&log).unwrap_or_default())
            }
            Ok(exit) => {
                Err(self.engine_failure(stack, format!("apply failed (exit {})", exit.code), &log))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

impl RunContext {
    /// Rewrites the stored plan JSON without secret values: every credential or secret value
    /// (in each form it could be written) is masked, and the values of variables fed by a
    /// secret or declared `sensitive` are replaced; the engine's binary plan stays the only
    /// file that may hold them.
    fn redact_plan_json(
        &self,
        stack: &str,
        inv: &Invocation,
        path: &std::path::Path,
    ) -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = plinth_engine::process::mask(&text, &inv.masks);
        let mut doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let code = self.code_of(stack);
        let secret_names: Vec<&str> = self
            .project
            .config
            .secrets
            .iter()
            .map(|s| s.name.value.as_str())
            .collect();
        if let Some(vars) = doc.get_mut("variables").and_then(|v| v.as_object_mut()) {
            for (name, v) in vars.iter_mut() {
                if secret_names.contains(&name.as_str()) || code.sensitive_variables.contains(name)
                {
                    v["value"] = serde_json::Value::String(crate::REDACTED.into());
                }
            }
        }
        write_json(path, &doc).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(doc)
    }

    /// A failure message with the engine's first error (`stack/main.tf:3: summary`), how
    /// many more there are, and where the whole log is.
    pub(crate) fn engine_failure(
        &self,
        stack: &str,
        message: String,
        log: &std::path::Path,
    ) -> String {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let errors: Vec<_> = plinth_engine::messages(&text)
            .into_iter()
            .filter(|m| m.severity == "Error")
            .collect();
        let shown_log = log
            .strip_prefix(&self.project.root)
            .unwrap_or(log)
            .display();
        match errors.first() {
            Some(first) => {
                let more = match errors.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                format!(
                    "{message}: {}{more}; log: {shown_log}",
                    first.one_line(stack)
                )
            }
            None => format!("{message}; log: {shown_log}"),
        }
    }

    /// The direct upstream stacks of `stack` whose plan in this run has changes.
    pub(crate) fn pending_upstream(&self, stack: &str) -> Vec<String> {
        let pending = self.pending.lock().expect("no panics under this lock");
        let node = self.graph.node(stack).expect("graph stacks exist");
        node.depends_on
            .iter()
            .filter(|up| pending.contains(*up))
            .cloned()
            .collect()
    }
}

/// What `prepare_instance` hands to planning or applying.
struct Prepared {
    var_arg: String,
    inputs: ResolvedInputs,
    backend: BackendSetup,
    secret_names: Vec<String>,
    inv: Invocation,
    own: Option<StateSnapshot>,
}

/// Adds plinth's own lines (what it published) to an instance's log.
pub(crate) fn append_log(log: &std::path::Path, lines: &[String]) {
    use std::io::Write;
    if lines.is_empty() {
        return;
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        for line in lines {
            let _ = writeln!(f, "# plinth: {line}");
        }
    }
}

/// `(added, changed, destroyed)` from the last `Apply complete! Resources: 1 added, 0 changed,
/// 0 destroyed.` line Terraform and OpenTofu print.
fn applied_counts(log: &str) -> Option<(u32, u32, u32)> {
    let line = log
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Apply complete! Resources: "))?;
    let mut counts = line
        .trim_end_matches('.')
        .split(", ")
        .map(|part| part.split_whitespace().next().and_then(|n| n.parse().ok()));
    Some((counts.next()??, counts.next()??, counts.next()??))
}

/// What `read_plan` found in a plan with changes.
#[derive(Default)]
struct ReadPlan {
    summary: PlanSummary,
    needs_approval: Vec<String>,
    stateful: Vec<String>,
    policy_findings: Vec<crate::review::PolicyFinding>,
    cost: Option<crate::review::CostDelta>,
}

impl RunContext {
    /// The report line of a saved plan, with its policy findings, cost and notes.
    fn planned_report(&self, stack: &str, meta: &PlanMeta) -> InstanceReport {
        let mut r = planned_report(stack, meta);
        r.policy_findings = meta.policy_findings.clone();
        r.monthly_delta = meta.cost.as_ref().map(|c| c.delta);
        r.cost = meta.cost.as_ref().map(|c| c.summary.clone());
        if self.environment.protected && self.denial(meta).is_some() {
            let note = format!(
                "denied by policy: apply needs an owner's approval first ({})",
                self.approvers_hint(meta)
            );
            r.reason = Some(match r.reason.take() {
                Some(other) => format!("{other}; {note}"),
                None => note,
            });
        }
        r
    }
}

fn planned_report(stack: &str, meta: &PlanMeta) -> InstanceReport {
    let status = if meta.summary.has_changes {
        InstanceStatus::Succeeded
    } else {
        InstanceStatus::Unchanged
    };
    let mut r = InstanceReport::new(stack, status);
    r.add = meta.summary.add;
    r.change = meta.summary.change;
    r.destroy = meta.summary.destroy;
    r.preview_only = meta.preview_only;
    let mut notes = Vec::new();
    if meta.preview_only {
        notes.push(format!(
            "preview only: mock outputs of {}",
            meta.mocked.join(", ")
        ));
    }
    if !meta.pending_upstream.is_empty() && !meta.preview_only {
        notes.push(format!(
            "reads {}, which has pending changes: if they change what it reads, apply plans it again",
            meta.pending_upstream.join(", ")
        ));
    }
    if !meta.needs_approval.is_empty() {
        notes.push(format!(
            "needs --approve-destructive: {}",
            meta.needs_approval.join(", ")
        ));
    }
    if !notes.is_empty() {
        r.reason = Some(notes.join("; "));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::applied_counts;

    #[test]
    fn reads_the_closing_line_of_an_apply() {
        let log = "Plan: 2 to add, 1 to change, 0 to destroy.\nApply complete! Resources: 2 added, 1 changed, 0 destroyed.\n\nOutputs:\n";
        assert_eq!(applied_counts(log), Some((2, 1, 0)));
        assert_eq!(
            applied_counts(
                "No changes.\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.\n"
            ),
            Some((0, 0, 0))
        );
        assert_eq!(applied_counts("Error: boom\n"), None);
    }
}
