//! The one trait the server holds (`Arc<dyn Forge>`), and the values it trades in.

use std::fmt;

use async_trait::async_trait;
use plinth_config::ForgeKind;

use crate::error::ForgeError;

/// A forge's API, as plinth uses it. `repo` is `owner/name` (GitLab: the project's full path).
#[async_trait]
pub trait Forge: Send + Sync + fmt::Debug {
    /// Which forge this is.
    fn kind(&self) -> ForgeKind;

    /// The pull request's current head, base, state and mergeability.
    async fn pull_request(&self, repo: &str, number: u64) -> Result<PullInfo, ForgeError>;

    /// Who approves the pull request now, and on which commit. GitHub and Gitea: each
    /// reviewer's latest deciding review, when it is an approval that was not dismissed.
    /// GitLab: the approvals API's `approved_by`, bound to the merge request's head at the time
    /// of the call (GitLab records no commit per approval).
    async fn approvals(&self, repo: &str, number: u64) -> Result<Vec<Approval>, ForgeError>;

    /// What `user` may do in `repo`. GitLab looks members up by id: pass `user_id` when the
    /// webhook gave it (otherwise it is looked up by username first).
    async fn permission(
        &self,
        repo: &str,
        user: &str,
        user_id: Option<u64>,
    ) -> Result<Permission, ForgeError>;

    /// Posts a comment on the pull request; returns its id.
    async fn post_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<CommentId, ForgeError>;

    /// Replaces the text of a comment posted earlier.
    async fn edit_comment(
        &self,
        repo: &str,
        number: u64,
        id: CommentId,
        body: &str,
    ) -> Result<(), ForgeError>;

    /// Sets a commit status (the description is cut to [`STATUS_DESCRIPTION_MAX`]).
    async fn set_status(&self, repo: &str, sha: &str, status: &Status) -> Result<(), ForgeError>;

    /// Opens an issue; returns its number (GitLab: `iid`).
    async fn create_issue(&self, repo: &str, title: &str, body: &str) -> Result<u64, ForgeError>;

    /// Rewrites an issue and opens or closes it.
    async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
        open: bool,
    ) -> Result<(), ForgeError>;

    /// The longest comment the forge accepts, in characters (GitHub 65,536, GitLab 1,000,000;
    /// Gitea has no limit and gets 262,144 anyway).
    fn comment_limit(&self) -> usize;

    /// The HTTP header git sends to fetch `repo`, so that no token is ever in a URL.
    async fn git_auth(&self, repo: &str) -> Result<GitAuth, ForgeError>;

    /// Reads the repository itself with the configured credentials (a GitHub App through its
    /// installation token, which proves the key and the installation too).
    async fn repository_access(&self, repo: &str) -> Result<RepoAccess, ForgeError>;
}

/// A repository as its forge shows it to plinth's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoAccess {
    /// What the credentials may do there, when the API says: GitHub omits it for App
    /// installation tokens, GitLab for a project the token's user is no member of.
    pub permission: Option<Permission>,
    /// The repository's default branch (`None` for an empty repository).
    pub default_branch: Option<String>,
}

impl RepoAccess {
    /// Whether the credentials may push (commit statuses need it), when the API says.
    pub fn can_push(&self) -> Option<bool> {
        self.permission.map(|p| p >= Permission::Write)
    }
}

/// The ref under which the forge keeps a pull request's head, fetchable from the target
/// repository even when the head lives in a fork.
pub fn pull_head_ref(kind: ForgeKind, number: u64) -> String {
    match kind {
        ForgeKind::GitLab => format!("refs/merge-requests/{number}/head"),
        ForgeKind::GitHub | ForgeKind::Gitea => format!("refs/pull/{number}/head"),
    }
}

/// A pull request as the API reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullInfo {
    /// The head commit.
    pub head_sha: String,
    /// The branch it merges into.
    pub base_ref: String,
    /// Open, closed or merged.
    pub state: PullState,
    /// Whether it merges cleanly; `None` while the forge is still computing it.
    pub mergeable: Option<bool>,
    /// Whether it is a draft.
    pub draft: bool,
    /// Its author's login.
    pub author: String,
}

/// A pull request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullState {
    /// Open.
    Open,
    /// Closed without a merge.
    Closed,
    /// Merged.
    Merged,
}

impl PullState {
    /// `open`, `closed` or `merged` (DESIGN §5.1's API shape).
    pub fn as_str(self) -> &'static str {
        match self {
            PullState::Open => "open",
            PullState::Closed => "closed",
            PullState::Merged => "merged",
        }
    }
}

/// One approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The approver's login.
    pub user: String,
    /// The commit approved.
    pub commit_sha: Option<String>,
}

/// What a user may do in a repository, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    /// Nothing (not a member or collaborator).
    None,
    /// Read (GitHub read/triage; GitLab guest/reporter).
    Read,
    /// Push (GitHub write/maintain; GitLab developer).
    Write,
    /// Administer (GitHub admin; GitLab maintainer/owner; Gitea admin/owner).
    Admin,
}

/// A comment's id (GitLab: a note's id).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct CommentId(pub u64);

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// GitHub's limit on a status description, which the others accept too.
pub const STATUS_DESCRIPTION_MAX: usize = 140;

/// A commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its name: `plinth/plan`, `plinth/apply/prod`, `plinth/test`.
    pub context: String,
    /// Pending, success, failure or error.
    pub state: StatusState,
    /// One line; cut to [`STATUS_DESCRIPTION_MAX`] characters when sent.
    pub description: String,
    /// A link to the details.
    pub target_url: Option<String>,
}

impl Status {
    /// The description as sent: at most [`STATUS_DESCRIPTION_MAX`] characters, ending in `…`
    /// when cut.
    pub fn description_to_send(&self) -> String {
        let line = self.description.lines().next().unwrap_or_default();
        if line.chars().count() <= STATUS_DESCRIPTION_MAX {
            return line.to_string();
        }
        let mut cut: String = line.chars().take(STATUS_DESCRIPTION_MAX - 1).collect();
        cut.push('…');
        cut
    }
}

/// A commit status's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// Running or queued.
    Pending,
    /// Passed.
    Success,
    /// The change failed (a plan error, a failing test).
    Failure,
    /// plinth itself could not finish.
    Error,
}

/// An HTTP header for git (`git -c http.extraHeader="NAME: VALUE"`, or better, the
/// environment from [`GitAuth::git_env`], which keeps it out of the process list).
#[derive(Clone, PartialEq, Eq)]
pub struct GitAuth {
    name: &'static str,
    value: String,
}

impl GitAuth {
    /// `Authorization: Basic base64(user:password)`.
    pub(crate) fn basic(user: &str, password: &str) -> Self {
        use base64::Engine as _;
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        GitAuth {
            name: "Authorization",
            value: format!("Basic {pair}"),
        }
    }

    /// The header's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The header's value (it holds the token: never log it).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// `NAME: VALUE`, as `http.extraHeader` takes it.
    pub fn header_line(&self) -> String {
        format!("{}: {}", self.name, self.value)
    }

    /// Environment variables that make git send the header (`GIT_CONFIG_COUNT`/`KEY_0`/
    /// `VALUE_0`, git ≥ 2.31): unlike `-c`, they do not show in `ps`.
    pub fn git_env(&self) -> [(String, String); 3] {
        [
            ("GIT_CONFIG_COUNT".into(), "1".into()),
            ("GIT_CONFIG_KEY_0".into(), "http.extraHeader".into()),
            ("GIT_CONFIG_VALUE_0".into(), self.header_line()),
        ]
    }
}

impl fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GitAuth({}: [redacted])", self.name)
    }
}
