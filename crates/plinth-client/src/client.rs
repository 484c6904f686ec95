//! The client: a base URL, a token, and the one request path every call goes through.

use std::fmt;

use reqwest::{Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// A client of one plinth server with one token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The calling token, as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// Token name.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
}

impl Client {
    /// A client of `base_url` (`https://plinth.example.com`) with the default options
    /// (system roots plus `PLINTH_CA_FILE`, 30 s timeout).
    pub fn new(base_url: &str, token: &str) -> Result<Self, ClientError> {
        Self::with_options(base_url, token, &plinth_http::ClientOptions::default())
    }

    /// A client with explicit options (a CA file, other timeouts).
    pub fn with_options(
        base_url: &str,
        token: &str,
        options: &plinth_http::ClientOptions,
    ) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/');
        let url = Url::parse(base).map_err(|e| {
            ClientError::Config(format!(
                "invalid server URL {base:?}: {e} (expected https://HOST[:PORT])"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Config(format!(
                "invalid server URL {base:?}: use http:// or https://"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // Credentials in the URL would end up in every error message that names it.
            return Err(ClientError::Config(
                "the server URL must not carry credentials; the token is given separately \
                 (PLINTH_TOKEN)"
                    .into(),
            ));
        }
        if token.trim().is_empty() {
            return Err(ClientError::Config(
                "the API token is empty (PLINTH_TOKEN)".into(),
            ));
        }
        let http = plinth_http::client(options).map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(Client {
            http,
            base: base.to_owned(),
            token: SecretString::from(token.trim().to_owned()),
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /v1/whoami`: the token's name and scope.
    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get_json("/v1/whoami", &[]).await
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_with(method, path, &[])
    }

    /// A request with query parameters, encoded here (reqwest's `query` is an optional
    /// feature the workspace does not build).
    pub(crate) fn request_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> RequestBuilder {
        let url = format!("{}{path}", self.base);
        let target = match Url::parse(&url) {
            Ok(mut parsed) => {
                if !query.is_empty() {
                    parsed.query_pairs_mut().extend_pairs(query);
                }
                parsed.to_string()
            }
            // The base was checked in `with_options`; a bad path reaches reqwest, which names it.
            Err(_) => url,
        };
        self.http
            .request(method, target)
            .bearer_auth(self.token.expose_secret())
    }

    /// Sends and returns the body of a 2xx answer; anything else is an error with the status
    /// and the server's message.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Vec<u8>, ClientError> {
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            base: self.base.clone(),
            detail: chain(e),
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable {
                base: self.base.clone(),
                detail: format!("the answer was cut off: {}", chain(e)),
            })?
            .to_vec();
        if status.is_success() {
            return Ok(body);
        }
        let doc = serde_json::from_slice::<serde_json::Value>(&body).ok();
        let message = doc
            .as_ref()
            .and_then(|d| d["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
        Err(ClientError::Status {
            status: status.as_u16(),
            message,
            body: doc,
        })
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, ClientError> {
        let body = self.send(request).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        self.send_json(self.request_with(Method::GET, path, query))
            .await
    }

    /// Like `get_json`, with a 404 meaning "none".
    pub(crate) async fn get_optional<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ClientError> {
        match self.get_json(path, &[]).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The error and its causes on one line (reqwest's own message omits why a connection or a
/// TLS handshake failed). URLs are left out: the base is named by the caller.
fn chain(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
