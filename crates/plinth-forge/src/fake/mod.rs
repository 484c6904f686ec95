//! A stand-in forge for tests (feature `test-support`): an HTTP server on `127.0.0.1:0` that
//! speaks GitHub's, GitLab's (`/api/v4`) or Gitea's (`/api/v1`) REST dialect for every call of
//! [`crate::Forge`] (and GitHub App token exchange), keeps state that tests set and read,
//! checks each forge's auth header (401 on a wrong token), can inject rate-limit answers, and
//! records every call it receives. Plus webhook signing ([`webhooks`]) and payloads
//! ([`payloads`]).
//!
//! ```no_run
//! # async fn demo() {
//! use plinth_forge::fake::{FakeForge, FakePull};
//! use plinth_forge::{ClientConfig, ForgeKind};
//! let forge = FakeForge::start(ForgeKind::GitLab).await;
//! forge.set_pull("acme/infra", 7, FakePull::open("abc123"));
//! let client = forge.client(&ClientConfig::default());
//! let info = client.pull_request("acme/infra", 7).await.unwrap();
//! assert_eq!(info.head_sha, "abc123");
//! assert_eq!(forge.calls()[0].path, "/api/v4/projects/acme%2Finfra/merge_requests/7");
//! # }
//! ```

mod gitea_api;
mod github_api;
mod gitlab_api;
pub mod payloads;
mod server;
mod state;
pub mod webhooks;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use plinth_config::{ForgeAuth, ForgeDecl, ForgeKind, Spanned};

pub use state::{
    AuthSeen, FakeComment, FakeIssue, FakePull, FakeReview, FakeStatus, Injection, RecordedCall,
    ReviewState,
};

use crate::client::{ClientConfig, RetryPolicy, client_for};
use crate::credentials::Credentials;
use crate::forge::{Forge, Permission};

/// A private key for a test GitHub App (2048-bit RSA, PKCS#1, made for these tests only).
pub const TEST_APP_KEY_PEM: &str = include_str!("test_app_key.pem");
/// Its public half, which the stand-in checks JWTs with.
pub const TEST_APP_PUBLIC_KEY_PEM: &str = include_str!("test_app_key.pub.pem");

/// A running stand-in forge. Stops when dropped.
pub struct FakeForge {
    kind: ForgeKind,
    state: Arc<Mutex<state::State>>,
    base_url: String,
    token: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeForge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for FakeForge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeForge({} at {})", self.kind.as_str(), self.base_url)
    }
}

