//! What runs around an instance's engine work: its `before_plan` generators, and after it
//! succeeded, publishing its outputs and its `after_apply`/`after_destroy` hooks.

use crate::context::RunContext;
use crate::hooks::{HookPhase, HookReport, HookRun, flat_outputs};
use crate::instance::append_log;
use crate::report::{InstanceReport, InstanceStatus};
use crate::saved::PlanFiles;

impl RunContext {
    /// After an instance that succeeded: publishes its outputs (or removes them after a
    /// destroy), then runs the stack's hooks of `phase`. A failure of either fails the
    /// instance (and so skips its dependents).
    pub(crate) async fn after(
        &self,
        mut report: InstanceReport,
        phase: HookPhase,
        files: &PlanFiles,
    ) -> InstanceReport {
        let ran = match phase {
            HookPhase::AfterDestroy => report.status == InstanceStatus::Succeeded,
            _ => report.status.lets_dependents_run(),
        };
        if !ran {
            return report;
        }
        let stack = report.stack.clone();
        let outputs = match self.state(&stack).await {
            Ok(Some(state)) if phase != HookPhase::AfterDestroy => state.outputs,
            _ => Default::default(),
        };
        let published = match phase {
            HookPhase::AfterDestroy => self.unpublish(&stack).await,
            _ => self.publish_outputs(&stack, &outputs).await,
        };
        match published {
            Ok(p) => append_log(&files.log(), &p.lines),
            Err(why) => {
                report.status = InstanceStatus::Failed;
                report.reason = Some(why);
                return report;
            }
        }
        let Some(hooks) = self
            .project
            .stack(&stack)
            .and_then(|s| s.config.hooks.as_ref())
        else {
            return report;
        };
        let results = self
            .run_hooks(HookRun {
                hooks,
                phase,
                stack: Some(&stack),
                dir: self
                    .project
                    .stack(&stack)
                    .expect("graph stacks exist")
                    .dir
                    .clone(),
                outputs: serde_json::Value::Object(
                    outputs
                        .iter()
                        .map(|(k, v)| (k.clone(), v.value.clone()))
                        .collect(),
                ),
                flat: flat_outputs(&outputs),
                log: files.log(),
                outputs_file: files.dir.join(format!("{}-outputs.json", phase.as_str())),
            })
            .await;
        if let Some(failed) = results.iter().find(|h| !h.ok()) {
            report.status = InstanceStatus::Failed;
            report.reason = Some(failed.failure());
        }
        report.hooks = results;
        report
    }

    /// Runs the stack's `before_plan` hooks (generators); `Err` fails the instance.
    pub(crate) async fn before_plan(
        &self,
        stack: &str,
        files: &PlanFiles,
    ) -> Result<Vec<HookReport>, InstanceReport> {
        let Some(hooks) = self
            .project
            .stack(stack)
            .and_then(|s| s.config.hooks.as_ref())
        else {
            return Ok(Vec::new());
        };
        if hooks.before_plan.is_empty() {
            return Ok(Vec::new());
        }
        let results = self
            .run_hooks(HookRun {
                hooks,
                phase: HookPhase::BeforePlan,
                stack: Some(stack),
                dir: self
                    .project
                    .stack(stack)
                    .expect("graph stacks exist")
                    .dir
                    .clone(),
                outputs: serde_json::json!({}),
                flat: Default::default(),
                log: files.log(),
                outputs_file: files.dir.join("before_plan-outputs.json"),
            })
            .await;
        match results.iter().find(|h| !h.ok()) {
            Some(failed) => {
                let mut r =
                    InstanceReport::new(stack, InstanceStatus::Failed).because(failed.failure());
                r.hooks = results;
                Err(r)
            }
            None => Ok(results),
        }
    }
}
