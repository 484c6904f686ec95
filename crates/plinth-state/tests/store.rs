//! Storage rules on both databases: each scenario runs on SQLite and on a private PostgreSQL.

use bytes::Bytes;
use plinth_state::test_support::TempPostgres;
use plinth_state::{
    Actor, InstanceId, Retention, Scope, Sealer, StateError, Store, StoreOptions, UnlockOutcome,
    WriteOutcome,
};

struct Db {
    url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    _pg: Option<TempPostgres>,
}

fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        url: format!("sqlite:{}", dir.path().join("state.db").display()),
        _sqlite_dir: Some(dir),
        _pg: None,
    }
}

fn postgres() -> Db {
    let pg = TempPostgres::start();
    let url = pg.create_database("plinth");
    Db {
        url,
        _sqlite_dir: None,
        _pg: Some(pg),
    }
}

fn key() -> Sealer {
    Sealer::from_key(&[7u8; 32]).unwrap()
}

async fn open(db: &Db, retention: Retention) -> Store {
    let mut options = StoreOptions::new(db.url.clone(), key());
    options.retention = retention;
    Store::open(options).await.unwrap()
}

fn actor(name: &str, scope: Scope) -> Actor {
    Actor {
        name: name.into(),
        scope,
    }
}

fn state(lineage: &str, serial: u64, marker: &str) -> Bytes {
    Bytes::from(format!(
        "{{\n  \"version\": 4,\n  \"terraform_version\": \"1.11.4\",\n  \"serial\": {serial},\n  \
         \"lineage\": \"{lineage}\",\n  \"outputs\": {{\"marker\": {{\"value\": \"{marker}\", \
         \"type\": \"string\"}}}},\n  \"resources\": []\n}}\n"
    ))
}

fn lock_info(id: &str) -> Vec<u8> {
    format!(
        r#"{{"ID":"{id}","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.11.4","Created":"2026-11-21T23:35:50.209971242Z","Path":""}}"#
    )
    .into_bytes()
}

fn inst() -> InstanceId {
    InstanceId::new("atropos", "prod", "plumbing/network").unwrap()
}

async fn history_rules(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let w = actor("ci", Scope::Write);
    let id = inst();
    assert!(store.read_state(&id, None).await.unwrap().is_none());
    let first = state("L1", 1, "one");
    assert_eq!(
        store
            .write_state(&id, first.clone(), None, None, &w)
            .await
            .unwrap(),
        WriteOutcome::Stored { version: 1 }
    );
    // An identical retry is accepted without a new version.
    assert_eq!(
        store
            .write_state(&id, first.clone(), None, None, &w)
            .await
            .unwrap(),
        WriteOutcome::Unchanged { version: 1 }
    );
    // Same serial, different bytes.
    let err = store
        .write_state(&id, state("L1", 1, "other"), None, None, &w)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateError::Conflict(ref m) if m.contains("equal")),
        "{err}"
    );
    // Lineage mismatch names both lineages.
    let err = store
        .write_state(&id, state("L2", 5, "x"), None, None, &w)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateError::Conflict(ref m) if m.contains("L1") && m.contains("L2")),
        "{err}"
    );
    store
        .write_state(&id, state("L1", 3, "three"), None, None, &w)
        .await
        .unwrap();
    let err = store
        .write_state(&id, state("L1", 2, "two"), None, None, &w)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateError::Conflict(ref m) if m.contains("serial 2") && m.contains("serial 3")),
        "{err}"
    );
    // Nothing refused was stored.
    let versions = store.list_versions(&id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        store.read_state(&id, None).await.unwrap().unwrap().data,
        state("L1", 3, "three")
    );
    // Wrong Content-MD5 (a truncated upload) is refused.
    let err = store
        .write_state(
            &id,
            state("L1", 4, "four"),
            None,
            Some("AAAAAAAAAAAAAAAAAAAAAA=="),
            &w,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::BadRequest(_)), "{err}");
    let err = store
        .write_state(&id, Bytes::from_static(b"{\"version\":4,"), None, None, &w)
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::BadRequest(_)), "{err}");
    // Read-only tokens cannot write.
    let err = store
        .write_state(
            &id,
            state("L1", 9, "r"),
            None,
            None,
            &actor("viewer", Scope::Read),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::Forbidden(_)), "{err}");

    // Rollback to version 1 is admin-only, bumps the serial past the current one, and the
    // previous current version remains.
    let err = store.rollback(&id, 1, &w).await.unwrap_err();
    assert!(matches!(err, StateError::Forbidden(_)), "{err}");
    let admin = actor("root", Scope::Admin);
    assert_eq!(
        store.rollback(&id, 1, &admin).await.unwrap(),
        WriteOutcome::Stored { version: 3 }
    );
    let now = store.read_state(&id, None).await.unwrap().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&now.data).unwrap();
    assert_eq!(doc["serial"], 4);
    assert_eq!(doc["outputs"]["marker"]["value"], "one");
    // A client that still had serial 4 from before is refused; the next serial is accepted.
    assert!(
        store
            .write_state(&id, state("L1", 4, "stale"), None, None, &w)
            .await
            .is_err()
    );
    store
        .write_state(&id, state("L1", 5, "after"), None, None, &w)
        .await
        .unwrap();
    let audit = store.audit_log(Some(&id), 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["write", "rollback", "write", "write"]);
    assert_eq!(audit[1].actor, "root");
}

