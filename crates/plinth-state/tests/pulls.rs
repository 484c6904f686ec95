//! Pull requests and their instance locks on both databases: rows, the API view, all-or-nothing
//! locks with FIFO queues and hand-over, and two pull requests racing from two replicas.

mod common;

use std::time::Duration;

use plinth_state::{
    Acquisition, InstanceId, JobOutcome, LockWait, PlanSummary, PullInstance, PullRef, PullState,
    Scope, StateError,
};
use serde_json::json;

use common::{Db, actor, open};

fn pr(n: i64) -> PullRef {
    PullRef::new("acme/infra", n).unwrap()
}

async fn pull_rows_and_their_view(db: Db) {
    let store = open(&db).await;
    let seven = pr(7);
    store
        .upsert_pull(&seven, "a1b2", "main", PullState::Open, "alice")
        .await
        .unwrap();
    store.set_summary_comment(&seven, "IC_42").await.unwrap();
    // A push moves the head and keeps the summary comment.
    store
        .upsert_pull(&seven, "c3d4", "main", PullState::Open, "alice")
        .await
        .unwrap();
    let plan = PlanSummary {
        run_id: "20261122-001502-7f3a9c".into(),
        commit: "c3d4".into(),
        add: 2,
        change: 1,
        destroy: 0,
        preview_only: false,
    };
    for (env, stack, plan) in [
        ("staging", "plumbing/network", Some(plan.clone())),
        ("prod", "plumbing/network", None),
    ] {
        store
            .upsert_pull_instance(
                &seven,
                &PullInstance {
                    env: env.into(),
                    stack: stack.into(),
                    plan,
                    fingerprint: Some("f00d".into()),
                    applied: false,
                },
            )
            .await
            .unwrap();
    }
    let view = store.pull_view(&seven).await.unwrap().unwrap();
    let doc = serde_json::to_value(&view).unwrap();
    assert_eq!(doc["repo"], "acme/infra");
    assert_eq!(doc["number"], 7);
    assert_eq!(doc["head"], "c3d4");
    assert_eq!(doc["state"], "open");
    assert_eq!(doc["idle"], true);
    assert_eq!(doc["summary_comment"], "IC_42");
    assert_eq!(doc["instances"][0]["env"], "prod");
    assert_eq!(doc["instances"][0]["plan"], serde_json::Value::Null);
    assert_eq!(doc["instances"][1]["plan"]["add"], 2);
    assert_eq!(doc["instances"][1]["plan"]["commit"], "c3d4");
    assert_eq!(doc["instances"][1]["lock"], "none");
    assert_eq!(doc["instances"][1]["waiting_for"], serde_json::Value::Null);
    // A job of the pull request makes it busy until it finishes.
    let id = store
        .enqueue("plan", &seven.serial_key(), &json!({}), None)
        .await
        .unwrap()
        .id();
    let busy = store.pull_view(&seven).await.unwrap().unwrap();
    assert!(!busy.idle);
    assert_eq!(busy.jobs[0].id, id);
    assert_eq!(busy.jobs[0].kind, "plan");
    let job = store
        .claim("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    store
        .finish(&job.lease, JobOutcome::Succeeded, &json!({}))
        .await
        .unwrap();
    assert!(store.pull_view(&seven).await.unwrap().unwrap().idle);
    // Close: plans discarded, listing by state.
    store
        .set_pull_state(&seven, PullState::Merged)
        .await
        .unwrap();
    assert_eq!(store.discard_pull_plans(&seven).await.unwrap(), 2);
    assert!(
        store
            .pull_instances(&seven)
            .await
            .unwrap()
            .iter()
            .all(|i| i.plan.is_none())
    );
    store
        .upsert_pull(&pr(8), "e5f6", "main", PullState::Open, "bob")
        .await
        .unwrap();
    let open_ones = store
        .pull_views(Some("acme/infra"), Some(PullState::Open), 100)
        .await
        .unwrap();
    assert_eq!(open_ones.len(), 1);
    assert_eq!(open_ones[0].number, 8);
    assert_eq!(store.pull_views(None, None, 100).await.unwrap().len(), 2);
    assert!(
        store
            .remove_pull_instance(&seven, "prod", "plumbing/network")
            .await
            .unwrap()
    );
    assert_eq!(store.pull_instances(&seven).await.unwrap().len(), 1);
    // Bad input: unknown pull request, bad repository, bad numbers and names.
    let missing = store
        .upsert_pull_instance(
            &pr(99),
            &PullInstance {
                env: "prod".into(),
                stack: "x".into(),
                plan: None,
                fingerprint: None,
                applied: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, StateError::NotFound(_)), "{missing}");
    assert!(matches!(
        store.set_pull_state(&pr(99), PullState::Closed).await,
        Err(StateError::NotFound(_))
    ));
    assert!(PullRef::new("no-slash", 1).is_err());
    assert!(PullRef::new("acme/../x", 1).is_err());
    assert!(PullRef::new("acme/infra", 0).is_err());
    assert!(matches!(
        store
            .upsert_pull(&seven, "h\0", "main", PullState::Open, "alice")
            .await,
        Err(StateError::BadRequest(_))
    ));
    assert!(store.pull_view(&pr(99)).await.unwrap().is_none());
}

fn wait(project: &str, env: &str, stack: &str, holder: Option<i64>, position: i64) -> LockWait {
    LockWait {
        project: project.into(),
        env: env.into(),
        stack: stack.into(),
        waiting_for: holder.map(pr),
        position,
    }
}

async fn locks_are_all_or_nothing_and_queue_fifo(db: Db) {
    let store = open(&db).await;
    let p = "atropos";
    assert_eq!(
        store
            .acquire_all(p, &pr(1), [("prod", "x"), ("prod", "y")])
            .await
            .unwrap(),
        Acquisition::Acquired
    );
    // Asking again is a no-op.
    assert_eq!(
        store.acquire_all(p, &pr(1), [("prod", "x")]).await.unwrap(),
        Acquisition::Acquired
    );
    // 2 wants y (held by 1) and z (free): it takes neither and queues.
    assert_eq!(
        store
            .acquire_all(p, &pr(2), [("prod", "y"), ("prod", "z")])
            .await
            .unwrap(),
        Acquisition::Queued {
            blockers: vec![wait(p, "prod", "y", Some(1), 1)],
            handed_over: vec![],
        }
    );
    // 3 wants only z: free, but 2 is queued ahead on it.
    assert_eq!(
        store.acquire_all(p, &pr(3), [("prod", "z")]).await.unwrap(),
        Acquisition::Queued {
            blockers: vec![wait(p, "prod", "z", Some(2), 2)],
            handed_over: vec![],
        }
    );
    let locks = store.pull_locks(Some(p)).await.unwrap();
    let z = locks.iter().find(|l| l.stack == "z").unwrap();
    assert_eq!(
        (z.holder.clone(), z.queue.clone()),
        (None, vec![pr(2), pr(3)])
    );
    // The view shows who waits for whom.
    store
        .upsert_pull(&pr(3), "h3", "main", PullState::Open, "carol")
        .await
        .unwrap();
    let view = serde_json::to_value(store.pull_view(&pr(3)).await.unwrap().unwrap()).unwrap();
    assert_eq!(view["instances"][0]["lock"], "queued");
    assert_eq!(view["instances"][0]["waiting_for"], 2);
    assert_eq!(view["instances"][0]["position"], 2);
    // 1 merges: 2 is handed y and z in the same transaction; 3 now waits for 2.
    assert_eq!(store.release_all(p, &pr(1)).await.unwrap(), [pr(2)]);
    assert_eq!(
        store.queue_position(p, &pr(3)).await.unwrap(),
        [wait(p, "prod", "z", Some(2), 1)]
    );
    assert!(store.queue_position(p, &pr(2)).await.unwrap().is_empty());
    // `plinth unlock prod` on 2 hands z to 3.
    assert_eq!(store.release_env(p, &pr(2), "prod").await.unwrap(), [pr(3)]);
    let view = serde_json::to_value(store.pull_view(&pr(3)).await.unwrap().unwrap()).unwrap();
    assert_eq!(view["instances"][0]["lock"], "held");
    // Admin release from the dashboard; other scopes are refused.
    let id = InstanceId::new(p, "prod", "z").unwrap();
    assert!(matches!(
        store
            .force_release_pull_lock(&id, &actor("ci", Scope::Write))
            .await,
        Err(StateError::Forbidden(_))
    ));
    let (holder, granted) = store
        .force_release_pull_lock(&id, &actor("root", Scope::Admin))
        .await
        .unwrap();
    assert_eq!((holder, granted), (pr(3), vec![]));
    assert!(store.pull_locks(Some(p)).await.unwrap().is_empty());
    assert!(matches!(
        store
            .force_release_pull_lock(&id, &actor("root", Scope::Admin))
            .await,
        Err(StateError::NotFound(_))
    ));
    // Bad names are refused before anything is stored.
    assert!(matches!(
        store.acquire_all(p, &pr(4), [("prod", "../x")]).await,
        Err(StateError::BadRequest(_))
    ));
    assert!(matches!(
        store.acquire_all("a b", &pr(4), [("prod", "x")]).await,
        Err(StateError::BadRequest(_))
    ));
}

async fn a_queued_pull_request_holds_nothing(db: Db) {
    let store = open(&db).await;
    let p = "atropos";
    store.acquire_all(p, &pr(1), [("dev", "a")]).await.unwrap();
    store.acquire_all(p, &pr(2), [("dev", "b")]).await.unwrap();
    // 3 queues behind 1 on a.
    store.acquire_all(p, &pr(3), [("dev", "a")]).await.unwrap();
    // A push makes 1 need b too: it cannot take b, so it lets a go, and 3 gets a.
    assert_eq!(
        store.acquire_all(p, &pr(1), [("dev", "b")]).await.unwrap(),
        Acquisition::Queued {
            blockers: vec![
                wait(p, "dev", "a", Some(3), 1),
                wait(p, "dev", "b", Some(2), 1)
            ],
            handed_over: vec![pr(3)],
        }
    );
    let locks = store.pull_locks(Some(p)).await.unwrap();
    assert!(locks.iter().all(|l| l.holder != Some(pr(1))));
    // Releasing 2 does not help 1 yet (3 holds a); releasing 3 does.
    assert!(store.release_all(p, &pr(2)).await.unwrap().is_empty());
    assert_eq!(store.release_all(p, &pr(3)).await.unwrap(), [pr(1)]);
    let held: Vec<String> = store
        .pull_locks(Some(p))
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.holder == Some(pr(1)))
        .map(|l| l.stack)
        .collect();
    assert_eq!(held, ["a", "b"]);
}

