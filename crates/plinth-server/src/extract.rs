//! Request parts read so that every refusal is a JSON 4xx: axum's own extractors answer bad
//! input in plain text.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The query string's parameters.
pub(crate) struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid query string: {e}"),
                )
            })
    }
}

impl Params {
    /// A parameter that must be present and non-empty.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the query parameter `{name}` is required"),
            )
        })
    }

    /// A parameter, absent when missing or empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `limit`: a number from 1 to `max`, `default` when absent.
    pub fn limit(&self, default: i64, max: i64) -> Result<i64, ApiError> {
        match self.optional("limit") {
            None => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid limit {text:?}: expected a number from 1 to {max}"),
                )),
            },
        }
    }

    /// A `true`/`false` flag, false when absent.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.optional(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid {name} {other:?}: expected true or false"),
            )),
        }
    }
}

/// Path parameters, with a JSON refusal.
pub(crate) struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| PathParams(t))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid path: {e}")))
    }
}
