//! The client against a real `plinth serve` (router and serve loop, SQLite): every call's
//! round trip, refusals with status and message, no token in any error, HTTPS with a CA file.

use std::path::PathBuf;
use std::time::Duration;

use plinth_client::{
    Client, ClientError, CopyStatus, CopyUpdate, NewPromotion, PromotionKind, RunInstanceReport,
    RunReport, RunSource,
};
use plinth_server::{ServeOptions, ServerConfig, Shutdown};
use plinth_state::{Acquisition, PullRef, PullState, Scope, Sealer, Store, StoreOptions};

struct Running {
    url: String,
    store: Store,
    _dir: tempfile::TempDir,
    shutdown: Shutdown,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

async fn start(tls: Option<(PathBuf, PathBuf)>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::new(
        format!("sqlite:{}", dir.path().join("state.db").display()),
        Sealer::from_key(&[7u8; 32]).unwrap(),
    ))
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = ServeOptions {
        tls: tls.map(|(cert, key)| plinth_server::load_tls(&cert, &key).unwrap()),
        ..ServeOptions::default()
    };
    let url = match options.tls {
        Some(_) => format!("https://localhost:{port}"),
        None => format!("http://127.0.0.1:{port}"),
    };
    let shutdown = Shutdown::new();
    tokio::spawn(plinth_server::serve_with(
        listener,
        plinth_server::router(store.clone(), ServerConfig::default()),
        options,
        shutdown.clone(),
    ));
    Running {
        url,
        store,
        _dir: dir,
        shutdown,
    }
}

