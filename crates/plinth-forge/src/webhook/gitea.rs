//! Gitea's (and Forgejo's) `pull_request`, `pull_request_sync` and comment payloads.

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
    merged: bool,
    merge_commit_sha: Option<String>,
    draft: Option<bool>,
    #[serde(default)]
    title: String,
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
    id: Option<i64>,
}

impl User {
    /// Gitea's own actors (the Actions user, the ghost) have negative ids.
    fn is_bot(&self) -> bool {
        self.login.ends_with("[bot]") || self.id.is_some_and(|id| id < 0)
    }
}

#[derive(Deserialize)]
struct CommentPayload {
    issue: Issue,
    comment: Comment,
    repository: Repository,
    #[serde(default)]
    is_pull: bool,
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
    pull_request: Option<Value>,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    body: String,
    user: User,
}

/// Whether a title marks a draft under Gitea's default `WORK_IN_PROGRESS_PREFIXES`, for
/// versions whose pull requests have no `draft` field.
pub(crate) fn wip_title(title: &str) -> bool {
    let t = title.trim_start().to_ascii_lowercase();
    t.starts_with("wip:") || t.starts_with("[wip]")
}

pub(super) fn decode(event: &str, payload: Value) -> Result<Event, DecodeError> {
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match event {
        "pull_request" | "pull_request_sync" => pull_request(event, &action, payload),
        "issue_comment" | "pull_request_comment" => comment(event, &action, payload),
        _ => Ok(ignored(
            format!("Gitea event `{event}`"),
            &payload,
            "/repository/full_name",
        )),
    }
}

fn pull_request(event: &str, action: &str, payload: Value) -> Result<Event, DecodeError> {
    let kind = match action {
        "opened" => PullAction::Opened,
        "reopened" => PullAction::Reopened,
        "synchronized" => PullAction::Synchronize,
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
    let pull = p.pull_request;
    let merged = pull.merged;
    let action = match kind {
        PullAction::Closed { .. } => PullAction::Closed { merged },
        other => other,
    };
    Ok(Event::PullRequest(PullRequestEvent {
        repo: p.repository.full_name,
        number: p.number,
        action,
        head_sha: pull.head.sha,
        head_ref: pull.head.name,
        base_ref: pull.base.name,
        base_sha: Some(pull.base.sha).filter(|s| !s.is_empty()),
        draft: pull.draft.unwrap_or_else(|| wip_title(&pull.title)),
        author: Some(pull.user.login),
        sender: p.sender.login,
        clone_url: p.repository.clone_url,
        merge_commit_sha: if merged { pull.merge_commit_sha } else { None },
    }))
}

fn comment(event: &str, action: &str, payload: Value) -> Result<Event, DecodeError> {
    if action != "created" {
        return Ok(ignored(
            format!("comment action `{action}`"),
            &payload,
            "/repository/full_name",
        ));
    }
    let c: CommentPayload = typed(event, payload)?;
    let repo = c.repository.full_name;
    let on_pull = c.is_pull || c.issue.pull_request.as_ref().is_some_and(|v| !v.is_null());
    if !on_pull {
        return Ok(Event::Ignored {
            reason: format!("comment on issue #{}, not a pull request", c.issue.number),
            repo: Some(repo),
        });
    }
    if c.comment.user.is_bot() {
        return Ok(Event::Ignored {
            reason: format!("comment by bot `{}`", c.comment.user.login),
            repo: Some(repo),
        });
    }
    Ok(Event::Comment(CommentEvent {
        repo,
        number: c.issue.number,
        comment_id: c.comment.id,
        author: c.comment.user.login,
        author_id: c.comment.user.id.and_then(|id| u64::try_from(id).ok()),
        body: c.comment.body,
    }))
}
