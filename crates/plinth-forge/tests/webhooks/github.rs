//! GitHub's real payloads (`@octokit/webhooks-examples`), re-pointed at a test repository.

use plinth_forge::fake::payloads::github::{GitHubPayload, OctokitExamples};
use plinth_forge::{CommentEvent, Event, ForgeKind, PullAction, PullRequestEvent};

use super::{SECRET, ignored_reason, receive};

const REPO: &str = "acme/infra";
const CLONE: &str = "file:///tmp/plinth-test/acme-infra.git";
const HEAD: &str = "1111111111111111111111111111111111111111";
const BASE: &str = "2222222222222222222222222222222222222222";

fn examples() -> &'static OctokitExamples {
    OctokitExamples::get()
}

fn repointed(p: GitHubPayload) -> GitHubPayload {
    p.repo(REPO)
        .clone_url(CLONE)
        .number(7)
        .head(HEAD)
        .head_ref("change-network")
        .base(BASE, "main")
}

fn pull(event: Event) -> PullRequestEvent {
    match event {
        Event::PullRequest(pr) => pr,
        other => panic!("expected a pull request event, got {other:?}"),
    }
}

fn comment(event: Event) -> CommentEvent {
    match event {
        Event::Comment(c) => c,
        other => panic!("expected a comment, got {other:?}"),
    }
}

