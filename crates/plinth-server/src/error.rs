//! Turning store errors into HTTP answers. Logical refusals are always 4xx: Terraform retries
//! 5xx, which would only repeat a refusal.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plinth_state::StateError;

/// An error answer: a status and a JSON body.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: serde_json::Value,
    authenticate: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: serde_json::json!({ "error": message.into() }),
            authenticate: false,
        }
    }

    /// 401 with a Basic challenge.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError {
            authenticate: true,
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// For the http backend: a lock conflict answers with the holder's LockInfo JSON itself,
    /// which is what `-lock-timeout` needs to keep retrying.
    pub fn backend(err: StateError, locked_status: StatusCode) -> Self {
        match err {
            StateError::Locked(holder) => ApiError {
                status: locked_status,
                body: holder.info.clone(),
                authenticate: false,
            },
            other => Self::from(other),
        }
    }
}

impl From<StateError> for ApiError {
    fn from(err: StateError) -> Self {
        let status = match &err {
            StateError::BadRequest(_) => StatusCode::BAD_REQUEST,
            StateError::NotFound(_) => StatusCode::NOT_FOUND,
            StateError::Locked(_) => StatusCode::LOCKED,
            StateError::Conflict(_) | StateError::LeaseLost { .. } => StatusCode::CONFLICT,
            StateError::Forbidden(_) => StatusCode::FORBIDDEN,
            StateError::Sealing(_)
            | StateError::Database(_)
            | StateError::Migration(_)
            | StateError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!("{err}");
        }
        let mut body = serde_json::json!({ "error": err.to_string() });
        if let StateError::Locked(holder) = &err {
            body["lock"] = serde_json::to_value(holder.as_ref()).unwrap_or_default();
        }
        ApiError {
            status,
            body,
            authenticate: false,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unread_body = matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        );
        let mut response = (self.status, Json(self.body)).into_response();
        if unread_body {
            // The rest of the body was never read, so the connection cannot carry another
            // request; saying so keeps clients from reusing it and failing their next request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"plinth\""),
            );
        }
        response
    }
}
