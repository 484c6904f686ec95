//! The GitLab client against the stand-in: `/api/v4`, `PRIVATE-TOKEN`, encoded project paths.

use plinth_forge::fake::{AuthSeen, FakeForge, FakePull, ReviewState, fast_retries};
use plinth_forge::{
    Approval, Forge, ForgeError, ForgeKind, Permission, PullState, Status, StatusState,
};
use serde_json::json;

use super::basic_pair;

const PROJECT: &str = "acme/platform/infra";
const ENCODED: &str = "/api/v4/projects/acme%2Fplatform%2Finfra";

async fn forge() -> (FakeForge, std::sync::Arc<dyn Forge>) {
    let fake = FakeForge::start(ForgeKind::GitLab).await;
    let client = fake.client(&fast_retries());
    (fake, client)
}

#[tokio::test]
async fn merge_request_state_and_mergeability() {
    let (fake, client) = forge().await;
    fake.set_pull(PROJECT, 12, FakePull::open("a1"));
    let info = client.pull_request(PROJECT, 12).await.unwrap();
    assert_eq!(
        (info.head_sha.as_str(), info.state, info.mergeable),
        ("a1", PullState::Open, Some(true))
    );
    fake.update_pull(PROJECT, 12, |p| p.mergeable = None);
    assert_eq!(
        client.pull_request(PROJECT, 12).await.unwrap().mergeable,
        None
    );
    fake.update_pull(PROJECT, 12, |p| {
        p.mergeable = Some(false);
        p.draft = true;
    });
    let info = client.pull_request(PROJECT, 12).await.unwrap();
    assert_eq!((info.mergeable, info.draft), (Some(false), true));
    fake.update_pull(PROJECT, 12, |p| p.state = PullState::Merged);
    assert_eq!(
        client.pull_request(PROJECT, 12).await.unwrap().state,
        PullState::Merged
    );
    let call = &fake.calls()[0];
    assert_eq!(call.path, format!("{ENCODED}/merge_requests/12"));
    assert_eq!(call.auth, AuthSeen::Valid);
}

#[tokio::test]
async fn approvals_are_bound_to_the_head_at_the_time() {
    let (fake, client) = forge().await;
    fake.set_pull(PROJECT, 12, FakePull::open("b2"));
    fake.set_permission(PROJECT, "ann", 21, Permission::Write);
    fake.add_review(
        PROJECT,
        12,
        "ann",
        ReviewState::Approved,
        "ignored-by-gitlab",
    );
    fake.add_review(
        PROJECT,
        12,
        "bob",
        ReviewState::Approved,
        "ignored-by-gitlab",
    );
    fake.add_review(
        PROJECT,
        12,
        "bob",
        ReviewState::Dismissed,
        "ignored-by-gitlab",
    );
    let approvals = client.approvals(PROJECT, 12).await.unwrap();
    assert_eq!(
        approvals,
        [Approval {
            user: "ann".into(),
            commit_sha: Some("b2".into())
        }]
    );
    let paths: Vec<_> = fake.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(
        paths,
        [
            format!("{ENCODED}/merge_requests/12"),
            format!("{ENCODED}/merge_requests/12/approvals")
        ]
    );
}

#[tokio::test]
async fn permissions_by_member_id_or_username() {
    let (fake, client) = forge().await;
    fake.set_permission(PROJECT, "owner", 1, Permission::Admin);
    fake.set_permission(PROJECT, "dev", 2, Permission::Write);
    fake.set_permission(PROJECT, "reporter", 3, Permission::Read);
    fake.set_permission(PROJECT, "leaver", 4, Permission::None);
    assert_eq!(
        client.permission(PROJECT, "owner", Some(1)).await.unwrap(),
        Permission::Admin
    );
    assert_eq!(
        client.permission(PROJECT, "dev", Some(2)).await.unwrap(),
        Permission::Write
    );
    assert_eq!(
        client
            .permission(PROJECT, "reporter", Some(3))
            .await
            .unwrap(),
        Permission::Read
    );
    assert_eq!(
        client.permission(PROJECT, "leaver", Some(4)).await.unwrap(),
        Permission::None
    );
    assert_eq!(fake.calls()[1].path, format!("{ENCODED}/members/all/2"));
    assert_eq!(fake.calls()[3].status, 404);

    // Without the webhook's id, the user is looked up by name first.
    fake.clear_calls();
    assert_eq!(
        client.permission(PROJECT, "dev", None).await.unwrap(),
        Permission::Write
    );
    let calls = fake.calls();
    assert_eq!(
        (calls[0].path.as_str(), calls[0].query.as_deref()),
        ("/api/v4/users", Some("username=dev"))
    );
    assert_eq!(calls[1].path, format!("{ENCODED}/members/all/2"));
    assert_eq!(
        client.permission(PROJECT, "nobody", None).await.unwrap(),
        Permission::None
    );
}

