//! `/metrics` in Prometheus text format: request counts and latencies by route, plus gauges
//! read from the database at scrape time (so every replica reports the same locks).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::app::App;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EnvLabels {
    project: String,
    env: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The server's metric registry.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    locks_held: Gauge,
    jobs_queued: Gauge,
    jobs_running: Gauge,
    pull_locks_held: Gauge,
    drifted: Family<EnvLabels, Gauge>,
    drift_checked: Family<EnvLabels, Gauge>,
    pub state_writes: Counter,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("plinth");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let locks_held = Gauge::default();
        let state_writes = Counter::default();
        let (jobs_queued, jobs_running, pull_locks_held) =
            (Gauge::default(), Gauge::default(), Gauge::default());
        let drifted = Family::<EnvLabels, Gauge>::default();
        let drift_checked = Family::<EnvLabels, Gauge>::default();
        registry.register(
            "jobs_queued",
            "Jobs waiting for a worker, over every replica",
            jobs_queued.clone(),
        );
        registry.register(
            "jobs_running",
            "Jobs claimed by a worker, over every replica",
            jobs_running.clone(),
        );
        registry.register(
            "pull_locks_held",
            "Instance locks held by pull requests",
            pull_locks_held.clone(),
        );
        registry.register(
            "drifted_instances",
            "Instances whose latest drift check found changes",
            drifted.clone(),
        );
        registry.register(
            "drift_last_check_timestamp_seconds",
            "When an environment was last checked for drift (Unix time)",
            drift_checked.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "locks_held",
            "State locks currently held",
            locks_held.clone(),
        );
        registry.register(
            "state_writes",
            "State versions stored by this replica",
            state_writes.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            locks_held,
            jobs_queued,
            jobs_running,
            pull_locks_held,
            drifted,
            drift_checked,
            state_writes,
        }
    }
}

/// Middleware: counts and times every request under its route pattern (not its raw path, which
/// would make one series per instance).
pub(crate) async fn record(State(app): State<App>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    app.metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics`.
pub(crate) async fn scrape(State(app): State<App>) -> Response {
    let m = &app.metrics;
    if let Ok(n) = app.store.count_locks().await {
        m.locks_held.set(n);
    }
    if let Ok(counts) = app.store.job_counts().await {
        m.jobs_queued.set(counts.queued);
        m.jobs_running.set(counts.running);
    }
    if let Ok(n) = app.store.count_pull_locks().await {
        m.pull_locks_held.set(n);
    }
    if let Ok(envs) = app.store.drift_counts().await {
        // Rebuilt from the database at each scrape, so an environment no longer checked
        // disappears and every replica reports the same figures.
        m.drifted.clear();
        m.drift_checked.clear();
        for env in envs {
            let labels = EnvLabels {
                project: env.project,
                env: env.env,
            };
            m.drifted.get_or_create(&labels).set(env.drifted);
            m.drift_checked
                .get_or_create(&labels)
                .set(env.last_checked_ms / 1000);
        }
    }
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &app.metrics.registry) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    let mut response = (StatusCode::OK, Body::from(text)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
