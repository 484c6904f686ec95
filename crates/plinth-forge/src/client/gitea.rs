//! Gitea and Forgejo (REST v1), whose API follows GitHub's paths under `/api/v1`.

use std::fmt;

use async_trait::async_trait;
use http::Method;
use plinth_config::ForgeKind;
use serde::Deserialize;
use serde_json::json;

use super::ClientConfig;
use super::paths::{owner_repo, seg};
use super::repository::RepoJson;
use super::reviews::{Verdict, standing_approvals};
use super::transport::{Api, AuthHeader};
use crate::error::ForgeError;
use crate::forge::{
    Approval, CommentId, Forge, GitAuth, Permission, PullInfo, PullState, RepoAccess, Status,
    StatusState,
};
use crate::secret::Secret;
use crate::webhook::wip_title;

/// Gitea sets no limit on comments; plinth cuts its own at this many characters anyway, so
/// that a huge plan does not make a page nobody can load.
const COMMENT_LIMIT: usize = 262_144;
/// Reviews asked for per page (Gitea's default cap on page size is 50).
const PAGE: usize = 50;

/// A Gitea API client.
pub struct GiteaClient {
    api: Api,
    header: AuthHeader,
    token: Secret,
}

impl fmt::Debug for GiteaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GiteaClient")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish()
    }
}

#[derive(Deserialize)]
struct PullJson {
    state: String,
    #[serde(default)]
    merged: bool,
    mergeable: Option<bool>,
    draft: Option<bool>,
    #[serde(default)]
    title: String,
    head: Head,
    base: Base,
    user: Login,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

#[derive(Deserialize)]
struct Base {
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct ReviewJson {
    user: Option<Login>,
    state: String,
    commit_id: Option<String>,
    #[serde(default)]
    dismissed: bool,
}

#[derive(Deserialize)]
struct PermissionJson {
    permission: String,
}

#[derive(Deserialize)]
struct IdJson {
    id: u64,
}

#[derive(Deserialize)]
struct NumberJson {
    number: u64,
}

impl GiteaClient {
    /// A client using `token` (an access token) against `api_url` (`https://HOST/api/v1`).
    pub fn new(api_url: &str, token: &str, config: &ClientConfig) -> Result<Self, ForgeError> {
        let token = Secret::new(token);
        Ok(GiteaClient {
            api: Api::new(ForgeKind::Gitea, api_url, config)?,
            header: AuthHeader::token(&token)?,
            token,
        })
    }
}

fn gitea_verdict(review: &ReviewJson) -> Verdict {
    match review.state.as_str() {
        _ if review.dismissed => Verdict::Block,
        "APPROVED" => Verdict::Approve,
        "REQUEST_CHANGES" => Verdict::Block,
        _ => Verdict::Neutral,
    }
}

fn status_state(state: StatusState) -> &'static str {
    match state {
        StatusState::Pending => "pending",
        StatusState::Success => "success",
        StatusState::Failure => "failure",
        StatusState::Error => "error",
    }
}

#[async_trait]
impl Forge for GiteaClient {
    fn kind(&self) -> ForgeKind {
        ForgeKind::Gitea
    }

    async fn pull_request(&self, repo: &str, number: u64) -> Result<PullInfo, ForgeError> {
        let path = format!("/repos/{}/pulls/{number}", owner_repo(repo)?);
        let p: PullJson = self
            .api
            .json(Method::GET, &path, &self.header, None)
            .await?;
        Ok(PullInfo {
            head_sha: p.head.sha,
            base_ref: p.base.name,
            state: match (p.state.as_str(), p.merged) {
                (_, true) => PullState::Merged,
                ("open", _) => PullState::Open,
                _ => PullState::Closed,
            },
            mergeable: p.mergeable,
            draft: p.draft.unwrap_or_else(|| wip_title(&p.title)),
            author: p.user.login,
        })
    }

    async fn approvals(&self, repo: &str, number: u64) -> Result<Vec<Approval>, ForgeError> {
        let path = format!(
            "/repos/{}/pulls/{number}/reviews?limit={PAGE}",
            owner_repo(repo)?
        );
        let reviews: Vec<ReviewJson> = self.api.get_pages(&path, &self.header).await?;
        Ok(standing_approvals(reviews.into_iter().filter_map(|r| {
            let verdict = gitea_verdict(&r);
            Some((r.user?.login, verdict, r.commit_id))
        })))
    }

    async fn permission(
        &self,
        repo: &str,
        user: &str,
        _user_id: Option<u64>,
    ) -> Result<Permission, ForgeError> {
        let path = format!(
            "/repos/{}/collaborators/{}/permission",
            owner_repo(repo)?,
            seg(user)
        );
        let p: PermissionJson = match self.api.json(Method::GET, &path, &self.header, None).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(Permission::None),
            Err(e) => return Err(e),
        };
        Ok(match p.permission.as_str() {
            "owner" | "admin" => Permission::Admin,
            "write" => Permission::Write,
            "read" => Permission::Read,
            _ => Permission::None,
        })
    }

    async fn post_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<CommentId, ForgeError> {
        let path = format!("/repos/{}/issues/{number}/comments", owner_repo(repo)?);
        let c: IdJson = self
            .api
            .json(
                Method::POST,
                &path,
                &self.header,
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(CommentId(c.id))
    }

    async fn edit_comment(
        &self,
        repo: &str,
        _number: u64,
        id: CommentId,
        body: &str,
    ) -> Result<(), ForgeError> {
        let path = format!("/repos/{}/issues/comments/{id}", owner_repo(repo)?);
        self.api
            .send(
                Method::PATCH,
                &path,
                &self.header,
                Some(&json!({ "body": body })),
            )
            .await?;
        Ok(())
    }

    async fn set_status(&self, repo: &str, sha: &str, status: &Status) -> Result<(), ForgeError> {
        let path = format!("/repos/{}/statuses/{}", owner_repo(repo)?, seg(sha));
        let mut payload = json!({
            "state": status_state(status.state),
            "context": status.context,
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
        let path = format!("/repos/{}/issues", owner_repo(repo)?);
        let issue: NumberJson = self
            .api
            .json(
                Method::POST,
                &path,
                &self.header,
                Some(&json!({ "title": title, "body": body })),
            )
            .await?;
        Ok(issue.number)
    }

    async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
        open: bool,
    ) -> Result<(), ForgeError> {
        let path = format!("/repos/{}/issues/{number}", owner_repo(repo)?);
        let payload = json!({
            "title": title,
            "body": body,
            "state": if open { "open" } else { "closed" },
        });
        self.api
            .send(Method::PATCH, &path, &self.header, Some(&payload))
            .await?;
        Ok(())
    }

    fn comment_limit(&self) -> usize {
        COMMENT_LIMIT
    }

    async fn git_auth(&self, _repo: &str) -> Result<GitAuth, ForgeError> {
        // Gitea takes a token as the Basic user name when the password is empty.
        Ok(GitAuth::basic(self.token.expose(), ""))
    }

    async fn repository_access(&self, repo: &str) -> Result<RepoAccess, ForgeError> {
        let path = format!("/repos/{}", owner_repo(repo)?);
        let answer: RepoJson = self
            .api
            .json(Method::GET, &path, &self.header, None)
            .await?;
        Ok(answer.access())
    }
}
