//! `/v1/pulls`, `/v1/jobs` and `/v1/pull-locks`: what the server does for pull requests.
//!
//! A repository path contains slashes (GitLab: any number of groups), so a pull request is
//! addressed as `/v1/pulls/{repo…}/{number}`: every segment but the last is the repository
//! (`/v1/pulls/acme/infra/7`, `/v1/pulls/group/sub/infra/7`); the repository may also be sent
//! percent-encoded as one segment (`/v1/pulls/acme%2Finfra/7`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use plinth_state::{InstanceId, PullRef, PullState, Scope};

use crate::app::App;
use crate::auth;
use crate::error::ApiError;
use crate::extract::{Params, PathParams};

/// `GET /v1/pulls[?repo=R][&state=open|closed|merged][&limit=N]` (read): newest first.
pub(crate) async fn list(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "listing pull requests")?;
    let state = params.optional("state").map(PullState::parse).transpose()?;
    let limit = params.limit(200, 1000)?;
    let pulls = app
        .store
        .pull_views(params.optional("repo"), state, limit)
        .await?;
    Ok(Json(serde_json::json!({ "pulls": pulls })))
}

/// `GET /v1/pulls/{repo…}/{number}` (read): one pull request in the shape of DESIGN §5.1.
pub(crate) async fn one(
    State(app): State<App>,
    PathParams(path): PathParams<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading a pull request")?;
    let pull = pull_of_path(&path)?;
    let view = app.store.pull_view(&pull).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the server has not seen pull request {pull}"),
        )
    })?;
    Ok(Json(serde_json::to_value(view).unwrap_or_default()))
}

/// `REPO…/NUMBER` → the pull request.
fn pull_of_path(path: &str) -> Result<PullRef, ApiError> {
    let path = path.trim_matches('/');
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "invalid pull request path {path:?}: expected /v1/pulls/OWNER/NAME/NUMBER \
                 (or the repository percent-encoded)"
            ),
        )
    };
    let (repo, number) = path.rsplit_once('/').ok_or_else(bad)?;
    let number: i64 = number.parse().map_err(|_| bad())?;
    Ok(PullRef::new(repo, number)?)
}

/// `GET /v1/jobs/{id}` (read): one job with its masked log.
pub(crate) async fn job(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "reading a job")?;
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid job id {id:?}: expected a number"),
        )
    })?;
    let job = app
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no job {id}")))?;
    Ok(Json(serde_json::to_value(job).unwrap_or_default()))
}

/// `GET /v1/pull-locks[?project=P]` (read): every instance a pull request holds or waits for.
pub(crate) async fn locks(
    State(app): State<App>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    actor.require(Scope::Read, "listing pull-request locks")?;
    let locks = app.store.pull_locks(params.optional("project")).await?;
    Ok(Json(serde_json::json!({ "locks": locks })))
}

/// `DELETE /v1/pull-locks/{project}/{env}/{*stack}` (admin): takes the lock from its pull
/// request; the first queued pull request that can now take all its locks gets them.
pub(crate) async fn release(
    State(app): State<App>,
    PathParams((project, env, stack)): PathParams<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = auth::actor(&app.store, &headers).await?;
    let id = InstanceId::new(&project, &env, &stack)?;
    let (holder, handed_over) = app.store.force_release_pull_lock(&id, &actor).await?;
    tracing::info!(instance = %id, holder = %holder, actor = %actor.name, "pull-request lock released");
    if let Some(hand_over) = &app.config.hand_over
        && !handed_over.is_empty()
    {
        hand_over(handed_over.clone());
    }
    Ok(Json(serde_json::json!({
        "instance": id.key(),
        "released": holder,
        "handed_over": handed_over,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_keep_their_slashes() {
        let p = pull_of_path("group/sub/infra/7").unwrap();
        assert_eq!((p.repo.as_str(), p.number), ("group/sub/infra", 7));
        assert!(pull_of_path("acme/infra/x").is_err());
        assert!(pull_of_path("infra/7").is_err());
        assert!(pull_of_path("7").is_err());
    }
}
