//! Who is calling: the token from HTTP Basic (Terraform's `password`, any username) or from
//! `Authorization: Bearer` (OpenTofu `headers`, the CLI).

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use plinth_state::{Actor, Store};

use crate::error::ApiError;

/// Authenticates the request or answers 401 (no credentials) / 403 (unknown token).
pub(crate) async fn actor(store: &Store, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthenticated(
            "authentication required: send a plinth token as the HTTP Basic password \
             (TF_HTTP_PASSWORD) or as a Bearer token",
        ));
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(token_of)
        .ok_or_else(|| ApiError::unauthenticated("malformed Authorization header"))?;
    match store.authenticate(&secret).await? {
        Some(actor) => Ok(actor),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid token: no such token (revoked, or from another server)",
        )),
    }
}

fn token_of(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_user, password) = text.split_once(':')?;
        return Some(password.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_password_and_bearer_both_carry_the_token() {
        let basic = format!("Basic {}", STANDARD.encode("plinth:plinth_abc"));
        assert_eq!(token_of(&basic).as_deref(), Some("plinth_abc"));
        assert_eq!(token_of("Bearer plinth_abc").as_deref(), Some("plinth_abc"));
        assert_eq!(token_of("Digest x"), None);
        assert_eq!(token_of("Basic !!!"), None);
    }
}
