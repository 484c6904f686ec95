//! GitHub and GitHub Enterprise Server (REST v3), with a token or as a GitHub App.

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use http::Method;
use plinth_config::ForgeKind;
use serde::Deserialize;
use serde_json::json;

use super::ClientConfig;
use super::github_app::GitHubApp;
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

/// GitHub's limit on a comment body, in characters.
const COMMENT_LIMIT: usize = 65_536;

/// A GitHub API client.
pub struct GitHubClient {
    api: Api,
    auth: Auth,
}

enum Auth {
    Token { header: AuthHeader, token: Secret },
    App(GitHubApp),
}

impl fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Auth::Token { .. } => "token [redacted]".to_string(),
            Auth::App(app) => format!("{app:?}"),
        };
        f.debug_struct("GitHubClient")
            .field("api", &self.api)
            .field("auth", &auth)
            .finish()
    }
}

#[derive(Deserialize)]
struct PullJson {
    state: String,
    #[serde(default)]
    merged: bool,
    mergeable: Option<bool>,
    #[serde(default)]
    draft: bool,
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
    // Null for a deleted account.
    user: Option<Login>,
    state: String,
    commit_id: Option<String>,
}

#[derive(Deserialize)]
struct PermissionJson {
    permission: String,
    role_name: Option<String>,
}

#[derive(Deserialize)]
struct IdJson {
    id: u64,
}

#[derive(Deserialize)]
struct NumberJson {
    number: u64,
}

impl GitHubClient {
    /// A client using `token` (personal or fine-grained token) against `api_url`
    /// (`https://api.github.com`, GHES `https://HOST/api/v3`).
    pub fn new(api_url: &str, token: &str, config: &ClientConfig) -> Result<Self, ForgeError> {
        let token = Secret::new(token);
        Ok(GitHubClient {
            api: Api::new(ForgeKind::GitHub, api_url, config)?,
            auth: Auth::Token {
                header: AuthHeader::bearer(&token)?,
                token,
            },
        })
    }

    /// A client acting as the GitHub App `app_id`, whose private key is `private_key_pem`.
    pub fn app(
        api_url: &str,
        app_id: u64,
        private_key_pem: &[u8],
        config: &ClientConfig,
    ) -> Result<Self, ForgeError> {
        Ok(GitHubClient {
            api: Api::new(ForgeKind::GitHub, api_url, config)?,
            auth: Auth::App(GitHubApp::new(app_id, private_key_pem)?),
        })
    }

    async fn token(&self, repo: &str) -> Result<Secret, ForgeError> {
        match &self.auth {
            Auth::Token { token, .. } => Ok(token.clone()),
            Auth::App(app) => app.installation_token(&self.api, repo).await,
        }
    }

    /// Runs `call` with the repository's credentials. An App whose cached token is refused
    /// (revoked, or the App reinstalled) mints a new one and tries once more.
    async fn authed<T, F, Fut>(&self, repo: &str, call: F) -> Result<T, ForgeError>
    where
        F: Fn(AuthHeader) -> Fut,
        Fut: Future<Output = Result<T, ForgeError>>,
    {
        match &self.auth {
            Auth::Token { header, .. } => call(header.clone()).await,
            Auth::App(app) => {
                let token = app.installation_token(&self.api, repo).await?;
                match call(AuthHeader::bearer(&token)?).await {
                    Err(e) if e.status() == Some(401) => {
                        app.forget(repo).await;
                        let token = app.installation_token(&self.api, repo).await?;
                        call(AuthHeader::bearer(&token)?).await
                    }
                    other => other,
                }
            }
        }
    }
}

