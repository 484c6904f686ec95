//! Webhook deliveries: verify, identify, decode. Pure functions over headers and body.
//!
//! The server calls them in this order: [`verify`] (an error answers 401 and stores
//! nothing), [`delivery_id`] (deduplication), [`decode`] (an error answers 400).

mod gitea;
mod github;
mod gitlab;
mod signature;

use http::HeaderMap;
use plinth_config::ForgeKind;
use serde_json::Value;

use crate::event::Event;

pub(crate) use gitea::wip_title;
pub use signature::VerifyError;
#[cfg(feature = "test-support")]
pub(crate) use signature::hmac_hex;

/// GitHub's signature header: `sha256=` and the HMAC-SHA256 of the body in hex.
pub const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
/// GitHub's event name header.
pub const GITHUB_EVENT: &str = "x-github-event";
/// GitHub's delivery id header.
pub const GITHUB_DELIVERY: &str = "x-github-delivery";
/// GitLab's shared-token header.
pub const GITLAB_TOKEN: &str = "x-gitlab-token";
/// GitLab's event name header (`Merge Request Hook`, `Note Hook`, …).
pub const GITLAB_EVENT: &str = "x-gitlab-event";
/// GitLab's delivery id header.
pub const GITLAB_DELIVERY: &str = "x-gitlab-event-uuid";
/// Gitea's signature header: the HMAC-SHA256 of the body in hex.
pub const GITEA_SIGNATURE: &str = "x-gitea-signature";
/// Forgejo's name for the same signature.
pub const FORGEJO_SIGNATURE: &str = "x-forgejo-signature";
/// Gitea's coarse event name (`pull_request`, `issue_comment`, …).
pub const GITEA_EVENT: &str = "x-gitea-event";
/// Gitea's precise event name (`pull_request_sync`, `pull_request_comment`, …).
pub const GITEA_EVENT_TYPE: &str = "x-gitea-event-type";
/// Gitea's delivery id header.
pub const GITEA_DELIVERY: &str = "x-gitea-delivery";

/// Why a delivery could not be decoded (the server answers 400).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The header naming the event is missing.
    #[error("no {header} header: not a {forge} webhook delivery")]
    NoEventHeader {
        /// The forge.
        forge: &'static str,
        /// The header expected.
        header: &'static str,
    },
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    Json(String),
    /// The JSON lacks a field the event needs, or has it with the wrong type.
    #[error("{event} payload: {detail}")]
    Shape {
        /// The event name.
        event: String,
        /// serde's account of it.
        detail: String,
    },
}

/// Checks that a delivery comes from the forge: GitHub's and Gitea's HMAC-SHA256 signature of
/// `body` with `secret`, GitLab's token equal to `secret`. Every comparison is constant-time.
pub fn verify(
    kind: ForgeKind,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), VerifyError> {
    match kind {
        ForgeKind::GitHub => signature::verify_github(headers, body, secret),
        ForgeKind::GitLab => signature::verify_gitlab(headers, secret),
        ForgeKind::Gitea => signature::verify_gitea(headers, body, secret),
    }
}

/// The delivery's unique id, for deduplicating redeliveries.
pub fn delivery_id(kind: ForgeKind, headers: &HeaderMap) -> Option<String> {
    let name = match kind {
        ForgeKind::GitHub => GITHUB_DELIVERY,
        ForgeKind::GitLab => GITLAB_DELIVERY,
        ForgeKind::Gitea => GITEA_DELIVERY,
    };
    header(headers, name)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// The event's name as the forge sent it (Gitea: the precise `X-Gitea-Event-Type` when sent).
pub fn event_name(kind: ForgeKind, headers: &HeaderMap) -> Option<String> {
    let name = match kind {
        ForgeKind::GitHub => header(headers, GITHUB_EVENT),
        ForgeKind::GitLab => header(headers, GITLAB_EVENT),
        ForgeKind::Gitea => header(headers, GITEA_EVENT_TYPE).or(header(headers, GITEA_EVENT)),
    };
    name.map(str::to_string)
}

/// Decodes a verified delivery into an [`Event`]. Events plinth does not act on decode to
/// [`Event::Ignored`] with the reason; only a missing event header, a body that is not JSON or
/// a relevant event missing its fields is an error.
pub fn decode(kind: ForgeKind, headers: &HeaderMap, body: &[u8]) -> Result<Event, DecodeError> {
    let forge = kind.as_str();
    let (event, header_name) = match kind {
        ForgeKind::GitHub => (header(headers, GITHUB_EVENT), GITHUB_EVENT),
        ForgeKind::GitLab => (header(headers, GITLAB_EVENT), GITLAB_EVENT),
        ForgeKind::Gitea => (
            header(headers, GITEA_EVENT_TYPE).or(header(headers, GITEA_EVENT)),
            GITEA_EVENT,
        ),
    };
    let event = event.ok_or(DecodeError::NoEventHeader {
        forge,
        header: header_name,
    })?;
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    match kind {
        ForgeKind::GitHub => github::decode(event, payload),
        ForgeKind::GitLab => gitlab::decode(event, payload),
        ForgeKind::Gitea => gitea::decode(event, payload),
    }
}

/// A header's value as text; a value that is not visible ASCII counts as absent.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Deserializes a relevant payload into its typed shape.
fn typed<T: serde::de::DeserializeOwned>(event: &str, payload: Value) -> Result<T, DecodeError> {
    serde_json::from_value(payload).map_err(|e| DecodeError::Shape {
        event: event.to_string(),
        detail: e.to_string(),
    })
}

/// `Event::Ignored` with the repository at `pointer`, when the payload has one.
fn ignored(reason: String, payload: &Value, pointer: &str) -> Event {
    Event::Ignored {
        reason,
        repo: payload
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}
