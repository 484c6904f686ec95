//! One forge API root: requests with the forge's auth header, retries on rate limits and
//! server errors, error messages that name the request and never the token, Link pagination.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::header::{ACCEPT, HeaderName, HeaderValue, LINK};
use http::{HeaderMap, Method};
use plinth_config::ForgeKind;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ClientConfig;
use super::rate_limit::{RetryPolicy, rate_limited};
use crate::error::ForgeError;
use crate::secret::Secret;

/// Pages followed for one list; past this the list is cut (reviews on one pull request never
/// come near it).
const MAX_PAGES: usize = 20;
/// How much of a forge's error message is kept.
const MESSAGE_MAX: usize = 400;

/// The header that authenticates one request.
#[derive(Clone)]
pub(crate) struct AuthHeader {
    name: HeaderName,
    value: HeaderValue,
    secret: Secret,
}

impl AuthHeader {
    /// `Authorization: Bearer T` (GitHub tokens, installation tokens and App JWTs).
    pub(crate) fn bearer(secret: &Secret) -> Result<Self, ForgeError> {
        Self::build(
            http::header::AUTHORIZATION,
            format!("Bearer {}", secret.expose()),
            secret,
        )
    }

    /// `PRIVATE-TOKEN: T` (GitLab).
    pub(crate) fn private_token(secret: &Secret) -> Result<Self, ForgeError> {
        Self::build(
            HeaderName::from_static("private-token"),
            secret.expose().to_string(),
            secret,
        )
    }

    /// `Authorization: token T` (Gitea).
    pub(crate) fn token(secret: &Secret) -> Result<Self, ForgeError> {
        Self::build(
            http::header::AUTHORIZATION,
            format!("token {}", secret.expose()),
            secret,
        )
    }

    fn build(name: HeaderName, value: String, secret: &Secret) -> Result<Self, ForgeError> {
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            ForgeError::Setup("the token holds characters an HTTP header cannot carry".into())
        })?;
        // Keeps it out of hyper's and reqwest's Debug output.
        value.set_sensitive(true);
        Ok(AuthHeader {
            name,
            value,
            secret: secret.clone(),
        })
    }
}

/// An answer with a success status.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// One API root of one forge.
pub(crate) struct Api {
    kind: ForgeKind,
    http: reqwest::Client,
    base: reqwest::Url,
    retry: RetryPolicy,
    accept: &'static str,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("forge", &self.kind.as_str())
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Api {
    /// A client for the API at `api_url`.
    pub(crate) fn new(
        kind: ForgeKind,
        api_url: &str,
        config: &ClientConfig,
    ) -> Result<Self, ForgeError> {
        let trimmed = api_url.trim_end_matches('/');
        let base = reqwest::Url::parse(trimmed).map_err(|e| {
            ForgeError::Setup(format!("{} api_url `{trimmed}`: {e}", kind.as_str()))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ForgeError::Setup(format!(
                "{} api_url `{trimmed}` is not an http(s) URL",
                kind.as_str()
            )));
        }
        let http = plinth_http::client(&config.http)
            .map_err(|e| ForgeError::Setup(format!("{}: {e}", kind.as_str())))?;
        Ok(Api {
            kind,
            http,
            base,
            retry: config.retry.clone(),
            accept: match kind {
                ForgeKind::GitHub => "application/vnd.github+json",
                ForgeKind::GitLab | ForgeKind::Gitea => "application/json",
            },
        })
    }

    /// `path` (from `/`, with its query) under the API root.
    fn url(&self, path: &str) -> Result<reqwest::Url, ForgeError> {
        let joined = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        reqwest::Url::parse(&joined).map_err(|e| ForgeError::Invalid(format!("{joined}: {e}")))
    }

    /// Sends a request and decodes its JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        auth: &AuthHeader,
        body: Option<&Value>,
    ) -> Result<T, ForgeError> {
        let url = self.url(path)?;
        let answer = self.call(method.clone(), url.clone(), auth, body).await?;
        self.decode(&method, &url, &answer.body)
    }