#[tokio::test]
async fn notes_are_posted_then_edited_in_place() {
    let (fake, client) = forge().await;
    fake.set_pull(PROJECT, 12, FakePull::open("c1"));
    let id = client.post_comment(PROJECT, 12, "planning…").await.unwrap();
    client
        .edit_comment(PROJECT, 12, id, "planned")
        .await
        .unwrap();
    let notes = fake.comments(PROJECT, 12);
    assert_eq!(
        (notes.len(), notes[0].body.as_str(), notes[0].edits),
        (1, "planned", 1)
    );
    let calls = fake.calls();
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.clone()),
        ("POST", format!("{ENCODED}/merge_requests/12/notes"))
    );
    assert_eq!(
        (calls[1].method.as_str(), calls[1].path.clone()),
        ("PUT", format!("{ENCODED}/merge_requests/12/notes/{id}"))
    );
    assert_eq!(calls[1].body, Some(json!({ "body": "planned" })));
    // A note of another merge request is not found under this one.
    fake.set_pull(PROJECT, 13, FakePull::open("c2"));
    assert!(
        client
            .edit_comment(PROJECT, 13, id, "x")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn the_note_limit_is_gitlabs() {
    let (fake, client) = forge().await;
    fake.set_pull(PROJECT, 12, FakePull::open("c1"));
    assert_eq!(client.comment_limit(), 1_000_000);
    client
        .post_comment(PROJECT, 12, &"x".repeat(1_000_000))
        .await
        .unwrap();
    let err = client
        .post_comment(PROJECT, 12, &"x".repeat(1_000_001))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("is too long"), "{err}");
}

#[tokio::test]
async fn statuses_use_gitlabs_names_and_states() {
    let (fake, client) = forge().await;
    for (state, word) in [
        (StatusState::Pending, "pending"),
        (StatusState::Success, "success"),
        (StatusState::Failure, "failed"),
        (StatusState::Error, "failed"),
    ] {
        let status = Status {
            context: "plinth/apply/prod".into(),
            state,
            description: "applied 3 instances".into(),
            target_url: Some("https://plinth.example.com/v1/jobs/9".into()),
        };
        client.set_status(PROJECT, "d1", &status).await.unwrap();
        assert_eq!(
            fake.latest_status(PROJECT, "d1", "plinth/apply/prod")
                .unwrap()
                .state,
            word
        );
    }
    let call = &fake.calls()[0];
    assert_eq!(call.path, format!("{ENCODED}/statuses/d1"));
    assert_eq!(
        call.body,
        Some(json!({
            "state": "pending",
            "name": "plinth/apply/prod",
            "description": "applied 3 instances",
            "target_url": "https://plinth.example.com/v1/jobs/9"
        }))
    );
}

#[tokio::test]
async fn issues_are_created_and_closed() {
    let (fake, client) = forge().await;
    fake.set_pull(PROJECT, 12, FakePull::open("e1"));
    let iid = client
        .create_issue(PROJECT, "Drift in prod", "details")
        .await
        .unwrap();
    // GitLab numbers issues apart from merge requests.
    assert_eq!(iid, 1);
    client
        .update_issue(PROJECT, iid, "Drift in prod", "in sync", false)
        .await
        .unwrap();
    let issue = &fake.issues(PROJECT)[0];
    assert_eq!((issue.body.as_str(), issue.open), ("in sync", false));
    let calls = fake.calls();
    assert_eq!(
        calls[0].body,
        Some(json!({ "title": "Drift in prod", "description": "details" }))
    );
    assert_eq!(
        (calls[1].method.as_str(), calls[1].path.clone()),
        ("PUT", format!("{ENCODED}/issues/1"))
    );
    assert_eq!(calls[1].body.as_ref().unwrap()["state_event"], "close");
    client
        .update_issue(PROJECT, iid, "Drift in prod", "drifted again", true)
        .await
        .unwrap();
    assert!(fake.issues(PROJECT)[0].open);
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_never_shown() {
    let fake = FakeForge::start(ForgeKind::GitLab).await;
    fake.set_pull(PROJECT, 12, FakePull::open("g1"));
    let client = fake.client_with_token("glpat-wrongwrongwrong", &fast_retries());
    let err = client.pull_request(PROJECT, 12).await.unwrap_err();
    assert!(
        matches!(err, ForgeError::Status { status: 401, .. }),
        "{err}"
    );
    let text = format!("{err} {err:?} {client:?}");
    assert!(text.contains("401 Unauthorized"), "{text}");
    assert!(!text.contains("glpat-wrongwrongwrong"), "{text}");
    assert_eq!(fake.calls()[0].auth, AuthSeen::Invalid);
}

#[tokio::test]
async fn git_gets_a_basic_header_for_oauth2() {
    let (fake, client) = forge().await;
    let auth = client.git_auth(PROJECT).await.unwrap();
    assert_eq!(basic_pair(&auth), format!("oauth2:{}", fake.token()));
}

#[tokio::test]
async fn repository_access_reads_the_membership_level() {
    let (fake, client) = forge().await;
    fake.create_repo(PROJECT, Permission::Write);
    fake.create_repo("acme/docs", Permission::Read);
    fake.create_repo("acme/secret", Permission::None);
    let access = client.repository_access(PROJECT).await.unwrap();
    assert_eq!(
        (access.permission, access.can_push()),
        (Some(Permission::Write), Some(true))
    );
    assert_eq!(access.default_branch.as_deref(), Some("main"));
    assert_eq!(fake.calls()[0].path, ENCODED);
    let docs = client.repository_access("acme/docs").await.unwrap();
    assert_eq!(docs.can_push(), Some(false));
    let err = client.repository_access("acme/secret").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let wrong = fake.client_with_token("glpat-wrongwrongwrong", &fast_retries());
    let err = wrong.repository_access(PROJECT).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.to_string().contains("401 Unauthorized"), "{err}");
    assert!(!format!("{err} {err:?}").contains("glpat-wrongwrongwrong"));
}
