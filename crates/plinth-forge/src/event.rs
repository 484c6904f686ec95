//! The forge-neutral meaning of a webhook delivery. Serializable, so that a job row can
//! carry the event it acts on.

use serde::{Deserialize, Serialize};

/// What a delivery asks plinth to do, the same for every forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Event {
    /// A pull (merge) request was opened, reopened, pushed to, marked ready or closed.
    PullRequest(PullRequestEvent),
    /// A new comment on a pull (merge) request, by a person.
    Comment(CommentEvent),
    /// Anything plinth does not act on: pings, pushes, labels, edited or deleted comments,
    /// comments on plain issues or by bots, pushes to a merge request that add no commit.
    Ignored {
        /// Why, for the delivery log.
        reason: String,
        /// `owner/name` (GitLab: the project's full path) when the payload names one.
        repo: Option<String>,
    },
}

impl Event {
    /// The repository the event is about, when the payload names one.
    pub fn repo(&self) -> Option<&str> {
        match self {
            Event::PullRequest(pr) => Some(&pr.repo),
            Event::Comment(c) => Some(&c.repo),
            Event::Ignored { repo, .. } => repo.as_deref(),
        }
    }
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullAction {
    /// Opened (GitHub `opened`, GitLab `open`, Gitea `opened`).
    Opened,
    /// Reopened.
    Reopened,
    /// New commits on the head (GitHub `synchronize`, GitLab `update` with `oldrev`, Gitea
    /// `synchronized`).
    Synchronize,
    /// A draft became ready for review (GitHub `ready_for_review`, GitLab `update` whose
    /// `changes.draft` went from true to false).
    ReadyForReview,
    /// Closed, by a merge or not.
    Closed {
        /// Whether it was merged.
        merged: bool,
    },
}

/// A pull (merge) request event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestEvent {
    /// `owner/name` (GitLab: the project's full path, `group/sub/project`).
    pub repo: String,
    /// Its number (GitLab: the merge request's `iid`).
    pub number: u64,
    /// What happened.
    pub action: PullAction,
    /// The head commit.
    pub head_sha: String,
    /// The head branch.
    pub head_ref: String,
    /// The branch it merges into.
    pub base_ref: String,
    /// The base branch's commit, when the payload gives it (GitLab's does not).
    pub base_sha: Option<String>,
    /// Whether it is a draft (GitLab: `draft` or `work_in_progress`; Gitea: `draft`, or a
    /// `WIP:`/`[WIP]` title on versions without the field).
    pub draft: bool,
    /// The pull request's author, when the payload names them (GitLab's hook carries only the
    /// author's id: use [`crate::Forge::pull_request`]).
    pub author: Option<String>,
    /// Who caused the event.
    pub sender: String,
    /// The target repository's HTTPS clone URL. Heads from forks are fetched from it too, by
    /// [`crate::pull_head_ref`].
    pub clone_url: String,
    /// The merge commit, for a merged pull request.
    pub merge_commit_sha: Option<String>,
}

/// A comment created on a pull (merge) request by a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentEvent {
    /// `owner/name` (GitLab: the project's full path).
    pub repo: String,
    /// The pull request's number (GitLab: `iid`).
    pub number: u64,
    /// The comment's id (GitLab: the note's id).
    pub comment_id: u64,
    /// The commenter's login.
    pub author: String,
    /// The commenter's numeric id (GitLab's permission API needs it).
    pub author_id: Option<u64>,
    /// The comment's text.
    pub body: String,
}
