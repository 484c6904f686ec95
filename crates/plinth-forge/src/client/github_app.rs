//! GitHub App authentication: a JWT signed with the App's key (RS256, `iss` = the App id,
//! issued 60 s in the past against clock drift, valid under GitHub's 10-minute cap) finds the
//! repository's installation and mints an installation token, kept until a minute before it
//! expires.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::paths::owner_repo;
use super::transport::{Api, AuthHeader};
use crate::error::ForgeError;
use crate::secret::Secret;

/// How far back `iat` is set, for clocks that run ahead of GitHub's.
const IAT_SKEW: u64 = 60;
/// How long a JWT is valid from `iat`: GitHub refuses more than 10 minutes.
const JWT_LIFETIME: u64 = 9 * 60;
/// A cached installation token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// A GitHub App's identity and its token cache.
pub(crate) struct GitHubApp {
    app_id: u64,
    key: EncodingKey,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    /// Installation id per repository.
    installations: HashMap<String, u64>,
    /// Token and expiry per installation.
    tokens: HashMap<u64, (Secret, SystemTime)>,
}

impl fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GitHubApp {{ app_id: {}, key: [redacted] }}",
            self.app_id
        )
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    iat: u64,
    exp: u64,
    iss: String,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: String,
}

impl GitHubApp {
    /// The App `app_id` with its PEM private key.
    pub(crate) fn new(app_id: u64, private_key_pem: &[u8]) -> Result<Self, ForgeError> {
        // jsonwebtoken's message says what is wrong with the PEM, never its content.
        let key = EncodingKey::from_rsa_pem(private_key_pem).map_err(|e| {
            ForgeError::Setup(format!(
                "GitHub App {app_id}: the private key is not an RSA PEM key: {e}"
            ))
        })?;
        Ok(GitHubApp {
            app_id,
            key,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// A JWT for the App's own endpoints.
    fn jwt(&self, now: SystemTime) -> Result<Secret, ForgeError> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let iat = now.saturating_sub(IAT_SKEW);
        let claims = Claims {
            iat,
            exp: iat + JWT_LIFETIME,
            iss: self.app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(Secret::new)
            .map_err(|e| {
                ForgeError::Setup(format!(
                    "GitHub App {}: cannot sign a JWT: {e}",
                    self.app_id
                ))
            })
    }

    /// An installation token for `repo`, cached until shortly before it expires. The cache
    /// lock is held while minting, so concurrent calls mint one token, not one each.
    pub(crate) async fn installation_token(
        &self,
        api: &Api,
        repo: &str,
    ) -> Result<Secret, ForgeError> {
        let mut cache = self.cache.lock().await;
        let now = SystemTime::now();
        let installation = match cache.installations.get(repo) {
            Some(id) => *id,
            None => {
                let jwt = AuthHeader::bearer(&self.jwt(now)?)?;
                let path = format!("/repos/{}/installation", owner_repo(repo)?);
                let found: Installation = api.json(Method::GET, &path, &jwt, None).await?;
                cache.installations.insert(repo.to_string(), found.id);
                found.id
            }
        };
        if let Some((token, expires)) = cache.tokens.get(&installation)
            && now + RENEW_BEFORE < *expires
        {
            return Ok(token.clone());
        }
        let jwt = AuthHeader::bearer(&self.jwt(now)?)?;
        let path = format!("/app/installations/{installation}/access_tokens");
        let minted: AccessToken = api.json(Method::POST, &path, &jwt, None).await?;
        let expires = parse_expiry(&minted.expires_at).ok_or_else(|| ForgeError::Decode {
            request: format!("github POST {path}"),
            detail: format!(
                "`expires_at` is not an RFC 3339 time: {}",
                minted.expires_at
            ),
        })?;
        let token = Secret::new(minted.token);
        cache.tokens.insert(installation, (token.clone(), expires));
        Ok(token)
    }

    /// Drops the cached token of `repo`'s installation (and the installation itself, which
    /// may have changed), after GitHub refused it.
    pub(crate) async fn forget(&self, repo: &str) {
        let mut cache = self.cache.lock().await;
        if let Some(id) = cache.installations.remove(repo) {
            cache.tokens.remove(&id);
        }
    }
}

fn parse_expiry(text: &str) -> Option<SystemTime> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_parse() {
        assert_eq!(
            parse_expiry("2016-07-11T22:14:10Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_468_275_250))
        );
        assert_eq!(parse_expiry("tomorrow"), None);
    }

    #[test]
    fn a_bad_key_is_a_setup_error_without_the_key() {
        let err = GitHubApp::new(7, b"-----BEGIN RSA PRIVATE KEY-----\nnot a key\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("GitHub App 7"), "{err}");
        assert!(!err.contains("not a key"), "{err}");
    }
}
