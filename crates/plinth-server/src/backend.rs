//! The Terraform/OpenTofu `http` backend at `/v1/state/{project}/{env}/{*stack}`, answering
//! exactly the codes the client accepts: GET 200/204, POST 200, LOCK/UNLOCK/DELETE 200 only,
//! and a lock conflict as 409 carrying the holder's LockInfo JSON.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plinth_state::{InstanceId, Scope, WriteOutcome};

use crate::app::App;
use crate::auth;
use crate::body::{MAX_LOCK_BYTES, read_limited};
use crate::error::ApiError;

/// Dispatches on the method; LOCK and UNLOCK are not standard methods, hence `any`.
pub(crate) async fn state(
    State(app): State<App>,
    Path((project, env, stack)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(
        &app, &project, &env, &stack, &query, &method, &headers, body,
    )
    .await
    {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    app: &App,
    project: &str,
    env: &str,
    stack: &str,
    query: &HashMap<String, String>,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = auth::actor(&app.store, headers).await?;
    let id = InstanceId::new(project, env, stack)?;
    let lock_id = query
        .get("ID")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    match method.as_str() {
        "GET" => {
            actor.require(Scope::Read, "reading state")?;
            match app.store.read_state(&id, None).await? {
                None => Ok(StatusCode::NO_CONTENT.into_response()),
                Some(state) => {
                    let mut response = (StatusCode::OK, state.data).into_response();
                    let h = response.headers_mut();
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    if let Ok(md5) = HeaderValue::from_str(&state.md5) {
                        h.insert("content-md5", md5);
                    }
                    if let Ok(v) = HeaderValue::from_str(&state.version.to_string()) {
                        h.insert("x-plinth-version", v);
                    }
                    Ok(response)
                }
            }
        }
        "POST" | "PUT" => {
            actor.require(Scope::Write, "writing state")?;
            let data = read_limited(headers, body, app.config.max_state_bytes).await?;
            let md5 = headers.get("content-md5").and_then(|v| v.to_str().ok());
            let outcome = app
                .store
                .write_state(&id, data, lock_id, md5, &actor)
                .await
                .map_err(|e| ApiError::backend(e, StatusCode::LOCKED))?;
            let (WriteOutcome::Stored { version } | WriteOutcome::Unchanged { version }) = outcome;
            if let WriteOutcome::Stored { .. } = outcome {
                app.metrics.state_writes.inc();
                tracing::info!(instance = %id, version, actor = %actor.name, "state stored");
            }
            Ok((
                StatusCode::OK,
                axum::Json(serde_json::json!({ "version": version })),
            )
                .into_response())
        }
        "LOCK" => {
            let info = read_limited(headers, body, MAX_LOCK_BYTES).await?;
            app.store
                .lock(&id, &info, &actor)
                .await
                .map_err(|e| ApiError::backend(e, StatusCode::CONFLICT))?;
            Ok(StatusCode::OK.into_response())
        }
        "UNLOCK" => {
            let info = read_limited(headers, body, MAX_LOCK_BYTES).await?;
            app.store
                .unlock(&id, &info, &actor)
                .await
                .map_err(|e| ApiError::backend(e, StatusCode::CONFLICT))?;
            Ok(StatusCode::OK.into_response())
        }
        "DELETE" => {
            app.store
                .delete_state(&id, lock_id, &actor)
                .await
                .map_err(|e| ApiError::backend(e, StatusCode::LOCKED))?;
            Ok(StatusCode::OK.into_response())
        }
        other => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "method {other} is not part of the http state backend (GET, POST, PUT, LOCK, UNLOCK, DELETE)"
            ),
        )),
    }
}
