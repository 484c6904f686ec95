//! GitLab (REST v4). Projects are addressed by their URL-encoded full path.

use std::fmt;

use async_trait::async_trait;
use http::Method;
use plinth_config::ForgeKind;
use serde::Deserialize;
use serde_json::json;

use super::ClientConfig;
use super::paths::{gitlab_project, seg};
use super::transport::{Api, AuthHeader};
use crate::error::ForgeError;
use crate::forge::{
    Approval, CommentId, Forge, GitAuth, Permission, PullInfo, PullState, RepoAccess, Status,
    StatusState,
};
use crate::secret::Secret;

/// GitLab's limit on a note body, in characters.
const COMMENT_LIMIT: usize = 1_000_000;
/// The lowest access level that may push (Developer).
const DEVELOPER: u32 = 30;
/// The lowest access level that administers the project (Maintainer).
const MAINTAINER: u32 = 40;
/// The lowest access level at all (Guest; Minimal Access is 5 and sees no code).
const GUEST: u32 = 10;

/// A GitLab API client.
pub struct GitLabClient {
    api: Api,
    header: AuthHeader,
    token: Secret,
}

impl fmt::Debug for GitLabClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLabClient")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish()
    }
}

#[derive(Deserialize)]
struct MergeRequestJson {
    sha: String,
    target_branch: String,
    state: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    work_in_progress: bool,
    detailed_merge_status: Option<String>,
    merge_status: Option<String>,
    author: Username,
}

#[derive(Deserialize)]
struct Username {
    id: Option<u64>,
    username: String,
}

#[derive(Deserialize)]
struct ApprovalsJson {
    #[serde(default)]
    approved_by: Vec<ApprovedBy>,
}

#[derive(Deserialize)]
struct ApprovedBy {
    user: Username,
}

#[derive(Deserialize)]
struct MemberJson {
    access_level: u32,
}

/// `GET /projects/ID`: the caller's access comes as the project's and its group's levels.
#[derive(Deserialize)]
struct ProjectJson {
    default_branch: Option<String>,
    permissions: Option<ProjectPermissionsJson>,
}

#[derive(Deserialize)]
struct ProjectPermissionsJson {
    project_access: Option<MemberJson>,
    group_access: Option<MemberJson>,
}

#[derive(Deserialize)]
struct IdJson {
    id: u64,
}

#[derive(Deserialize)]
struct IidJson {
    iid: u64,
}

impl GitLabClient {
    /// A client using `token` (personal, project or group access token) against `api_url`
    /// (`https://gitlab.com/api/v4`).
    pub fn new(api_url: &str, token: &str, config: &ClientConfig) -> Result<Self, ForgeError> {
        let token = Secret::new(token);
        Ok(GitLabClient {
            api: Api::new(ForgeKind::GitLab, api_url, config)?,
            header: AuthHeader::private_token(&token)?,
            token,
        })
    }

    async fn merge_request(&self, repo: &str, iid: u64) -> Result<MergeRequestJson, ForgeError> {
        let path = format!("/projects/{}/merge_requests/{iid}", gitlab_project(repo)?);
        self.api.json(Method::GET, &path, &self.header, None).await
    }

    async fn user_id(&self, user: &str) -> Result<Option<u64>, ForgeError> {
        let path = format!("/users?username={}", seg(user));
        let found: Vec<Username> = self
            .api
            .json(Method::GET, &path, &self.header, None)
            .await?;
        Ok(found
            .into_iter()
            .find(|u| u.username.eq_ignore_ascii_case(user))
            .and_then(|u| u.id))
    }
}

/// `detailed_merge_status` (GitLab 15.6+), else the deprecated `merge_status`.
fn mergeable(mr: &MergeRequestJson) -> Option<bool> {
    if let Some(detailed) = mr.detailed_merge_status.as_deref() {
        return match detailed {
            "mergeable" => Some(true),
            "checking" | "unchecked" | "preparing" | "approvals_syncing" => None,
            _ => Some(false),
        };
    }
    match mr.merge_status.as_deref() {
        Some("can_be_merged") => Some(true),
        Some("cannot_be_merged" | "cannot_be_merged_recheck") => Some(false),
        _ => None,
    }
}

fn level_permission(level: u32) -> Permission {
    match level {
        l if l >= MAINTAINER => Permission::Admin,
        l if l >= DEVELOPER => Permission::Write,
        l if l >= GUEST => Permission::Read,
        _ => Permission::None,
    }
}

fn status_state(state: StatusState) -> &'static str {
    match state {
        StatusState::Pending => "pending",
        StatusState::Success => "success",
        // GitLab has one failed state for both.
        StatusState::Failure | StatusState::Error => "failed",
    }
}

