//! Gitea's pull_request, pull_request_sync and comment hooks, built to its payload types.

use plinth_forge::fake::payloads::gitea::{GiteaPull, comment_on_issue, push};
use plinth_forge::{CommentEvent, Event, ForgeKind, PullAction, PullRequestEvent};

use super::{SECRET, ignored_reason, receive};

const REPO: &str = "acme/infra";
const HEAD: &str = "bffeb74224043ba2feb48d137756c8a9331c449a";

fn pull_request() -> GiteaPull {
    let mut p = GiteaPull::new(REPO, 3, HEAD);
    p.head_ref = "change-network".into();
    p.author = "alice".into();
    p.sender = "alice".into();
    p
}

fn pull(event: Event) -> PullRequestEvent {
    match event {
        Event::PullRequest(pr) => pr,
        other => panic!("expected a pull request event, got {other:?}"),
    }
}

#[test]
fn opened_carries_the_pull_request() {
    let p = pull_request();
    let pr = pull(receive(
        ForgeKind::Gitea,
        &p.event("opened").delivery(SECRET),
    ));
    assert_eq!(
        pr,
        PullRequestEvent {
            repo: REPO.into(),
            number: 3,
            action: PullAction::Opened,
            head_sha: HEAD.into(),
            head_ref: "change-network".into(),
            base_ref: "main".into(),
            base_sha: Some(p.base_sha.clone()),
            draft: false,
            author: Some("alice".into()),
            sender: "alice".into(),
            clone_url: "http://localhost:3000/acme/infra.git".into(),
            merge_commit_sha: None,
        }
    );
}

#[test]
fn reopened_synchronized_closed_and_merged() {
    let merge = "cafecafecafecafecafecafecafecafecafecafe";
    let cases = [
        (pull_request().event("reopened"), PullAction::Reopened, None),
        (pull_request().synchronized(), PullAction::Synchronize, None),
        (
            pull_request().event("closed"),
            PullAction::Closed { merged: false },
            None,
        ),
        (
            pull_request().merged(merge),
            PullAction::Closed { merged: true },
            Some(merge),
        ),
    ];
    for (payload, want, merge_sha) in cases {
        let pr = pull(receive(ForgeKind::Gitea, &payload.delivery(SECRET)));
        assert_eq!(pr.action, want, "{}", payload.event);
        assert_eq!(pr.merge_commit_sha.as_deref(), merge_sha);
    }
}

#[test]
fn the_sync_event_is_read_from_the_coarse_header_too() {
    // Gitea before 1.17 sent only X-Gitea-Event.
    let d = pull_request()
        .synchronized()
        .delivery(SECRET)
        .with_header("x-gitea-event-type", None);
    assert_eq!(d.headers["x-gitea-event"], "pull_request");
    assert_eq!(
        pull(receive(ForgeKind::Gitea, &d)).action,
        PullAction::Synchronize
    );
}

#[test]
fn drafts_from_the_field_or_a_wip_title() {
    let mut p = pull_request();
    p.draft = Some(true);
    assert!(
        pull(receive(
            ForgeKind::Gitea,
            &p.event("opened").delivery(SECRET)
        ))
        .draft
    );
    let mut old = pull_request();
    old.draft = None;
    old.title = "WIP: change the network".into();
    assert!(
        pull(receive(
            ForgeKind::Gitea,
            &old.event("opened").delivery(SECRET)
        ))
        .draft
    );
    old.title = "Change the network".into();
    assert!(
        !pull(receive(
            ForgeKind::Gitea,
            &old.event("opened").delivery(SECRET)
        ))
        .draft
    );
}

#[test]
fn labels_and_edits_are_ignored() {
    let reason = ignored_reason(receive(
        ForgeKind::Gitea,
        &pull_request().labeled().delivery(SECRET),
    ));
    assert!(reason.contains("pull_request_label"), "{reason}");
    let reason = ignored_reason(receive(
        ForgeKind::Gitea,
        &pull_request().event("edited").delivery(SECRET),
    ));
    assert!(reason.contains("edited"), "{reason}");
}

#[test]
fn a_comment_on_a_pull_request() {
    let p = pull_request().comment(91, "plinth plan dev", ("bob", 12), "created");
    assert_eq!(p.event, "pull_request_comment");
    let d = p.delivery(SECRET);
    assert_eq!(d.headers["x-gitea-event"], "issue_comment");
    match receive(ForgeKind::Gitea, &d) {
        Event::Comment(c) => assert_eq!(
            c,
            CommentEvent {
                repo: REPO.into(),
                number: 3,
                comment_id: 91,
                author: "bob".into(),
                author_id: Some(12),
                body: "plinth plan dev".into(),
            }
        ),
        other => panic!("{other:?}"),
    }
    // Read from `X-Gitea-Event: issue_comment` with `is_pull` alone as well.
    let old = d.with_header("x-gitea-event-type", None);
    assert!(matches!(receive(ForgeKind::Gitea, &old), Event::Comment(_)));
}

#[test]
fn edited_bot_and_issue_comments_are_ignored() {
    let edited = pull_request().comment(92, "plinth apply prod", ("bob", 12), "edited");
    assert!(ignored_reason(receive(ForgeKind::Gitea, &edited.delivery(SECRET))).contains("edited"));
    let deleted = pull_request().comment(93, "plinth apply prod", ("bob", 12), "deleted");
    assert!(
        ignored_reason(receive(ForgeKind::Gitea, &deleted.delivery(SECRET))).contains("deleted")
    );
    // Gitea Actions comments as a user with a negative id.
    let bot = pull_request().comment(94, "plinth apply prod", ("gitea-actions", -2), "created");
    assert!(
        ignored_reason(receive(ForgeKind::Gitea, &bot.delivery(SECRET))).contains("gitea-actions")
    );
    let issue = comment_on_issue(REPO, 5, 95, "plinth plan");
    assert!(
        ignored_reason(receive(ForgeKind::Gitea, &issue.delivery(SECRET)))
            .contains("not a pull request")
    );
}

#[test]
fn pushes_are_ignored_with_their_repository() {
    let p = push(REPO, "28e1879d029cb852e4844d9c718537df08844e03", HEAD);
    match receive(ForgeKind::Gitea, &p.delivery(SECRET)) {
        Event::Ignored { reason, repo } => {
            assert!(reason.contains("push"), "{reason}");
            assert_eq!(repo.as_deref(), Some(REPO));
        }
        other => panic!("{other:?}"),
    }
}