    /// Sends a request whose answer does not matter beyond its success.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        auth: &AuthHeader,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        let url = self.url(path)?;
        self.call(method, url, auth, body).await
    }

    /// Every item of a list, following `Link: <…>; rel="next"` within this API root.
    pub(crate) async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        auth: &AuthHeader,
    ) -> Result<Vec<T>, ForgeError> {
        let mut items = Vec::new();
        let mut next = Some(self.url(path)?);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let answer = self.call(Method::GET, url.clone(), auth, None).await?;
            let page: Vec<T> = self.decode(&Method::GET, &url, &answer.body)?;
            items.extend(page);
            if pages >= MAX_PAGES {
                tracing::warn!(request = %self.label(&Method::GET, &url), "list cut at {MAX_PAGES} pages");
                break;
            }
            next = next_link(&answer.headers)
                .map(|link| self.same_root(&link))
                .transpose()?;
        }
        Ok(items)
    }

    /// A `Link` target, refused unless it is under this API root (the token goes with it).
    fn same_root(&self, link: &str) -> Result<reqwest::Url, ForgeError> {
        let url = reqwest::Url::parse(link).map_err(|e| ForgeError::Decode {
            request: format!("{} pagination", self.kind.as_str()),
            detail: format!("bad Link URL: {e}"),
        })?;
        let same = url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url
                .path()
                .starts_with(self.base.path().trim_end_matches('/'));
        if same {
            Ok(url)
        } else {
            Err(ForgeError::Decode {
                request: format!("{} pagination", self.kind.as_str()),
                detail: format!(
                    "the next page is outside the API root ({})",
                    url.origin().ascii_serialization()
                ),
            })
        }
    }

    fn decode<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &reqwest::Url,
        body: &[u8],
    ) -> Result<T, ForgeError> {
        serde_json::from_slice(body).map_err(|e| ForgeError::Decode {
            request: self.label(method, url),
            detail: e.to_string(),
        })
    }

    /// `github GET /repos/acme/infra/pulls/7`: the path without the query.
    fn label(&self, method: &Method, url: &reqwest::Url) -> String {
        format!("{} {method} {}", self.kind.as_str(), url.path())
    }

    /// Sends with retries: rate limits for any method (the forge did nothing), server errors
    /// and timeouts only for methods that may safely run twice.
    async fn call(
        &self,
        method: Method,
        url: reqwest::Url,
        auth: &AuthHeader,
        body: Option<&Value>,
    ) -> Result<Answer, ForgeError> {
        let request = self.label(&method, &url);
        let repeatable = matches!(method, Method::GET | Method::PUT | Method::PATCH);
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let may_retry = attempt <= self.retry.max_retries;
            let (wait, named, failure) = match self.once(&method, &url, auth, body).await {
                Ok(answer) if answer.status < 400 => return Ok(answer),
                Ok(answer) => {
                    let text = String::from_utf8_lossy(&answer.body).into_owned();
                    let message = forge_message(&text, &auth.secret);
                    if let Some(named) =
                        rate_limited(answer.status, &answer.headers, &text, SystemTime::now())
                    {
                        let wait = named.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                        if !may_retry || waited + wait > self.retry.max_total_wait {
                            return Err(ForgeError::RateLimited {
                                request,
                                attempts: attempt,
                                waited,
                                retry_after: named,
                            });
                        }
                        (wait, named, format!("{} {message}", answer.status))
                    } else if answer.status >= 500 && repeatable && may_retry {
                        let wait = self.retry.backoff(attempt - 1);
                        (wait, None, format!("{} {message}", answer.status))
                    } else {
                        return Err(ForgeError::Status {
                            request,
                            status: answer.status,
                            message,
                        });
                    }
                }
                Err(e) => {
                    // A refused connection sent nothing; a timeout may have been acted on.
                    let unsent = e.is_connect();
                    let timed_out = e.is_timeout();
                    let detail = scrub(&e.without_url().to_string(), &auth.secret);
                    if may_retry && (unsent || (repeatable && timed_out)) {
                        (self.retry.backoff(attempt - 1), None, detail)
                    } else {
                        return Err(ForgeError::Transport { request, detail });
                    }
                }
            };
            if waited + wait > self.retry.max_total_wait {
                return Err(ForgeError::Transport {
                    request,
                    detail: format!("{failure}; gave up after {attempt} attempt(s)"),
                });
            }
            tracing::info!(
                %request,
                attempt,
                wait_ms = wait.as_millis() as u64,
                forge_asked = named.is_some(),
                "forge call failed ({failure}); retrying"
            );
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    async fn once(
        &self,
        method: &Method,
        url: &reqwest::Url,
        auth: &AuthHeader,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, self.accept)
            .header(auth.name.clone(), auth.value.clone());
        if self.kind == ForgeKind::GitHub {
            request = request.header("x-github-api-version", "2022-11-28");
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The forge's own words from an error body: `message` (GitHub, GitLab, Gitea), `error`
/// (GitLab), GitHub's `errors` list; otherwise the text itself. Cut short, token removed.
fn forge_message(text: &str, secret: &Secret) -> String {
    let message = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            let mut parts = Vec::new();
            for key in ["message", "error", "error_description"] {
                match map.get(key) {
                    Some(Value::String(s)) => parts.push(s.clone()),
                    Some(Value::Null) | None => {}
                    Some(other) => parts.push(other.to_string()),
                }
            }
            if let Some(Value::Array(errors)) = map.get("errors") {
                for e in errors {
                    parts.push(match e.get("message").and_then(Value::as_str) {
                        Some(m) => m.to_string(),
                        None => e.to_string(),
                    });
                }
            }
            if parts.is_empty() {
                text.trim().to_string()
            } else {
                parts.join("; ")
            }
        }
        _ => text.trim().to_string(),
    };
    let mut message = scrub(&message, secret);
    if message.chars().count() > MESSAGE_MAX {
        message = message.chars().take(MESSAGE_MAX).collect::<String>() + "…";
    }
    message
}

/// `text` with the token replaced, in case a forge or proxy echoes a header back.
fn scrub(text: &str, secret: &Secret) -> String {
    let token = secret.expose();
    if token.len() >= 4 {
        text.replace(token, "[redacted]")
    } else {
        text.to_string()
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            r#"<https://api.github.com/repositories/1/pulls/2/reviews?page=1>; rel="prev", <https://api.github.com/repositories/1/pulls/2/reviews?page=3>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/pulls/2/reviews?page=3")
        );
        h.insert(LINK, r#"<https://x/?page=1>; rel="first""#.parse().unwrap());
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn forge_messages_are_read_and_scrubbed() {
        let secret = Secret::new("ghp_abcdef123456");
        let text = r#"{"message":"Validation Failed","errors":[{"resource":"Status","code":"custom","message":"description is too long (maximum is 140 characters)"}]}"#;
        assert_eq!(
            forge_message(text, &secret),
            "Validation Failed; description is too long (maximum is 140 characters)"
        );
        assert_eq!(
            forge_message("bad token ghp_abcdef123456 here", &secret),
            "bad token [redacted] here"
        );
        assert_eq!(
            forge_message(r#"{"message":{"name":["is too long"]}}"#, &secret),
            r#"{"name":["is too long"]}"#
        );
    }
}
