//! Webhook deliveries and the job queue on both databases: dedupe, serial keys, leases taken
//! over, the resume contract, bounded logs, and many workers of two replicas.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plinth_state::{
    DELIVERY_JOB_KIND, Enqueued, JobOutcome, JobStatus, MAX_JOB_ATTEMPTS, MAX_JOB_LOG_BYTES,
    Recorded, StateError, Store,
};
use serde_json::json;

use common::{Db, eventually, open};

const LONG: Duration = Duration::from_secs(60);

async fn deliveries_are_stored_once(db: Db) {
    let store = open(&db).await;
    let body = r#"{"action":"opened","number":7}"#;
    let first = store
        .record_delivery(
            "gh",
            "d-1",
            "acme/infra",
            "pull_request",
            body,
            "pull:acme/infra#7",
        )
        .await
        .unwrap();
    let Recorded::New(job) = first else {
        panic!("first delivery: {first:?}")
    };
    assert_eq!(
        store
            .record_delivery(
                "gh",
                "d-1",
                "acme/infra",
                "pull_request",
                body,
                "pull:acme/infra#7"
            )
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    // The same id from another forge is another delivery.
    assert!(matches!(
        store
            .record_delivery("gl", "d-1", "acme/infra", "Merge Request Hook", body, "k")
            .await
            .unwrap(),
        Recorded::New(_)
    ));
    // Concurrent redeliveries of one id: exactly one creates a job.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .record_delivery("gh", "d-2", "acme/infra", "push", "{}", "k2")
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Recorded::New(_)) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(store.jobs_of("k2").await.unwrap().len(), 1);
    // The job names the delivery; the delivery keeps the body.
    let details = store.job(job).await.unwrap().unwrap();
    assert_eq!(details.kind, DELIVERY_JOB_KIND);
    assert_eq!(details.serial_key, "pull:acme/infra#7");
    assert_eq!(details.payload["delivery_id"], "d-1");
    let delivery = store.delivery("gh", "d-1").await.unwrap().unwrap();
    assert_eq!(delivery.payload["number"], 7);
    assert_eq!(delivery.job, Some(job));
    // Bad input is refused and stores nothing.
    for (forge, id, repo, body) in [
        ("gh", "d-3", "acme/infra", "{not json"),
        ("gh", "d\0", "acme/infra", "{}"),
        ("gh", "d-3", "not-a-repo", "{}"),
        ("g h", "d-3", "acme/infra", "{}"),
    ] {
        let err = store
            .record_delivery(forge, id, repo, "push", body, "k3")
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::BadRequest(_)), "{err}");
    }
    assert!(store.jobs_of("k3").await.unwrap().is_empty());
}

async fn serial_keys_run_one_at_a_time_in_order(db: Db) {
    let store = open(&db).await;
    let a1 = store
        .enqueue("plan", "a", &json!({"n": 1}), None)
        .await
        .unwrap()
        .id();
    let a2 = store
        .enqueue("plan", "a", &json!({"n": 2}), None)
        .await
        .unwrap()
        .id();
    let b1 = store
        .enqueue("plan", "b", &json!({"n": 3}), None)
        .await
        .unwrap()
        .id();
    let first = store.claim("w1", LONG).await.unwrap().unwrap();
    assert_eq!((first.id, first.attempts), (a1, 1));
    assert_eq!(first.payload["n"], 1);
    // a2 waits for a1; b1 runs beside it.
    let second = store.claim("w2", LONG).await.unwrap().unwrap();
    assert_eq!(second.id, b1);
    assert!(store.claim("w3", LONG).await.unwrap().is_none());
    assert_eq!(
        store.job_counts().await.unwrap(),
        plinth_state::JobCounts {
            queued: 1,
            running: 2
        }
    );
    store
        .finish(&first.lease, JobOutcome::Succeeded, &json!({"ok": true}))
        .await
        .unwrap();
    let third = store.claim("w3", LONG).await.unwrap().unwrap();
    assert_eq!(third.id, a2);
    // A failed job does not block its key's next job, and is never retried.
    store
        .finish(&third.lease, JobOutcome::Failed, &json!({"error": "x"}))
        .await
        .unwrap();
    let a3 = store
        .enqueue("plan", "a", &json!({}), None)
        .await
        .unwrap()
        .id();
    assert_eq!(store.claim("w1", LONG).await.unwrap().unwrap().id, a3);
    let statuses: Vec<JobStatus> = store
        .jobs_of("a")
        .await
        .unwrap()
        .iter()
        .map(|j| j.status)
        .collect();
    assert_eq!(
        statuses,
        [JobStatus::Succeeded, JobStatus::Failed, JobStatus::Running]
    );
    // A dedupe key adds a job once.
    let d1 = store
        .enqueue("drift", "d", &json!({}), Some("drift:prod:1"))
        .await
        .unwrap();
    let d2 = store
        .enqueue("drift", "d", &json!({}), Some("drift:prod:1"))
        .await
        .unwrap();
    assert!(matches!(d1, Enqueued::New(_)));
    assert_eq!(d2, Enqueued::Existing(d1.id()));
    assert!(matches!(
        store.enqueue("bad kind", "d", &json!({}), None).await,
        Err(StateError::BadRequest(_))
    ));
    assert!(matches!(
        store.enqueue("plan", "", &json!({}), None).await,
        Err(StateError::BadRequest(_))
    ));
}

