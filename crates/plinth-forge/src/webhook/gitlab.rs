//! GitLab's `Merge Request Hook` and `Note Hook` payloads.

use serde::Deserialize;
use serde_json::Value;

use super::{DecodeError, ignored, typed};
use crate::event::{CommentEvent, Event, PullAction, PullRequestEvent};

#[derive(Deserialize)]
struct MergeRequestHook {
    user: User,
    project: Project,
    object_attributes: MergeRequest,
    #[serde(default)]
    changes: Value,
}

#[derive(Deserialize)]
struct User {
    id: Option<u64>,
    username: String,
}

impl User {
    /// GitLab names the users behind project and group access tokens
    /// `project_<id>_bot_<hex>` and `group_<id>_bot_<hex>`; the hook has no bot flag.
    fn is_bot(&self) -> bool {
        let rest = self
            .username
            .strip_prefix("project_")
            .or_else(|| self.username.strip_prefix("group_"));
        let Some(rest) = rest else { return false };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with("_bot")
    }
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: String,
    git_http_url: String,
}

#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    source_branch: String,
    target_branch: String,
    last_commit: Commit,
    oldrev: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    work_in_progress: bool,
    merge_commit_sha: Option<String>,
}

#[derive(Deserialize)]
struct Commit {
    id: String,
}

#[derive(Deserialize)]
struct NoteHook {
    user: User,
    project: Project,
    object_attributes: Note,
    merge_request: NotedMergeRequest,
}

#[derive(Deserialize)]
struct Note {
    id: u64,
    note: String,
    #[serde(default)]
    system: bool,
}

#[derive(Deserialize)]
struct NotedMergeRequest {
    iid: u64,
}

pub(super) fn decode(event: &str, payload: Value) -> Result<Event, DecodeError> {
    match event {
        "Merge Request Hook" => merge_request(event, payload),
        "Note Hook" => note(event, payload),
        _ => Ok(ignored(
            format!("GitLab event `{event}`"),
            &payload,
            "/project/path_with_namespace",
        )),
    }
}

fn merge_request(event: &str, payload: Value) -> Result<Event, DecodeError> {
    let action = payload
        .pointer("/object_attributes/action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !matches!(
        action.as_str(),
        "open" | "reopen" | "update" | "close" | "merge"
    ) {
        return Ok(ignored(
            format!("merge request action `{action}`"),
            &payload,
            "/project/path_with_namespace",
        ));
    }
    let hook: MergeRequestHook = typed(event, payload)?;
    let mr = hook.object_attributes;
    let kind = match action.as_str() {
        "open" => PullAction::Opened,
        "reopen" => PullAction::Reopened,
        "close" => PullAction::Closed { merged: false },
        "merge" => PullAction::Closed { merged: true },
        // `oldrev` is documented as present only when the update pushed code.
        _ if mr.oldrev.as_deref().is_some_and(|r| !r.is_empty()) => PullAction::Synchronize,
        _ if left_draft(&hook.changes) => PullAction::ReadyForReview,
        _ => {
            return Ok(Event::Ignored {
                reason: format!("merge request !{} updated without new commits", mr.iid),
                repo: Some(hook.project.path_with_namespace),
            });
        }
    };
    Ok(Event::PullRequest(PullRequestEvent {
        repo: hook.project.path_with_namespace,
        number: mr.iid,
        action: kind,
        head_sha: mr.last_commit.id,
        head_ref: mr.source_branch,
        base_ref: mr.target_branch,
        base_sha: None,
        draft: mr.draft || mr.work_in_progress,
        author: None,
        sender: hook.user.username,
        clone_url: hook.project.git_http_url,
        merge_commit_sha: if kind == (PullAction::Closed { merged: true }) {
            mr.merge_commit_sha
        } else {
            None
        },
    }))
}

/// Whether `changes` records the merge request leaving draft (`draft`, or the older
/// `work_in_progress`, from true to false).
fn left_draft(changes: &Value) -> bool {
    ["draft", "work_in_progress"].iter().any(|field| {
        let change = &changes[*field];
        change["previous"] == Value::Bool(true) && change["current"] == Value::Bool(false)
    })
}

fn note(event: &str, payload: Value) -> Result<Event, DecodeError> {
    let noteable = payload
        .pointer("/object_attributes/noteable_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if noteable != "MergeRequest" {
        return Ok(ignored(
            format!("comment on a {noteable}, not a merge request"),
            &payload,
            "/project/path_with_namespace",
        ));
    }
    // Absent before GitLab 16.11, which sent no hook for edits.
    let action = payload
        .pointer("/object_attributes/action")
        .and_then(Value::as_str)
        .unwrap_or("create")
        .to_string();
    if action != "create" {
        return Ok(ignored(
            format!("note action `{action}`"),
            &payload,
            "/project/path_with_namespace",
        ));
    }
    let hook: NoteHook = typed(event, payload)?;
    let repo = hook.project.path_with_namespace;
    if hook.object_attributes.system {
        return Ok(Event::Ignored {
            reason: "system note".to_string(),
            repo: Some(repo),
        });
    }
    if hook.user.is_bot() {
        return Ok(Event::Ignored {
            reason: format!("comment by bot `{}`", hook.user.username),
            repo: Some(repo),
        });
    }
    Ok(Event::Comment(CommentEvent {
        repo,
        number: hook.merge_request.iid,
        comment_id: hook.object_attributes.id,
        author: hook.user.username,
        author_id: hook.user.id,
        body: hook.object_attributes.note,
    }))
}
