//! GitHub's `pull_request` and `issue_comment` payloads.

use serde::Deserialize;
use serde_json::Value;

use super::{DecodeError, ignored, typed};
use crate::event::{CommentEvent, Event, PullAction, PullRequestEvent};

#[derive(Deserialize)]
struct PullRequestPayload {
    number: u64,
    pull_request: Pull,
    repository: Repository,
    sender: User,
}

#[derive(Deserialize)]
struct Pull {
    head: Branch,
    base: Branch,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    merged: Option<bool>,
    merge_commit_sha: Option<String>,
    user: User,
}

#[derive(Deserialize)]
struct Branch {
    sha: String,
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    clone_url: String,
}

#[derive(Deserialize)]
struct User {
    login: String,
    id: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl User {
    fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot") || self.login.ends_with("[bot]")
    }
}

#[derive(Deserialize)]
struct IssueCommentPayload {
    issue: Issue,
    comment: Comment,
    repository: Repository,
    sender: User,
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
    // Present (an object) only when the issue is a pull request.
    pull_request: Option<Value>,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    body: Option<String>,
    user: User,
}

pub(super) fn decode(event: &str, payload: Value) -> Result<Event, DecodeError> {
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match event {
        "pull_request" => pull_request(event, &action, payload),
        "issue_comment" => issue_comment(event, &action, payload),
        _ => Ok(ignored(
            format!("GitHub event `{event}`"),
            &payload,
            "/repository/full_name",
        )),
    }
}

fn pull_request(event: &str, action: &str, payload: Value) -> Result<Event, DecodeError> {
    let kind = match action {
        "opened" => PullAction::Opened,
        "reopened" => PullAction::Reopened,
        "synchronize" => PullAction::Synchronize,
        "ready_for_review" => PullAction::ReadyForReview,
        // `merged` is filled in below, from the payload.
        "closed" => PullAction::Closed { merged: false },
        other => {
            return Ok(ignored(
                format!("pull_request action `{other}`"),
                &payload,
                "/repository/full_name",
            ));
        }
    };
    let p: PullRequestPayload = typed(event, payload)?;
    let merged = p.pull_request.merged.unwrap_or(false);
    let action = match kind {
        PullAction::Closed { .. } => PullAction::Closed { merged },
        other => other,
    };
    Ok(Event::PullRequest(PullRequestEvent {
        repo: p.repository.full_name,
        number: p.number,
        action,
        head_sha: p.pull_request.head.sha,
        head_ref: p.pull_request.head.name,
        base_ref: p.pull_request.base.name,
        base_sha: Some(p.pull_request.base.sha),
        draft: p.pull_request.draft,
        author: Some(p.pull_request.user.login),
        sender: p.sender.login,
        clone_url: p.repository.clone_url,
        // GitHub fills it with a test merge while the pull request is open.
        merge_commit_sha: if merged {
            p.pull_request.merge_commit_sha
        } else {
            None
        },
    }))
}

fn issue_comment(event: &str, action: &str, payload: Value) -> Result<Event, DecodeError> {
    if action != "created" {
        return Ok(ignored(
            format!("issue_comment action `{action}`"),
            &payload,
            "/repository/full_name",
        ));
    }
    let c: IssueCommentPayload = typed(event, payload)?;
    if c.issue.pull_request.is_none() {
        return Ok(Event::Ignored {
            reason: format!("comment on issue #{}, not a pull request", c.issue.number),
            repo: Some(c.repository.full_name),
        });
    }
    if c.sender.is_bot() || c.comment.user.is_bot() {
        return Ok(Event::Ignored {
            reason: format!("comment by bot `{}`", c.comment.user.login),
            repo: Some(c.repository.full_name),
        });
    }
    Ok(Event::Comment(CommentEvent {
        repo: c.repository.full_name,
        number: c.issue.number,
        comment_id: c.comment.id,
        author: c.comment.user.login,
        author_id: c.comment.user.id,
        body: c.comment.body.unwrap_or_default(),
    }))
}
