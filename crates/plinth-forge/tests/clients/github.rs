//! The GitHub client against the stand-in: what it reads and exactly what it sends.

use plinth_forge::fake::{AuthSeen, FakeForge, FakePull, ReviewState, fast_retries};
use plinth_forge::{
    Approval, CommentId, Forge, ForgeError, ForgeKind, Permission, PullState, Status, StatusState,
};
use serde_json::json;

use super::basic_pair;

const REPO: &str = "acme/infra";

async fn forge() -> (FakeForge, std::sync::Arc<dyn Forge>) {
    let fake = FakeForge::start(ForgeKind::GitHub).await;
    let client = fake.client(&fast_retries());
    (fake, client)
}

#[tokio::test]
async fn pull_request_state_mergeability_and_draft() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("a1"));
    let info = client.pull_request(REPO, 7).await.unwrap();
    assert_eq!(
        (info.head_sha.as_str(), info.base_ref.as_str(), info.state),
        ("a1", "main", PullState::Open)
    );
    assert_eq!(
        (info.mergeable, info.draft, info.author.as_str()),
        (Some(true), false, "octocat")
    );

    fake.update_pull(REPO, 7, |p| {
        p.mergeable = None;
        p.draft = true;
    });
    let info = client.pull_request(REPO, 7).await.unwrap();
    assert_eq!((info.mergeable, info.draft), (None, true));

    fake.update_pull(REPO, 7, |p| p.state = PullState::Merged);
    assert_eq!(
        client.pull_request(REPO, 7).await.unwrap().state,
        PullState::Merged
    );
    fake.update_pull(REPO, 7, |p| p.state = PullState::Closed);
    assert_eq!(
        client.pull_request(REPO, 7).await.unwrap().state,
        PullState::Closed
    );

    let calls = fake.calls();
    assert_eq!(calls.len(), 4);
    for call in &calls {
        assert_eq!(
            (call.method.as_str(), call.path.as_str()),
            ("GET", "/repos/acme/infra/pulls/7")
        );
        assert_eq!(call.auth, AuthSeen::Valid);
        assert_eq!(call.status, 200);
    }

    let err = client.pull_request(REPO, 8).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.to_string(),
        "github GET /repos/acme/infra/pulls/8: 404 Not Found"
    );
}

#[tokio::test]
async fn approvals_are_each_reviewers_latest_verdict() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("b2"));
    fake.add_review(REPO, 7, "ann", ReviewState::Approved, "b1");
    fake.add_review(REPO, 7, "bob", ReviewState::Approved, "b2");
    fake.add_review(REPO, 7, "ann", ReviewState::Commented, "b2");
    fake.add_review(REPO, 7, "cid", ReviewState::Approved, "b2");
    fake.add_review(REPO, 7, "cid", ReviewState::ChangesRequested, "b2");
    fake.add_review(REPO, 7, "dan", ReviewState::Approved, "b2");
    fake.add_review(REPO, 7, "dan", ReviewState::Dismissed, "b2");
    let approvals = client.approvals(REPO, 7).await.unwrap();
    assert_eq!(
        approvals,
        [
            Approval {
                user: "ann".into(),
                commit_sha: Some("b1".into())
            },
            Approval {
                user: "bob".into(),
                commit_sha: Some("b2".into())
            },
        ]
    );
    let call = &fake.calls()[0];
    assert_eq!(call.path, "/repos/acme/infra/pulls/7/reviews");
    assert_eq!(call.query.as_deref(), Some("per_page=100"));
}

#[tokio::test]
async fn approvals_follow_every_page() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("c1"));
    for i in 0..230 {
        fake.add_review(
            REPO,
            7,
            &format!("reviewer{i:03}"),
            ReviewState::Approved,
            "c1",
        );
    }
    let approvals = client.approvals(REPO, 7).await.unwrap();
    assert_eq!(approvals.len(), 230);
    let pages: Vec<_> = fake.calls().into_iter().map(|c| c.query.unwrap()).collect();
    assert_eq!(
        pages,
        ["per_page=100", "per_page=100&page=2", "per_page=100&page=3"]
    );
}

