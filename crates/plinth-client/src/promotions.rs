//! Promotion records (`/v1/promotions`): written after a successful apply, read by the gate of
//! an environment with `promote_from`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::ClientError;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionKind {
    /// A stack present in both environments (subject: its id).
    Stack,
    /// A local module a single-environment stack calls (subject: its path).
    Module,
}

impl PromotionKind {
    fn as_str(self) -> &'static str {
        match self {
            PromotionKind::Stack => "stack",
            PromotionKind::Module => "module",
        }
    }
}

/// A record to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPromotion {
    /// Project.
    pub project: String,
    /// The environment it was applied in.
    pub env: String,
    /// stack or module.
    pub kind: PromotionKind,
    /// Stack id or module path.
    pub subject: String,
    /// The promoted-code fingerprint.
    pub fingerprint: String,
    /// The run that applied it.
    pub run_id: String,
    /// The commit applied.
    pub commit: String,
    /// Who applied it (`None`: the token's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// RFC 3339 (`None`: when the server receives it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Record id.
    pub id: i64,
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// stack or module.
    pub kind: PromotionKind,
    /// Stack id or module path.
    pub subject: String,
    /// The promoted-code fingerprint.
    pub fingerprint: String,
    /// The run that applied it.
    pub run_id: String,
    /// The commit applied.
    pub commit: String,
    /// Who applied it.
    pub who: String,
    /// The token that reported it.
    pub recorded_by: String,
    /// RFC 3339.
    pub applied_at: String,
}

#[derive(Deserialize)]
struct Promotions {
    promotions: Vec<Promotion>,
}

impl Client {
    /// Stores a record (write token) and returns it as stored.
    pub async fn record_promotion(&self, new: &NewPromotion) -> Result<Promotion, ClientError> {
        self.send_json(self.request(Method::POST, "/v1/promotions").json(new))
            .await
    }

    /// The newest record of `subject` in `env` at exactly `fingerprint`: the gate's question.
    pub async fn find_promotion(
        &self,
        project: &str,
        env: &str,
        kind: PromotionKind,
        subject: &str,
        fingerprint: &str,
    ) -> Result<Option<Promotion>, ClientError> {
        let doc: Promotions = self
            .get_json(
                "/v1/promotions",
                &[
                    ("project", project),
                    ("env", env),
                    ("kind", kind.as_str()),
                    ("subject", subject),
                    ("fingerprint", fingerprint),
                    ("limit", "1"),
                ],
            )
            .await?;
        Ok(doc.promotions.into_iter().next())
    }

    /// The newest record of `subject` in `env`, whatever its fingerprint (what it last applied).
    pub async fn latest_promotion(
        &self,
        project: &str,
        env: &str,
        kind: PromotionKind,
        subject: &str,
    ) -> Result<Option<Promotion>, ClientError> {
        let doc: Promotions = self
            .get_json(
                "/v1/promotions",
                &[
                    ("project", project),
                    ("env", env),
                    ("kind", kind.as_str()),
                    ("subject", subject),
                    ("limit", "1"),
                ],
            )
            .await?;
        Ok(doc.promotions.into_iter().next())
    }

    /// The newest record of every subject in `env`, in one request (`plinth promote`).
    pub async fn latest_promotions(
        &self,
        project: &str,
        env: &str,
        kind: Option<PromotionKind>,
    ) -> Result<Vec<Promotion>, ClientError> {
        let mut query = vec![("project", project), ("env", env)];
        if let Some(kind) = kind {
            query.push(("kind", kind.as_str()));
        }
        let doc: Promotions = self.get_json("/v1/promotions/latest", &query).await?;
        Ok(doc.promotions)
    }
}
