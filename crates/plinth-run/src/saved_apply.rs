//! Applying a plan saved by an earlier run: refused when it is preview-only, unapproved or
//! stale (anything it consumed moved since), applied exactly otherwise.

use std::sync::Arc;
use std::time::Instant;

use crate::context::RunContext;
use crate::events::Phase;
use crate::fingerprint::{combine, describe_changes, details};
use crate::hooks::HookPhase;
use crate::inputs::{InputError, ResolvedInputs};
use crate::report::{InstanceReport, InstanceStatus};
use crate::saved::{PlanFiles, PlanMeta, read_json};

impl RunContext {
    /// Applies a plan saved by an earlier run, after checking it is neither preview-only nor
    /// stale.
    pub async fn run_saved(self: Arc<Self>, stack: String, plan_run: String) -> InstanceReport {
        let started = Instant::now();
        let files = PlanFiles::new(&self.layout, &self.run_id, &stack);
        let saved = PlanFiles::new(&self.layout, &plan_run, &stack);
        let report = self.apply_saved(&stack, &saved, &files).await;
        let report = self.after(report, HookPhase::AfterApply, &files).await;
        self.finish(report, started, &files)
    }

    async fn apply_saved(
        &self,
        stack: &str,
        saved: &PlanFiles,
        files: &PlanFiles,
    ) -> InstanceReport {
        let meta: PlanMeta = match read_json(&saved.meta()) {
            Ok(m) => m,
            Err(e) => return InstanceReport::new(stack, InstanceStatus::Failed).because(e),
        };
        let inputs = match self.check_saved(stack, &meta).await {
            Ok(inputs) => inputs,
            Err(blocked) => return blocked,
        };
        if !meta.summary.has_changes {
            return InstanceReport::new(stack, InstanceStatus::Unchanged);
        }
        let backend = match self.backend(stack) {
            Ok(b) => b,
            Err(e) => return InstanceReport::new(stack, InstanceStatus::Failed).because(e),
        };
        let secrets = match self.secrets(stack).await {
            Ok(s) => s,
            Err(e) => return InstanceReport::new(stack, InstanceStatus::Blocked).because(e),
        };
        // Ephemeral variables are not in the plan file: the apply needs them again (secrets
        // among them already come as TF_VAR_*).
        let mut env = secrets.env;
        for name in &self.code_of(stack).ephemeral_variables {
            if let Some(value) = inputs.vars.get(name)
                && !env.iter().any(|(k, _)| k == &format!("TF_VAR_{name}"))
            {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                env.push((format!("TF_VAR_{name}"), text));
            }
        }
        let inv = self.invocation(stack, &backend, env, secrets.masks);
        self.phase(stack, Phase::Init);
        if let Err(e) = self.init(stack, &inv, &backend, &files.log()).await {
            return InstanceReport::new(stack, InstanceStatus::Failed)
                .because(self.engine_failure(stack, e.to_string(), &files.log()));
        }
        self.apply_file(stack, &inv, &saved.plan(), &meta.summary, files)
            .await
    }

    /// Refuses a saved plan that is preview-only, stale or needs an approval not given; on
    /// success, the inputs as resolved now (they match the plan's).
    pub async fn check_saved(
        &self,
        stack: &str,
        meta: &PlanMeta,
    ) -> Result<ResolvedInputs, InstanceReport> {
        let blocked =
            |why: String| InstanceReport::new(stack, InstanceStatus::Blocked).because(why);
        if meta.preview_only {
            return Err(blocked(format!(
                "plan {} is preview-only (made with mock outputs of {}); apply upstream first, then plan again",
                meta.run_id,
                meta.mocked.join(", ")
            )));
        }
        if !meta.needs_approval.is_empty() && !self.approve_destructive {
            return Err(blocked(format!(
                "plan destroys stateful resources in protected environment `{}` ({}); re-run with --approve-destructive",
                self.env(),
                meta.needs_approval.join(", ")
            )));
        }
        if self.environment.protected {
            self.policy_gate(stack, meta).await.map_err(blocked)?;
        }
        let backend = self.backend(stack).map_err(blocked)?;
        let secrets = self.secrets(stack).await.map_err(blocked)?;
        let inputs = self.inputs(stack, true).await.map_err(|e| match e {
            InputError::Blocked(m) | InputError::Failed(m) => {
                blocked(format!("cannot check plan {}: {m}", meta.run_id))
            }
        })?;
        let own = self.state(stack).await.map_err(blocked)?;
        let parts = self.consumed(stack, &inputs, own.as_ref(), &backend, &secrets.names);
        if combine(&parts) == meta.fingerprint {
            return Ok(inputs);
        }
        let changed = describe_changes(&meta.parts, &meta.details, &parts, &details(&inputs));
        // Outputs that moved because an upstream was applied in this very run: a fresh plan
        // of this instance is all that is needed, not a fix by the user.
        let only_upstream = crate::fingerprint::changed_parts(&meta.parts, &parts)
            .iter()
            .all(|p| p == "upstream outputs" || p == "inputs")
            && changed.iter().any(|c| c.starts_with("upstream output"));
        let upstream_applied_here = {
            let applied = self.applied.lock().expect("no panics under this lock");
            self.graph
                .node(stack)
                .is_some_and(|n| n.depends_on.iter().any(|u| applied.contains(u)))
        };
        let mut report = blocked(format!(
            "plan {} is stale: {} changed since it was made; plan again",
            meta.run_id,
            changed.join(", ")
        ));
        report.replan = only_upstream && upstream_applied_here;
        Err(report)
    }
}
