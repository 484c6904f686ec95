//! Pull-request events: open, reopen, push and ready-for-review plan the head (drafts wait);
//! close and merge destroy the copies, apply `apply = "merge"` environments from the merged
//! commit, release the locks (the next pull request in each queue is planned) and discard
//! the plans.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use plinth_config::{ApplyOn, Lifecycle};
use plinth_forge::{PullAction, PullRequestEvent, StatusState};
use plinth_project::Selection;
use plinth_run::{Mode, RunOptions, RunOrigin};
use plinth_state::PullState;
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::checkout::{Loaded, pull_refs};
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::plan_flow::{PlanRequest, put_section, start_and_execute, targets};
use crate::sheet::PullCtx;
use crate::summary::{EnvSection, short};

/// How long a merge's runs wait for another run of the same environment.
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Handles a pull-request delivery.
pub(crate) async fn handle(
    auto: &Arc<Automation>,
    ev: PullRequestEvent,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    let mut pc = auto.pull_ctx(&ev.repo, ev.number)?;
    pc.sheet.clone_url = Some(ev.clone_url.clone());
    let author = ev.author.clone().unwrap_or_else(|| ev.sender.clone());
    match ev.action {
        PullAction::Closed { merged } => auto.on_closed(&mut pc, &ev, merged, &author, run).await,
        _ => {
            auto.store
                .upsert_pull(
                    &pc.pull,
                    &ev.head_sha,
                    &ev.base_ref,
                    PullState::Open,
                    &author,
                )
                .await?;
            if ev.draft {
                pc.save()?;
                return Ok(json!({ "skipped": "draft: planned when it is ready for review" }));
            }
            let req = PlanRequest {
                envs: None,
                stacks: Vec::new(),
                fresh: false,
                who: ev.sender.clone(),
            };
            auto.plan_pull(&mut pc, req, run).await
        }
    }
}

/// Plans a pull request that was handed the locks it waited for.
pub(crate) async fn plan_again(
    auto: &Arc<Automation>,
    repo: &str,
    number: u64,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    let mut pc = auto.pull_ctx(repo, number)?;
    let req = pc.sheet.waiting.clone().unwrap_or(PlanRequest {
        envs: None,
        stacks: Vec::new(),
        fresh: false,
        who: "plinth".into(),
    });
    auto.plan_pull(&mut pc, req, run).await
}

impl Automation {
    async fn on_closed(
        &self,
        pc: &mut PullCtx,
        ev: &PullRequestEvent,
        merged: bool,
        author: &str,
        run: &mut JobRun,
    ) -> Result<Value, FlowError> {
        let state = if merged {
            PullState::Merged
        } else {
            PullState::Closed
        };
        self.store
            .upsert_pull(&pc.pull, &ev.head_sha, &ev.base_ref, state, author)
            .await?;
        if merged && run.done("merge_applied").is_none() {
            self.apply_after_merge(pc, ev, run).await?;
            run.mark("merge_applied", json!(true)).await?;
        }
        let refs = pull_refs(pc.repo.kind, pc.number, &ev.base_ref);
        for (template, copy) in pc.sheet.copies.clone() {
            let step = format!("down:{copy}");
            if run.done(&step).is_some() {
                continue;
            }
            self.copy_down(pc, &template, &copy, &ev.head_sha, &refs, run)
                .await?;
            run.mark(&step, json!(true)).await?;
        }
        if let Some(project) = pc.sheet.project.clone() {
            let handed = self.store.release_all(&project, &pc.pull).await?;
            crate::jobs::plan_handed_over(
                self,
                &handed,
                &format!("locks released when {} was {}", pc.pull, state.as_str()),
            )
            .await?;
        }
        self.store.discard_pull_plans(&pc.pull).await?;
        pc.sheet.plan_runs.clear();
        pc.sheet.waiting = None;
        for section in pc
            .sheet
            .summary
            .envs
            .iter_mut()
            .filter(|s| s.copy.is_none())
        {
            if !section.state.starts_with("applied after the merge") {
                section.state = format!("{}: plans discarded, locks released", state.as_str());
                section.next = None;
                section.gates.clear();
            }
        }
        self.publish(pc, run).await?;
        self.prune_worktrees(&pc.pull.repo).await;
        Ok(json!({ "closed": state.as_str() }))
    }

