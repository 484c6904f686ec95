//! Promotion records, ephemeral copies, the run history and drift results on both databases.

mod common;

use plinth_state::{
    CopyStatus, CopyUpdate, DriftStatus, InstanceId, MAX_RUN_LOG_BYTES, NewPromotion,
    PromotionKind, PromotionQuery, PutMode, RunInstanceReport, RunReport, RunSource, Scope,
    StateError,
};

use common::{Db, actor, open};

fn promotion(env: &str, subject: &str, fingerprint: &str, at: &str) -> NewPromotion {
    NewPromotion {
        project: "atropos".into(),
        env: env.into(),
        kind: PromotionKind::Stack,
        subject: subject.into(),
        fingerprint: fingerprint.into(),
        run_id: format!("run-{fingerprint}"),
        commit: "a1b2c3".into(),
        who: Some("alice@laptop".into()),
        applied_at: Some(at.into()),
    }
}

async fn promotions_are_found_by_fingerprint(db: Db) {
    let store = open(&db).await;
    let ci = actor("ci", Scope::Write);
    let net = "plumbing/network";
    store
        .record_promotion(
            &promotion("staging", net, "f1", "2026-11-20T10:00:00Z"),
            &ci,
        )
        .await
        .unwrap();
    let second = store
        .record_promotion(
            &promotion("staging", net, "f2", "2026-11-21T10:00:00Z"),
            &ci,
        )
        .await
        .unwrap();
    assert_eq!(second.recorded_by, "ci");
    assert_eq!(second.who, "alice@laptop");
    assert_eq!(second.applied_at, "2026-11-21T10:00:00Z");
    let mut module = promotion("staging", "components/db", "m1", "2026-11-19T10:00:00Z");
    module.kind = PromotionKind::Module;
    module.who = None;
    let module = store.record_promotion(&module, &ci).await.unwrap();
    assert_eq!(module.who, "ci", "who defaults to the token");

    let found = store
        .find_promotion("atropos", "staging", PromotionKind::Stack, net, "f1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.run_id, "run-f1");
    assert!(
        store
            .find_promotion("atropos", "staging", PromotionKind::Stack, net, "f3")
            .await
            .unwrap()
            .is_none()
    );
    // A module record is not a stack record.
    assert!(
        store
            .find_promotion(
                "atropos",
                "staging",
                PromotionKind::Stack,
                "components/db",
                "m1"
            )
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_promotion("atropos", "prod", PromotionKind::Stack, net, "f1")
            .await
            .unwrap()
            .is_none()
    );
    let latest = store
        .latest_promotion("atropos", "staging", PromotionKind::Stack, net)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.fingerprint, "f2");
    let per_subject = store
        .latest_promotions("atropos", "staging", None)
        .await
        .unwrap();
    let summary: Vec<(&str, &str)> = per_subject
        .iter()
        .map(|p| (p.subject.as_str(), p.fingerprint.as_str()))
        .collect();
    assert_eq!(
        summary,
        [("components/db", "m1"), ("plumbing/network", "f2")]
    );
    let all = store
        .promotions(&PromotionQuery {
            project: "atropos".into(),
            env: "staging".into(),
            subject: Some(net.into()),
            ..PromotionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].fingerprint, "f2", "newest first");
    // Refusals.
    assert!(matches!(
        store
            .record_promotion(
                &promotion("staging", net, "f1", "2026-11-20T10:00:00Z"),
                &actor("viewer", Scope::Read)
            )
            .await,
        Err(StateError::Forbidden(_))
    ));
    for bad in [
        promotion("staging", "", "f", "2026-11-20T10:00:00Z"),
        promotion("staging", net, "f\0", "2026-11-20T10:00:00Z"),
        promotion("sta ging", net, "f", "2026-11-20T10:00:00Z"),
        promotion("staging", net, "f", "yesterday"),
    ] {
        let err = store.record_promotion(&bad, &ci).await.unwrap_err();
        assert!(matches!(err, StateError::BadRequest(_)), "{err}");
    }
}

fn copy(status: CopyStatus, expires: Option<&str>) -> CopyUpdate {
    CopyUpdate {
        template: "test".into(),
        creator: Some("alice".into()),
        pull_request: Some(42),
        created_at: None,
        expires_at: expires.map(str::to_owned),
        status,
        instances: 3,
    }
}

