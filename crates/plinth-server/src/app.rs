//! The router, its shared state, and the serve loop.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};
use plinth_state::Store;
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::{api, backend, health, metrics};

/// Server settings that are not storage settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted state body, in bytes (bigger uploads get 413, nothing stored).
    pub max_state_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_state_bytes: 512 * 1024 * 1024,
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
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::record,
        ))
        .with_state(app)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