async fn lock_rules(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let (a, b) = (actor("alice", Scope::Write), actor("bob", Scope::Write));
    let id = inst();
    store.lock(&id, &lock_info("L-A"), &a).await.unwrap();
    // The same ID again is a retried request.
    store.lock(&id, &lock_info("L-A"), &a).await.unwrap();
    match store.lock(&id, &lock_info("L-B"), &b).await.unwrap_err() {
        StateError::Locked(holder) => {
            assert_eq!(holder.id, "L-A");
            assert_eq!(holder.info["Who"], "ci@runner");
            assert_eq!(holder.info["Path"], "atropos/prod/plumbing/network");
            assert_eq!(holder.token, "alice");
        }
        other => panic!("expected Locked, got {other}"),
    }
    // Writes need the holder's ID.
    assert!(matches!(
        store
            .write_state(&id, state("L", 1, "x"), None, None, &b)
            .await,
        Err(StateError::Locked(_))
    ));
    assert!(matches!(
        store
            .write_state(&id, state("L", 1, "x"), Some("L-B"), None, &b)
            .await,
        Err(StateError::Locked(_))
    ));
    store
        .write_state(&id, state("L", 1, "x"), Some("L-A"), None, &a)
        .await
        .unwrap();
    // Unlock with the wrong ID is refused with the holder; empty body from another
    // write token is refused; bad JSON is a bad request.
    assert!(matches!(
        store.unlock(&id, &lock_info("L-B"), &b).await,
        Err(StateError::Locked(_))
    ));
    assert!(matches!(
        store.unlock(&id, b"", &b).await,
        Err(StateError::Forbidden(_))
    ));
    assert!(matches!(
        store.unlock(&id, b"{", &a).await,
        Err(StateError::BadRequest(_))
    ));
    assert_eq!(store.list_locks(Some("atropos")).await.unwrap().len(), 1);
    assert_eq!(
        store.unlock(&id, &lock_info("L-A"), &a).await.unwrap(),
        UnlockOutcome::Released
    );
    assert!(store.lock_holder(&id).await.unwrap().is_none());
    // A write carrying a lock ID that no longer exists lost its lock.
    assert!(matches!(
        store
            .write_state(&id, state("L", 2, "y"), Some("L-A"), None, &a)
            .await,
        Err(StateError::Conflict(_))
    ));
    // Terraform's empty-body force-unlock works for admins.
    store.lock(&id, &lock_info("L-C"), &b).await.unwrap();
    let admin = actor("root", Scope::Admin);
    assert_eq!(
        store.unlock(&id, b"", &admin).await.unwrap(),
        UnlockOutcome::Forced
    );
    // OpenTofu's force-unlock: only the ID.
    store.lock(&id, &lock_info("L-D"), &b).await.unwrap();
    assert_eq!(
        store.unlock(&id, br#"{"ID":"L-D"}"#, &a).await.unwrap(),
        UnlockOutcome::Forced
    );
    let actions: Vec<String> = store
        .audit_log(Some(&id), 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "lock",
            "write",
            "unlock",
            "lock",
            "force-unlock",
            "lock",
            "force-unlock"
        ]
    );
}

