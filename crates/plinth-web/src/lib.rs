//! The web dashboard: server-rendered pages (maud templates, CSS embedded in the binary, no
//! JavaScript framework) behind a sign-in with an API token.
//!
//! `plinth serve` merges [`router`] into its own router at `/`. Every page but the sign-in
//! page needs a session: a random id in an HttpOnly, SameSite=Strict cookie, stored hashed in
//! the database (`web_sessions`) and bound to the token that signed in, so revoking the token
//! ends its sessions on every replica. State-changing forms carry the session's CSRF token.
//! Pages only read the store; the one write besides sign-in is an admin's lock release.

mod assets;
mod csrf;
mod display;
mod error;
mod headers;
mod pages;
mod session;
mod shell;
mod sign_in;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use plinth_state::{PullRef, Store};

/// Called with the pull requests that were given instance locks when an admin released a
/// pull request's lock from the dashboard, so the server can plan them at once.
pub type HandOver = Arc<dyn Fn(Vec<PullRef>) + Send + Sync>;

/// Dashboard settings.
#[derive(Clone)]
pub struct WebConfig {
    /// The server's public URL (`server.public_url`); an `https://` URL makes the session
    /// cookie `Secure` even when TLS ends at a proxy in front of the server.
    pub public_url: Option<String>,
    /// The server itself speaks HTTPS (`--tls-cert`): cookies are `Secure`.
    pub tls: bool,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// What to do with pull requests handed locks by a release (none: they wait for their
    /// next event).
    pub hand_over: Option<HandOver>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("public_url", &self.public_url)
            .field("tls", &self.tls)
            .field("session_ttl", &self.session_ttl)
            .field("hand_over", &self.hand_over.is_some())
            .finish()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: None,
            tls: false,
            session_ttl: Duration::from_secs(12 * 3600),
            hand_over: None,
        }
    }
}

impl WebConfig {
    fn https(&self) -> bool {
        self.tls
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }
}

/// What every dashboard handler shares.
#[derive(Clone)]
pub(crate) struct Web {
    pub store: Store,
    pub config: Arc<WebConfig>,
}

/// The dashboard's routes: `/` (overview), `/instances/…`, `/runs`, `/pulls`, `/locks`,
/// `/copies`, `/login`, `/logout` and `/assets/…`. It has no fallback, so it merges into a
/// router that has one.
pub fn router(store: Store, config: WebConfig) -> Router {
    let web = Web {
        store,
        config: Arc::new(config),
    };
    let pages = Router::new()
        .route("/", get(pages::overview::page))
        .route(
            "/instances/{project}/{env}/{*stack}",
            get(pages::instance::page),
        )
        .route("/runs", get(pages::runs::page))
        .route("/runs/{id}", get(pages::run::page))
        .route("/runs/{id}/progress", get(pages::run::progress))
        .route("/pulls", get(pages::pulls::page))
        .route("/locks", get(pages::locks::page))
        .route("/locks/release", post(pages::locks::release))
        .route("/copies", get(pages::copies::page))
        .route("/logout", post(sign_in::sign_out))
        .route_layer(axum::middleware::from_fn_with_state(
            web.clone(),
            session::require,
        ));
    Router::new()
        .route("/login", get(sign_in::form).post(sign_in::submit))
        .route("/assets/plinth.css", get(assets::css))
        .route("/assets/live.js", get(assets::live_js))
        .merge(pages)
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(web)
}