#[test]
fn opened_carries_the_repointed_fields() {
    let p = repointed(examples().example("pull_request", Some("opened")));
    let pr = pull(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
    assert_eq!(
        pr,
        PullRequestEvent {
            repo: REPO.into(),
            number: 7,
            action: PullAction::Opened,
            head_sha: HEAD.into(),
            head_ref: "change-network".into(),
            base_ref: "main".into(),
            base_sha: Some(BASE.into()),
            draft: false,
            author: Some("Codertocat".into()),
            sender: "Codertocat".into(),
            clone_url: CLONE.into(),
            merge_commit_sha: None,
        }
    );
}

#[test]
fn every_pull_request_example_decodes_to_its_action_or_is_ignored() {
    let all = examples().all("pull_request");
    assert!(all.len() > 20, "{} examples", all.len());
    let mut acted = 0;
    for p in all {
        let action = p.json["action"].as_str().unwrap().to_string();
        let event = receive(ForgeKind::GitHub, &repointed(p).delivery(SECRET));
        let expected = match action.as_str() {
            "opened" => Some(PullAction::Opened),
            "reopened" => Some(PullAction::Reopened),
            "synchronize" => Some(PullAction::Synchronize),
            "ready_for_review" => Some(PullAction::ReadyForReview),
            "closed" => Some(PullAction::Closed { merged: false }),
            _ => None,
        };
        match (expected, event) {
            (Some(want), Event::PullRequest(pr)) => {
                acted += 1;
                assert_eq!(pr.action, want, "{action}");
                assert_eq!((pr.repo.as_str(), pr.number), (REPO, 7), "{action}");
                assert_eq!(pr.head_sha, HEAD, "{action}");
            }
            (None, Event::Ignored { reason, repo }) => {
                assert!(reason.contains(&action), "{action}: {reason}");
                assert_eq!(repo.as_deref(), Some(REPO), "{action}");
            }
            (want, got) => panic!("{action}: expected {want:?}, got {got:?}"),
        }
    }
    // The package has several examples of each of the five actions plinth acts on.
    assert!(acted >= 10, "{acted}");
}

#[test]
fn synchronize_reopened_and_ready_for_review() {
    for (action, want) in [
        ("synchronize", PullAction::Synchronize),
        ("reopened", PullAction::Reopened),
        ("ready_for_review", PullAction::ReadyForReview),
    ] {
        let p = repointed(examples().example("pull_request", Some(action)));
        let pr = pull(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
        assert_eq!(pr.action, want);
        assert_eq!(pr.head_sha, HEAD);
    }
}

#[test]
fn closed_without_merge_drops_githubs_test_merge_commit() {
    let p = examples().example("pull_request", Some("closed"));
    // The example carries a merge_commit_sha although it was not merged.
    assert!(p.json["pull_request"]["merge_commit_sha"].is_string());
    assert_eq!(p.json["pull_request"]["merged"], false);
    let pr = pull(receive(ForgeKind::GitHub, &repointed(p).delivery(SECRET)));
    assert_eq!(pr.action, PullAction::Closed { merged: false });
    assert_eq!(pr.merge_commit_sha, None);
}

#[test]
fn closed_by_a_merge_names_the_merge_commit() {
    let merge = "3333333333333333333333333333333333333333";
    let p = repointed(examples().example("pull_request", Some("closed"))).merged(merge);
    let pr = pull(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
    assert_eq!(pr.action, PullAction::Closed { merged: true });
    assert_eq!(pr.merge_commit_sha.as_deref(), Some(merge));
}

#[test]
fn drafts_are_flagged() {
    let p = repointed(examples().example("pull_request", Some("opened"))).draft(true);
    assert!(pull(receive(ForgeKind::GitHub, &p.delivery(SECRET))).draft);
}

#[test]
fn a_comment_created_on_a_pull_request() {
    let p = repointed(examples().example("issue_comment", Some("created")))
        .on_pull_request()
        .comment(555, "plinth plan staging")
        .commenter("sre-oncall", 4242);
    let c = comment(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
    assert_eq!(
        c,
        CommentEvent {
            repo: REPO.into(),
            number: 7,
            comment_id: 555,
            author: "sre-oncall".into(),
            author_id: Some(4242),
            body: "plinth plan staging".into(),
        }
    );
}

#[test]
fn comments_on_plain_issues_are_ignored() {
    // Every issue_comment example in the package is on a plain issue.
    for p in examples().all("issue_comment") {
        let action = p.json["action"].as_str().unwrap().to_string();
        let reason = ignored_reason(receive(ForgeKind::GitHub, &repointed(p).delivery(SECRET)));
        if action == "created" {
            assert!(reason.contains("not a pull request"), "{reason}");
        } else {
            assert!(reason.contains(&action), "{reason}");
        }
    }
}

#[test]
fn edited_and_deleted_comments_on_pull_requests_are_ignored() {
    for action in ["edited", "deleted"] {
        let p = repointed(examples().example("issue_comment", Some(action))).on_pull_request();
        let reason = ignored_reason(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
        assert!(reason.contains(action), "{reason}");
    }
}

#[test]
fn comments_by_bots_are_ignored() {
    let p = repointed(examples().example("issue_comment", Some("created")))
        .on_pull_request()
        .comment(556, "plinth apply prod")
        .bot_commenter("dependabot");
    let reason = ignored_reason(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
    assert!(reason.contains("dependabot[bot]"), "{reason}");

    // A `type: Bot` sender without the suffix counts too.
    let mut p = repointed(examples().example("issue_comment", Some("created"))).on_pull_request();
    p.json["sender"]["type"] = "Bot".into();
    let reason = ignored_reason(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
    assert!(reason.contains("bot"), "{reason}");
}

#[test]
fn pings_pushes_and_reviews_are_ignored() {
    for event in ["ping", "push", "pull_request_review", "installation"] {
        for p in examples().all(event) {
            let event_name = p.event.clone();
            let reason = ignored_reason(receive(ForgeKind::GitHub, &p.delivery(SECRET)));
            assert!(reason.contains(&event_name), "{reason}");
        }
    }
    let p = repointed(examples().example("push", None));
    match receive(ForgeKind::GitHub, &p.delivery(SECRET)) {
        Event::Ignored { repo, .. } => assert_eq!(repo.as_deref(), Some(REPO)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn events_round_trip_through_json_for_job_rows() {
    let merged = repointed(examples().example("pull_request", Some("closed")))
        .merged("3333333333333333333333333333333333333333");
    let event = receive(ForgeKind::GitHub, &merged.delivery(SECRET));
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["kind"], "pull_request");
    assert_eq!(
        json["action"],
        serde_json::json!({ "closed": { "merged": true } })
    );
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    let ignored = receive(
        ForgeKind::GitHub,
        &examples().example("ping", None).delivery(SECRET),
    );
    let back: Event = serde_json::from_str(&serde_json::to_string(&ignored).unwrap()).unwrap();
    assert_eq!(back, ignored);
}