#[tokio::test]
async fn permissions_map_githubs_roles() {
    let (fake, client) = forge().await;
    fake.set_permission(REPO, "lead", 1, Permission::Admin);
    fake.set_permission(REPO, "dev", 2, Permission::Write);
    fake.set_permission(REPO, "viewer", 3, Permission::Read);
    for (user, want) in [
        ("lead", Permission::Admin),
        ("dev", Permission::Write),
        ("viewer", Permission::Read),
        ("stranger", Permission::None),
    ] {
        assert_eq!(
            client.permission(REPO, user, None).await.unwrap(),
            want,
            "{user}"
        );
    }
    assert_eq!(
        fake.calls()[0].path,
        "/repos/acme/infra/collaborators/lead/permission"
    );
    // The 404 for a stranger was answered, and taken as no permission.
    assert_eq!(fake.calls()[3].status, 404);
}

#[tokio::test]
async fn a_comment_is_posted_then_edited_in_place() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("d1"));
    let id = client
        .post_comment(REPO, 7, "## plinth\nplanning…")
        .await
        .unwrap();
    client
        .edit_comment(REPO, 7, id, "## plinth\n2 to add")
        .await
        .unwrap();
    let comments = fake.comments(REPO, 7);
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (
            CommentId(comments[0].id),
            comments[0].body.as_str(),
            comments[0].edits
        ),
        (id, "## plinth\n2 to add", 1)
    );
    let calls = fake.calls();
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("POST", "/repos/acme/infra/issues/7/comments")
    );
    assert_eq!(
        calls[0].body,
        Some(json!({ "body": "## plinth\nplanning…" }))
    );
    assert_eq!(
        (calls[1].method.as_str(), calls[1].path.clone()),
        ("PATCH", format!("/repos/acme/infra/issues/comments/{id}"))
    );
    assert_eq!(
        calls[1].body,
        Some(json!({ "body": "## plinth\n2 to add" }))
    );
}

#[tokio::test]
async fn the_comment_limit_is_githubs() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("d1"));
    let limit = client.comment_limit();
    assert_eq!(limit, 65_536);
    client
        .post_comment(REPO, 7, &"é".repeat(limit))
        .await
        .unwrap();
    let err = client
        .post_comment(REPO, 7, &"x".repeat(limit + 1))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.to_string().contains("body is too long"), "{err}");
}

#[tokio::test]
async fn statuses_send_state_context_a_cut_description_and_the_link() {
    let (fake, client) = forge().await;
    let long = "x".repeat(200);
    for (state, word) in [
        (StatusState::Pending, "pending"),
        (StatusState::Success, "success"),
        (StatusState::Failure, "failure"),
        (StatusState::Error, "error"),
    ] {
        let status = Status {
            context: "plinth/plan".into(),
            state,
            description: long.clone(),
            target_url: Some("https://plinth.example.com/v1/pulls/acme/infra/7".into()),
        };
        client.set_status(REPO, "e1", &status).await.unwrap();
        let got = fake.latest_status(REPO, "e1", "plinth/plan").unwrap();
        assert_eq!(got.state, word);
        assert_eq!(got.description.chars().count(), 140);
        assert!(got.description.ends_with('…'));
    }
    let call = &fake.calls()[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/repos/acme/infra/statuses/e1")
    );
    assert_eq!(
        call.body.as_ref().unwrap()["target_url"],
        "https://plinth.example.com/v1/pulls/acme/infra/7"
    );
    let no_link = Status {
        context: "plinth/apply/prod".into(),
        state: StatusState::Pending,
        description: "queued behind #3".into(),
        target_url: None,
    };
    client.set_status(REPO, "e1", &no_link).await.unwrap();
    assert_eq!(
        fake.calls().last().unwrap().body,
        Some(
            json!({ "state": "pending", "context": "plinth/apply/prod", "description": "queued behind #3" })
        )
    );
}