    /// With `apply = "merge"`: plans the merged commit's affected instances in those
    /// environments and applies the plans.
    async fn apply_after_merge(
        &self,
        pc: &mut PullCtx,
        ev: &PullRequestEvent,
        run: &JobRun,
    ) -> Result<(), FlowError> {
        let Some(sha) = ev.merge_commit_sha.clone() else {
            return Ok(());
        };
        let refs = vec![format!("refs/heads/{}", ev.base_ref)];
        let co = match self.checkout(pc, &sha, &refs).await? {
            Loaded::Ready(co) => co,
            Loaded::Problems(problems) => {
                run.log(&format!(
                    "merged commit {}: {}",
                    short(&sha),
                    problems.join("; ")
                ))
                .await?;
                return Ok(());
            }
        };
        let project = Arc::clone(&co.project);
        let parent = format!("{sha}^1");
        let sha_for_diff = sha.clone();
        let affected = tokio::task::spawn_blocking(move || {
            let changes = plinth_run::changes_between(&project, &parent, &sha_for_diff)
                .map_err(|e| FlowError::Other(e.to_string()))?;
            project
                .affected(&changes, false)
                .map_err(|d| FlowError::Other(plinth_diag::render_all(&d, false)))
        })
        .await
        .map_err(|e| FlowError::Other(e.to_string()))??;
        let all = PlanRequest {
            envs: Some(Vec::new()),
            stacks: Vec::new(),
            fresh: true,
            who: ev.sender.clone(),
        };
        let (targets, _) = targets(&co.project, &affected, &all);
        for t in targets.iter().filter(|t| {
            t.env.lifecycle == Lifecycle::Persistent
                && t.env
                    .pull_request
                    .as_ref()
                    .is_some_and(|p| p.apply == ApplyOn::Merge)
        }) {
            let env = t.env.name.value.clone();
            let context = format!("plinth/apply/{env}");
            self.set_status(
                pc,
                &sha,
                &context,
                StatusState::Pending,
                "applying the merge",
            )
            .await;
            let only: BTreeSet<String> = t.stacks.iter().cloned().collect();
            let options = |mode_env: &str| RunOptions {
                env: mode_env.to_string(),
                template: None,
                via_server: true,
                skip_promotion: None,
                selection: Selection::default(),
                changed: None,
                only: Some(only.clone()),
                parallelism: None,
                approve_destructive: false,
                lock_wait: RUN_LOCK_WAIT,
                reuse_plans: Vec::new(),
                replan: BTreeSet::new(),
            };
            let origin = RunOrigin::server(&ev.sender);
            let outcome =
                match start_and_execute(&co.project, options(&env), Mode::Plan, origin.clone())
                    .await
                {
                    Ok(plan) if plan.status == plinth_run::RunStatus::Succeeded => {
                        start_and_execute(
                            &co.project,
                            options(&env),
                            Mode::ApplySaved(plan.run_id.clone()),
                            origin,
                        )
                        .await
                    }
                    Ok(plan) => Err(format!("the plan of the merge {}", plan.status.as_str())),
                    Err(why) => Err(why),
                };
            let (state, description, section_state) = match &outcome {
                Ok(report) if report.status == plinth_run::RunStatus::Succeeded => (
                    StatusState::Success,
                    "applied after the merge".to_string(),
                    format!("applied after the merge at `{}`", short(&sha)),
                ),
                Ok(report) => (
                    StatusState::Failure,
                    format!("the apply of the merge {}", report.status.as_str()),
                    format!(
                        "the apply after the merge at `{}` {} (run {})",
                        short(&sha),
                        report.status.as_str(),
                        report.run_id
                    ),
                ),
                Err(why) => (
                    StatusState::Failure,
                    self.redact(why),
                    format!("not applied after the merge: {}", self.redact(why)),
                ),
            };
            self.set_status(pc, &sha, &context, state, &description)
                .await;
            run.log(&format!("{env}: {section_state}")).await?;
            let mut section = pc
                .sheet
                .summary
                .envs
                .iter()
                .find(|s| s.env == env && s.copy.is_none())
                .cloned()
                .unwrap_or_else(|| EnvSection {
                    env: env.clone(),
                    ..Default::default()
                });
            section.state = section_state;
            section.next = None;
            put_section(&mut pc.sheet.summary.envs, section);
        }
        Ok(())
    }

    /// Removes the worktrees of heads no open pull request of `repo` points at.
    async fn prune_worktrees(&self, repo: &str) {
        let keep: HashSet<String> = match self
            .store
            .pull_records(Some(repo), Some(PullState::Open), 1000)
            .await
        {
            Ok(open) => open.into_iter().map(|p| p.head).collect(),
            Err(e) => {
                tracing::warn!(repo, error = %e, "cannot list open pull requests to prune");
                return;
            }
        };
        if let Err(e) = self.workspaces.prune(repo, &keep).await {
            tracing::warn!(repo, error = %e, "cannot prune worktrees");
        }
    }
}
