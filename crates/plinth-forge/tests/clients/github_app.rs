//! GitHub App authentication against the stand-in, which checks the JWT's signature (the
//! test key), issuer, expiry and lifetime, and issues installation tokens.

use std::time::Duration;

use plinth_forge::fake::{AuthSeen, FakeForge, FakePull, fast_retries};
use plinth_forge::{ForgeError, ForgeKind, GitHubClient, Permission};

use super::basic_pair;

const REPO: &str = "acme/infra";
const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 777;

async fn app_forge(token_ttl: Duration) -> FakeForge {
    let fake = FakeForge::start(ForgeKind::GitHub).await;
    fake.enable_github_app(APP_ID, token_ttl);
    fake.install_app(REPO, INSTALLATION);
    fake.set_pull(REPO, 7, FakePull::open("a1"));
    fake
}

fn trail(fake: &FakeForge) -> Vec<(String, String, AuthSeen, u16)> {
    fake.calls()
        .into_iter()
        .map(|c| (c.method, c.path, c.auth, c.status))
        .collect()
}

fn call(method: &str, path: &str, status: u16) -> (String, String, AuthSeen, u16) {
    let auth = if status == 401 {
        AuthSeen::Invalid
    } else {
        AuthSeen::Valid
    };
    (method.into(), path.into(), auth, status)
}

#[tokio::test]
async fn the_jwt_finds_the_installation_and_its_token_is_cached() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    let client = fake.app_client(APP_ID, &fast_retries());
    assert_eq!(client.pull_request(REPO, 7).await.unwrap().head_sha, "a1");
    assert_eq!(client.pull_request(REPO, 7).await.unwrap().head_sha, "a1");
    assert_eq!(
        trail(&fake),
        [
            call("GET", "/repos/acme/infra/installation", 200),
            call("POST", "/app/installations/777/access_tokens", 201),
            call("GET", "/repos/acme/infra/pulls/7", 200),
            call("GET", "/repos/acme/infra/pulls/7", 200),
        ]
    );
    // git fetches with the same installation token.
    let auth = client.git_auth(REPO).await.unwrap();
    let pair = basic_pair(&auth);
    assert!(pair.starts_with("x-access-token:ghs_"), "{pair}");
    assert_eq!(fake.calls().len(), 4, "git_auth reused the cached token");
}

#[tokio::test]
async fn a_token_expiring_within_a_minute_is_renewed() {
    let fake = app_forge(Duration::from_secs(30)).await;
    let client = fake.app_client(APP_ID, &fast_retries());
    client.pull_request(REPO, 7).await.unwrap();
    client.pull_request(REPO, 7).await.unwrap();
    assert_eq!(fake.calls_to("POST", "/app/installations/").len(), 2);
    // The installation itself stays cached.
    assert_eq!(
        fake.calls_to("GET", "/repos/acme/infra/installation").len(),
        1
    );
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    let client = fake.app_client(APP_ID, &fast_retries());
    client.pull_request(REPO, 7).await.unwrap();
    fake.revoke_app_tokens();
    fake.clear_calls();
    assert_eq!(client.pull_request(REPO, 7).await.unwrap().head_sha, "a1");
    assert_eq!(
        trail(&fake),
        [
            call("GET", "/repos/acme/infra/pulls/7", 401),
            call("GET", "/repos/acme/infra/installation", 200),
            call("POST", "/app/installations/777/access_tokens", 201),
            call("GET", "/repos/acme/infra/pulls/7", 200),
        ]
    );
}

#[tokio::test]
async fn a_jwt_for_another_app_is_refused() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    let client = fake.app_client(APP_ID + 1, &fast_retries());
    let err = client.pull_request(REPO, 7).await.unwrap_err();
    assert!(
        matches!(err, ForgeError::Status { status: 401, .. }),
        "{err}"
    );
    assert_eq!(
        trail(&fake),
        [call("GET", "/repos/acme/infra/installation", 401)]
    );
}

#[tokio::test]
async fn a_repository_without_the_app_is_not_found() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    let client = fake.app_client(APP_ID, &fast_retries());
    let err = client.pull_request("acme/elsewhere", 1).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .contains("/repos/acme/elsewhere/installation"),
        "{err}"
    );
}

#[tokio::test]
async fn the_key_never_prints() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    let client = GitHubClient::app(
        &fake.api_url(),
        APP_ID,
        plinth_forge::fake::TEST_APP_KEY_PEM.as_bytes(),
        &fast_retries(),
    )
    .unwrap();
    let shown = format!("{client:?}");
    assert!(
        shown.contains("4242") && shown.contains("redacted"),
        "{shown}"
    );
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains("MII"),
        "{shown}"
    );
}

#[tokio::test]
async fn repository_access_goes_through_the_installation_token() {
    let fake = app_forge(Duration::from_secs(3600)).await;
    fake.create_repo(REPO, Permission::Write);
    let client = fake.app_client(APP_ID, &fast_retries());
    let access = client.repository_access(REPO).await.unwrap();
    // GitHub reports no `permissions` to an installation token: the App's own hold.
    assert_eq!((access.permission, access.can_push()), (None, None));
    assert_eq!(access.default_branch.as_deref(), Some("main"));
    assert_eq!(
        trail(&fake),
        [
            call("GET", "/repos/acme/infra/installation", 200),
            call("POST", "/app/installations/777/access_tokens", 201),
            call("GET", "/repos/acme/infra", 200),
        ]
    );

    let other_app = fake.app_client(APP_ID + 1, &fast_retries());
    let err = other_app.repository_access(REPO).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    let err = client
        .repository_access("acme/elsewhere")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("/installation"), "{err}");
}
