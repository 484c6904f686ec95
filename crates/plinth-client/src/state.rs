//! State held by the server: versions, raw pulls, rollback, Terraform state locks
//! (`/v1/versions`, `/v1/pull`, `/v1/rollback`, `/v1/locks`). An instance is named by its
//! key, `PROJECT/ENV/STACK`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::ClientError;

/// One stored state version (no body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Version number, never reused.
    pub version: i64,
    /// Terraform serial (absent for client-encrypted states).
    pub serial: Option<i64>,
    /// Terraform lineage.
    pub lineage: Option<String>,
    /// An OpenTofu client-side encrypted envelope.
    pub opaque: bool,
    /// Size in bytes.
    pub size: i64,
    /// base64 MD5.
    pub md5: String,
    /// hex SHA-256.
    pub sha256: String,
    /// RFC 3339.
    pub created_at: String,
    /// The token that stored it.
    pub created_by: String,
    /// Why it exists when not a plain write.
    pub note: Option<String>,
    /// Whether it is the current state.
    pub current: bool,
}

/// A held Terraform state lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateLock {
    /// Instance key.
    pub instance: String,
    /// The lock ID the client chose.
    pub id: String,
    /// The LockInfo JSON.
    pub info: serde_json::Value,
    /// The token that took it.
    pub token: String,
    /// RFC 3339.
    pub locked_at: String,
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    /// Instance key.
    pub instance: String,
    /// The version restored.
    pub rolled_back_to: i64,
    /// The new current version holding it.
    pub version: i64,
}

#[derive(Deserialize)]
struct Versions {
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Locks {
    locks: Vec<StateLock>,
}

#[derive(Deserialize)]
struct Released {
    released: StateLock,
}

impl Client {
    /// Every version of an instance, newest first.
    pub async fn versions(&self, instance: &str) -> Result<Vec<Version>, ClientError> {
        let doc: Versions = self
            .get_json(&format!("/v1/versions/{instance}"), &[])
            .await?;
        Ok(doc.versions)
    }

    /// The raw current state, or a given version.
    pub async fn pull_state(
        &self,
        instance: &str,
        version: Option<i64>,
    ) -> Result<Vec<u8>, ClientError> {
        let version = version.map(|v| v.to_string());
        let query: Vec<(&str, &str)> = version.iter().map(|v| ("version", v.as_str())).collect();
        self.send(self.request_with(Method::GET, &format!("/v1/pull/{instance}"), &query))
            .await
    }

    /// Makes an old version current again (admin token).
    pub async fn rollback(&self, instance: &str, version: i64) -> Result<Rollback, ClientError> {
        self.send_json(
            self.request(Method::POST, &format!("/v1/rollback/{instance}"))
                .json(&serde_json::json!({ "version": version })),
        )
        .await
    }

    /// Held state locks, optionally of one project.
    pub async fn state_locks(&self, project: Option<&str>) -> Result<Vec<StateLock>, ClientError> {
        let query: Vec<(&str, &str)> = project.map(|p| ("project", p)).into_iter().collect();
        let doc: Locks = self.get_json("/v1/locks", &query).await?;
        Ok(doc.locks)
    }

    /// Force-unlocks an instance (admin token); with `id`, only if the lock still has it.
    pub async fn force_unlock(
        &self,
        instance: &str,
        id: Option<&str>,
    ) -> Result<StateLock, ClientError> {
        let query: Vec<(&str, &str)> = id.map(|id| ("id", id)).into_iter().collect();
        let doc: Released = self
            .send_json(self.request_with(Method::DELETE, &format!("/v1/locks/{instance}"), &query))
            .await?;
        Ok(doc.released)
    }
}
