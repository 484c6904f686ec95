//! What the stand-in forge knows: repositories with their pull requests, reviews, members,
//! comments, statuses and issues; the calls it received; the answers it was told to inject.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use plinth_config::ForgeKind;
use serde_json::Value;

use crate::forge::{Permission, PullState};

/// A pull (merge) request as the stand-in serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePull {
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub head_ref: String,
    /// Base branch.
    pub base_ref: String,
    /// Base commit.
    pub base_sha: String,
    /// Open, closed, merged.
    pub state: PullState,
    /// `None` while "computing" (GitHub `null`, GitLab `checking`; Gitea has no such state and
    /// says `false`).
    pub mergeable: Option<bool>,
    /// Draft.
    pub draft: bool,
    /// Author's login.
    pub author: String,
    /// Title.
    pub title: String,
}

impl FakePull {
    /// An open, mergeable, non-draft pull request from `feature` into `main` by `octocat`.
    pub fn open(head_sha: &str) -> Self {
        FakePull {
            head_sha: head_sha.to_string(),
            head_ref: "feature".to_string(),
            base_ref: "main".to_string(),
            base_sha: "0".repeat(40),
            state: PullState::Open,
            mergeable: Some(true),
            draft: false,
            author: "octocat".to_string(),
            title: "Change the infrastructure".to_string(),
        }
    }
}

/// What a review says, rendered in each forge's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// GitHub/Gitea `APPROVED`; on GitLab, an approval.
    Approved,
    /// GitHub `CHANGES_REQUESTED`, Gitea `REQUEST_CHANGES`.
    ChangesRequested,
    /// GitHub `COMMENTED`, Gitea `COMMENT`.
    Commented,
    /// GitHub `DISMISSED`, Gitea an approval with `dismissed: true`.
    Dismissed,
}

/// A review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeReview {
    /// Its id.
    pub id: u64,
    /// Reviewer's login.
    pub user: String,
    /// Its verdict.
    pub state: ReviewState,
    /// The commit reviewed.
    pub commit_id: String,
}

/// A comment (GitLab: a note) on a pull request or issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// Its id.
    pub id: u64,
    /// The pull request or issue it is on.
    pub number: u64,
    /// Its text now.
    pub body: String,
    /// How many times it was edited.
    pub edits: u32,
}

/// A commit status as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeStatus {
    /// The commit.
    pub sha: String,
    /// `context` (GitLab: `name`).
    pub context: String,
    /// The state in the forge's vocabulary (`failure` on GitHub, `failed` on GitLab).
    pub state: String,
    /// The description.
    pub description: String,
    /// The link.
    pub target_url: Option<String>,
}

/// An issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    /// Its number (GitLab: `iid`).
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body (GitLab: description).
    pub body: String,
    /// Open or closed.
    pub open: bool,
}

/// Whether a recorded call carried the forge's auth header, and whether it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSeen {
    /// The expected header with a valid credential.
    Valid,
    /// The header was there with a wrong credential or scheme.
    Invalid,
    /// No auth header.
    Missing,
}

/// One request the stand-in received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as sent (GitLab project ids still encoded: `/api/v4/projects/acme%2Finfra/…`).
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The auth header's presence and validity (never its value).
    pub auth: AuthSeen,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The status answered.
    pub status: u16,
}

/// An answer the stand-in gives instead of the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// GitHub's secondary limit: 403 with `Retry-After`.
    SecondaryRateLimit {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// GitHub's primary limit: 403, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset`.
    PrimaryRateLimit {
        /// Seconds until the reset.
        reset_in_secs: u64,
    },
    /// GitLab's limit: 429 with `RateLimit-Reset` (and `Retry-After`).
    GitLabRateLimit {
        /// Seconds until the reset.
        reset_in_secs: u64,
    },
    /// A plain error status (502, 500, …).
    Status(u16),
}

#[derive(Debug, Default)]
pub(crate) struct Repo {
    /// Set by `create_repo`: the repository exists, and this is what the stand-in's token may
    /// do in it (`Permission::None`: it cannot see it, as with someone else's private one).
    pub(crate) token_access: Option<Permission>,
    pub(crate) pulls: BTreeMap<u64, FakePull>,
    pub(crate) reviews: BTreeMap<u64, Vec<FakeReview>>,
    pub(crate) members: BTreeMap<String, Permission>,
    pub(crate) comments: Vec<FakeComment>,
    pub(crate) statuses: Vec<FakeStatus>,
    pub(crate) issues: BTreeMap<u64, FakeIssue>,
}

impl Repo {
    /// The next issue number: GitHub and Gitea share numbers between issues and pulls.
    pub(crate) fn next_issue_number(&self, kind: ForgeKind) -> u64 {
        let issues = self.issues.keys().max().copied().unwrap_or(0);
        let pulls = match kind {
            ForgeKind::GitLab => 0,
            _ => self.pulls.keys().max().copied().unwrap_or(0),
        };
        issues.max(pulls) + 1
    }
}

#[derive(Debug)]
pub(crate) struct App {
    pub(crate) app_id: u64,
    pub(crate) public_key_pem: Vec<u8>,
    pub(crate) installations: HashMap<String, u64>,
    pub(crate) token_ttl: Duration,
    pub(crate) issued: HashMap<String, SystemTime>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) kind: ForgeKind,
    pub(crate) token: String,
    pub(crate) base_url: String,
    pub(crate) repos: HashMap<String, Repo>,
    /// login → numeric id, for GitLab's members and users APIs.
    pub(crate) user_ids: BTreeMap<String, u64>,
    pub(crate) next_id: u64,
    pub(crate) calls: Vec<RecordedCall>,
    pub(crate) injections: VecDeque<Injection>,
    pub(crate) app: Option<App>,
}

impl State {
    pub(crate) fn new(kind: ForgeKind, token: String) -> Self {
        State {
            kind,
            token,
            base_url: String::new(),
            repos: HashMap::new(),
            user_ids: BTreeMap::new(),
            next_id: 1000,
            calls: Vec::new(),
            injections: VecDeque::new(),
            app: None,
        }
    }

    pub(crate) fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn repo(&mut self, name: &str) -> &mut Repo {
        self.repos.entry(name.to_string()).or_default()
    }
}