async fn copies_are_recorded_and_reaped(db: Db) {
    let store = open(&db).await;
    let ci = actor("ci", Scope::Write);
    let created = store
        .put_copy(
            "atropos",
            "test-pr-42",
            &copy(CopyStatus::Applying, Some("2026-01-01T00:00:00Z")),
            PutMode::CreateOnly,
            &ci,
        )
        .await
        .unwrap();
    assert_eq!(created.status, CopyStatus::Applying);
    assert_eq!(created.pull_request, Some(42));
    // A second `env up` of the same name is refused.
    assert!(matches!(
        store
            .put_copy(
                "atropos",
                "test-pr-42",
                &copy(CopyStatus::Applying, None),
                PutMode::CreateOnly,
                &ci
            )
            .await,
        Err(StateError::Conflict(_))
    ));
    // Updates keep the creation time.
    let up = store
        .put_copy(
            "atropos",
            "test-pr-42",
            &copy(CopyStatus::Up, Some("2026-01-01T00:00:00Z")),
            PutMode::Upsert,
            &ci,
        )
        .await
        .unwrap();
    assert_eq!(up.created_at, created.created_at);
    assert_eq!(up.status, CopyStatus::Up);
    store
        .put_copy(
            "atropos",
            "demo",
            &copy(CopyStatus::Up, None),
            PutMode::Upsert,
            &ci,
        )
        .await
        .unwrap();
    let listed = store.copies("atropos").await.unwrap();
    assert_eq!(listed.len(), 2);
    // Only the copy past its expiry is the reaper's.
    let now = 1_800_000_000_000; // 2027
    let expired = store.expired_copies(None, now).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].name, "test-pr-42");
    assert!(
        store
            .expired_copies(Some("other"), now)
            .await
            .unwrap()
            .is_empty()
    );
    let gone = store
        .delete_copy("atropos", "test-pr-42", &ci)
        .await
        .unwrap();
    assert_eq!(gone.name, "test-pr-42");
    assert!(matches!(
        store.delete_copy("atropos", "test-pr-42", &ci).await,
        Err(StateError::NotFound(_))
    ));
    for name in ["Test", "a_b", "-x", &"x".repeat(64), ""] {
        let err = store
            .put_copy(
                "atropos",
                name,
                &copy(CopyStatus::Up, None),
                PutMode::Upsert,
                &ci,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::BadRequest(_)), "{name}: {err}");
    }
    let mut negative = copy(CopyStatus::Up, None);
    negative.instances = -1;
    assert!(matches!(
        store
            .put_copy("atropos", "x", &negative, PutMode::Upsert, &ci)
            .await,
        Err(StateError::BadRequest(_))
    ));
    assert!(matches!(
        store
            .put_copy(
                "atropos",
                "x",
                &copy(CopyStatus::Up, Some("soon")),
                PutMode::Upsert,
                &ci
            )
            .await,
        Err(StateError::BadRequest(_))
    ));
}

fn instance(stack: &str, status: &str, log: &str) -> RunInstanceReport {
    RunInstanceReport {
        stack: stack.into(),
        status: status.into(),
        add: 1,
        change: 0,
        destroy: 0,
        preview_only: false,
        reason: None,
        duration_ms: 1500,
        log: Some(log.into()),
    }
}

fn run(id: &str, action: &str, status: &str, instances: Vec<RunInstanceReport>) -> RunReport {
    RunReport {
        run_id: id.into(),
        project: "atropos".into(),
        action: action.into(),
        env: "dev".into(),
        status: status.into(),
        who: Some("alice@laptop".into()),
        commit: Some("a1b2c3".into()),
        source: RunSource::Cli,
        started_at: "2026-11-22T00:15:02Z".into(),
        finished_at: None,
        from_plan: None,
        approved_destructive: false,
        skipped_promotion: None,
        instances,
    }
}

