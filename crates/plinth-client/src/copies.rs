//! Ephemeral copies (`/v1/copies`): recorded on the server so its reaper sees copies made by
//! any CLI or CI job.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::ClientError;

/// Where a copy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyStatus {
    /// Applied (and tested).
    Up,
    /// Being applied.
    Applying,
    /// The apply or its tests failed; left up to inspect.
    Failed,
    /// Being destroyed.
    Destroying,
    /// The destroy failed.
    DestroyFailed,
}

/// A copy's record as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyUpdate {
    /// The ephemeral environment it copies.
    pub template: String,
    /// Who made it (`None`: the token's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// Its pull request.
    pub pull_request: Option<i64>,
    /// RFC 3339 (`None`: kept, or now for a new copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// RFC 3339; `None`: never reaped.
    pub expires_at: Option<String>,
    /// Where it is.
    pub status: CopyStatus,
    /// How many instances it has.
    pub instances: i64,
}

/// A copy's record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRecord {
    /// Project.
    pub project: String,
    /// The copy's name (`test-pr-42`).
    pub name: String,
    /// The template.
    pub template: String,
    /// Who made it.
    pub creator: String,
    /// Its pull request.
    pub pull_request: Option<i64>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// Where it is.
    pub status: CopyStatus,
    /// How many instances it has.
    pub instances: i64,
    /// RFC 3339.
    pub updated_at: String,
    /// The token that last changed it.
    pub updated_by: String,
}

#[derive(Deserialize)]
struct Copies {
    copies: Vec<CopyRecord>,
}

#[derive(Deserialize)]
struct Deleted {
    deleted: CopyRecord,
}

impl Client {
    /// Creates or replaces a copy's record (write token).
    pub async fn put_copy(
        &self,
        project: &str,
        name: &str,
        update: &CopyUpdate,
    ) -> Result<CopyRecord, ClientError> {
        self.send_json(
            self.request(Method::PUT, &format!("/v1/copies/{project}/{name}"))
                .json(update),
        )
        .await
    }

    /// Creates a copy's record, refused with status 412 when a copy of that name exists
    /// (two `env up NAME` at once: one wins).
    pub async fn create_copy(
        &self,
        project: &str,
        name: &str,
        update: &CopyUpdate,
    ) -> Result<CopyRecord, ClientError> {
        self.send_json(
            self.request(Method::PUT, &format!("/v1/copies/{project}/{name}"))
                .header("if-none-match", "*")
                .json(update),
        )
        .await
    }

    /// Forgets a destroyed copy; returns its last record.
    pub async fn delete_copy(&self, project: &str, name: &str) -> Result<CopyRecord, ClientError> {
        let doc: Deleted = self
            .send_json(self.request(Method::DELETE, &format!("/v1/copies/{project}/{name}")))
            .await?;
        Ok(doc.deleted)
    }

    /// A project's copies, oldest first.
    pub async fn copies(&self, project: &str) -> Result<Vec<CopyRecord>, ClientError> {
        let doc: Copies = self.get_json("/v1/copies", &[("project", project)]).await?;
        Ok(doc.copies)
    }

    /// A project's copies past their expiry (the reaper's list).
    pub async fn expired_copies(&self, project: &str) -> Result<Vec<CopyRecord>, ClientError> {
        let doc: Copies = self
            .get_json("/v1/copies", &[("project", project), ("expired", "true")])
            .await?;
        Ok(doc.copies)
    }
}
