//! Errors as pages: the status code the store's error calls for and a short message; internal
//! failures are logged and shown without detail.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use plinth_state::StateError;

use crate::shell;

/// A failed page or action.
#[derive(Debug)]
pub(crate) struct WebError {
    status: StatusCode,
    message: String,
}

impl WebError {
    /// 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        WebError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// 404 with a reason.
    pub fn not_found(message: impl Into<String>) -> Self {
        WebError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 400 with a reason.
    pub fn bad_request(message: impl Into<String>) -> Self {
        WebError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 500; the detail goes to the log only.
    pub fn internal(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::error!("dashboard: {detail}");
        WebError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error; the server log has the details".into(),
        }
    }
}

impl From<StateError> for WebError {
    fn from(err: StateError) -> Self {
        let status = match &err {
            StateError::BadRequest(_) => StatusCode::BAD_REQUEST,
            StateError::NotFound(_) => StatusCode::NOT_FOUND,
            StateError::Forbidden(_) => StatusCode::FORBIDDEN,
            StateError::Locked(_) | StateError::Conflict(_) | StateError::LeaseLost { .. } => {
                StatusCode::CONFLICT
            }
            _ => return WebError::internal(err.to_string()),
        };
        WebError {
            status,
            message: err.to_string(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = shell::bare(
            title,
            html! {
                h1 { (self.status.as_u16()) " " (title) }
                p.error { (self.message) }
                p { a href="/" { "Back to the overview" } }
            },
        );
        (self.status, body).into_response()
    }
}
