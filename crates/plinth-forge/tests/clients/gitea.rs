//! The Gitea client against the stand-in: `/api/v1`, `Authorization: token T`.

use plinth_forge::fake::{AuthSeen, FakeForge, FakePull, ReviewState, fast_retries};
use plinth_forge::{
    Approval, Forge, ForgeError, ForgeKind, Permission, PullState, Status, StatusState,
};
use serde_json::json;

use super::basic_pair;

const REPO: &str = "acme/infra";

async fn forge() -> (FakeForge, std::sync::Arc<dyn Forge>) {
    let fake = FakeForge::start(ForgeKind::Gitea).await;
    let client = fake.client(&fast_retries());
    (fake, client)
}

#[tokio::test]
async fn pull_request_state_and_mergeability() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 3, FakePull::open("a1"));
    let info = client.pull_request(REPO, 3).await.unwrap();
    assert_eq!(
        (info.head_sha.as_str(), info.state, info.mergeable),
        ("a1", PullState::Open, Some(true))
    );
    fake.update_pull(REPO, 3, |p| {
        p.mergeable = Some(false);
        p.state = PullState::Merged;
    });
    let info = client.pull_request(REPO, 3).await.unwrap();
    assert_eq!(
        (info.mergeable, info.state),
        (Some(false), PullState::Merged)
    );
    let call = &fake.calls()[0];
    assert_eq!(
        (call.path.as_str(), call.auth),
        ("/api/v1/repos/acme/infra/pulls/3", AuthSeen::Valid)
    );
}

#[tokio::test]
async fn approvals_skip_dismissed_and_superseded_reviews_across_pages() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 3, FakePull::open("b2"));
    for i in 0..60 {
        fake.add_review(
            REPO,
            3,
            &format!("commenter{i:02}"),
            ReviewState::Commented,
            "b1",
        );
    }
    fake.add_review(REPO, 3, "ann", ReviewState::Approved, "b2");
    fake.add_review(REPO, 3, "bob", ReviewState::Approved, "b1");
    fake.add_review(REPO, 3, "bob", ReviewState::ChangesRequested, "b2");
    fake.add_review(REPO, 3, "cid", ReviewState::Dismissed, "b2");
    let approvals = client.approvals(REPO, 3).await.unwrap();
    assert_eq!(
        approvals,
        [Approval {
            user: "ann".into(),
            commit_sha: Some("b2".into())
        }]
    );
    let queries: Vec<_> = fake.calls().into_iter().map(|c| c.query.unwrap()).collect();
    assert_eq!(queries, ["limit=50", "limit=50&page=2"]);
}

#[tokio::test]
async fn permissions_map_gitea_words() {
    let (fake, client) = forge().await;
    fake.set_permission(REPO, "admin", 1, Permission::Admin);
    fake.set_permission(REPO, "dev", 2, Permission::Write);
    fake.set_permission(REPO, "viewer", 3, Permission::Read);
    for (user, want) in [
        ("admin", Permission::Admin),
        ("dev", Permission::Write),
        ("viewer", Permission::Read),
        ("stranger", Permission::None),
    ] {
        assert_eq!(
            client.permission(REPO, user, Some(99)).await.unwrap(),
            want,
            "{user}"
        );
    }
    assert_eq!(
        fake.calls()[1].path,
        "/api/v1/repos/acme/infra/collaborators/dev/permission"
    );
}

#[tokio::test]
async fn comments_statuses_and_issues() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 3, FakePull::open("c1"));
    let id = client.post_comment(REPO, 3, "planning…").await.unwrap();
    client.edit_comment(REPO, 3, id, "planned").await.unwrap();
    assert_eq!(fake.comments(REPO, 3)[0].body, "planned");
    let status = Status {
        context: "plinth/test".into(),
        state: StatusState::Failure,
        description: "1 of 3 test commands failed".into(),
        target_url: None,
    };
    client.set_status(REPO, "c1", &status).await.unwrap();
    assert_eq!(
        fake.latest_status(REPO, "c1", "plinth/test").unwrap().state,
        "failure"
    );
    let number = client
        .create_issue(REPO, "Drift in prod", "details")
        .await
        .unwrap();
    assert_eq!(number, 4);
    client
        .update_issue(REPO, number, "Drift in prod", "in sync", false)
        .await
        .unwrap();
    assert!(!fake.issues(REPO)[0].open);

    let calls: Vec<_> = fake
        .calls()
        .into_iter()
        .map(|c| (c.method, c.path, c.body.unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "POST".into(),
                "/api/v1/repos/acme/infra/issues/3/comments".into(),
                json!({ "body": "planning…" })
            ),
            (
                "PATCH".into(),
                format!("/api/v1/repos/acme/infra/issues/comments/{id}"),
                json!({ "body": "planned" })
            ),
            (
                "POST".into(),
                "/api/v1/repos/acme/infra/statuses/c1".into(),
                json!({ "state": "failure", "context": "plinth/test", "description": "1 of 3 test commands failed" })
            ),
            (
                "POST".into(),
                "/api/v1/repos/acme/infra/issues".into(),
                json!({ "title": "Drift in prod", "body": "details" })
            ),
            (
                "PATCH".into(),
                "/api/v1/repos/acme/infra/issues/4".into(),
                json!({ "title": "Drift in prod", "body": "in sync", "state": "closed" })
            ),
        ]
    );
}

#[tokio::test]
async fn gitea_has_no_limit_and_plinth_caps_it() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 3, FakePull::open("c1"));
    assert_eq!(client.comment_limit(), 262_144);
    // The stand-in, like Gitea, takes more than the cap.
    client
        .post_comment(REPO, 3, &"x".repeat(300_000))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_never_shown() {
    let fake = FakeForge::start(ForgeKind::Gitea).await;
    fake.set_pull(REPO, 3, FakePull::open("g1"));
    let client = fake.client_with_token("gitea-wrongwrongwrong", &fast_retries());
    let err = client.pull_request(REPO, 3).await.unwrap_err();
    assert!(
        matches!(err, ForgeError::Status { status: 401, .. }),
        "{err}"
    );
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains("gitea-wrongwrongwrong"), "{text}");
    assert_eq!(fake.calls()[0].auth, AuthSeen::Invalid);
}

#[tokio::test]
async fn git_gets_the_token_as_basic_user() {
    let (fake, client) = forge().await;
    let auth = client.git_auth(REPO).await.unwrap();
    assert_eq!(basic_pair(&auth), format!("{}:", fake.token()));
}

#[tokio::test]
async fn repository_access_reads_the_tokens_permissions() {
    let (fake, client) = forge().await;
    fake.create_repo(REPO, Permission::Admin);
    fake.create_repo("acme/docs", Permission::Read);
    let access = client.repository_access(REPO).await.unwrap();
    assert_eq!(
        (access.permission, access.can_push()),
        (Some(Permission::Admin), Some(true))
    );
    assert_eq!(fake.calls()[0].path, "/api/v1/repos/acme/infra");
    let docs = client.repository_access("acme/docs").await.unwrap();
    assert_eq!(docs.permission, Some(Permission::Read));
    let err = client.repository_access("acme/unknown").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let wrong = fake.client_with_token("gitea-wrongwrongwrong", &fast_retries());
    let err = wrong.repository_access(REPO).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!format!("{err} {err:?}").contains("gitea-wrongwrongwrong"));
}
