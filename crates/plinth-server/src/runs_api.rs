//! `/v1/runs` and `/v1/drift`: the team's one history. CLIs of `backend = "plinth"` projects
//! report their runs here; the server stores the masked logs it is given and never logs them.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use plinth_state::{RunReport, Scope};

use crate::app::App;
use crate::auth;
use crate::body::read_json;
use crate::error::ApiError;
use crate::extract::{Params, PathParams};

/// `POST /v1/runs` (write): stores a run; re-posting a run id replaces it.
pub(crate) async fn record(
    State(app): State<App>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Write, "reporting a run")?;
    let report: RunReport =
        read_json(&headers, body, app.config.max_run_bytes, "run report").await?;
    app.store.record_run(&report, &actor).await?;
    // Only identifiers are logged: logs and reasons may hold what the reporter masked badly.
    tracing::info!(
        run = %report.run_id, project = %report.project, env = %report.env,
        action = %report.action, status = %report.status, actor = %actor.name, "run recorded"
    );
    Ok(Json(serde_json::json!({
        "run_id": report.run_id,
        "instances": report.instances.len(),
    })))
}

/// `GET /v1/runs?project=P[&env=E][&limit=N]` (read): newest first, without logs.
pub(crate) async fn list(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading the run history")?;
    let runs = app
        .store
        .runs(
            params.required("project")?,
            params.optional("env"),
            params.limit(50, 1000)?,
        )
        .await?;
    Ok(Json(serde_json::json!({ "runs": runs })))
}

/// `GET /v1/runs/{id}` (read): one run with its instances' masked logs.
pub(crate) async fn one(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading the run history")?;
    let run = app
        .store
        .run(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no run {id}")))?;
    Ok(Json(serde_json::to_value(run).unwrap_or_default()))
}

/// `GET /v1/drift?project=P&env=E` (read): each checked instance's latest drift result.
pub(crate) async fn drift(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading drift results")?;
    let (project, env) = (params.required("project")?, params.required("env")?);
    let instances = app.store.latest_drift(project, env).await?;
    Ok(Json(serde_json::json!({
        "project": project,
        "env": env,
        "instances": instances,
    })))
}