#[async_trait]
impl Forge for GitLabClient {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitLab
    }

    async fn pull_request(&self, repo: &str, number: u64) -> Result<PullInfo, ForgeError> {
        let mr = self.merge_request(repo, number).await?;
        Ok(PullInfo {
            mergeable: mergeable(&mr),
            head_sha: mr.sha,
            base_ref: mr.target_branch,
            state: match mr.state.as_str() {
                "opened" => PullState::Open,
                "merged" => PullState::Merged,
                _ => PullState::Closed,
            },
            draft: mr.draft || mr.work_in_progress,
            author: mr.author.username,
        })
    }

    async fn approvals(&self, repo: &str, number: u64) -> Result<Vec<Approval>, ForgeError> {
        // The head first: an approval that lands between the two calls is then bound to a
        // commit at least as old as the one it saw, never a newer one.
        let head = self.merge_request(repo, number).await?.sha;
        let path = format!(
            "/projects/{}/merge_requests/{number}/approvals",
            gitlab_project(repo)?
        );
        let approvals: ApprovalsJson = self
            .api
            .json(Method::GET, &path, &self.header, None)
            .await?;
        Ok(approvals
            .approved_by
            .into_iter()
            .map(|a| Approval {
                user: a.user.username,
                commit_sha: Some(head.clone()),
            })
            .collect())
    }

    async fn permission(
        &self,
        repo: &str,
        user: &str,
        user_id: Option<u64>,
    ) -> Result<Permission, ForgeError> {
        let id = match user_id {
            Some(id) => id,
            None => match self.user_id(user).await? {
                Some(id) => id,
                None => return Ok(Permission::None),
            },
        };
        let path = format!("/projects/{}/members/all/{id}", gitlab_project(repo)?);
        let member: MemberJson = match self.api.json(Method::GET, &path, &self.header, None).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => return Ok(Permission::None),
            Err(e) => return Err(e),
        };
        Ok(level_permission(member.access_level))
    }

    async fn post_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<CommentId, ForgeError> {
        let path = format!(
            "/projects/{}/merge_requests/{number}/notes",
            gitlab_project(repo)?
        );
        let note: IdJson = self
            .api
            .json(
                Method::POST,
                &path,
                &self.header,
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(CommentId(note.id))
    }

    async fn edit_comment(
        &self,
        repo: &str,
        number: u64,
        id: CommentId,
        body: &str,
    ) -> Result<(), ForgeError> {
        let path = format!(
            "/projects/{}/merge_requests/{number}/notes/{id}",
            gitlab_project(repo)?
        );
        self.api
            .send(
                Method::PUT,
                &path,
                &self.header,
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(())
    }

    async fn set_status(&self, repo: &str, sha: &str, status: &Status) -> Result<(), ForgeError> {
        let path = format!("/projects/{}/statuses/{}", gitlab_project(repo)?, seg(sha));
        let mut payload = json!({
            "state": status_state(status.state),
            "name": status.context,
            "description": status.description_to_send(),
        });
        if let Some(url) = &status.target_url {
            payload["target_url"] = json!(url);
        }
        self.api
            .send(Method::POST, &path, &self.header, Some(&payload))
            .await?;
        Ok(())
    }

    async fn create_issue(&self, repo: &str, title: &str, body: &str) -> Result<u64, ForgeError> {
        let path = format!("/projects/{}/issues", gitlab_project(repo)?);
        let payload = json!({ "title": title, "description": body });
        let issue: IidJson = self
            .api
            .json(Method::POST, &path, &self.header, Some(&payload))
            .await?;
        Ok(issue.iid)
    }

    async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
        open: bool,
    ) -> Result<(), ForgeError> {
        let path = format!("/projects/{}/issues/{number}", gitlab_project(repo)?);
        let payload = json!({
            "title": title,
            "description": body,
            "state_event": if open { "reopen" } else { "close" },
        });
        self.api
            .send(Method::PUT, &path, &self.header, Some(&payload))
            .await?;
        Ok(())
    }

    fn comment_limit(&self) -> usize {
        COMMENT_LIMIT
    }

    async fn git_auth(&self, _repo: &str) -> Result<GitAuth, ForgeError> {
        Ok(GitAuth::basic("oauth2", self.token.expose()))
    }

    async fn repository_access(&self, repo: &str) -> Result<RepoAccess, ForgeError> {
        let path = format!("/projects/{}", gitlab_project(repo)?);
        let project: ProjectJson = self
            .api
            .json(Method::GET, &path, &self.header, None)
            .await?;
        // Access through the project and through its group add up: the higher level counts.
        let level = project.permissions.and_then(|p| {
            [p.project_access, p.group_access]
                .into_iter()
                .flatten()
                .map(|m| m.access_level)
                .max()
        });
        Ok(RepoAccess {
            permission: level.map(level_permission),
            default_branch: project.default_branch.filter(|b| !b.is_empty()),
        })
    }
}
