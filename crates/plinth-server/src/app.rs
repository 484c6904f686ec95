//! The router and its shared state.

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post, put};
use plinth_state::{PullRef, Store};

use crate::metrics::Metrics;
use crate::{api, backend, copies_api, health, metrics, promotions_api, pulls_api, runs_api};

/// What to do with the pull requests an admin's lock release handed their locks to (the
/// pull-request flow plans them).
pub type HandOver = Arc<dyn Fn(Vec<PullRef>) + Send + Sync>;

/// Server settings that are not storage settings.
#[derive(Clone)]
pub struct ServerConfig {
    /// Largest accepted state body, in bytes (bigger uploads get 413, nothing stored).
    pub max_state_bytes: usize,
    /// Largest accepted run report (`POST /v1/runs`: results and masked logs), in bytes.
    pub max_run_bytes: usize,
    /// Called with the pull requests handed locks by `DELETE /v1/pull-locks/…` (none: they
    /// wait for their next event).
    pub hand_over: Option<HandOver>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("max_state_bytes", &self.max_state_bytes)
            .field("max_run_bytes", &self.max_run_bytes)
            .field("hand_over", &self.hand_over.is_some())
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_state_bytes: 512 * 1024 * 1024,
            max_run_bytes: 64 * 1024 * 1024,
            hand_over: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
}

/// Builds the router: `/v1/state/…` (Terraform http backend), the JSON API, `/healthz`,
/// `/metrics`.
pub fn router(store: Store, config: ServerConfig) -> Router {
    router_with(store, config, Router::new())
}

/// The router with `extra` routes (webhooks, the dashboard) merged in before the JSON 404
/// fallback and the metrics layer, so they are counted and timed like the built-in ones.
/// `extra` carries its own state (`Router::with_state`) and must not set a fallback.
pub fn router_with(store: Store, config: ServerConfig, extra: Router) -> Router {
    let app = App {
        store,
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()),
    };
    Router::new()
        .route("/v1/state/{project}/{env}/{*stack}", any(backend::state))
        .route("/v1/versions/{project}/{env}/{*stack}", get(api::versions))
        .route("/v1/pull/{project}/{env}/{*stack}", get(api::pull))
        .route("/v1/rollback/{project}/{env}/{*stack}", post(api::rollback))
        .route("/v1/locks", get(api::locks))
        .route(
            "/v1/locks/{project}/{env}/{*stack}",
            get(api::lock_details).delete(api::force_unlock),
        )
        .route("/v1/audit", get(api::audit))
        .route("/v1/whoami", get(api::whoami))
        .route("/v1/pulls", get(pulls_api::list))
        .route("/v1/pulls/{*path}", get(pulls_api::one))
        .route("/v1/jobs/{id}", get(pulls_api::job))
        .route("/v1/pull-locks", get(pulls_api::locks))
        .route(
            "/v1/pull-locks/{project}/{env}/{*stack}",
            axum::routing::delete(pulls_api::release),
        )
        .route(
            "/v1/promotions",
            post(promotions_api::record).get(promotions_api::list),
        )
        .route("/v1/promotions/latest", get(promotions_api::latest))
        .route("/v1/copies", get(copies_api::list))
        .route(
            "/v1/copies/{project}/{name}",
            put(copies_api::put).delete(copies_api::delete),
        )
        .route("/v1/runs", post(runs_api::record).get(runs_api::list))
        .route("/v1/runs/{id}", get(runs_api::one))
        .route("/v1/drift", get(runs_api::drift))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        .with_state(app.clone())
        .merge(extra)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app, metrics::record))
}
