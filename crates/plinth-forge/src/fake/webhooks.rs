//! Deliveries as each forge sends them: body, event headers, delivery id and signature.

use http::{HeaderMap, HeaderName, HeaderValue};
use plinth_config::ForgeKind;

use crate::webhook::{
    GITEA_DELIVERY, GITEA_EVENT, GITEA_EVENT_TYPE, GITEA_SIGNATURE, GITHUB_DELIVERY, GITHUB_EVENT,
    GITHUB_SIGNATURE, GITLAB_DELIVERY, GITLAB_EVENT, GITLAB_TOKEN, hmac_hex,
};

/// One webhook delivery, ready to POST.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The headers the forge sends (event, delivery id, signature or token, content type).
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// The delivery id in the headers.
    pub id: String,
}

impl Delivery {
    /// The same delivery again (a redelivery keeps its id).
    pub fn redelivery(&self) -> Delivery {
        self.clone()
    }

    /// Replaces (or, with `None`, removes) a header: for bad and missing signatures.
    pub fn with_header(mut self, name: &str, value: Option<&str>) -> Delivery {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        match value {
            Some(v) => {
                self.headers
                    .insert(name, HeaderValue::from_str(v).expect("a header value"));
            }
            None => {
                self.headers.remove(name);
            }
        }
        self
    }
}

/// `sha256=HEX`, GitHub's `X-Hub-Signature-256` for `body`.
pub fn github_signature(body: &[u8], secret: &str) -> String {
    format!("sha256={}", hmac_hex(secret, body))
}

/// `HEX`, Gitea's `X-Gitea-Signature` for `body`.
pub fn gitea_signature(body: &[u8], secret: &str) -> String {
    hmac_hex(secret, body)
}

/// Gitea's coarse `X-Gitea-Event` for a precise event type (Gitea's own mapping).
pub fn gitea_event_for(event_type: &str) -> &str {
    match event_type {
        "pull_request_sync"
        | "pull_request_assign"
        | "pull_request_label"
        | "pull_request_milestone"
        | "pull_request_review_request" => "pull_request",
        "pull_request_comment" => "issue_comment",
        "issue_assign" | "issue_label" | "issue_milestone" => "issues",
        "pull_request_review_approved" => "pull_request_approved",
        "pull_request_review_rejected" => "pull_request_rejected",
        "pull_request_review_comment" => "pull_request_comment",
        other => other,
    }
}

/// A delivery of `event` with `body`, signed with `secret` the way `kind` does it. `event` is
/// GitHub's `X-GitHub-Event`, GitLab's `X-Gitlab-Event` (`Merge Request Hook`) or Gitea's
/// `X-Gitea-Event-Type` (`pull_request_sync`).
pub fn delivery(kind: ForgeKind, event: &str, body: Vec<u8>, secret: &str) -> Delivery {
    let id = uuid::Uuid::new_v4().to_string();
    let mut pairs: Vec<(&str, String)> = vec![
        ("content-type", "application/json".into()),
        ("user-agent", format!("{}-Hookshot/test", kind.as_str())),
    ];
    match kind {
        ForgeKind::GitHub => {
            pairs.push((GITHUB_EVENT, event.into()));
            pairs.push((GITHUB_DELIVERY, id.clone()));
            pairs.push((GITHUB_SIGNATURE, github_signature(&body, secret)));
            pairs.push(("x-github-hook-id", "1".into()));
        }
        ForgeKind::GitLab => {
            pairs.push((GITLAB_EVENT, event.into()));
            pairs.push((GITLAB_DELIVERY, id.clone()));
            pairs.push((
                "x-gitlab-webhook-uuid",
                "00000000-0000-4000-8000-000000000001".into(),
            ));
            pairs.push(("x-gitlab-instance", "https://gitlab.example.com".into()));
            pairs.push((GITLAB_TOKEN, secret.into()));
        }
        ForgeKind::Gitea => {
            let coarse = gitea_event_for(event).to_string();
            let signature = gitea_signature(&body, secret);
            pairs.push((GITEA_EVENT, coarse.clone()));
            pairs.push((GITEA_EVENT_TYPE, event.into()));
            pairs.push((GITEA_DELIVERY, id.clone()));
            pairs.push((GITEA_SIGNATURE, signature.clone()));
            // Gitea also sends GitHub-style copies of its headers.
            pairs.push((GITHUB_EVENT, coarse));
            pairs.push((GITHUB_DELIVERY, id.clone()));
            pairs.push((GITHUB_SIGNATURE, format!("sha256={signature}")));
        }
    }
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).expect("a header value"),
        );
    }
    Delivery { headers, body, id }
}