async fn runs_and_drift_are_recorded(db: Db) {
    let store = open(&db).await;
    let ci = actor("ci", Scope::Write);
    let id = "20261122-001502-7f3a9c";
    store
        .record_run(
            &run(id, "apply", "running", vec![instance("net", "running", "")]),
            &ci,
        )
        .await
        .unwrap();
    // The final report replaces the first.
    let long_log = format!("{}END", "x".repeat(MAX_RUN_LOG_BYTES));
    let mut done = run(
        id,
        "apply",
        "failed",
        vec![
            instance("net", "succeeded", "Apply complete!\n"),
            instance("app", "failed", &long_log),
        ],
    );
    done.finished_at = Some("2026-11-22T00:16:00Z".into());
    done.instances[1].reason = Some("Error: boom\n  on main.tf line 3".into());
    store.record_run(&done, &ci).await.unwrap();
    let stored = store.run(id).await.unwrap().unwrap();
    assert_eq!(stored.status, "failed");
    assert_eq!(stored.recorded_by, "ci");
    assert_eq!(stored.finished_at.as_deref(), Some("2026-11-22T00:16:00Z"));
    assert_eq!(stored.instances.len(), 2);
    let app = &stored.instances[0];
    assert_eq!(app.stack, "app");
    let log = app.log.as_deref().unwrap();
    assert_eq!(log.len(), MAX_RUN_LOG_BYTES);
    assert!(log.ends_with("END"), "the end of a long log is kept");
    assert_eq!(app.log_cut_bytes, 3);
    assert_eq!(
        stored.instances[1].log.as_deref(),
        Some("Apply complete!\n")
    );
    // Listing carries no logs.
    store
        .record_run(
            &run("20261122-010000-aaaaaa", "plan", "succeeded", vec![]),
            &ci,
        )
        .await
        .unwrap();
    let mut later = run("20261123-010000-bbbbbb", "plan", "succeeded", vec![]);
    later.env = "prod".into();
    later.started_at = "2026-11-23T01:00:00Z".into();
    store.record_run(&later, &ci).await.unwrap();
    let dev = store.runs("atropos", Some("dev"), 10).await.unwrap();
    assert_eq!(dev.len(), 2);
    assert!(dev.iter().all(|r| r.env == "dev"));
    assert!(dev[1].instances.iter().all(|i| i.log.is_none()));
    assert_eq!(dev[1].instances.len(), 2);
    let all = store.runs("atropos", None, 10).await.unwrap();
    assert_eq!(all[0].run_id, "20261123-010000-bbbbbb", "newest first");
    assert_eq!(store.runs("atropos", None, 1).await.unwrap().len(), 1);

    // A drift run records each instance's drift.
    let mut drift = run(
        "20261124-000000-cccccc",
        "drift",
        "succeeded",
        vec![
            instance("net", "in-sync", ""),
            instance("app", "drifted", ""),
        ],
    );
    drift.instances[1].change = 2;
    store.record_run(&drift, &ci).await.unwrap();
    store
        .record_drift(
            &InstanceId::new("atropos", "dev", "db").unwrap(),
            DriftStatus::Failed,
            (0, 0, 0),
            None,
        )
        .await
        .unwrap();
    let latest = store.latest_drift("atropos", "dev").await.unwrap();
    let summary: Vec<(&str, DriftStatus, i64)> = latest
        .iter()
        .map(|d| (d.stack.as_str(), d.status, d.change))
        .collect();
    assert_eq!(
        summary,
        [
            ("app", DriftStatus::Drifted, 2),
            ("db", DriftStatus::Failed, 0),
            ("net", DriftStatus::InSync, 0)
        ]
    );
    assert_eq!(latest[0].run_id.as_deref(), Some("20261124-000000-cccccc"));
    let counts = store.drift_counts().await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].env.as_str(), counts[0].drifted), ("dev", 1));

    // Refusals: scope, another project's run id, unknown words, negative counts, duplicates.
    assert!(matches!(
        store.record_run(&done, &actor("viewer", Scope::Read)).await,
        Err(StateError::Forbidden(_))
    ));
    let mut foreign = done.clone();
    foreign.project = "other".into();
    assert!(matches!(
        store.record_run(&foreign, &ci).await,
        Err(StateError::Conflict(_))
    ));
    let mut bad_reports = Vec::new();
    for (field, value) in [
        ("action", "yeet"),
        ("status", "great"),
        ("run_id", "../x"),
        ("started_at", "noon"),
    ] {
        let mut r = run("20261125-000000-dddddd", "plan", "succeeded", vec![]);
        match field {
            "action" => r.action = value.into(),
            "status" => r.status = value.into(),
            "run_id" => r.run_id = value.into(),
            _ => r.started_at = value.into(),
        }
        bad_reports.push(r);
    }
    let mut negative = run(
        "20261125-000000-dddddd",
        "plan",
        "succeeded",
        vec![instance("a", "succeeded", "")],
    );
    negative.instances[0].add = -1;
    bad_reports.push(negative);
    bad_reports.push(run(
        "20261125-000000-dddddd",
        "plan",
        "succeeded",
        vec![instance("a", "succeeded", ""), instance("a", "failed", "")],
    ));
    bad_reports.push(run(
        "20261125-000000-dddddd",
        "plan",
        "succeeded",
        vec![instance("a", "exploded", "")],
    ));
    for bad in bad_reports {
        let err = store.record_run(&bad, &ci).await.unwrap_err();
        assert!(matches!(err, StateError::BadRequest(_)), "{err}");
    }
    assert!(store.run("20261125-000000-dddddd").await.unwrap().is_none());
}

on_both!(
    promotions_are_found_by_fingerprint,
    copies_are_recorded_and_reaped,
    runs_and_drift_are_recorded,
);
