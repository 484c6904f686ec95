//! What the pull request sees: the summary comment (posted once, then edited in place), plan
//! details in further comments below the forge's limit, replies to commands, and commit
//! statuses. Everything sent passes through the server's own masks first.

use plinth_config::{ApplyOn, Environment};
use plinth_forge::{CommentId, Status, StatusState};
use plinth_run::{InstanceStatus, RunReport};

use crate::automation::Automation;
use crate::details::{Section, split};
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::sheet::PullCtx;
use crate::summary::{self, LockCell, short};

impl Automation {
    /// Posts or edits the summary comment from the sheet (locks as the database has them
    /// now), and saves the sheet.
    pub(crate) async fn publish(&self, pc: &mut PullCtx, run: &JobRun) -> Result<(), FlowError> {
        if let Some(view) = self.store.pull_view(&pc.pull).await? {
            for section in pc
                .sheet
                .summary
                .envs
                .iter_mut()
                .filter(|s| s.copy.is_none())
            {
                for row in &mut section.rows {
                    let Some(i) = view
                        .instances
                        .iter()
                        .find(|i| i.env == section.env && i.stack == row.stack)
                    else {
                        row.lock = LockCell::None;
                        continue;
                    };
                    row.lock = match i.lock {
                        "held" => LockCell::Held,
                        "queued" => LockCell::Queued {
                            position: i.position.unwrap_or(1).max(1) as u32,
                            holder: i.waiting_for.map(|n| n as u64),
                        },
                        _ => LockCell::None,
                    };
                }
            }
        }
        pc.sheet.summary.link = self.link(&pc.pull);
        let mut text = self.redact(&summary::render(&pc.sheet.summary));
        let limit = pc.forge.comment_limit();
        if text.len() > limit {
            text = self.redact(&summary::render_compact(&pc.sheet.summary, limit));
        }
        let record = self.store.pull(&pc.pull).await?;
        let existing = record
            .and_then(|r| r.summary_comment)
            .and_then(|id| id.parse::<u64>().ok());
        let edited = match existing {
            Some(id) => match pc
                .forge
                .edit_comment(&pc.pull.repo, pc.number, CommentId(id), &text)
                .await
            {
                Ok(()) => true,
                // Deleted by someone: post a new one.
                Err(e) if e.status() == Some(404) => false,
                Err(e) => return Err(e.into()),
            },
            None => false,
        };
        if !edited {
            let id = pc
                .forge
                .post_comment(&pc.pull.repo, pc.number, &text)
                .await?;
            self.store
                .set_summary_comment(&pc.pull, &id.to_string())
                .await?;
            run.log(&format!("summary comment {id} posted")).await?;
        }
        pc.save()
    }

    /// Posts the plan details of `head` (once per job, even when resumed).
    pub(crate) async fn post_details(
        &self,
        pc: &PullCtx,
        head: &str,
        sections: Vec<Section>,
        run: &mut JobRun,
    ) -> Result<(), FlowError> {
        if sections.is_empty() {
            return Ok(());
        }
        let key = format!("details:{head}");
        let already = run
            .done(&key)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as usize;
        let title = format!("**plinth plan details** for `{}`", short(head));
        let bodies = split(&title, &sections, pc.forge.comment_limit());
        for (i, body) in bodies.iter().enumerate().skip(already) {
            pc.forge
                .post_comment(&pc.pull.repo, pc.number, &self.redact(body))
                .await?;
            run.mark(&key, serde_json::json!(i + 1)).await?;
        }
        Ok(())
    }

    /// Replies on the pull request (a command's outcome or refusal).
    pub(crate) async fn reply(&self, pc: &PullCtx, text: &str) -> Result<(), FlowError> {
        let mut body = self.redact(text);
        let limit = pc.forge.comment_limit();
        if body.len() > limit {
            let mut cut = limit.saturating_sub(100);
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push_str("\n\n… (cut: see the job's log on the plinth server)");
        }
        pc.forge
            .post_comment(&pc.pull.repo, pc.number, &body)
            .await?;
        Ok(())
    }

    /// Sets a commit status; a forge that refuses it is logged, not fatal (the comment says
    /// the same).
    pub(crate) async fn set_status(
        &self,
        pc: &PullCtx,
        sha: &str,
        context: &str,
        state: StatusState,
        description: &str,
    ) {
        let status = Status {
            context: context.to_string(),
            state,
            description: self.redact(description),
            target_url: self.link(&pc.pull),
        };
        if let Err(e) = pc.forge.set_status(&pc.pull.repo, sha, &status).await {
            tracing::warn!(pull = %pc.pull, context, error = %e, "cannot set the commit status");
        }
    }

    /// `plinth/apply/ENV` after a plan: pending while there is something to apply.
    pub(crate) async fn apply_status_after_plan(
        &self,
        pc: &PullCtx,
        env: &Environment,
        head: &str,
        report: &RunReport,
    ) {
        let name = &env.name.value;
        let changes = report
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Succeeded)
            .count();
        let on_merge = env
            .pull_request
            .as_ref()
            .is_some_and(|p| p.apply == ApplyOn::Merge);
        let (state, description) = if changes == 0 {
            (StatusState::Success, "nothing to apply".to_string())
        } else if on_merge {
            (
                StatusState::Success,
                format!("{changes} instance(s) will be applied after the merge"),
            )
        } else {
            (
                StatusState::Pending,
                format!("{changes} instance(s) to apply: comment `plinth apply {name}`"),
            )
        };
        self.set_status(
            pc,
            head,
            &format!("plinth/apply/{name}"),
            state,
            &description,
        )
        .await;
    }
}
