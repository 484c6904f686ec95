//! `/v1/copies`: ephemeral copies made by CLIs, CI and the pull-request flow, so the server's
//! reaper sees them all.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use plinth_state::{CopyUpdate, PutMode, Scope, StateError};

use crate::app::App;
use crate::auth;
use crate::body::{MAX_RECORD_BYTES, read_json};
use crate::error::ApiError;
use crate::extract::{Params, PathParams};

/// `PUT /v1/copies/{project}/{name}` (write): creates or replaces the copy's record. With
/// `If-None-Match: *` it only creates, and an existing copy of that name is a 412.
pub(crate) async fn put(
    State(app): State<App>,
    PathParams((project, name)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Write, "recording an ephemeral copy")?;
    let update: CopyUpdate = read_json(&headers, body, MAX_RECORD_BYTES, "copy record").await?;
    let mode = match headers.get(header::IF_NONE_MATCH).map(|v| v.as_bytes()) {
        Some(b"*") => PutMode::CreateOnly,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "If-None-Match accepts only `*` (create only)",
            ));
        }
        None => PutMode::Upsert,
    };
    let stored = app
        .store
        .put_copy(&project, &name, &update, mode, &actor)
        .await
        .map_err(|e| match e {
            StateError::Conflict(m) => ApiError::new(StatusCode::PRECONDITION_FAILED, m),
            other => other.into(),
        })?;
    tracing::info!(project = %project, copy = %name, status = stored.status.as_str(), actor = %actor.name, "copy recorded");
    Ok(Json(serde_json::to_value(stored).unwrap_or_default()))
}

/// `DELETE /v1/copies/{project}/{name}` (write): forgets a destroyed copy.
pub(crate) async fn delete(
    State(app): State<App>,
    PathParams((project, name)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    let removed = app.store.delete_copy(&project, &name, &actor).await?;
    tracing::info!(project = %project, copy = %name, actor = %actor.name, "copy removed");
    Ok(Json(serde_json::json!({ "deleted": removed })))
}

/// `GET /v1/copies?project=P[&expired=true]` (read): a project's copies, or only those past
/// their expiry (the reaper's list).
pub(crate) async fn list(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "listing ephemeral copies")?;
    let project = params.required("project")?;
    let copies = if params.flag("expired")? {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        app.store.expired_copies(Some(project), now).await?
    } else {
        app.store.copies(project).await?
    };
    Ok(Json(serde_json::json!({ "copies": copies })))
}
