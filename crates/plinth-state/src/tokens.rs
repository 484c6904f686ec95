//! API tokens: random secrets shown once, stored only as SHA-256 hashes, each with a scope.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock::{now_ms, rfc3339};
use crate::error::StateError;
use crate::store::Store;

const TOKEN_PREFIX: &str = "plinth_";

/// What a token may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read state, versions, locks.
    Read,
    /// Also lock, unlock its own locks, and write state.
    Write,
    /// Also force-unlock any lock, roll back, read the audit log.
    Admin,
}

impl Scope {
    /// The scope's name as used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = StateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Scope::Read),
            // The issue names the middle scope "lock/write"; both words mean the same.
            "write" | "lock" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            other => Err(StateError::BadRequest(format!(
                "unknown scope {other:?}: use read, write or admin"
            ))),
        }
    }
}

/// Who is calling: the token's name (recorded in the audit log) and its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Token name.
    pub name: String,
    /// Token scope.
    pub scope: Scope,
}

impl Actor {
    /// Fails with [`StateError::Forbidden`] unless the actor has at least `needed`.
    pub fn require(&self, needed: Scope, action: &str) -> Result<(), StateError> {
        if self.scope >= needed {
            Ok(())
        } else {
            Err(StateError::Forbidden(format!(
                "token {:?} has scope {}; {action} needs scope {needed}",
                self.name, self.scope
            )))
        }
    }
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// Token name.
    pub name: String,
    /// Token scope.
    pub scope: Scope,
    /// Creation time, RFC 3339.
    pub created_at: String,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Creates a token and returns its secret, which is never stored or shown again.
    pub async fn create_token(&self, name: &str, scope: Scope) -> Result<String, StateError> {
        if name.is_empty()
            || name.len() > 100
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
        {
            return Err(StateError::BadRequest(format!(
                "invalid token name {name:?}: use letters, digits, `.`, `_`, `-` and `@`"
            )));
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw)
            .map_err(|e| StateError::Internal(format!("no randomness available: {e}")))?;
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(raw));
        let (_gate, mut tx) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO tokens (name, hash, scope, created_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(hash(&secret))
        .bind(scope.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StateError::Conflict(format!(
                "a token named {name:?} already exists; revoke it first or pick another name"
            )));
        }
        Self::audit_in(
            &mut tx,
            "plinth-cli",
            "token-create",
            None,
            &format!("{name} ({scope})"),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Looks a presented secret up; `None` when no token matches.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Actor>, StateError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query("SELECT name, scope FROM tokens WHERE hash = $1")
            .bind(hash(secret))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let scope: String = row.try_get("scope")?;
        Ok(Some(Actor {
            name: row.try_get("name")?,
            scope: scope.parse()?,
        }))
    }

    /// Lists tokens (names and scopes only).
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StateError> {
        let rows = sqlx::query("SELECT name, scope, created_ms FROM tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                Ok(TokenInfo {
                    name: row.try_get("name")?,
                    scope: scope.parse()?,
                    created_at: rfc3339(row.try_get("created_ms")?),
                })
            })
            .collect()
    }

    /// Deletes a token; it stops working at once, on every replica.
    pub async fn revoke_token(&self, name: &str) -> Result<(), StateError> {
        let (_gate, mut tx) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM tokens WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StateError::NotFound(format!("no token named {name:?}")));
        }
        Self::audit_in(&mut tx, "plinth-cli", "token-revoke", None, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many tokens exist (the server warns when none does: nobody could log in).
    pub async fn token_count(&self) -> Result<i64, StateError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM tokens")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_ordered_and_parsed() {
        assert!(Scope::Admin > Scope::Write && Scope::Write > Scope::Read);
        assert_eq!("lock".parse::<Scope>().unwrap(), Scope::Write);
        assert!("root".parse::<Scope>().is_err());
        let reader = Actor {
            name: "r".into(),
            scope: Scope::Read,
        };
        assert!(reader.require(Scope::Read, "reading").is_ok());
        assert!(matches!(
            reader.require(Scope::Write, "locking"),
            Err(StateError::Forbidden(_))
        ));
    }
}
