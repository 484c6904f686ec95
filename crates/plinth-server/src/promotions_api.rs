//! `/v1/promotions`: promotion records, written by CLIs and the pull-request flow after a
//! successful apply, read by the promotion gate of the next environment.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use plinth_state::{NewPromotion, PromotionKind, PromotionQuery, Scope};

use crate::app::App;
use crate::auth;
use crate::body::{MAX_RECORD_BYTES, read_json};
use crate::error::ApiError;
use crate::extract::Params;

/// `POST /v1/promotions` (write): stores a record; 201 with the record as stored.
pub(crate) async fn record(
    State(app): State<App>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Write, "recording a promotion")?;
    let new: NewPromotion = read_json(&headers, body, MAX_RECORD_BYTES, "promotion record").await?;
    let stored = app.store.record_promotion(&new, &actor).await?;
    tracing::info!(
        project = %stored.project, env = %stored.env, subject = %stored.subject,
        fingerprint = %stored.fingerprint, actor = %actor.name, "promotion recorded"
    );
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /v1/promotions?project=&env=[&kind=][&subject=][&fingerprint=][&limit=]` (read):
/// matching records, newest first (with `subject` and `fingerprint`: the gate's lookup).
pub(crate) async fn list(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading promotion records")?;
    let query = PromotionQuery {
        project: params.required("project")?.to_owned(),
        env: params.required("env")?.to_owned(),
        kind: params
            .optional("kind")
            .map(PromotionKind::parse)
            .transpose()?,
        subject: params.optional("subject").map(str::to_owned),
        fingerprint: params.optional("fingerprint").map(str::to_owned),
        limit: Some(params.limit(100, 1000)?),
    };
    let promotions = app.store.promotions(&query).await?;
    Ok(Json(serde_json::json!({ "promotions": promotions })))
}

/// `GET /v1/promotions/latest?project=&env=[&kind=]` (read): the newest record of every
/// subject in the environment (what `plinth promote` compares against, in one request).
pub(crate) async fn latest(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading promotion records")?;
    let kind = params
        .optional("kind")
        .map(PromotionKind::parse)
        .transpose()?;
    let promotions = app
        .store
        .latest_promotions(params.required("project")?, params.required("env")?, kind)
        .await?;
    Ok(Json(serde_json::json!({ "promotions": promotions })))
}
