//! The job workers of one replica: each claims the oldest claimable job from the database,
//! keeps its lease alive while the job runs, and records how it ended. A job whose lease is
//! lost (another worker took it over) is dropped at once, without further side effects.

use std::sync::Arc;
use std::time::Duration;

use plinth_server::Shutdown;
use plinth_state::{Job, JobOutcome, StateError};

use crate::automation::Automation;
use crate::job_run::JobRun;

/// How long a claim lasts without a heartbeat: a killed replica's jobs are taken over by
/// another replica after this.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often an idle worker looks for jobs stored by other replicas (jobs of its own replica
/// wake it at once).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// How long shutdown waits for a running job before handing it back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Starts `count` workers; each ends when `shutdown` triggers (after its running job ended or
/// was handed back). Jobs this replica left running when it last stopped are queued again
/// first, so that a restarted replica resumes them at once instead of after their lease.
pub async fn start(
    auto: Arc<Automation>,
    count: usize,
    shutdown: Shutdown,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    for i in 0..count.max(1) {
        let id = format!("{}-{i}", auto.replica);
        match auto.store.release_worker_jobs(&id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(worker = %id, jobs = n, "resuming jobs left running"),
            Err(e) => tracing::warn!(worker = %id, error = %e, "cannot hand back old jobs"),
        }
        let auto = Arc::clone(&auto);
        let shutdown = shutdown.clone();
        handles.push(tokio::spawn(async move { run(auto, id, shutdown).await }));
    }
    handles
}

async fn run(auto: Arc<Automation>, id: String, shutdown: Shutdown) {
    loop {
        if shutdown.is_triggered() {
            return;
        }
        let job = match auto.store.claim(&id, LEASE).await {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(worker = %id, error = %e, "cannot claim a job");
                None
            }
        };
        let Some(job) = job else {
            tokio::select! {
                _ = auto.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.triggered() => return,
            }
            continue;
        };
        work(&auto, job, &shutdown).await;
        // One job may make others claimable (the next of its serial key).
        auto.wake.notify_one();
    }
}

/// Runs one job under its lease until it ends, its lease is lost, or shutdown hands it back.
async fn work(auto: &Arc<Automation>, job: Job, shutdown: &Shutdown) {
    let lease = job.lease.clone();
    let store = auto.store.clone();
    tracing::info!(job = job.id, kind = %job.kind, attempt = job.attempts, "job started");
    let heartbeat = {
        let store = store.clone();
        let lease = lease.clone();
        async move {
            loop {
                tokio::time::sleep(LEASE / 3).await;
                if let Err(e) = store.heartbeat(&lease, LEASE).await {
                    return e;
                }
            }
        }
    };
    let mut run = JobRun::new(store.clone(), &job);
    let body = crate::jobs::dispatch(auto, &job, &mut run);
    tokio::pin!(body);
    tokio::pin!(heartbeat);
    let outcome = tokio::select! {
        result = &mut body => Some(result),
        lost = &mut heartbeat => {
            tracing::warn!(job = job.id, error = %lost, "lease lost: the job is dropped here");
            return;
        }
        _ = shutdown.triggered() => {
            tokio::select! {
                result = &mut body => Some(result),
                lost = &mut heartbeat => {
                    tracing::warn!(job = job.id, error = %lost, "lease lost during shutdown");
                    return;
                }
                _ = tokio::time::sleep(SHUTDOWN_GRACE) => None,
            }
        }
    };
    let Some(result) = outcome else {
        match store.release_job(&lease).await {
            Ok(()) => tracing::info!(job = job.id, "shutting down: job handed back"),
            Err(e) => tracing::warn!(job = job.id, error = %e, "cannot hand the job back"),
        }
        return;
    };
    let (outcome, value) = match result {
        Ok(value) => (JobOutcome::Succeeded, value),
        Err(e) => {
            let message = auto.redact(&e.to_string());
            let _ = store
                .append_log(&lease, &format!("job failed: {message}\n"))
                .await;
            (JobOutcome::Failed, serde_json::json!({ "error": message }))
        }
    };
    match store.finish(&lease, outcome, &value).await {
        Ok(()) => tracing::info!(job = job.id, outcome = ?outcome, "job finished"),
        Err(StateError::LeaseLost { .. }) => {
            tracing::warn!(job = job.id, "lease lost before the job could be finished")
        }
        Err(e) => tracing::warn!(job = job.id, error = %e, "cannot record the job's end"),
    }
}
