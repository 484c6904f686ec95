//! The Vault/OpenBao HTTP client: one reqwest client (through `plinth-http`), the token
//! (given, or from one AppRole login kept in memory), the namespace header, and the mapping
//! of answers to [`SecretError`]s.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::OnceCell;

use crate::error::SecretError;
use crate::secret::Secret;

use super::settings::{Login, VaultSettings};

/// A client of one Vault or OpenBao server. Cheap to share behind an `Arc`; one per process
/// logs in (AppRole) at most once.
pub struct VaultClient {
    http: reqwest::Client,
    settings: VaultSettings,
    token: OnceCell<Secret>,
}

/// What `auth/token/lookup-self` says about the client's token (for `plinth doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The token's display name.
    pub display_name: String,
    /// Its policies.
    pub policies: Vec<String>,
    /// Seconds left (0: no expiry).
    pub ttl_secs: u64,
    /// When it expires, if it does.
    pub expire_time: Option<OffsetDateTime>,
    /// Whether it can be renewed.
    pub renewable: bool,
}

/// What `sys/health` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Whether the server is initialized.
    pub initialized: bool,
    /// Whether it is sealed.
    pub sealed: bool,
    /// Its version string, e.g. `2.7.2`.
    pub version: String,
}

/// A successful answer: its status and JSON body (`Null` for 204).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl VaultClient {
    /// A client with `settings`; fails when the CA file cannot be used.
    pub fn new(settings: VaultSettings) -> Result<VaultClient, SecretError> {
        let options = plinth_http::ClientOptions {
            timeout: settings.timeout,
            connect_timeout: settings.timeout,
            ca_file: settings.ca_file.clone(),
        };
        let http = plinth_http::client(&options).map_err(|e| match e {
            plinth_http::HttpError::CaFile { path, detail } => SecretError::CaFile {
                path: path.display().to_string(),
                detail,
            },
            other => SecretError::NotConfigured(other.to_string()),
        })?;
        Ok(VaultClient {
            http,
            settings,
            token: OnceCell::new(),
        })
    }

    /// The server's address.
    pub fn address(&self) -> &str {
        &self.settings.address
    }

    /// The namespace sent with every request, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.settings.namespace.as_deref()
    }

    /// `sys/health` (no token needed).
    pub async fn health(&self) -> Result<Health, SecretError> {
        let at = "sys/health";
        // 429/472/473 (standby, DR, performance standby) and 503 (sealed) still carry the body.
        let resp = self
            .request(Method::GET, at, None)
            .send()
            .await
            .map_err(|e| self.unreachable(at, &e))?;
        let body: Value = resp.json().await.map_err(|e| SecretError::Protocol {
            at: at.into(),
            detail: e.to_string(),
        })?;
        Ok(Health {
            initialized: body["initialized"].as_bool().unwrap_or(false),
            sealed: body["sealed"].as_bool().unwrap_or(true),
            version: body["version"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// `auth/token/lookup-self`: what the server knows of the client's token.
    pub async fn token_info(&self) -> Result<TokenInfo, SecretError> {
        let at = "auth/token/lookup-self";
        let answer = self.call(Method::GET, at, None, at).await?;
        let data = &answer.body["data"];
        Ok(TokenInfo {
            display_name: data["display_name"].as_str().unwrap_or_default().into(),
            policies: data["policies"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            ttl_secs: data["ttl"].as_u64().unwrap_or(0),
            expire_time: data["expire_time"].as_str().and_then(parse_time),
            renewable: data["renewable"].as_bool().unwrap_or(false),
        })
    }

    /// Sends an authenticated request to `/v1/{api_path}`; `at` names the source in errors.
    /// 2xx answers are returned; 404 too, for the caller to explain; others become errors.
    pub(crate) async fn call(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&Value>,
        at: &str,
    ) -> Result<Answer, SecretError> {
        let token = self.token(at).await?;
        let send = || {
            self.request(method.clone(), api_path, body)
                .header("X-Vault-Token", token.expose())
                .send()
        };
        let resp = match send().await {
            // A pooled connection the server closed (it restarted) fails the first read at
            // once; one more try on a new connection says whether the server is really gone.
            Err(e) if method == Method::GET && !e.is_timeout() => send().await,
            other => other,
        }
        .map_err(|e| self.unreachable(at, &e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(at, &e))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| SecretError::Protocol {
                at: at.into(),
                detail: format!("HTTP {status} with a body that is not JSON ({e})"),
            })?
        };
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(Answer { status, body });
        }
        let detail = errors_of(&body).unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .into()
        });
        Err(match status {
            StatusCode::FORBIDDEN => SecretError::Refused {
                at: at.into(),
                detail,
            },
            _ => SecretError::Http {
                at: at.into(),
                status: status.as_u16(),
                detail,
            },
        })
    }

    fn request(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/v1/{api_path}", self.settings.address);
        // The header Vault's own CLI sends; Vault Agent refuses proxied requests without it.
        let mut req = self
            .http
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req
    }

    /// The token: the configured one, or the result of the one AppRole login. A failed login
    /// is not kept, so the next caller tries again.
    async fn token(&self, at: &str) -> Result<&Secret, SecretError> {
        match &self.settings.login {
            Login::Token(token) => Ok(token),
            Login::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                self.token
                    .get_or_try_init(|| self.approle_login(mount, role_id, secret_id, at))
                    .await
            }
        }
    }

    async fn approle_login(
        &self,
        mount: &str,
        role_id: &Secret,
        secret_id: &Secret,
        at: &str,
    ) -> Result<Secret, SecretError> {
        let body =
            serde_json::json!({ "role_id": role_id.expose(), "secret_id": secret_id.expose() });
        let resp = self
            .request(Method::POST, &format!("auth/{mount}/login"), Some(&body))
            .send()
            .await
            .map_err(|e| self.unreachable(at, &e))?;
        let status = resp.status();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        let refused = |detail: String| SecretError::Login {
            mount: mount.into(),
            detail,
        };
        if !status.is_success() {
            let words = errors_of(&answer).unwrap_or_else(|| "no reason given".into());
            return Err(refused(format!("HTTP {}: {words}", status.as_u16())));
        }
        answer["auth"]["client_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| refused("the answer holds no auth.client_token".into()))
    }

    fn unreachable(&self, at: &str, err: &reqwest::Error) -> SecretError {
        let reason = if err.is_timeout() {
            format!("no answer within {} s", self.settings.timeout.as_secs())
        } else {
            innermost(err)
        };
        SecretError::Unreachable {
            at: at.into(),
            address: self.settings.address.clone(),
            reason,
        }
    }
}