#[tokio::test]
async fn issues_are_created_updated_and_closed() {
    let (fake, client) = forge().await;
    fake.set_pull(REPO, 7, FakePull::open("f1"));
    let number = client
        .create_issue(REPO, "Drift in prod", "2 instances drifted")
        .await
        .unwrap();
    // Issues and pull requests share numbers on GitHub.
    assert_eq!(number, 8);
    client
        .update_issue(REPO, number, "Drift in prod", "1 instance drifted", true)
        .await
        .unwrap();
    client
        .update_issue(REPO, number, "Drift in prod", "back in sync", false)
        .await
        .unwrap();
    let issue = &fake.issues(REPO)[0];
    assert_eq!((issue.body.as_str(), issue.open), ("back in sync", false));
    let calls = fake.calls();
    assert_eq!(
        calls[0].body,
        Some(json!({ "title": "Drift in prod", "body": "2 instances drifted" }))
    );
    assert_eq!(
        (calls[2].method.as_str(), calls[2].path.as_str()),
        ("PATCH", "/repos/acme/infra/issues/8")
    );
    assert_eq!(calls[2].body.as_ref().unwrap()["state"], "closed");
    assert_eq!(calls[1].body.as_ref().unwrap()["state"], "open");
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_never_shown() {
    let fake = FakeForge::start(ForgeKind::GitHub).await;
    fake.set_pull(REPO, 7, FakePull::open("g1"));
    let client = fake.client_with_token("ghp_wrongwrongwrong", &fast_retries());
    let err = client.pull_request(REPO, 7).await.unwrap_err();
    assert!(
        matches!(err, ForgeError::Status { status: 401, .. }),
        "{err}"
    );
    let text = format!("{err} {err:?} {client:?}");
    assert!(text.contains("Bad credentials"), "{text}");
    assert!(!text.contains("ghp_wrongwrongwrong"), "{text}");
    assert_eq!(fake.calls()[0].auth, AuthSeen::Invalid);
    // The good client's Debug hides its token too.
    let good = fake.client(&fast_retries());
    assert!(!format!("{good:?}").contains(fake.token()));
}

#[tokio::test]
async fn git_gets_a_basic_header_for_x_access_token() {
    let (fake, client) = forge().await;
    let auth = client.git_auth(REPO).await.unwrap();
    assert_eq!(
        basic_pair(&auth),
        format!("x-access-token:{}", fake.token())
    );
    assert_eq!(
        auth.header_line(),
        format!("Authorization: {}", auth.value())
    );
    let env = auth.git_env();
    assert_eq!(
        env[1],
        (
            "GIT_CONFIG_KEY_0".to_string(),
            "http.extraHeader".to_string()
        )
    );
    assert_eq!(env[2].1, auth.header_line());
    assert!(!format!("{auth:?}").contains(auth.value()));
}

#[tokio::test]
async fn bad_repository_names_are_refused_before_any_call() {
    let (fake, client) = forge().await;
    for repo in ["acme", "acme/infra/extra", "acme/.."] {
        let err = client.pull_request(repo, 1).await.unwrap_err();
        assert!(matches!(err, ForgeError::Invalid(_)), "{repo}: {err}");
    }
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn repository_access_reads_the_tokens_permissions() {
    let (fake, client) = forge().await;
    fake.create_repo(REPO, Permission::Write);
    fake.create_repo("acme/docs", Permission::Read);
    fake.create_repo("acme/secret", Permission::None);
    let access = client.repository_access(REPO).await.unwrap();
    assert_eq!(access.permission, Some(Permission::Write));
    assert_eq!(access.can_push(), Some(true));
    assert_eq!(access.default_branch.as_deref(), Some("main"));
    let docs = client.repository_access("acme/docs").await.unwrap();
    assert_eq!(
        (docs.permission, docs.can_push()),
        (Some(Permission::Read), Some(false))
    );
    for hidden in ["acme/secret", "acme/unknown"] {
        let err = client.repository_access(hidden).await.unwrap_err();
        assert_eq!(err.status(), Some(404), "{err}");
        assert_eq!(
            err.to_string(),
            format!("github GET /repos/{hidden}: 404 Not Found")
        );
    }
    let call = &fake.calls()[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str(), call.auth),
        ("GET", "/repos/acme/infra", AuthSeen::Valid)
    );

    let wrong = fake.client_with_token("ghp_wrongwrongwrong", &fast_retries());
    let err = wrong.repository_access(REPO).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!format!("{err} {err:?}").contains("ghp_wrongwrongwrong"));
}
