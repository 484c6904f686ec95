//! The Vault store against a real OpenBao dev server (one per test: ~150 ms to start).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plinth_config::{SecretSource, VaultAuth, VaultConfig};
use plinth_secrets::testing::{OpenBao, closed_address, silent_address};
use plinth_secrets::{
    Latest, Resolver, Secret, SecretError, SecretRef, SecretStore, Stores, VaultClient,
    VaultSettings, VersionedStore, WriteOutcome, set_key, write_if_changed,
};
use serde_json::json;

const READ_APP: &str = r#"path "secret/data/app/*" { capabilities = ["read"] }"#;

fn source(s: &str) -> SecretSource {
    SecretSource::parse(s).unwrap()
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, Secret> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Secret::new(*v)))
        .collect()
}

fn resolver_for(client: VaultClient) -> Resolver {
    Resolver::new(Arc::new(Stores::new().with_versioned(Arc::new(client))))
}

#[tokio::test]
async fn token_auth_reads_the_latest_version_with_its_metadata() {
    let bao = OpenBao::start().await;
    bao.write_secret("secret/app/prod", json!({ "db": "v1-pass" }))
        .await;
    bao.write_secret("secret/app/prod", json!({ "db": "v2-pass", "port": 5432 }))
        .await;
    bao.put_policy("read-app", READ_APP).await;
    let token = bao.create_token(&["read-app"]).await;
    let client = VaultClient::new(bao.settings_with_token(&token)).unwrap();

    let doc = client.read("secret/app/prod").await.unwrap();
    assert_eq!(doc.get("db").unwrap().expose(), "v2-pass");
    let port = doc.get("port").unwrap();
    assert!(port.is_json());
    assert_eq!(port.expose(), "5432");
    assert_eq!(doc.version, Some(2));
    let age = time::OffsetDateTime::now_utc() - doc.created_time.unwrap();
    assert!(age < time::Duration::minutes(1), "{age}");
    assert_eq!(
        bao.requests_to("secret/data/app/prod"),
        3,
        "two writes and a read"
    );
    assert_eq!(bao.reads_of("secret/data/app/prod"), 1);

    let info = client.token_info().await.unwrap();
    assert_eq!(
        info.policies,
        vec!["default".to_string(), "read-app".to_string()]
    );
    assert!(info.ttl_secs > 3000 && info.ttl_secs <= 3600, "{info:?}");
    let health = client.health().await.unwrap();
    assert!(health.initialized && !health.sealed, "{health:?}");
    assert!(health.version.starts_with('2'), "{health:?}");
}

