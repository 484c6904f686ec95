//! The stand-in's HTTP side: one handler that records the call, checks auth, applies an
//! injected answer or hands the request to the forge's dialect.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use plinth_config::ForgeKind;
use serde_json::{Value, json};

use super::state::{AuthSeen, Injection, RecordedCall, State};
use super::{gitea_api, github_api, gitlab_api};

type SharedState = Arc<Mutex<State>>;

/// Binds `127.0.0.1:0` and serves until the task is aborted; returns the base URL.
pub(crate) async fn spawn(state: SharedState) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the stand-in forge on loopback");
    let addr = listener.local_addr().expect("its address");
    let app = Router::new().fallback(handle).with_state(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

/// A request as the dialects see it.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a Method,
    /// Path segments, percent-decoded.
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    /// GitHub: the caller authenticated with an App installation token, not the token.
    pub(crate) installation_token: bool,
}

impl Request<'_> {
    /// A query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A string field of the JSON body.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }
}

/// An answer: status, JSON body, extra headers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }
}

async fn handle(
    Shared(state): Shared<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed_body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(_) => Some(Value::String(String::from_utf8_lossy(&body).into_owned())),
        }
    };
    let mut request = Request {
        method: &method,
        segments: uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect(),
        query: uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        let decode = |s: &str| {
                            percent_encoding::percent_decode_str(s)
                                .decode_utf8_lossy()
                                .into_owned()
                        };
                        (!k.is_empty()).then(|| (decode(k), decode(v)))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        body: parsed_body.clone(),
        installation_token: false,
    };

    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let kind = s.kind;
    let app_endpoint = kind == ForgeKind::GitHub && is_app_endpoint(&request.segments);
    let auth = if app_endpoint {
        github_api::check_jwt(&s, &headers)
    } else {
        check_auth(&s, &headers)
    };
    request.installation_token = kind == ForgeKind::GitHub
        && !app_endpoint
        && headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| github_api::installation_token_valid(&s, t));
    let reply = if auth != AuthSeen::Valid {
        unauthorized(kind)
    } else if let Some(injection) = s.injections.pop_front() {
        injected(injection)
    } else {
        match kind {
            ForgeKind::GitHub => github_api::route(&mut s, &request),
            ForgeKind::GitLab => gitlab_api::route(&mut s, &request),
            ForgeKind::Gitea => gitea_api::route(&mut s, &request),
        }
        .unwrap_or_else(|| not_found(kind))
    };
    s.calls.push(RecordedCall {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        auth,
        body: parsed_body,
        status: reply.status,
    });
    drop(s);
    into_response(reply)
}

fn is_app_endpoint(segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        s.as_slice(),
        ["repos", _, _, "installation"] | ["app", "installations", _, "access_tokens"]
    )
}

/// The forge's own auth header, checked against its token (GitHub: also App installation
/// tokens it issued and that have not expired).
fn check_auth(s: &State, headers: &HeaderMap) -> AuthSeen {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match s.kind {
        ForgeKind::GitHub => match get("authorization") {
            None => AuthSeen::Missing,
            Some(v) => match v.strip_prefix("Bearer ") {
                Some(t) if t == s.token => AuthSeen::Valid,
                Some(t) if github_api::installation_token_valid(s, t) => AuthSeen::Valid,
                _ => AuthSeen::Invalid,
            },
        },
        ForgeKind::GitLab => match get("private-token") {
            None => AuthSeen::Missing,
            Some(t) if t == s.token => AuthSeen::Valid,
            Some(_) => AuthSeen::Invalid,
        },
        ForgeKind::Gitea => match get("authorization") {
            None => AuthSeen::Missing,
            Some(v) if v.strip_prefix("token ") == Some(s.token.as_str()) => AuthSeen::Valid,
            Some(_) => AuthSeen::Invalid,
        },
    }
}

fn unauthorized(kind: ForgeKind) -> Reply {
    Reply::json(
        401,
        match kind {
            ForgeKind::GitHub => json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401"
            }),
            ForgeKind::GitLab => json!({ "message": "401 Unauthorized" }),
            ForgeKind::Gitea => json!({ "message": "user does not exist", "url": "" }),
        },
    )
}

pub(crate) fn not_found(kind: ForgeKind) -> Reply {
    Reply::json(
        404,
        match kind {
            ForgeKind::GitHub => json!({
                "message": "Not Found",
                "documentation_url": "https://docs.github.com/rest",
                "status": "404"
            }),
            ForgeKind::GitLab => json!({ "message": "404 Not found" }),
            ForgeKind::Gitea => json!({ "message": "The target couldn't be found.", "errors": [] }),
        },
    )
}

fn epoch_in(secs: u64) -> u64 {
    (SystemTime::now() + Duration::from_secs(secs))
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn injected(injection: Injection) -> Reply {
    match injection {
        Injection::SecondaryRateLimit { retry_after_secs } => Reply::json(
            403,
            json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
        )
        .with_header("retry-after", retry_after_secs.to_string()),
        Injection::PrimaryRateLimit { reset_in_secs } => Reply::json(
            403,
            json!({
                "message": "API rate limit exceeded for installation.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
        )
        .with_header("x-ratelimit-limit", "5000".into())
        .with_header("x-ratelimit-remaining", "0".into())
        .with_header("x-ratelimit-used", "5000".into())
        .with_header("x-ratelimit-reset", epoch_in(reset_in_secs).to_string()),
        Injection::GitLabRateLimit { reset_in_secs } => Reply::json(429, json!("Retry later"))
            .with_header("retry-after", reset_in_secs.to_string())
            .with_header("ratelimit-limit", "600".into())
            .with_header("ratelimit-observed", "601".into())
            .with_header("ratelimit-remaining", "0".into())
            .with_header("ratelimit-reset", epoch_in(reset_in_secs).to_string()),
        Injection::Status(status) => {
            Reply::json(status, json!({ "message": format!("injected {status}") }))
        }
    }
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(reply.body)).into_response();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(name),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
