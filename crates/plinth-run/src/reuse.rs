//! Keeping an earlier plan: when nothing an instance's plan consumed has moved (its code,
//! inputs, upstream outputs, own state, backend, engine and secret names), the plan an
//! earlier run saved is still exactly what the engine would make now, so a new plan run takes
//! it instead of running the engine (a push to a pull request re-plans only what it touched).

use crate::context::RunContext;
use crate::fingerprint::combine;
use crate::saved::{PlanFiles, PlanMeta, read_json, write_json};

impl RunContext {
    /// The plan of `stack` kept from one of `reuse_plans` (newest first) and copied into this
    /// run's `files`, when its fingerprint is still current; `None` means plan it.
    pub(crate) async fn reuse_plan(&self, stack: &str, files: &PlanFiles) -> Option<PlanMeta> {
        if self.reuse_plans.is_empty() || self.replan.contains(stack) || self.has_generators(stack)
        {
            return None;
        }
        let earlier = self.reuse_plans.iter().find_map(|run| {
            let saved = PlanFiles::new(&self.layout, run, stack);
            let meta: PlanMeta = read_json(&saved.meta()).ok()?;
            // A preview-only plan is kept by nobody: the next plan may read real outputs.
            (meta.env == self.env() && !meta.preview_only && saved.plan().is_file())
                .then_some((saved, meta))
        })?;
        let (saved, meta) = earlier;
        let backend = self.backend(stack).ok()?;
        let secrets = self.secrets(stack).await.ok()?;
        let inputs = self.inputs(stack, true).await.ok()?;
        if !inputs.mocked.is_empty() {
            return None;
        }
        let own = self.state(stack).await.ok()?;
        let parts = self.consumed(stack, &inputs, own.as_ref(), &backend, &secrets.names);
        if combine(&parts) != meta.fingerprint {
            return None;
        }
        std::fs::create_dir_all(&files.dir).ok()?;
        for (from, to) in [(saved.plan(), files.plan()), (saved.json(), files.json())] {
            if from.is_file() && std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).ok()?;
            }
        }
        let made_by = meta.reused_from.clone().unwrap_or(meta.run_id.clone());
        let kept = PlanMeta {
            run_id: self.run_id.clone(),
            pending_upstream: self.pending_upstream(stack),
            reused_from: Some(made_by.clone()),
            ..meta
        };
        write_json(&files.meta(), &kept).ok()?;
        let note = format!(
            "plinth: plan of run {made_by} kept: nothing it consumed has changed \
             (fingerprint {})\n",
            crate::short(&kept.fingerprint)
        );
        let _ = std::fs::write(files.log(), note);
        if kept.summary.has_changes {
            self.pending
                .lock()
                .expect("no panics under this lock")
                .insert(stack.to_string());
        }
        Some(kept)
    }

    /// Whether the stack runs `before_plan` generators: what they write is not known before
    /// they run, so its plan is always made again.
    fn has_generators(&self, stack: &str) -> bool {
        self.project
            .stack(stack)
            .and_then(|s| s.config.hooks.as_ref())
            .is_some_and(|h| !h.before_plan.is_empty())
    }
}