#[tokio::test]
async fn approle_logs_in_once_and_reads() {
    let bao = OpenBao::start().await;
    bao.write_secret("secret/app/a", json!({ "k": "from-a" }))
        .await;
    bao.write_secret("secret/app/b", json!({ "k": "from-b" }))
        .await;
    bao.put_policy("read-app", READ_APP).await;
    let approle = bao.enable_approle("plinth-ci", &["read-app"]).await;
    let client = Arc::new(VaultClient::new(bao.settings_with_approle(&approle)).unwrap());

    let (a, b) = tokio::join!(client.read("secret/app/a"), client.read("secret/app/b"));
    assert_eq!(a.unwrap().get("k").unwrap().expose(), "from-a");
    assert_eq!(b.unwrap().get("k").unwrap().expose(), "from-b");
    client.read("secret/app/a").await.unwrap();
    assert_eq!(bao.requests_to("auth/approle/login"), 1);
    let info = client.token_info().await.unwrap();
    assert!(info.policies.contains(&"read-app".to_string()), "{info:?}");

    let mut wrong = approle.clone();
    wrong.secret_id = "not-the-secret-id".into();
    let client = VaultClient::new(bao.settings_with_approle(&wrong)).unwrap();
    let err = client.read("secret/app/a").await.unwrap_err();
    assert!(matches!(err, SecretError::Login { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("auth/approle") && text.contains("invalid role or secret ID"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-secret-id") && !text.contains(&approle.role_id),
        "{text}"
    );
}

#[tokio::test]
async fn approle_settings_come_from_the_vault_block_and_the_environment() {
    let bao = OpenBao::start().await;
    bao.write_secret("secret/app/env", json!({ "k": "via-config" }))
        .await;
    bao.put_policy("read-app", READ_APP).await;
    let approle = bao.enable_approle("from-env", &["read-app"]).await;
    let config = VaultConfig {
        auth: VaultAuth::AppRole,
        ..VaultConfig::default()
    };
    let env: BTreeMap<String, String> = [
        ("BAO_ADDR", bao.address()),
        ("VAULT_ROLE_ID", approle.role_id.as_str()),
        ("VAULT_SECRET_ID", approle.secret_id.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let stores = Stores::for_project(Some(&config), Path::new("/nonexistent"), Arc::new(env));
    let resolver = Resolver::new(Arc::new(stores));
    let v = resolver
        .get(&source("vault:secret/app/env#k"))
        .await
        .unwrap();
    assert_eq!(v.expose(), "via-config");
    assert_eq!(bao.requests_to("auth/approle/login"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_path_is_read_once_per_run_however_many_ask() {
    let bao = OpenBao::start().await;
    for p in ["a", "b", "c"] {
        bao.write_secret(
            &format!("secret/app/{p}"),
            json!({ "k1": format!("{p}-1"), "k2": format!("{p}-2") }),
        )
        .await;
    }
    let resolver = resolver_for(bao.root_client());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..90 {
        let resolver = resolver.clone();
        let path = ["a", "b", "c"][i % 3];
        let key = ["k1", "k2"][i % 2];
        tasks.spawn(async move {
            let v = resolver
                .get(&source(&format!("vault:secret/app/{path}#{key}")))
                .await
                .unwrap();
            assert_eq!(v.expose(), format!("{path}-{}", &key[1..]));
        });
    }
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    for p in ["a", "b", "c"] {
        assert_eq!(bao.reads_of(&format!("secret/data/app/{p}")), 1, "{p}");
    }
    assert_eq!(resolver.documents_requested(), 3);
    assert_eq!(resolver.values_read().len(), 6);

    // A new run reads again.
    let next = Resolver::new(resolver.stores().clone());
    next.prefetch(
        ["a", "b"].map(|p| SecretRef::from(&source(&format!("vault:secret/app/{p}#k1")))),
    )
    .await;
    next.get(&source("vault:secret/app/a#k2")).await.unwrap();
    assert_eq!(bao.reads_of("secret/data/app/a"), 2);
    assert_eq!(bao.reads_of("secret/data/app/b"), 2);
    assert_eq!(bao.reads_of("secret/data/app/c"), 1);
}

#[tokio::test]
async fn missing_paths_mounts_and_keys_are_named_without_values() {
    let bao = OpenBao::start().await;
    bao.write_secret(
        "secret/app/prod",
        json!({ "db": "s3cr3t-db", "api": "s3cr3t-api" }),
    )
    .await;
    let resolver = resolver_for(bao.root_client());

    let err = resolver
        .get(&source("vault:secret/app/none#db"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "vault:secret/app/none: not found: no secret at path `app/none` of the KV v2 mount `secret`"
    );
    let err = resolver
        .get(&source("vault:nomount/app/x#db"))
        .await
        .unwrap_err();
    assert!(err.is_missing());
    assert!(
        err.to_string()
            .contains("no secrets engine is mounted at `nomount`"),
        "{err}"
    );

    let err = resolver
        .get(&source("vault:secret/app/prod#password"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "vault:secret/app/prod: the secret has no key `password` (its keys: api, db)"
    );
    assert_eq!(err.kind(), "key_missing");
    let debug = format!(
        "{err:?} {:?}",
        resolver.get(&source("vault:secret/app/prod#db")).await
    );
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("Ok(***)"), "{debug}");
    // The failed and the good key came from one read.
    assert_eq!(bao.reads_of("secret/data/app/prod"), 1);
    assert_eq!(bao.reads_of("secret/data/app/none"), 1);
}

#[tokio::test]
async fn a_refused_token_is_named_and_read_once() {
    let bao = OpenBao::start().await;
    bao.write_secret("secret/app/prod", json!({ "db": "value-behind-403" }))
        .await;
    bao.write_secret("secret/other/x", json!({ "db": "not-for-you" }))
        .await;
    bao.put_policy("read-app", READ_APP).await;
    let token = bao.create_token(&["read-app"]).await;
    let client = VaultClient::new(bao.settings_with_token(&token)).unwrap();

    // Policy denies another path.
    let err = client.read("secret/other/x").await.unwrap_err();
    assert!(matches!(err, SecretError::Refused { .. }), "{err:?}");

    bao.revoke_token(&token).await;
    let resolver = resolver_for(client);
    let db = source("vault:secret/app/prod#db");
    let (a, b) = tokio::join!(resolver.get(&db), resolver.get(&db));
    for err in [a.unwrap_err(), b.unwrap_err()] {
        assert_eq!(err.kind(), "refused");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "vault:secret/app/prod: Vault refused the token (403 permission denied)"
            ),
            "{text}"
        );
        assert!(
            !text.contains(&token) && !text.contains("value-behind"),
            "{text}"
        );
        assert!(!format!("{err:?}").contains(&token));
    }
    assert_eq!(bao.reads_of("secret/data/app/prod"), 1);
}

#[tokio::test]
async fn vault_down_and_hung_are_unreachable_with_the_path() {
    let mut bao = OpenBao::start().await;
    bao.write_secret("secret/app/prod", json!({ "db": "x" }))
        .await;
    let client = bao.root_client();
    client.read("secret/app/prod").await.unwrap();
    bao.stop();
    assert!(!bao.is_running());
    let err = client.read("secret/app/prod").await.unwrap_err();
    assert_eq!(err.kind(), "unreachable");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "vault:secret/app/prod: Vault at {} is unreachable: ",
            bao.address()
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");

    let client =
        VaultClient::new(VaultSettings::token(closed_address(), Secret::new("t"))).unwrap();
    let err = client.read("secret/x/y").await.unwrap_err();
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("connection refused"),
        "{err}"
    );

    let (_listener, hung) = silent_address();
    let mut settings = VaultSettings::token(hung, Secret::new("t"));
    settings.timeout = Duration::from_secs(1);
    let resolver = resolver_for(VaultClient::new(settings).unwrap());
    let started = Instant::now();
    let (k, other) = (
        source("vault:secret/x/y#k"),
        source("vault:secret/x/y#other"),
    );
    let (a, b) = tokio::join!(resolver.get(&k), resolver.get(&other));
    let elapsed = started.elapsed();
    let err = a.unwrap_err();
    assert_eq!(err, b.unwrap_err());
    assert!(
        err.to_string()
            .ends_with("is unreachable: no answer within 1 s"),
        "{err}"
    );
    // Both callers waited for the one request, not one timeout each.
    assert!(elapsed < Duration::from_millis(1900), "{elapsed:?}");
}

#[tokio::test]
async fn writes_use_check_and_set_and_publish_only_changes() {
    let bao = OpenBao::start().await;
    let client = bao.root_client();
    let store: &dyn VersionedStore = &client;
    let path = "secret/atropos/prod/plumbing/network";

    assert!(matches!(
        store.read_latest(path).await.unwrap(),
        Latest::Absent
    ));
    let first = values(&[("api_url", "https://api"), ("db_password", "pw-1")]);
    let out = write_if_changed(store, path, &first).await.unwrap();
    assert_eq!(out, WriteOutcome::Written { version: 1 });
    let out = write_if_changed(store, path, &first).await.unwrap();
    assert_eq!(out, WriteOutcome::Unchanged { version: 1 });
    let second = values(&[("api_url", "https://api"), ("db_password", "pw-2")]);
    assert_eq!(
        write_if_changed(store, path, &second).await.unwrap(),
        WriteOutcome::Written { version: 2 }
    );
    let back = bao
        .api("GET", "secret/data/atropos/prod/plumbing/network", None)
        .await;
    assert_eq!(
        back["data"]["data"],
        json!({ "api_url": "https://api", "db_password": "pw-2" })
    );

    // A writer holding an old version loses.
    let err = store.write(path, &first, Some(1)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "vault:{path}: another write came first (check-and-set expected version 1); read again and retry"
        )
    );
    let err = store.write(path, &first, Some(0)).await.unwrap_err();
    assert_eq!(err.kind(), "conflict");

    let meta = store.metadata(path).await.unwrap();
    assert_eq!(meta.current_version, 2);
    assert_eq!(
        meta.versions.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(meta.versions[&1].created_time <= meta.versions[&2].created_time);
    assert!(meta.age(time::OffsetDateTime::now_utc()).unwrap() < Duration::from_secs(60));

    // destroy: the latest version is soft-deleted; a later publish writes it anew.
    store.delete_latest(path).await.unwrap();
    assert!(matches!(
        store.read_latest(path).await.unwrap(),
        Latest::Deleted { version: 2 }
    ));
    let err = client.read(path).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("vault:{path}: not found: its latest version (2) is deleted")
    );
    let meta = store.metadata(path).await.unwrap();
    assert!(meta.current().unwrap().deletion_time.is_some());
    assert!(meta.versions[&1].deletion_time.is_none());
    assert_eq!(
        write_if_changed(store, path, &second).await.unwrap(),
        WriteOutcome::Written { version: 3 }
    );
    let err = store.metadata("secret/never/written").await.unwrap_err();
    assert!(err.is_missing(), "{err}");
}

#[tokio::test]
async fn rotation_replaces_one_key_and_keeps_the_others() {
    let bao = OpenBao::start().await;
    bao.write_secret(
        "secret/licensing/prod",
        json!({ "stripe_secret_key": "old", "other": "kept", "n": 7 }),
    )
    .await;
    let client = bao.root_client();
    let new = plinth_secrets::generate(48, false).unwrap();
    let version = set_key(
        &client,
        "secret/licensing/prod",
        "stripe_secret_key",
        new.clone(),
    )
    .await
    .unwrap();
    assert_eq!(version, 2);
    let back = bao.api("GET", "secret/data/licensing/prod", None).await;
    assert_eq!(
        back["data"]["data"]["stripe_secret_key"],
        json!(new.expose())
    );
    assert_eq!(back["data"]["data"]["other"], json!("kept"));
    assert_eq!(
        back["data"]["data"]["n"],
        json!(7),
        "a number stays a number"
    );
    // A secret that does not exist yet is created.
    let v = set_key(&client, "secret/licensing/new", "k", Secret::new("first"))
        .await
        .unwrap();
    assert_eq!(v, 1);
}

#[tokio::test]
async fn the_namespace_header_is_sent() {
    let bao = OpenBao::start().await;
    bao.create_namespace("team").await;
    bao.api_in(
        Some("team"),
        "POST",
        "secret/data/app/prod",
        Some(json!({ "data": { "k": "in-team" } })),
    )
    .await;
    bao.write_secret("secret/app/prod", json!({ "k": "in-root" }))
        .await;

    let mut settings = bao.settings_with_token(plinth_secrets::testing::ROOT_TOKEN);
    settings.namespace = Some("team".into());
    let client = VaultClient::new(settings).unwrap();
    assert_eq!(client.namespace(), Some("team"));
    let doc = client.read("secret/app/prod").await.unwrap();
    assert_eq!(doc.get("k").unwrap().expose(), "in-team");
    assert_eq!(bao.reads_of_in("team/", "secret/data/app/prod"), 1);
    let root = bao.root_client().read("secret/app/prod").await.unwrap();
    assert_eq!(root.get("k").unwrap().expose(), "in-root");
}

#[tokio::test]
async fn tls_needs_the_ca_file_and_a_bad_one_is_named() {
    let bao = OpenBao::start_tls().await;
    assert!(bao.address().starts_with("https://"));
    bao.write_secret("secret/app/tls", json!({ "k": "over-tls" }))
        .await;
    let client = bao.root_client();
    assert_eq!(
        client
            .read("secret/app/tls")
            .await
            .unwrap()
            .get("k")
            .unwrap()
            .expose(),
        "over-tls"
    );

    let mut no_ca = bao.settings_with_token(plinth_secrets::testing::ROOT_TOKEN);
    no_ca.ca_file = None;
    let err = VaultClient::new(no_ca)
        .unwrap()
        .read("secret/app/tls")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unreachable");
    assert!(err.to_string().contains("certificate"), "{err}");

    let mut missing = bao.settings_with_token(plinth_secrets::testing::ROOT_TOKEN);
    missing.ca_file = Some(bao.dir().join("nope.pem"));
    let err = VaultClient::new(missing).err().unwrap();
    assert!(matches!(err, SecretError::CaFile { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.pem"), "{err}");

    let junk = bao.dir().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let mut bad = bao.settings_with_token(plinth_secrets::testing::ROOT_TOKEN);
    bad.ca_file = Some(junk);
    let err = VaultClient::new(bad).err().unwrap();
    assert!(err.to_string().contains("junk.pem"), "{err}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}