async fn concurrent_lockers_one_winner(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let id = inst();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .lock(
                    &id,
                    &lock_info(&format!("L-{i}")),
                    &actor(&format!("t{i}"), Scope::Write),
                )
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StateError::Locked(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(won, 1);
}

async fn retention_keeps_the_current_version(db: Db) {
    let store = open(
        &db,
        Retention {
            keep_last: Some(2),
            keep_days: None,
        },
    )
    .await;
    let w = actor("ci", Scope::Write);
    let id = inst();
    for serial in 1..=5 {
        store
            .write_state(&id, state("L", serial, "v"), None, None, &w)
            .await
            .unwrap();
    }
    let kept: Vec<i64> = store
        .list_versions(&id)
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(kept, [5, 4]);
    let store = open(
        &db,
        Retention {
            keep_last: Some(0),
            keep_days: Some(0),
        },
    )
    .await;
    store
        .write_state(&id, state("L", 6, "v"), None, None, &w)
        .await
        .unwrap();
    let versions = store.list_versions(&id).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert!(versions[0].current && versions[0].version == 6);
}

async fn encryption_and_key_checks(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let id = inst();
    let secret_state = state("L", 1, "needle-5f1c0ffee");
    store
        .write_state(
            &id,
            secret_state.clone(),
            None,
            None,
            &actor("ci", Scope::Write),
        )
        .await
        .unwrap();
    store.close().await;
    // Another key, or no key, is refused at startup; the right key reads the state back.
    let wrong = Store::open(StoreOptions::new(
        db.url.clone(),
        Sealer::from_key(&[9u8; 32]).unwrap(),
    ))
    .await;
    assert!(matches!(wrong, Err(StateError::Sealing(_))));
    let none = Store::open(StoreOptions::new(
        db.url.clone(),
        Sealer::insecure_plaintext(),
    ))
    .await;
    assert!(matches!(none, Err(StateError::Sealing(_))));
    let store = open(&db, Retention::keep_all()).await;
    assert_eq!(
        store.read_state(&id, None).await.unwrap().unwrap().data,
        secret_state
    );
}

async fn opaque_states_version_by_time(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let w = actor("ci", Scope::Write);
    let id = inst();
    for n in 0..3 {
        let body = format!(
            r#"{{"meta":{{"key_provider.pbkdf2.k":"e30="}},"encrypted_data":"AAAA{n}","encryption_version":"v0"}}"#
        );
        store
            .write_state(&id, Bytes::from(body), None, None, &w)
            .await
            .unwrap();
    }
    let versions = store.list_versions(&id).await.unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions.iter().all(|v| v.opaque && v.serial.is_none()));
}

async fn tokens_are_hashed_and_scoped(db: Db) {
    let store = open(&db, Retention::keep_all()).await;
    let secret = store.create_token("ci", Scope::Write).await.unwrap();
    let actor = store.authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(actor, self::actor("ci", Scope::Write));
    assert!(store.authenticate("plinth_nope").await.unwrap().is_none());
    assert!(matches!(
        store.create_token("ci", Scope::Read).await,
        Err(StateError::Conflict(_))
    ));
    assert!(store.create_token("bad name", Scope::Read).await.is_err());
    store.revoke_token("ci").await.unwrap();
    assert!(store.authenticate(&secret).await.unwrap().is_none());
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(sqlite()).await } )* }
        mod postgres_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(postgres()).await } )* }
    };
}

on_both!(
    history_rules,
    lock_rules,
    concurrent_lockers_one_winner,
    retention_keeps_the_current_version,
    encryption_and_key_checks,
    opaque_states_version_by_time,
    tokens_are_hashed_and_scoped,
);