async fn expired_leases_are_taken_over_and_resume(db: Db) {
    let store = open(&db).await;
    let id = store
        .enqueue("apply", "pull:acme/infra#9", &json!({}), None)
        .await
        .unwrap()
        .id();
    let dead = store
        .claim("replica-a/1", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    store
        .checkpoint(&dead.lease, &json!({"comment_id": "c-1"}))
        .await
        .unwrap();
    store
        .append_log(&dead.lease, "planning prod/x\n")
        .await
        .unwrap();
    // replica-a dies: once its lease has run out another replica takes the job over.
    let resumed = eventually("the lease to expire", || {
        let store = store.clone();
        async move { store.claim("replica-b/1", LONG).await.unwrap() }
    })
    .await;
    assert_eq!(resumed.id, id);
    assert_eq!(resumed.attempts, 2);
    assert_eq!(resumed.progress, Some(json!({"comment_id": "c-1"})));
    // The dead worker can no longer touch it.
    for result in [
        store.heartbeat(&dead.lease, LONG).await,
        store.append_log(&dead.lease, "late").await,
        store.checkpoint(&dead.lease, &json!({})).await,
        store
            .finish(&dead.lease, JobOutcome::Succeeded, &json!({}))
            .await,
        store.release_job(&dead.lease).await,
    ] {
        assert!(
            matches!(result, Err(StateError::LeaseLost { job }) if job == id),
            "{result:?}"
        );
    }
    store.heartbeat(&resumed.lease, LONG).await.unwrap();
    store.append_log(&resumed.lease, "resumed\n").await.unwrap();
    store
        .finish(
            &resumed.lease,
            JobOutcome::Succeeded,
            &json!({"applied": 1}),
        )
        .await
        .unwrap();
    let details = store.job(id).await.unwrap().unwrap();
    assert_eq!(details.log, "planning prod/x\nresumed\n");
    assert_eq!(details.status, JobStatus::Succeeded);
    assert_eq!(details.worker.as_deref(), Some("replica-b/1"));
    assert_eq!(details.result, Some(json!({"applied": 1})));
    assert!(details.finished_at.is_some() && details.lease_until.is_none());
}

async fn released_jobs_resume_at_once(db: Db) {
    let store = open(&db).await;
    let id = store
        .enqueue("plan", "k", &json!({}), None)
        .await
        .unwrap()
        .id();
    let other = store
        .enqueue("plan", "k2", &json!({}), None)
        .await
        .unwrap()
        .id();
    let job = store.claim("w1", LONG).await.unwrap().unwrap();
    store.release_job(&job.lease).await.unwrap();
    let again = store.claim("w2", LONG).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    let second = store.claim("w2", LONG).await.unwrap().unwrap();
    assert_eq!(second.id, other);
    // A replica shutting down hands back everything its worker holds.
    assert_eq!(store.release_worker_jobs("w2").await.unwrap(), 2);
    assert_eq!(store.job_counts().await.unwrap().queued, 2);
}

async fn crashing_jobs_are_abandoned(db: Db) {
    let store = open(&db).await;
    let id = store
        .enqueue("plan", "k", &json!({}), None)
        .await
        .unwrap()
        .id();
    for attempt in 1..=MAX_JOB_ATTEMPTS {
        let job = eventually("the job to be claimable", || {
            let store = store.clone();
            async move { store.claim("w", Duration::from_millis(1)).await.unwrap() }
        })
        .await;
        assert_eq!(job.attempts, attempt);
    }
    // One more takeover would be attempt 6: the job is failed instead.
    let details = eventually("the job to be abandoned", || {
        let store = store.clone();
        async move {
            assert!(store.claim("w", LONG).await.unwrap().is_none());
            let job = store.job(id).await.unwrap().unwrap();
            (job.status == JobStatus::Failed).then_some(job)
        }
    })
    .await;
    assert!(
        details.result.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("abandoned")
    );
}

async fn logs_are_bounded(db: Db) {
    let store = open(&db).await;
    let id = store
        .enqueue("plan", "k", &json!({}), None)
        .await
        .unwrap()
        .id();
    let job = store.claim("w", LONG).await.unwrap().unwrap();
    let line = format!("{}\n", "x".repeat(64 * 1024 - 1));
    for _ in 0..17 {
        store.append_log(&job.lease, &line).await.unwrap();
    }
    store.append_log(&job.lease, "nul\0byte").await.unwrap();
    let details = store.job(id).await.unwrap().unwrap();
    assert_eq!(details.log.len() as i64, MAX_JOB_LOG_BYTES);
    assert_eq!(
        details.log_dropped_bytes,
        64 * 1024 + "nul\u{FFFD}byte".len() as i64
    );
    assert!(store.job(id + 1000).await.unwrap().is_none());
}

/// 50 jobs over 10 serial keys, claimed by 4 tasks on each of two stores (replicas): every job
/// runs once, no two jobs of one key run at once, and each key's jobs run in id order.
async fn two_replicas_claim_each_job_once(db: Db) {
    let replicas = [open(&db).await, open(&db).await];
    let mut ids = HashMap::new();
    for n in 0..50 {
        let key = format!("pull:acme/infra#{}", n % 10);
        let id = replicas[0]
            .enqueue("plan", &key, &json!({"n": n}), None)
            .await
            .unwrap()
            .id();
        ids.insert(id, key);
    }
    let running = Arc::new(Mutex::new(HashSet::<String>::new()));
    let claims = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for (r, store) in replicas.iter().enumerate() {
        for w in 0..4 {
            let (store, running, claims): (Store, _, _) =
                (store.clone(), running.clone(), claims.clone());
            let worker = format!("replica-{r}/{w}");
            tasks.push(tokio::spawn(async move {
                while claims.lock().unwrap().len() < 50 {
                    assert!(std::time::Instant::now() < deadline, "jobs left unclaimed");
                    let Some(job) = store.claim(&worker, LONG).await.unwrap() else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    };
                    assert!(
                        running.lock().unwrap().insert(job.serial_key.clone()),
                        "two jobs of {} ran at once",
                        job.serial_key
                    );
                    claims
                        .lock()
                        .unwrap()
                        .push((job.id, job.serial_key.clone()));
                    store.append_log(&job.lease, &worker).await.unwrap();
                    running.lock().unwrap().remove(&job.serial_key);
                    store
                        .finish(&job.lease, JobOutcome::Succeeded, &json!({}))
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let claims = claims.lock().unwrap().clone();
    let claimed: HashSet<i64> = claims.iter().map(|(id, _)| *id).collect();
    assert_eq!(claims.len(), 50, "every job claimed exactly once");
    assert_eq!(claimed.len(), 50);
    for (id, key) in &ids {
        let job = replicas[1].job(*id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.attempts),
            (JobStatus::Succeeded, 1),
            "job {id}"
        );
        assert_eq!(&job.serial_key, key);
    }
    for key in ids.values().collect::<HashSet<_>>() {
        let order: Vec<i64> = claims
            .iter()
            .filter(|(_, k)| k == key)
            .map(|(id, _)| *id)
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{key} ran out of order");
    }
    assert_eq!(replicas[0].job_counts().await.unwrap().queued, 0);
}

on_both!(
    deliveries_are_stored_once,
    serial_keys_run_one_at_a_time_in_order,
    expired_leases_are_taken_over_and_resume,
    released_jobs_resume_at_once,
    crashing_jobs_are_abandoned,
    logs_are_bounded,
    two_replicas_claim_each_job_once,
);
