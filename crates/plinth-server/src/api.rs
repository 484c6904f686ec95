//! The JSON API under `/v1/`: versions, pull, rollback, locks, audit.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plinth_state::{InstanceId, Scope, WriteOutcome};
use serde::Deserialize;

use crate::app::App;
use crate::auth;
use crate::body::{MAX_LOCK_BYTES, read_limited};
use crate::error::ApiError;

type InstancePath = Path<(String, String, String)>;

fn instance(Path((project, env, stack)): InstancePath) -> Result<InstanceId, ApiError> {
    Ok(InstanceId::new(&project, &env, &stack)?)
}

/// `GET /v1/versions/{project}/{env}/{*stack}`: every version, newest first.
pub(crate) async fn versions(
    State(app): State<App>,
    path: InstancePath,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "listing versions")?;
    let id = instance(path)?;
    let versions = app.store.list_versions(&id).await?;
    Ok(Json(
        serde_json::json!({ "instance": id.key(), "versions": versions }),
    ))
}

/// `GET /v1/pull/{project}/{env}/{*stack}[?version=N]`: the raw state of the current or a
/// given version.
pub(crate) async fn pull(
    State(app): State<App>,
    path: InstancePath,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading state")?;
    let id = instance(path)?;
    let version = match query.get("version") {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid version {v:?}: expected a number"),
            )
        })?),
    };
    let state = app.store.read_state(&id, version).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no state is stored for {id}"),
        )
    })?;
    let mut response = (StatusCode::OK, state.data).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&state.version.to_string()) {
        h.insert("x-plinth-version", v);
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    version: i64,
}

/// `POST /v1/rollback/{project}/{env}/{*stack}` with `{"version": N}` (admin).
pub(crate) async fn rollback(
    State(app): State<App>,
    path: InstancePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    let id = instance(path)?;
    let body = read_limited(&headers, body, MAX_LOCK_BYTES).await?;
    let request: RollbackRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"version\": N}}: {e}"),
        )
    })?;
    let outcome = app.store.rollback(&id, request.version, &actor).await?;
    let (WriteOutcome::Stored { version } | WriteOutcome::Unchanged { version }) = outcome;
    tracing::info!(instance = %id, from = request.version, version, actor = %actor.name, "rolled back");
    Ok(Json(serde_json::json!({
        "instance": id.key(),
        "rolled_back_to": request.version,
        "version": version,
    })))
}

/// `GET /v1/locks[?project=P]`: every held lock.
pub(crate) async fn locks(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "listing locks")?;
    let locks = app
        .store
        .list_locks(query.get("project").map(String::as_str))
        .await?;
    Ok(Json(serde_json::json!({ "locks": locks })))
}

/// `GET /v1/locks/{project}/{env}/{*stack}`: the holder, or 404 when unlocked.
pub(crate) async fn lock_details(
    State(app): State<App>,
    path: InstancePath,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading locks")?;
    let id = instance(path)?;
    let holder = app
        .store
        .lock_holder(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("{id} is not locked")))?;
    Ok(Json(serde_json::to_value(holder).unwrap_or_default()))
}

/// `DELETE /v1/locks/{project}/{env}/{*stack}[?id=LOCK_ID]`: force-unlock (admin, audited).
pub(crate) async fn force_unlock(
    State(app): State<App>,
    path: InstancePath,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    let id = instance(path)?;
    let holder = app
        .store
        .force_unlock(&id, query.get("id").map(String::as_str), &actor)
        .await?;
    tracing::info!(instance = %id, lock = %holder.id, actor = %actor.name, "force-unlocked");
    Ok(Json(serde_json::json!({ "released": holder })))
}

/// `GET /v1/audit[?instance=P/E/S][&limit=N]` (admin): newest entries first.
pub(crate) async fn audit(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Admin, "reading the audit log")?;
    let instance = query
        .get("instance")
        .map(|k| InstanceId::parse(k))
        .transpose()?;
    let limit = match query.get("limit") {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid limit {l:?}")))?,
        None => 100,
    };
    let entries = app.store.audit_log(instance.as_ref(), limit).await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}

/// `GET /v1/whoami`: the calling token's name and scope.
pub(crate) async fn whoami(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    Ok(Json(
        serde_json::json!({ "name": actor.name, "scope": actor.scope }),
    ))
}

/// Unknown routes: a JSON 404 that says what exists.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; the state backend is /v1/state/{project}/{env}/{stack}",
    )
}

/// A known route with a method it does not serve: a JSON 405 (axum's own has no body).
pub(crate) async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on this endpoint"),
    )
}
