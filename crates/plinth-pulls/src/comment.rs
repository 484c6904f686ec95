//! A comment on a pull request: its command (`plinth plan|apply|unlock|approve_policies|help`)
//! carried out, or the reason it cannot be, as a reply.

use std::sync::Arc;

use plinth_forge::CommentEvent;
use plinth_state::{PullRef, PullState};
use serde_json::{Value, json};

use crate::automation::Automation;
use crate::command::{self, Command, Parsed};
use crate::error::FlowError;
use crate::gates::Commenter;
use crate::job_run::JobRun;
use crate::plan_flow::PlanRequest;
use crate::sheet::PullCtx;
use crate::summary::inline;

/// Handles a comment delivery.
pub(crate) async fn handle(
    auto: &Arc<Automation>,
    ev: CommentEvent,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    let cmd = match command::parse(&ev.body) {
        Parsed::NotForUs => return Ok(json!({ "ignored": "not a plinth command" })),
        Parsed::Invalid(why) => {
            let pc = auto.pull_ctx(&ev.repo, ev.number)?;
            if run.done("replied").is_none() {
                // The parser's reasons quote the comment's words only through its `clip`.
                auto.reply(&pc, &format!("{why}\n\n{}", command::help_text()))
                    .await?;
                run.mark("replied", json!(true)).await?;
            }
            return Ok(json!({ "invalid": why }));
        }
        Parsed::Command(cmd) => cmd,
    };
    run.log(&format!("{} asked `plinth {}`", ev.author, cmd.name()))
        .await?;
    let mut pc = auto.pull_ctx(&ev.repo, ev.number)?;
    if !auto.known_pull(&mut pc).await? {
        auto.reply(
            &pc,
            "This pull request is closed: plinth acts only on open pull requests.",
        )
        .await?;
        return Ok(json!({ "ignored": "closed" }));
    }
    let who = Commenter {
        login: &ev.author,
        id: ev.author_id,
    };
    match cmd {
        Command::Help => {
            if run.done("replied").is_none() {
                auto.reply(&pc, &command::help_text()).await?;
                run.mark("replied", json!(true)).await?;
            }
            Ok(json!({ "help": true }))
        }
        Command::Plan { envs, stacks } => {
            let req = PlanRequest {
                envs: Some(envs),
                stacks,
                fresh: true,
                who: ev.author.clone(),
            };
            auto.plan_pull(&mut pc, req, run).await
        }
        Command::Apply { env, stacks } => auto.apply_env(&mut pc, &env, stacks, who, run).await,
        Command::Unlock { env } => auto.unlock(&mut pc, env.as_deref(), &ev.author, run).await,
        Command::ApprovePolicies { env, stacks } => {
            auto.approve_policies(&mut pc, env.as_deref(), &stacks, &ev.author)
                .await
        }
    }
}

impl Automation {
    /// Makes sure the database knows the pull request (a comment may be the first delivery
    /// plinth gets for it); `false` when it is not open.
    pub(crate) async fn known_pull(&self, pc: &mut PullCtx) -> Result<bool, FlowError> {
        if let Some(record) = self.store.pull(&pc.pull).await? {
            return Ok(record.state == PullState::Open);
        }
        let info = pc.forge.pull_request(&pc.pull.repo, pc.number).await?;
        let state = match info.state {
            plinth_forge::PullState::Open => PullState::Open,
            plinth_forge::PullState::Closed => PullState::Closed,
            plinth_forge::PullState::Merged => PullState::Merged,
        };
        self.store
            .upsert_pull(
                &pc.pull,
                &info.head_sha,
                &info.base_ref,
                state,
                &info.author,
            )
            .await?;
        Ok(state == PullState::Open)
    }

    /// `plinth unlock [ENV]`: gives up the pull request's locks (and places in queues); the
    /// pull requests next in line are planned.
    async fn unlock(
        &self,
        pc: &mut PullCtx,
        env: Option<&str>,
        who: &str,
        run: &mut JobRun,
    ) -> Result<Value, FlowError> {
        let Some(project) = pc.sheet.project.clone() else {
            self.reply(pc, "This pull request holds no locks.").await?;
            return Ok(json!({ "released": 0 }));
        };
        let handed = match env {
            Some(env) => self.store.release_env(&project, &pc.pull, env).await?,
            None => self.store.release_all(&project, &pc.pull).await?,
        };
        crate::jobs::plan_handed_over(self, &handed, &format!("{who} unlocked {}", pc.pull))
            .await?;
        if run.done("replied").is_none() {
            let next = if handed.is_empty() {
                String::new()
            } else {
                let numbers: Vec<String> = handed
                    .iter()
                    .map(|p: &PullRef| format!("#{}", p.number))
                    .collect();
                format!(
                    " Handed over to {}, which is planned now.",
                    numbers.join(", ")
                )
            };
            let scope = env.map_or("all environments".to_string(), |e| {
                format!("`{}`", inline(e))
            });
            self.reply(
                pc,
                &format!(
                    "Released this pull request's locks in {scope}.{next} Comment `plinth plan` \
                     to take them again."
                ),
            )
            .await?;
            run.mark("replied", json!(true)).await?;
        }
        self.publish(pc, run).await?;
        Ok(json!({ "handed_over": handed.len() }))
    }

    /// `plinth approve_policies [ENV]`: the policy owners' approval of the current plans'
    /// denials (the identity check is plinth-run's).
    async fn approve_policies(
        &self,
        pc: &mut PullCtx,
        env: Option<&str>,
        stacks: &[String],
        who: &str,
    ) -> Result<Value, FlowError> {
        let envs: Vec<(String, String)> = pc
            .sheet
            .plan_runs
            .iter()
            .filter(|(e, _)| env.is_none_or(|want| want == e.as_str()))
            .map(|(e, r)| (e.clone(), r.clone()))
            .collect();
        if envs.is_empty() {
            self.reply(
                pc,
                "There is no plan to approve: comment `plinth plan` first.",
            )
            .await?;
            return Ok(json!({ "approved": 0 }));
        }
        let record = self
            .store
            .pull(&pc.pull)
            .await?
            .ok_or_else(|| FlowError::Refused(format!("no pull request {}", pc.pull)))?;
        let refs = crate::checkout::pull_refs(pc.repo.kind, pc.number, &record.base_ref);
        let co = match self.checkout(pc, &record.head, &refs).await? {
            crate::checkout::Loaded::Ready(co) => co,
            crate::checkout::Loaded::Problems(p) => {
                self.reply(pc, &p.join("\n")).await?;
                return Ok(json!({ "approved": 0 }));
            }
        };
        let mut lines = Vec::new();
        let mut approved = 0;
        for (env, run_id) in envs {
            match plinth_run::approve_policies(&co.project, &run_id, stacks, who).await {
                Ok(report) => {
                    approved += report.approved.len();
                    lines.push(format!(
                        "- `{}`: {} denial(s) approved by {}",
                        inline(&env),
                        report.approved.len(),
                        inline(who)
                    ));
                }
                Err(e) => lines.push(format!(
                    "- `{}`: {}",
                    inline(&env),
                    inline(&self.redact(&crate::plan_flow::run_error(e)))
                )),
            }
        }
        self.reply(
            pc,
            &format!("**plinth approve_policies**\n\n{}", lines.join("\n")),
        )
        .await?;
        Ok(json!({ "approved": approved }))
    }
}
