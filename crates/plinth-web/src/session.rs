//! The session gate: every page but the sign-in page runs behind [`require`], which finds the
//! session from its cookie or turns the request away (GET: to the sign-in page; anything
//! else: 401, since a form post cannot be replayed after signing in).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use plinth_state::{Actor, Scope};

use crate::Web;
use crate::error::WebError;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "plinth_session";

/// The signed-in session, put into the request's extensions by [`require`].
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The token that signed in, with its current scope.
    pub actor: Actor,
    /// The session's CSRF token, for its forms.
    pub csrf: String,
}

impl Session {
    /// Whether the session may release locks.
    pub fn is_admin(&self) -> bool {
        self.actor.scope >= Scope::Admin
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether cookies must be `Secure`: the public URL is https, or the request came over TLS
/// (directly, or through a proxy that says so).
pub(crate) fn secure_cookies(web: &Web, headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    web.config.https() || forwarded_https || uri.scheme_str() == Some("https")
}

/// Finds the session or turns the request away.
pub(crate) async fn require(
    State(web): State<Web>,
    mut request: Request,
    next: Next,
) -> Result<Response, WebError> {
    let found = match cookie(request.headers(), COOKIE) {
        Some(id) => web.store.web_session(id).await?,
        None => None,
    };
    let Some(found) = found else {
        return Ok(turn_away(&request));
    };
    request.extensions_mut().insert(Session {
        actor: found.actor,
        csrf: found.csrf,
    });
    Ok(next.run(request).await)
}

fn turn_away(request: &Request) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let target = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let next =
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "sign in first: this action needs a dashboard session\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; plinth_session=abc".parse().unwrap());
        headers.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "plinth"), None);
    }
}