fn github_verdict(state: &str) -> Verdict {
    match state {
        "APPROVED" => Verdict::Approve,
        "CHANGES_REQUESTED" | "DISMISSED" => Verdict::Block,
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
impl Forge for GitHubClient {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitHub
    }

    async fn pull_request(&self, repo: &str, number: u64) -> Result<PullInfo, ForgeError> {
        let path = format!("/repos/{}/pulls/{number}", owner_repo(repo)?);
        let p: PullJson = self
            .authed(repo, |auth| {
                let path = &path;
                async move { self.api.json(Method::GET, path, &auth, None).await }
            })
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
            draft: p.draft,
            author: p.user.login,
        })
    }

    async fn approvals(&self, repo: &str, number: u64) -> Result<Vec<Approval>, ForgeError> {
        let path = format!(
            "/repos/{}/pulls/{number}/reviews?per_page=100",
            owner_repo(repo)?
        );
        let reviews: Vec<ReviewJson> = self
            .authed(repo, |auth| {
                let path = &path;
                async move { self.api.get_pages(path, &auth).await }
            })
            .await?;
        Ok(standing_approvals(reviews.into_iter().filter_map(|r| {
            let user = r.user?.login;
            Some((user, github_verdict(&r.state), r.commit_id))
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
        let answer: Result<PermissionJson, _> = self
            .authed(repo, |auth| {
                let path = &path;
                async move { self.api.json(Method::GET, path, &auth, None).await }
            })
            .await;
        let p = match answer {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(Permission::None),
            Err(e) => return Err(e),
        };
        // `role_name` tells maintain from write and triage from read; `permission` is the
        // older coarse field.
        Ok(
            match p.role_name.as_deref().unwrap_or(p.permission.as_str()) {
                "admin" => Permission::Admin,
                "maintain" | "write" => Permission::Write,
                "triage" | "read" => Permission::Read,
                _ => Permission::None,
            },
        )
    }

    async fn post_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<CommentId, ForgeError> {
        let path = format!("/repos/{}/issues/{number}/comments", owner_repo(repo)?);
        let payload = json!({ "body": body });
        let c: IdJson = self
            .authed(repo, |auth| {
                let (path, payload) = (&path, &payload);
                async move {
                    self.api
                        .json(Method::POST, path, &auth, Some(payload))
                        .await
                }
            })
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
        let payload = json!({ "body": body });
        self.authed(repo, |auth| {
            let (path, payload) = (&path, &payload);
            async move {
                self.api
                    .send(Method::PATCH, path, &auth, Some(payload))
                    .await
            }
        })
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
        self.authed(repo, |auth| {
            let (path, payload) = (&path, &payload);
            async move {
                self.api
                    .send(Method::POST, path, &auth, Some(payload))
                    .await
            }
        })
        .await?;
        Ok(())
    }

    async fn create_issue(&self, repo: &str, title: &str, body: &str) -> Result<u64, ForgeError> {
        let path = format!("/repos/{}/issues", owner_repo(repo)?);
        let payload = json!({ "title": title, "body": body });
        let issue: NumberJson = self
            .authed(repo, |auth| {
                let (path, payload) = (&path, &payload);
                async move {
                    self.api
                        .json(Method::POST, path, &auth, Some(payload))
                        .await
                }
            })
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
        self.authed(repo, |auth| {
            let (path, payload) = (&path, &payload);
            async move {
                self.api
                    .send(Method::PATCH, path, &auth, Some(payload))
                    .await
            }
        })
        .await?;
        Ok(())
    }

    fn comment_limit(&self) -> usize {
        COMMENT_LIMIT
    }

    async fn git_auth(&self, repo: &str) -> Result<GitAuth, ForgeError> {
        let token = self.token(repo).await?;
        Ok(GitAuth::basic("x-access-token", token.expose()))
    }

    async fn repository_access(&self, repo: &str) -> Result<RepoAccess, ForgeError> {
        let path = format!("/repos/{}", owner_repo(repo)?);
        let answer: RepoJson = self
            .authed(repo, |auth| {
                let path = &path;
                async move { self.api.json(Method::GET, path, &auth, None).await }
            })
            .await?;
        Ok(answer.access())
    }
}
