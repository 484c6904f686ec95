//! `/healthz`: the server answers and its database does.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::app::App;

/// 200 `{"status":"ok"}` when the database answers, 503 otherwise (so load balancers drain).
pub(crate) async fn healthz(State(app): State<App>) -> (StatusCode, Json<serde_json::Value>) {
    match app.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({
                "status": "ok",
                "database": app.store.kind().as_str(),
                "encryption": app.store.is_encrypting(),
            })),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "error": e.to_string() })),
        ),
    }
}
