//! GitLab's Merge Request and Note hooks, built to the documented payloads.

use plinth_forge::fake::payloads::gitlab::{GitLabMergeRequest, note_on_issue, push};
use plinth_forge::webhook::{DecodeError, decode};
use plinth_forge::{CommentEvent, Event, ForgeKind, PullAction, PullRequestEvent};

use super::{SECRET, ignored_reason, receive};

const PROJECT: &str = "acme/platform/infra";
const HEAD: &str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

fn mr() -> GitLabMergeRequest {
    let mut mr = GitLabMergeRequest::new(PROJECT, 12, HEAD);
    mr.source_branch = "change-network".into();
    mr.user = ("jsmith".into(), 4);
    mr
}

fn pull(event: Event) -> PullRequestEvent {
    match event {
        Event::PullRequest(pr) => pr,
        other => panic!("expected a merge request event, got {other:?}"),
    }
}

#[test]
fn open_carries_the_merge_request() {
    let pr = pull(receive(
        ForgeKind::GitLab,
        &mr().event("open").delivery(SECRET),
    ));
    assert_eq!(
        pr,
        PullRequestEvent {
            repo: PROJECT.into(),
            number: 12,
            action: PullAction::Opened,
            head_sha: HEAD.into(),
            head_ref: "change-network".into(),
            base_ref: "main".into(),
            base_sha: None,
            draft: false,
            author: None,
            sender: "jsmith".into(),
            clone_url: "http://example.com/acme/platform/infra.git".into(),
            merge_commit_sha: None,
        }
    );
}

#[test]
fn each_action_maps_to_its_meaning() {
    let cases = [
        (mr().event("reopen"), PullAction::Reopened),
        (
            mr().pushed("95790bf891e76fee5e1747ab589903a6a1f80f22"),
            PullAction::Synchronize,
        ),
        (mr().marked_ready(), PullAction::ReadyForReview),
        (mr().event("close"), PullAction::Closed { merged: false }),
        (
            mr().merged("f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"),
            PullAction::Closed { merged: true },
        ),
    ];
    for (payload, want) in cases {
        let pr = pull(receive(ForgeKind::GitLab, &payload.delivery(SECRET)));
        assert_eq!(pr.action, want);
        let merge = pr.merge_commit_sha.as_deref();
        if want == (PullAction::Closed { merged: true }) {
            assert_eq!(merge, Some("f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"));
        } else {
            assert_eq!(merge, None);
        }
    }
}

#[test]
fn updates_without_new_commits_and_other_actions_are_ignored() {
    let reason = ignored_reason(receive(
        ForgeKind::GitLab,
        &mr().retitled().delivery(SECRET),
    ));
    assert!(reason.contains("without new commits"), "{reason}");
    for action in ["approved", "unapproved", "approval", "unapproval"] {
        let reason = ignored_reason(receive(
            ForgeKind::GitLab,
            &mr().event(action).delivery(SECRET),
        ));
        assert!(reason.contains(action), "{reason}");
    }
}

#[test]
fn drafts_are_flagged_from_draft_or_work_in_progress() {
    let mut draft = mr();
    draft.draft = true;
    assert!(
        pull(receive(
            ForgeKind::GitLab,
            &draft.event("open").delivery(SECRET)
        ))
        .draft
    );
    // Older GitLab sent only `work_in_progress`.
    let mut old = mr().event("open");
    old.json["object_attributes"]
        .as_object_mut()
        .unwrap()
        .remove("draft");
    old.json["object_attributes"]["work_in_progress"] = true.into();
    assert!(pull(receive(ForgeKind::GitLab, &old.delivery(SECRET))).draft);
}

#[test]
fn a_note_on_a_merge_request_is_a_comment_with_the_author_id() {
    let p = mr().note(1244, "plinth apply staging", ("sre-oncall", 77));
    match receive(ForgeKind::GitLab, &p.delivery(SECRET)) {
        Event::Comment(c) => assert_eq!(
            c,
            CommentEvent {
                repo: PROJECT.into(),
                number: 12,
                comment_id: 1244,
                author: "sre-oncall".into(),
                author_id: Some(77),
                body: "plinth apply staging".into(),
            }
        ),
        other => panic!("{other:?}"),
    }
    // Before GitLab 16.11 notes had no `action`; they were all creations.
    let mut old = mr().note(1245, "plinth plan", ("sre-oncall", 77));
    old.json["object_attributes"]
        .as_object_mut()
        .unwrap()
        .remove("action");
    assert!(matches!(
        receive(ForgeKind::GitLab, &old.delivery(SECRET)),
        Event::Comment(_)
    ));
}

#[test]
fn edited_system_bot_and_issue_notes_are_ignored() {
    let edited = mr().note_with_action(1246, "plinth apply prod", ("sre-oncall", 77), "update");
    assert!(
        ignored_reason(receive(ForgeKind::GitLab, &edited.delivery(SECRET))).contains("update")
    );

    let mut system = mr().note(1247, "added 1 commit", ("jsmith", 4));
    system.json["object_attributes"]["system"] = true.into();
    assert!(
        ignored_reason(receive(ForgeKind::GitLab, &system.delivery(SECRET))).contains("system")
    );

    // The user behind a project access token.
    let bot = mr().note(1248, "plinth apply prod", ("project_15_bot_3f2a", 901));
    let reason = ignored_reason(receive(ForgeKind::GitLab, &bot.delivery(SECRET)));
    assert!(reason.contains("project_15_bot_3f2a"), "{reason}");
    // A person whose name merely starts alike is not a bot.
    let person = mr().note(1249, "plinth plan", ("project_manager", 902));
    assert!(matches!(
        receive(ForgeKind::GitLab, &person.delivery(SECRET)),
        Event::Comment(_)
    ));

    let issue = note_on_issue(PROJECT, 17, 1241, "plinth plan");
    let reason = ignored_reason(receive(ForgeKind::GitLab, &issue.delivery(SECRET)));
    assert!(reason.contains("Issue"), "{reason}");
}

#[test]
fn pushes_are_ignored_with_their_project() {
    let p = push(PROJECT, "95790bf891e76fee5e1747ab589903a6a1f80f22", HEAD);
    match receive(ForgeKind::GitLab, &p.delivery(SECRET)) {
        Event::Ignored { reason, repo } => {
            assert!(reason.contains("Push Hook"), "{reason}");
            assert_eq!(repo.as_deref(), Some(PROJECT));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_merge_request_hook_without_its_commit_is_an_error() {
    let mut p = mr().event("open");
    p.json["object_attributes"]
        .as_object_mut()
        .unwrap()
        .remove("last_commit");
    let d = p.delivery(SECRET);
    let err = decode(ForgeKind::GitLab, &d.headers, &d.body).unwrap_err();
    assert!(
        matches!(&err, DecodeError::Shape { detail, .. } if detail.contains("last_commit")),
        "{err}"
    );
}
