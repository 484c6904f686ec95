//! The kinds of job the flow stores, and which handler runs each.

use std::sync::Arc;

use plinth_forge::Event;
use plinth_state::{DELIVERY_JOB_KIND, Job, PullRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::automation::Automation;
use crate::error::FlowError;
use crate::job_run::JobRun;

/// A pull request to plan again because it was handed the locks it waited for.
pub const PLAN_JOB_KIND: &str = "plan";

/// The payload of a webhook job (written by `Store::record_delivery`).
#[derive(Debug, Deserialize)]
struct DeliveryJob {
    forge: String,
    delivery_id: String,
}

/// The payload of a plan job.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PlanJob {
    pub repo: String,
    pub number: u64,
    /// Why it is planned (`locks released by #7`).
    pub reason: String,
}

/// Runs one claimed job to its end; the value is its recorded result.
pub(crate) async fn dispatch(
    auto: &Arc<Automation>,
    job: &Job,
    run: &mut JobRun,
) -> Result<Value, FlowError> {
    match job.kind.as_str() {
        DELIVERY_JOB_KIND => {
            let payload: DeliveryJob = serde_json::from_value(job.payload.clone())
                .map_err(|e| FlowError::Refused(format!("webhook job payload: {e}")))?;
            let delivery = auto
                .store
                .delivery(&payload.forge, &payload.delivery_id)
                .await?
                .ok_or_else(|| {
                    FlowError::Refused(format!("no delivery {}", payload.delivery_id))
                })?;
            let kind = auto
                .setup
                .forge(&delivery.forge)
                .map(|f| f.kind())
                .ok_or_else(|| {
                    FlowError::Refused(format!(
                        "forge block `{}` is no longer in the server file",
                        delivery.forge
                    ))
                })?;
            let body = delivery.payload.to_string();
            let event = crate::intake::decode_stored(kind, &delivery.event, body.as_bytes())
                .map_err(|e| FlowError::Refused(format!("stored delivery: {e}")))?;
            run.log(&format!(
                "delivery {} ({}) from {}",
                delivery.delivery_id, delivery.event, delivery.forge
            ))
            .await?;
            let (repo, number) = match &event {
                Event::PullRequest(ev) => (ev.repo.clone(), ev.number),
                Event::Comment(ev) => (ev.repo.clone(), ev.number),
                Event::Ignored { reason, .. } => {
                    return Ok(serde_json::json!({ "ignored": reason }));
                }
            };
            let result = match event {
                Event::PullRequest(ev) => crate::pull_event::handle(auto, ev, run).await,
                Event::Comment(ev) => crate::comment::handle(auto, ev, run).await,
                Event::Ignored { .. } => unreachable!("returned above"),
            };
            if let Err(e) = &result {
                auto.tell_failure(&repo, number, job.id, e).await;
            }
            result
        }
        PLAN_JOB_KIND => {
            let payload: PlanJob = serde_json::from_value(job.payload.clone())
                .map_err(|e| FlowError::Refused(format!("plan job payload: {e}")))?;
            run.log(&format!(
                "planning {}#{}: {}",
                payload.repo, payload.number, payload.reason
            ))
            .await?;
            let result =
                crate::pull_event::plan_again(auto, &payload.repo, payload.number, run).await;
            if let Err(e) = &result {
                auto.tell_failure(&payload.repo, payload.number, job.id, e)
                    .await;
            }
            result
        }
        crate::schedule::DRIFT_JOB_KIND => {
            let payload = serde_json::from_value(job.payload.clone())
                .map_err(|e| FlowError::Refused(format!("drift job payload: {e}")))?;
            crate::drift_job::handle(auto, payload, run).await
        }
        crate::schedule::REAP_JOB_KIND => {
            let payload = serde_json::from_value(job.payload.clone())
                .map_err(|e| FlowError::Refused(format!("reap job payload: {e}")))?;
            crate::reap_job::handle(auto, payload, run).await
        }
        other => Err(FlowError::Refused(format!("unknown job kind `{other}`"))),
    }
}

impl Automation {
    /// Tells the pull request that a job of it failed (best effort: the forge may be what
    /// failed), so that nobody waits for a plan that will not come.
    async fn tell_failure(&self, repo: &str, number: u64, job: i64, e: &FlowError) {
        if matches!(
            e,
            FlowError::State(plinth_state::StateError::LeaseLost { .. })
        ) {
            return;
        }
        let Ok(pc) = self.pull_ctx(repo, number) else {
            return;
        };
        let text = format!(
            "plinth could not finish job {job} of this pull request: {}\n\nComment \
             `plinth plan` to try again; the job's log is at `/v1/jobs/{job}` on the plinth server.",
            crate::summary::inline(&self.redact(&e.to_string()))
        );
        if let Err(e) = self.reply(&pc, &text).await {
            tracing::warn!(repo, number, error = %e, "cannot tell the pull request about a failed job");
        }
    }

    /// Plans the pull requests handed locks by a release outside the flow (an admin on the
    /// dashboard or the API): their plan jobs are stored and a worker woken.
    pub async fn plan_handed_over(&self, pulls: &[PullRef], reason: &str) -> Result<(), FlowError> {
        plan_handed_over(self, pulls, reason).await
    }
}

/// Stores a plan job for each pull request handed locks, and wakes a worker.
pub(crate) async fn plan_handed_over(
    auto: &Automation,
    pulls: &[PullRef],
    reason: &str,
) -> Result<(), FlowError> {
    for pull in pulls {
        let payload = serde_json::to_value(PlanJob {
            repo: pull.repo.clone(),
            number: pull.number as u64,
            reason: reason.to_string(),
        })
        .expect("plan jobs serialise");
        auto.store
            .enqueue(PLAN_JOB_KIND, &pull.serial_key(), &payload, None)
            .await?;
    }
    if !pulls.is_empty() {
        auto.wake.notify_waiters();
        auto.wake.notify_one();
    }
    Ok(())
}