/// The message at the bottom of an error's source chain ("Connection refused (os error
/// 111)", "invalid peer certificate: UnknownIssuer"): the cause, without reqwest's URL.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Vault's `{"errors": [...]}` joined, or `None` when it is absent or empty. Go's
/// multierror text ("1 error occurred:\n\t* permission denied\n\n") is reduced to its items.
pub(crate) fn errors_of(body: &Value) -> Option<String> {
    let words: Vec<&str> = body["errors"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .flat_map(|e| {
            let items: Vec<&str> = e
                .lines()
                .filter_map(|l| l.trim().strip_prefix("* "))
                .collect();
            if e.contains(" occurred:") && !items.is_empty() {
                items
            } else {
                vec![e]
            }
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join("; "))
}

/// An RFC 3339 time; Vault writes `""` for "never".
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_multierrors_become_their_items() {
        let body =
            serde_json::json!({ "errors": ["1 error occurred:\n\t* permission denied\n\n"] });
        assert_eq!(errors_of(&body).as_deref(), Some("permission denied"));
        let body = serde_json::json!({ "errors": ["invalid role or secret ID", ""] });
        assert_eq!(
            errors_of(&body).as_deref(),
            Some("invalid role or secret ID")
        );
        assert_eq!(errors_of(&serde_json::json!({ "errors": [] })), None);
    }
}
