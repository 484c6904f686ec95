//! Signing in with an API token (read scope and up) and out again.
//!
//! The token travels once, in the body of a POST, and is never put in a cookie, URL or page:
//! the browser gets a random session id instead. The sign-in form itself is protected by a
//! double-submit token (a short-lived cookie that the form must repeat), so another site
//! cannot sign a visitor in to a session of its own choosing.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::session::{COOKIE, Session, cookie, secure_cookies};
use crate::{Web, csrf, shell};

/// The sign-in form's double-submit cookie.
const LOGIN_COOKIE: &str = "plinth_login";

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct SignIn {
    token: String,
    login_csrf: String,
    #[serde(default)]
    next: String,
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: Option<String>,
}

/// Only a path on this server: never `//host` or `https://…` (no open redirect).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn cookie_attrs(secure: bool) -> &'static str {
    if secure {
        "HttpOnly; SameSite=Strict; Secure"
    } else {
        "HttpOnly; SameSite=Strict"
    }
}

fn form_page(status: StatusCode, next: &str, error: Option<&str>, secure: bool) -> Response {
    let login_csrf = match csrf::random_token() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let body: Markup = html! {
        h1 { "Sign in" }
        p { "Sign in with a plinth API token (scope read, write or admin). "
            "Create one with " code { "plinth token create NAME --scope read" } "." }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form.signin method="post" action="/login" {
            input type="hidden" name="login_csrf" value=(login_csrf);
            input type="hidden" name="next" value=(next);
            label for="token" { "Token" }
            input #token type="password" name="token" autocomplete="off" required autofocus;
            button type="submit" { "Sign in" }
        }
    };
    let set = format!(
        "{LOGIN_COOKIE}={login_csrf}; Path=/login; Max-Age=900; {}",
        cookie_attrs(secure)
    );
    (
        status,
        [(header::SET_COOKIE, set)],
        shell::bare("Sign in", body),
    )
        .into_response()
}

/// `GET /login`.
pub(crate) async fn form(
    State(web): State<Web>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    form_page(
        StatusCode::OK,
        &next,
        None,
        secure_cookies(&web, &headers, &uri),
    )
}

/// `POST /login`: checks the token and starts a session.
pub(crate) async fn submit(
    State(web): State<Web>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<SignIn>,
) -> Result<Response, WebError> {
    let secure = secure_cookies(&web, &headers, &uri);
    let next = local_path(Some(&form.next));
    let double_submitted = cookie(&headers, LOGIN_COOKIE)
        .is_some_and(|c| !c.is_empty() && csrf::same(c, &form.login_csrf));
    if !double_submitted {
        return Ok(form_page(
            StatusCode::FORBIDDEN,
            &next,
            Some("The sign-in form expired or did not come from this server; try again."),
            secure,
        ));
    }
    let token = form.token.trim();
    let session = match web
        .store
        .create_web_session(token, web.config.session_ttl)
        .await?
    {
        Some(s) => s,
        None => {
            return Ok(form_page(
                StatusCode::UNAUTHORIZED,
                &next,
                Some("No such token (revoked, mistyped, or from another server)."),
                secure,
            ));
        }
    };
    let max_age = web.config.session_ttl.as_secs();
    let set = format!(
        "{COOKIE}={}; Path=/; Max-Age={max_age}; {}",
        session.id,
        cookie_attrs(secure)
    );
    let clear = format!(
        "{LOGIN_COOKIE}=; Path=/login; Max-Age=0; {}",
        cookie_attrs(secure)
    );
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set.parse().map_err(|_| WebError::internal("cookie"))?,
    );
    headers.append(
        header::SET_COOKIE,
        clear.parse().map_err(|_| WebError::internal("cookie"))?,
    );
    Ok(response)
}

/// `POST /logout`: ends the session (CSRF-checked, so no other site can sign a visitor out).
pub(crate) async fn sign_out(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    csrf::check(&session, form.csrf.as_deref())?;
    if let Some(id) = cookie(&headers, COOKIE) {
        web.store.end_web_session(id).await?;
    }
    let clear = format!(
        "{COOKIE}=; Path=/; Max-Age=0; {}",
        cookie_attrs(secure_cookies(&web, &headers, &uri))
    );
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/runs?env=dev")), "/runs?env=dev");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
