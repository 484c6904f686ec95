//! Webhook payloads for tests: GitHub's real ones from `@octokit/webhooks-examples`, GitLab's
//! and Gitea's built to their documented shapes (GitLab's "Webhook events" page; Gitea's
//! `modules/structs` payload types, which its webhook docs point to).

pub mod gitea;
pub mod github;
pub mod gitlab;

use plinth_config::ForgeKind;
use serde_json::Value;

use crate::fake::webhooks::{Delivery, delivery};

/// A payload with the event name it is sent under.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The forge.
    pub kind: ForgeKind,
    /// GitLab's `X-Gitlab-Event`, Gitea's `X-Gitea-Event-Type`.
    pub event: String,
    /// The payload.
    pub json: Value,
}

impl Payload {
    /// The body as sent.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json).expect("JSON serializes")
    }

    /// A delivery of this payload with `secret` (GitLab: the token).
    pub fn delivery(&self, secret: &str) -> Delivery {
        delivery(self.kind, &self.event, self.body(), secret)
    }
}
