//! Dashboard sign-in sessions (migration `0100_web_sessions`): a random session id given to the
//! browser once, stored only as its SHA-256, bound to the token that signed in (by the token's
//! hash, so revoking or re-creating the token ends the session) and to a CSRF token.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock::now_ms;
use crate::error::StateError;
use crate::store::Store;
use crate::tokens::Actor;

/// A new session: the id goes into the browser's cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct NewWebSession {
    /// The session id (64 hex characters); the cookie's value.
    pub id: String,
    /// Who signed in.
    pub actor: Actor,
    /// The session's CSRF token, for the forms of its pages.
    pub csrf: String,
    /// When the session ends, Unix ms.
    pub expires_ms: i64,
}

/// A live session, as found from its id.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// The token's name and current scope.
    pub actor: Actor,
    /// The session's CSRF token.
    pub csrf: String,
    /// When the session ends, Unix ms.
    pub expires_ms: i64,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex() -> Result<String, StateError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| StateError::Internal(format!("no randomness available: {e}")))?;
    Ok(hex::encode(raw))
}

impl Store {
    /// Signs a token in: `None` when no token matches the secret. Expired sessions are pruned
    /// on the way, and the sign-in is recorded in the audit log.
    pub async fn create_web_session(
        &self,
        secret: &str,
        ttl: Duration,
    ) -> Result<Option<NewWebSession>, StateError> {
        let Some(actor) = self.authenticate(secret).await? else {
            return Ok(None);
        };
        let id = random_hex()?;
        let csrf = random_hex()?;
        let now = now_ms();
        let expires_ms = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let (_gate, mut tx) = self.begin_write().await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_ms <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, token_hash, csrf, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&id))
        .bind(sha256_hex(secret))
        .bind(&csrf)
        .bind(now)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?;
        Self::audit_in(
            &mut tx,
            &actor.name,
            "web-sign-in",
            None,
            actor.scope.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(NewWebSession {
            id,
            actor,
            csrf,
            expires_ms,
        }))
    }

    /// The live session with this id, with its token's current name and scope; `None` when it
    /// is unknown, expired, or its token was revoked.
    pub async fn web_session(&self, id: &str) -> Result<Option<WebSession>, StateError> {
        // Ids are 64 hex characters; anything else cannot match and is not worth a query.
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT t.name, t.scope, s.csrf, s.expires_ms FROM web_sessions s \
             JOIN tokens t ON t.hash = s.token_hash WHERE s.id_hash = $1 AND s.expires_ms > $2",
        )
        .bind(sha256_hex(id))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let scope: String = row.try_get("scope")?;
        Ok(Some(WebSession {
            actor: Actor {
                name: row.try_get("name")?,
                scope: scope.parse()?,
            },
            csrf: row.try_get("csrf")?,
            expires_ms: row.try_get("expires_ms")?,
        }))
    }

    /// Signs a session out; `false` when it did not exist.
    pub async fn end_web_session(&self, id: &str) -> Result<bool, StateError> {
        let _gate = self.gate().await;
        Ok(sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(sha256_hex(id))
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1)
    }
}