impl FakeForge {
    /// Starts a stand-in for `kind` accepting a fresh token (see [`FakeForge::token`]).
    pub async fn start(kind: ForgeKind) -> FakeForge {
        let token = format!(
            "{}-test-token-{}",
            kind.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        Self::start_with_token(kind, &token).await
    }

    /// Starts a stand-in for `kind` that accepts `token`.
    pub async fn start_with_token(kind: ForgeKind, token: &str) -> FakeForge {
        let state = Arc::new(Mutex::new(state::State::new(kind, token.to_string())));
        let (base_url, task) = server::spawn(state.clone()).await;
        state.lock().unwrap().base_url = base_url.clone();
        FakeForge {
            kind,
            state,
            base_url,
            token: token.to_string(),
            task,
        }
    }

    /// Which forge it plays.
    pub fn kind(&self) -> ForgeKind {
        self.kind
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API root a client is configured with (GitLab `…/api/v4`, Gitea `…/api/v1`).
    pub fn api_url(&self) -> String {
        match self.kind {
            ForgeKind::GitHub => self.base_url.clone(),
            ForgeKind::GitLab => format!("{}/api/v4", self.base_url),
            ForgeKind::Gitea => format!("{}/api/v1", self.base_url),
        }
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A `forge` block pointing at this stand-in, naming `token_env` and `webhook_secret_env`.
    pub fn forge_decl(&self, name: &str, token_env: &str, webhook_secret_env: &str) -> ForgeDecl {
        ForgeDecl {
            name: Spanned::new(name.to_string(), 0..0),
            kind: self.kind,
            api_url: self.api_url(),
            auth: ForgeAuth::Token {
                env: Spanned::new(token_env.to_string(), 0..0),
            },
            webhook_secret_env: Spanned::new(webhook_secret_env.to_string(), 0..0),
        }
    }

    /// The real client for this forge kind, pointed here with the valid token.
    pub fn client(&self, config: &ClientConfig) -> Arc<dyn Forge> {
        let decl = self.forge_decl("fake", "UNUSED_TOKEN_ENV", "UNUSED_SECRET_ENV");
        client_for(&decl, Credentials::Token(self.token.clone()), config)
            .expect("a client for the stand-in forge")
    }

    /// The real client with a wrong token.
    pub fn client_with_token(&self, token: &str, config: &ClientConfig) -> Arc<dyn Forge> {
        let decl = self.forge_decl("fake", "UNUSED_TOKEN_ENV", "UNUSED_SECRET_ENV");
        client_for(&decl, Credentials::Token(token.to_string()), config)
            .expect("a client for the stand-in forge")
    }

    fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates or replaces pull request `number` of `repo`.
    pub fn set_pull(&self, repo: &str, number: u64, pull: FakePull) {
        self.lock().repo(repo).pulls.insert(number, pull);
    }

    /// Changes pull request `number` of `repo` (which must exist).
    pub fn update_pull(&self, repo: &str, number: u64, change: impl FnOnce(&mut FakePull)) {
        let mut state = self.lock();
        let pull = state
            .repo(repo)
            .pulls
            .get_mut(&number)
            .unwrap_or_else(|| panic!("the stand-in has no pull request {repo}#{number}"));
        change(pull);
    }

    /// The pull request as it stands.
    pub fn pull(&self, repo: &str, number: u64) -> Option<FakePull> {
        self.lock().repo(repo).pulls.get(&number).cloned()
    }

    /// Adds a review by `user` on `commit` (GitLab: an approval, when `Approved`).
    pub fn add_review(
        &self,
        repo: &str,
        number: u64,
        user: &str,
        state: ReviewState,
        commit: &str,
    ) {
        let mut s = self.lock();
        let id = s.id();
        s.repo(repo)
            .reviews
            .entry(number)
            .or_default()
            .push(FakeReview {
                id,
                user: user.to_string(),
                state,
                commit_id: commit.to_string(),
            });
    }

    /// Gives `user` (numeric id `user_id`, which GitLab addresses members by) `permission` on
    /// `repo`. `Permission::None` removes them (GitHub and GitLab then answer 404).
    pub fn set_permission(&self, repo: &str, user: &str, user_id: u64, permission: Permission) {
        let mut s = self.lock();
        s.user_ids.insert(user.to_string(), user_id);
        let members = &mut s.repo(repo).members;
        if permission == Permission::None {
            members.remove(user);
        } else {
            members.insert(user.to_string(), permission);
        }
    }

    /// Creates `repo` (default branch `main`) for `GET /repos/O/R` (GitLab `GET /projects/ID`),
    /// where the token has `access`; with `Permission::None` the token cannot see it (404), as
    /// with someone else's private repository. App installation tokens see it when installed.
    pub fn create_repo(&self, repo: &str, access: Permission) {
        self.lock().repo(repo).token_access = Some(access);
    }

    /// Comments on `repo`'s pull request or issue `number`, oldest first.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<FakeComment> {
        self.lock()
            .repo(repo)
            .comments
            .iter()
            .filter(|c| c.number == number)
            .cloned()
            .collect()
    }

    /// Every status set on `repo`, in the order received.
    pub fn statuses(&self, repo: &str) -> Vec<FakeStatus> {
        self.lock().repo(repo).statuses.clone()
    }

    /// The last status with `context` on `sha`.
    pub fn latest_status(&self, repo: &str, sha: &str, context: &str) -> Option<FakeStatus> {
        self.statuses(repo)
            .into_iter()
            .rev()
            .find(|s| s.sha == sha && s.context == context)
    }

    /// Issues of `repo`, by number.
    pub fn issues(&self, repo: &str) -> Vec<FakeIssue> {
        self.lock().repo(repo).issues.values().cloned().collect()
    }

    /// Answers the next `times` calls with `injection` instead of the real answer (after the
    /// auth check, like the real forges).
    pub fn inject(&self, times: usize, injection: Injection) {
        let mut s = self.lock();
        for _ in 0..times {
            s.injections.push_back(injection);
        }
    }

    /// Every call received, oldest first.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.clone()
    }

    /// Calls with `method` whose path starts with `path_prefix`.
    pub fn calls_to(&self, method: &str, path_prefix: &str) -> Vec<RecordedCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.path.starts_with(path_prefix))
            .collect()
    }

    /// Forgets the calls received so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Polls the recorded calls until `done` holds or `timeout` passes; whether it held.
    pub async fn wait_for_calls(
        &self,
        timeout: Duration,
        done: impl Fn(&[RecordedCall]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.lock().calls) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Plays GitHub App `app_id` whose key is [`TEST_APP_KEY_PEM`]; installation tokens live
    /// `token_ttl`. GitHub only.
    pub fn enable_github_app(&self, app_id: u64, token_ttl: Duration) {
        assert_eq!(
            self.kind,
            ForgeKind::GitHub,
            "GitHub Apps exist on GitHub only"
        );
        self.lock().app = Some(state::App {
            app_id,
            public_key_pem: TEST_APP_PUBLIC_KEY_PEM.as_bytes().to_vec(),
            installations: Default::default(),
            token_ttl,
            issued: Default::default(),
        });
    }

    /// Installs the App on `repo` as installation `id`.
    pub fn install_app(&self, repo: &str, id: u64) {
        self.lock()
            .app
            .as_mut()
            .expect("enable_github_app first")
            .installations
            .insert(repo.to_string(), id);
    }

    /// Revokes every installation token issued so far.
    pub fn revoke_app_tokens(&self) {
        if let Some(app) = self.lock().app.as_mut() {
            app.issued.clear();
        }
    }

    /// The real GitHub client acting as App `app_id` with [`TEST_APP_KEY_PEM`].
    pub fn app_client(&self, app_id: u64, config: &ClientConfig) -> Arc<dyn Forge> {
        Arc::new(
            crate::client::GitHubClient::app(
                &self.api_url(),
                app_id,
                TEST_APP_KEY_PEM.as_bytes(),
                config,
            )
            .expect("the test App key loads"),
        )
    }
}

/// A client configuration for tests: retries wait milliseconds, not seconds.
pub fn fast_retries() -> ClientConfig {
    ClientConfig {
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_total_wait: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    }
}