/// Two pull requests race for overlapping instances from two replicas, ten times: exactly one
/// wins, the other is queued with position 1 behind it and gets all its locks on release.
async fn racing_pull_requests_one_winner(db: Db) {
    let replicas = [open(&db).await, open(&db).await];
    for round in 0..10 {
        let project = format!("race{round}");
        let mut tasks = Vec::new();
        for (n, store) in [(10, replicas[0].clone()), (11, replicas[1].clone())] {
            let project = project.clone();
            let wanted = if n == 10 {
                vec![("prod", "net"), ("prod", "db")]
            } else {
                vec![("prod", "db"), ("prod", "app")]
            };
            tasks.push(tokio::spawn(async move {
                (
                    n,
                    store.acquire_all(&project, &pr(n), wanted).await.unwrap(),
                )
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let winners: Vec<i64> = outcomes
            .iter()
            .filter(|(_, o)| *o == Acquisition::Acquired)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let (winner, loser) = (winners[0], if winners[0] == 10 { 11 } else { 10 });
        let (_, lost) = outcomes.iter().find(|(n, _)| *n == loser).unwrap();
        assert_eq!(
            *lost,
            Acquisition::Queued {
                blockers: vec![wait(&project, "prod", "db", Some(winner), 1)],
                handed_over: vec![],
            },
            "round {round}"
        );
        let locks = replicas[0].pull_locks(Some(&project)).await.unwrap();
        assert!(locks.iter().all(|l| l.holder != Some(pr(loser))));
        assert_eq!(
            replicas[1]
                .release_all(&project, &pr(winner))
                .await
                .unwrap(),
            [pr(loser)]
        );
        let held = replicas[0].pull_locks(Some(&project)).await.unwrap();
        assert_eq!(held.len(), 2);
        assert!(
            held.iter()
                .all(|l| l.holder == Some(pr(loser)) && l.queue.is_empty())
        );
    }
}

on_both!(
    pull_rows_and_their_view,
    locks_are_all_or_nothing_and_queue_fifo,
    a_queued_pull_request_holds_nothing,
    racing_pull_requests_one_winner,
);
