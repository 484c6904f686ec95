//! The server's scheduled drift checks and their issues, and forgetting the drift of removed
//! stacks, on both databases.

mod common;

use plinth_state::{DriftStatus, DriftWatch, InstanceId, StateError};

use common::{Db, open};

fn watch(env: &str, checked_ms: i64) -> DriftWatch {
    DriftWatch {
        repo: "acme/infra".into(),
        env: env.into(),
        project: "acme".into(),
        checked_ms,
        commit: Some("a".repeat(40)),
        run_id: Some("20260101-000000-abcd".into()),
        issue: None,
        issue_open: false,
        digest: None,
    }
}

async fn a_watch_is_replaced_and_listed_per_repository(db: Db) {
    let store = open(&db).await;
    assert!(
        store
            .drift_watch("acme/infra", "prod")
            .await
            .unwrap()
            .is_none()
    );
    store.put_drift_watch(&watch("prod", 1_000)).await.unwrap();
    store.put_drift_watch(&watch("dev", 2_000)).await.unwrap();
    let mut prod = watch("prod", 5_000);
    prod.issue = Some(12);
    prod.issue_open = true;
    prod.digest = Some("d1".into());
    store.put_drift_watch(&prod).await.unwrap();
    assert_eq!(
        store.drift_watch("acme/infra", "prod").await.unwrap(),
        Some(prod.clone())
    );
    assert_eq!(prod.checked_at(), "1970-01-01T00:00:05Z");
    let all = store.drift_watches("acme/infra").await.unwrap();
    let names: Vec<&str> = all.iter().map(|w| w.env.as_str()).collect();
    assert_eq!(names, ["dev", "prod"]);
    assert!(store.drift_watches("other/repo").await.unwrap().is_empty());

    // Closed: the number stays, so the next drift reopens the same issue.
    prod.issue_open = false;
    prod.digest = None;
    store.put_drift_watch(&prod).await.unwrap();
    let back = store
        .drift_watch("acme/infra", "prod")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (back.issue, back.issue_open, back.digest),
        (Some(12), false, None)
    );

    let mut bad = watch("prod", 1);
    bad.issue = Some(0);
    assert!(matches!(
        store.put_drift_watch(&bad).await,
        Err(StateError::BadRequest(_))
    ));
    let mut bad = watch("prod", 1);
    bad.commit = Some("x\u{0}".into());
    assert!(matches!(
        store.put_drift_watch(&bad).await,
        Err(StateError::BadRequest(_))
    ));
}

async fn drift_of_removed_stacks_is_forgotten(db: Db) {
    let store = open(&db).await;
    for stack in ["app", "network", "old"] {
        let id = InstanceId::new("acme", "prod", stack).unwrap();
        store
            .record_drift(&id, DriftStatus::Drifted, (1, 0, 0), Some("r1"))
            .await
            .unwrap();
    }
    let other = InstanceId::new("acme", "dev", "old").unwrap();
    store
        .record_drift(&other, DriftStatus::Drifted, (1, 0, 0), None)
        .await
        .unwrap();
    let keep = vec!["app".to_string(), "network".to_string()];
    assert_eq!(
        store
            .forget_drift_except("acme", "prod", &keep)
            .await
            .unwrap(),
        1
    );
    let left: Vec<String> = store
        .latest_drift("acme", "prod")
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.stack)
        .collect();
    assert_eq!(left, keep);
    assert_eq!(
        store.latest_drift("acme", "dev").await.unwrap().len(),
        1,
        "other environments stay"
    );
    assert_eq!(
        store
            .forget_drift_except("acme", "prod", &keep)
            .await
            .unwrap(),
        0
    );
}

on_both!(
    a_watch_is_replaced_and_listed_per_repository,
    drift_of_removed_stacks_is_forgotten,
);