fn run_report(status: &str) -> RunReport {
    RunReport {
        run_id: "20261122-001502-7f3a9c".into(),
        project: "atropos".into(),
        action: "apply".into(),
        env: "staging".into(),
        status: status.into(),
        who: Some("alice@laptop".into()),
        commit: Some("a1b2c3".into()),
        source: RunSource::Cli,
        started_at: "2026-11-22T00:15:02Z".into(),
        finished_at: None,
        from_plan: None,
        approved_destructive: false,
        skipped_promotion: Some("hotfix, approved by bob".into()),
        instances: vec![RunInstanceReport {
            stack: "plumbing/network".into(),
            status: "succeeded".into(),
            add: 1,
            change: 0,
            destroy: 0,
            preview_only: false,
            reason: None,
            duration_ms: 1200,
            log: Some("Apply complete!\n".into()),
        }],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_round_trips() {
    let server = start(None).await;
    let write = server.store.create_token("ci", Scope::Write).await.unwrap();
    let admin = server
        .store
        .create_token("root", Scope::Admin)
        .await
        .unwrap();
    let client = Client::new(&format!("{}/", server.url), &write).unwrap();
    assert_eq!(client.whoami().await.unwrap().name, "ci");
    assert!(!format!("{client:?}").contains(&write));

    // Promotions.
    let new = NewPromotion {
        project: "atropos".into(),
        env: "staging".into(),
        kind: PromotionKind::Stack,
        subject: "plumbing/network".into(),
        fingerprint: "f1".into(),
        run_id: "20261122-001502-7f3a9c".into(),
        commit: "a1b2c3".into(),
        who: None,
        applied_at: None,
    };
    let stored = client.record_promotion(&new).await.unwrap();
    assert_eq!(stored.who, "ci");
    let found = client
        .find_promotion(
            "atropos",
            "staging",
            PromotionKind::Stack,
            "plumbing/network",
            "f1",
        )
        .await
        .unwrap();
    assert_eq!(found, Some(stored.clone()));
    assert!(
        client
            .find_promotion(
                "atropos",
                "staging",
                PromotionKind::Stack,
                "plumbing/network",
                "f2"
            )
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        client
            .latest_promotion(
                "atropos",
                "staging",
                PromotionKind::Stack,
                "plumbing/network"
            )
            .await
            .unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        client
            .latest_promotions("atropos", "staging", None)
            .await
            .unwrap(),
        [stored]
    );

    // Copies.
    let copy = CopyUpdate {
        template: "test".into(),
        creator: None,
        pull_request: Some(42),
        created_at: None,
        expires_at: Some("2026-01-01T00:00:00Z".into()),
        status: CopyStatus::Applying,
        instances: 3,
    };
    let created = client
        .create_copy("atropos", "test-pr-42", &copy)
        .await
        .unwrap();
    assert_eq!(created.creator, "ci");
    let again = client
        .create_copy("atropos", "test-pr-42", &copy)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(412), "{again}");
    let up = CopyUpdate {
        status: CopyStatus::Up,
        ..copy.clone()
    };
    assert_eq!(
        client
            .put_copy("atropos", "test-pr-42", &up)
            .await
            .unwrap()
            .status,
        CopyStatus::Up
    );
    assert_eq!(client.copies("atropos").await.unwrap().len(), 1);
    assert_eq!(client.expired_copies("atropos").await.unwrap().len(), 1);
    assert_eq!(
        client
            .delete_copy("atropos", "test-pr-42")
            .await
            .unwrap()
            .name,
        "test-pr-42"
    );
    assert!(
        client
            .delete_copy("atropos", "test-pr-42")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Runs and drift.
    client.report_run(&run_report("running")).await.unwrap();
    let mut done = run_report("succeeded");
    done.finished_at = Some("2026-11-22T00:16:00Z".into());
    client.report_run(&done).await.unwrap();
    let run = client.run("20261122-001502-7f3a9c").await.unwrap().unwrap();
    assert_eq!(run.status, "succeeded");
    assert_eq!(
        run.skipped_promotion.as_deref(),
        Some("hotfix, approved by bob")
    );
    assert_eq!(run.instances[0].log.as_deref(), Some("Apply complete!\n"));
    let listed = client
        .runs("atropos", Some("staging"), Some(5))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].instances[0].log.is_none());
    assert!(
        client
            .run("20991231-000000-ffffff")
            .await
            .unwrap()
            .is_none()
    );
    assert!(client.drift("atropos", "staging").await.unwrap().is_empty());

    // Pull requests and jobs (written by the server's own flow).
    let pull = PullRef::new("acme/infra", 7).unwrap();
    server
        .store
        .upsert_pull(&pull, "a1b2c3", "main", PullState::Open, "alice")
        .await
        .unwrap();
    assert_eq!(
        server
            .store
            .acquire_all("atropos", &pull, [("prod", "plumbing/network")])
            .await
            .unwrap(),
        Acquisition::Acquired
    );
    let job = server
        .store
        .enqueue("plan", &pull.serial_key(), &serde_json::json!({}), None)
        .await
        .unwrap()
        .id();
    let view = client.pull("acme/infra", 7).await.unwrap().unwrap();
    assert!(!view.idle);
    assert_eq!(view.instances[0].lock, "held");
    assert_eq!(view.jobs[0].id, job);
    assert_eq!(client.pulls(Some("acme/infra")).await.unwrap().len(), 1);
    assert!(client.pull("acme/infra", 8).await.unwrap().is_none());
    assert_eq!(client.job(job).await.unwrap().unwrap().status, "queued");
    assert!(client.job(job + 100).await.unwrap().is_none());

    // State: versions, pull, rollback, locks through the same client.
    let instance = "atropos/dev/plumbing/network";
    let id = plinth_state::InstanceId::parse(instance).unwrap();
    let ci = plinth_state::Actor {
        name: "ci".into(),
        scope: Scope::Write,
    };
    for serial in 1..=2 {
        let body = format!(
            "{{\"version\":4,\"terraform_version\":\"1.11.4\",\"serial\":{serial},\
             \"lineage\":\"L\",\"outputs\":{{}},\"resources\":[]}}"
        );
        server
            .store
            .write_state(&id, body.into(), None, None, &ci)
            .await
            .unwrap();
    }
    let versions = client.versions(instance).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions[0].current);
    let first = client.pull_state(instance, Some(1)).await.unwrap();
    assert!(String::from_utf8(first).unwrap().contains("\"serial\":1"));
    let refused = client.rollback(instance, 1).await.unwrap_err();
    assert_eq!(refused.status(), Some(403));
    let admin_client = Client::new(&server.url, &admin).unwrap();
    assert_eq!(admin_client.rollback(instance, 1).await.unwrap().version, 3);
    server
        .store
        .lock(
            &id,
            br#"{"ID":"L-1","Operation":"OperationTypeApply","Who":"ops"}"#,
            &ci,
        )
        .await
        .unwrap();
    let locks = client.state_locks(Some("atropos")).await.unwrap();
    assert_eq!(locks[0].id, "L-1");
    let stale = admin_client
        .force_unlock(instance, Some("L-2"))
        .await
        .unwrap_err();
    assert!(stale.is_conflict(), "{stale}");
    assert_eq!(
        admin_client
            .force_unlock(instance, Some("L-1"))
            .await
            .unwrap()
            .id,
        "L-1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_carry_the_status_and_message_never_the_token() {
    let server = start(None).await;
    let read = server
        .store
        .create_token("viewer", Scope::Read)
        .await
        .unwrap();
    let client = Client::new(&server.url, &read).unwrap();
    let err = client.report_run(&run_report("running")).await.unwrap_err();
    match &err {
        ClientError::Status {
            status, message, ..
        } => {
            assert_eq!(*status, 403);
            assert!(message.contains("write"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let unknown = Client::new(&server.url, "plinth_0000").unwrap();
    let err = unknown.whoami().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains("plinth_0000"), "{text}");
    }
    // Nobody listening: the base URL is named, the token is not.
    let nowhere = Client::new("http://127.0.0.1:9", &read).unwrap();
    let err = nowhere.whoami().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(&read));
    // Unusable base URLs are refused before anything is sent.
    for base in ["ftp://x", "not a url", "https://user:pw@host"] {
        let err = Client::new(base, &read).unwrap_err();
        assert!(matches!(err, ClientError::Config(_)), "{base}: {err}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
    assert!(matches!(
        Client::new(&server.url, " "),
        Err(ClientError::Config(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_ca_file() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let (ca_file, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    let server = start(Some((cert, key))).await;
    let token = server.store.create_token("ci", Scope::Write).await.unwrap();
    let options = plinth_http::ClientOptions {
        ca_file: Some(ca_file),
        timeout: Duration::from_secs(10),
        ..plinth_http::ClientOptions::default()
    };
    let client = Client::with_options(&server.url, &token, &options).unwrap();
    assert_eq!(client.whoami().await.unwrap().scope, "write");
    // Without the CA, the server is not trusted.
    let untrusted = Client::new(&server.url, &token).unwrap();
    assert!(matches!(
        untrusted.whoami().await,
        Err(ClientError::Unreachable { .. })
    ));
}
