//! `POST /webhooks/github`, `/webhooks/gitlab`, `/webhooks/gitea`: the HTTP side of webhook
//! intake. The body is read under [`MAX_WEBHOOK_BYTES`] (413 beyond it, nothing stored) and
//! handed with the headers to a [`WebhookIntake`], whose answer becomes the status and JSON
//! body. No API token: the forge's signature is the authentication, checked by the intake.
//!
//! The intake is a trait rather than `plinth-pulls`' type so that the pull-request crate (its
//! job workers share this crate's [`crate::Shutdown`]) can depend on this one, not the reverse.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use plinth_config::ForgeKind;

use crate::body::read_limited;
use crate::error::ApiError;

/// Largest accepted delivery: GitHub caps payloads at 25 MB; 25 MiB leaves room for that.
pub const MAX_WEBHOOK_BYTES: usize = 25 * 1024 * 1024;

/// What the intake made of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAnswer {
    /// Stored, with the job that will handle it: 202 `{"job": id}`.
    Queued(i64),
    /// A redelivery of a stored delivery: 200 `{"duplicate": true}`, since nothing new was
    /// queued (every forge counts any 2xx as delivered).
    Duplicate,
    /// Verified but not acted on (a push, an edited comment, a bot): 200 `{"ignored": why}`.
    Ignored(String),
    /// Signature or token missing or wrong: 401, nothing stored.
    Unauthorized(String),
    /// No delivery id, or a payload that is not the event it claims: 400.
    BadRequest(String),
    /// A repository no `repo` block serves: 403.
    Forbidden(String),
    /// No `forge` block of this type: 404.
    NotConfigured(String),
    /// The delivery could not be stored: 500 (the forge shows it as failed; redeliver).
    Failed(String),
}

/// Boxed future of [`WebhookIntake::receive`].
pub type IntakeFuture<'a> = Pin<Box<dyn Future<Output = WebhookAnswer> + Send + 'a>>;

/// Verifies, decodes and stores deliveries (implemented by `plinth_pulls::Intake`).
pub trait WebhookIntake: Send + Sync + 'static {
    /// Handles one delivery that arrived on `/webhooks/<kind>`.
    fn receive<'a>(
        &'a self,
        kind: ForgeKind,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> IntakeFuture<'a>;
}

/// The three webhook routes, to merge into [`crate::router_with`]'s `extra`.
pub fn webhook_router(intake: Arc<dyn WebhookIntake>) -> Router {
    let mut router = Router::new();
    for kind in [ForgeKind::GitHub, ForgeKind::GitLab, ForgeKind::Gitea] {
        let intake = intake.clone();
        router = router.route(
            &format!("/webhooks/{}", kind.as_str()),
            post(move |headers: HeaderMap, body: Body| async move {
                receive(&*intake, kind, headers, body).await
            }),
        );
    }
    router
}

async fn receive(
    intake: &dyn WebhookIntake,
    kind: ForgeKind,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_limited(&headers, body, MAX_WEBHOOK_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let answer = intake.receive(kind, &headers, &bytes).await;
    let error = |status: StatusCode, message: String| ApiError::new(status, message);
    match answer {
        WebhookAnswer::Queued(job) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "job": job })),
        )
            .into_response(),
        WebhookAnswer::Duplicate => (
            StatusCode::OK,
            Json(serde_json::json!({ "duplicate": true })),
        )
            .into_response(),
        WebhookAnswer::Ignored(reason) => (
            StatusCode::OK,
            Json(serde_json::json!({ "ignored": reason })),
        )
            .into_response(),
        WebhookAnswer::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, m).into_response(),
        WebhookAnswer::BadRequest(m) => error(StatusCode::BAD_REQUEST, m).into_response(),
        WebhookAnswer::Forbidden(m) => error(StatusCode::FORBIDDEN, m).into_response(),
        WebhookAnswer::NotConfigured(m) => error(StatusCode::NOT_FOUND, m).into_response(),
        WebhookAnswer::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// Answers what the test sets and records what it was handed.
    struct Scripted {
        answer: WebhookAnswer,
        seen: Mutex<Vec<(ForgeKind, usize)>>,
    }

    impl WebhookIntake for Scripted {
        fn receive<'a>(
            &'a self,
            kind: ForgeKind,
            _headers: &'a HeaderMap,
            body: &'a [u8],
        ) -> IntakeFuture<'a> {
            self.seen.lock().unwrap().push((kind, body.len()));
            Box::pin(async move { self.answer.clone() })
        }
    }

    async fn post(answer: WebhookAnswer, path: &str, body: Vec<u8>) -> (u16, String, usize) {
        let intake = Arc::new(Scripted {
            answer,
            seen: Mutex::new(Vec::new()),
        });
        let response = webhook_router(intake.clone())
            .oneshot(
                Request::post(path)
                    .header("content-length", body.len())
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let seen = intake.seen.lock().unwrap().len();
        (status, String::from_utf8_lossy(&bytes).into_owned(), seen)
    }

    #[tokio::test]
    async fn answers_map_to_statuses_and_json() {
        let cases = [
            (WebhookAnswer::Queued(7), 202, r#"{"job":7}"#),
            (WebhookAnswer::Duplicate, 200, r#"{"duplicate":true}"#),
            (
                WebhookAnswer::Ignored("a push".into()),
                200,
                r#"{"ignored":"a push"}"#,
            ),
            (
                WebhookAnswer::Unauthorized("no sig".into()),
                401,
                r#"{"error":"no sig"}"#,
            ),
            (
                WebhookAnswer::BadRequest("bad".into()),
                400,
                r#"{"error":"bad"}"#,
            ),
            (
                WebhookAnswer::Forbidden("nope".into()),
                403,
                r#"{"error":"nope"}"#,
            ),
            (
                WebhookAnswer::NotConfigured("none".into()),
                404,
                r#"{"error":"none"}"#,
            ),
            (WebhookAnswer::Failed("db".into()), 500, r#"{"error":"db"}"#),
        ];
        for (answer, status, body) in cases {
            assert_eq!(
                post(answer, "/webhooks/gitea", b"{}".to_vec()).await,
                (status, body.to_string(), 1)
            );
        }
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_unread() {
        let (status, body, seen) = post(
            WebhookAnswer::Queued(1),
            "/webhooks/github",
            vec![b' '; MAX_WEBHOOK_BYTES + 1],
        )
        .await;
        assert_eq!((status, seen), (413, 0), "{body}");
        let (status, _, seen) = post(
            WebhookAnswer::Queued(1),
            "/webhooks/gitlab",
            vec![b' '; MAX_WEBHOOK_BYTES],
        )
        .await;
        assert_eq!((status, seen), (202, 1));
    }
}
