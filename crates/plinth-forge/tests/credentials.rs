//! Credentials read from the variables and files a `forge` block names, and clients built
//! from them. One test: it sets environment variables, which no other thread may read then.

use plinth_config::{ForgeAuth, Spanned};
use plinth_forge::fake::{FakeForge, FakePull, TEST_APP_KEY_PEM, fast_retries};
use plinth_forge::{Credentials, CredentialsError, ForgeKind, client_for, webhook_secret_from_env};

#[tokio::test(flavor = "current_thread")]
async fn credentials_come_from_the_named_variables_and_never_print() {
    let fake = FakeForge::start(ForgeKind::Gitea).await;
    fake.set_pull("acme/infra", 3, FakePull::open("a1"));
    let decl = fake.forge_decl(
        "gitea",
        "PLINTH_FORGE_TEST_TOKEN",
        "PLINTH_FORGE_TEST_SECRET",
    );

    // SAFETY: this binary's only test, on a current-thread runtime: no other thread reads the
    // environment while it changes.
    unsafe {
        std::env::remove_var("PLINTH_FORGE_TEST_TOKEN");
        std::env::set_var("PLINTH_FORGE_TEST_SECRET", "   ");
    }
    let unset = Credentials::from_env(&decl).unwrap_err();
    assert_eq!(
        unset,
        CredentialsError::Unset {
            forge: "gitea".into(),
            var: "PLINTH_FORGE_TEST_TOKEN".into()
        }
    );
    assert_eq!(
        unset.to_string(),
        "forge `gitea`: the environment variable PLINTH_FORGE_TEST_TOKEN is unset or empty"
    );
    // A blank secret is no secret.
    assert!(matches!(
        webhook_secret_from_env(&decl),
        Err(CredentialsError::Unset { var, .. }) if var == "PLINTH_FORGE_TEST_SECRET"
    ));

    // SAFETY: as above.
    unsafe {
        std::env::set_var("PLINTH_FORGE_TEST_TOKEN", format!("{}\n", fake.token()));
        std::env::set_var("PLINTH_FORGE_TEST_SECRET", "hook-secret");
    }
    let credentials = Credentials::from_env(&decl).unwrap();
    assert!(!format!("{credentials:?}").contains(fake.token()));
    assert_eq!(webhook_secret_from_env(&decl).unwrap(), "hook-secret");
    let client = client_for(&decl, credentials, &fast_retries()).unwrap();
    assert_eq!(client.kind(), ForgeKind::Gitea);
    assert_eq!(
        client.pull_request("acme/infra", 3).await.unwrap().head_sha,
        "a1"
    );

    // A GitHub App's key file.
    let dir = std::env::temp_dir().join(format!("plinth-forge-cred-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("app.pem");
    std::fs::write(&key, TEST_APP_KEY_PEM).unwrap();
    let github = FakeForge::start(ForgeKind::GitHub).await;
    let mut app_decl = github.forge_decl("gh", "UNUSED", "PLINTH_FORGE_TEST_SECRET");
    app_decl.auth = ForgeAuth::GitHubApp {
        app_id: 42,
        private_key_file: Spanned::new(key.display().to_string(), 0..0),
    };
    let app = Credentials::from_env(&app_decl).unwrap();
    let shown = format!("{app:?}");
    assert!(
        shown.contains("42") && !shown.contains("PRIVATE"),
        "{shown}"
    );
    let client = client_for(&app_decl, app.clone(), &fast_retries()).unwrap();
    assert_eq!(client.kind(), ForgeKind::GitHub);

    // App credentials on another forge are refused.
    let err = client_for(&decl, app, &fast_retries()).unwrap_err();
    assert!(err.to_string().contains("GitHub only"), "{err}");

    // A missing key file is named.
    std::fs::remove_file(&key).unwrap();
    let err = Credentials::from_env(&app_decl).unwrap_err();
    assert!(
        matches!(&err, CredentialsError::KeyFile { path, .. } if path.ends_with("app.pem")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // A bad api_url is a setup error.
    let mut bad = decl.clone();
    bad.api_url = "ftp://gitea.example.com".into();
    let err = client_for(&bad, Credentials::Token("t".into()), &fast_retries()).unwrap_err();
    assert!(err.to_string().contains("not an http(s) URL"), "{err}");
}
