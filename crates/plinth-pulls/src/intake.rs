//! Webhook intake, neutral of forge and HTTP: which forge block sent a delivery, whether its
//! repository is served, and the one insert transaction that stores it with its job.
//!
//! Only the minimum runs before the answer (the forges' own timeouts are 10 s, and a burst of
//! pushes must not queue up behind slow answers): verify the signature, decode the event
//! (repository, number), one transaction. Everything else is the job's.
//!
//! Ignored events (pings, pushes, label changes, edited comments, bots, plain issues) are
//! verified and answered `200 {"ignored": why}` but **not stored**: plinth edits its own
//! summary comment in place, and every edit comes back as an `issue_comment edited` delivery;
//! storing those (and every push) would fill the queue with jobs that do nothing. The log line
//! names the delivery id, event and reason, so the forge's delivery page and the server's log
//! still account for every delivery.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};
use plinth_config::ForgeKind;
use plinth_forge::Event;
use plinth_forge::webhook::{self, DecodeError, VerifyError};
use plinth_server::{IntakeFuture, WebhookAnswer, WebhookIntake};
use plinth_state::{PullRef, Recorded, StateError, Store};
use secrecy::ExposeSecret;

use crate::setup::{ForgeSetup, PullsSetup};

/// Longest reason given back for a refused payload: enough to fix the sender, short enough
/// for a forge's delivery page.
const MAX_REASON_CHARS: usize = 300;

/// A delivery the intake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored; this job handles it.
    New(i64),
    /// This forge block sent this delivery id before; nothing was stored.
    Duplicate,
    /// Verified, but an event plinth does not act on (not stored; see the module doc).
    Ignored(String),
}

/// Why a delivery was refused. The messages name headers and repositories, never a secret
/// and never the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No forge block of this type verifies the signature (or token): nothing stored.
    #[error("{0}")]
    Unauthorized(String),
    /// No delivery id, no event name, or a payload that does not decode.
    #[error("{0}")]
    BadRequest(String),
    /// The repository is not served by the forge block that signed the delivery.
    #[error("{0}")]
    Forbidden(String),
    /// `plinth-server.hcl` has no forge block of this type.
    #[error("{0}")]
    NotConfigured(String),
    /// The database could not store it.
    #[error("{0}")]
    Store(String),
}

/// Accepts deliveries into the store for the forges of a [`PullsSetup`].
#[derive(Debug, Clone)]
pub struct Intake {
    setup: Arc<PullsSetup>,
    store: Store,
    wake: Option<Arc<tokio::sync::Notify>>,
}

impl Intake {
    /// An intake for `setup`'s forges and repositories, storing into `store`.
    pub fn new(setup: Arc<PullsSetup>, store: Store) -> Intake {
        Intake {
            setup,
            store,
            wake: None,
        }
    }

    /// The same, poking `wake` after each stored delivery so that an idle worker of this
    /// replica starts on it at once rather than at its next poll.
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> Intake {
        self.wake = Some(wake);
        self
    }

    /// Verifies, decodes and stores one delivery that arrived for a forge of type `kind`.
    pub async fn accept(
        &self,
        kind: ForgeKind,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Accepted, Refusal> {
        let forge = self.sender(kind, headers, body)?;
        let delivery_id = webhook::delivery_id(kind, headers).ok_or_else(|| {
            Refusal::BadRequest(format!(
                "no {} header: a {} delivery carries its id there",
                delivery_header(kind),
                kind.as_str()
            ))
        })?;
        let event_name = webhook::event_name(kind, headers).unwrap_or_default();
        let event = webhook::decode(kind, headers, body)
            .map_err(|e| Refusal::BadRequest(short(&decode_reason(&e))))?;
        let repo = match event.repo() {
            Some(named) => Some(self.served(forge, named)?),
            None => None,
        };
        if let Event::Ignored { reason, .. } = &event {
            tracing::info!(
                forge = forge.name(),
                delivery = %delivery_id,
                event = %event_name,
                "webhook ignored: {reason}"
            );
            return Ok(Accepted::Ignored(reason.clone()));
        }
        // The repo block's spelling, so that serial keys and pull requests do not split by
        // the case a forge happens to send.
        let (Some(repo), Some(key)) = (
            repo.as_deref(),
            repo.as_deref().and_then(|r| key_for(&event, r)),
        ) else {
            return Err(Refusal::BadRequest(
                "the event names no valid repository and pull request number".to_string(),
            ));
        };
        let repo = repo.to_string();
        let payload = std::str::from_utf8(body)
            .map_err(|_| Refusal::BadRequest("the body is not UTF-8 JSON".to_string()))?;
        let recorded = self
            .store
            .record_delivery(
                forge.name(),
                &delivery_id,
                &repo,
                &event_name,
                payload,
                &key,
            )
            .await
            .map_err(|e| match e {
                StateError::BadRequest(m) => Refusal::BadRequest(short(&m)),
                other => {
                    tracing::error!(
                        forge = forge.name(),
                        delivery = %delivery_id,
                        "cannot store a webhook delivery: {other}"
                    );
                    Refusal::Store(
                        "the delivery could not be stored; redeliver it later".to_string(),
                    )
                }
            })?;
        Ok(match recorded {
            Recorded::New(job) => {
                tracing::info!(
                    forge = forge.name(),
                    delivery = %delivery_id,
                    event = %event_name,
                    repo = %repo,
                    job,
                    "webhook stored"
                );
                if let Some(wake) = &self.wake {
                    wake.notify_one();
                }
                Accepted::New(job)
            }
            Recorded::Duplicate => {
                tracing::info!(
                    forge = forge.name(),
                    delivery = %delivery_id,
                    "webhook redelivered: already stored"
                );
                Accepted::Duplicate
            }
        })
    }

    /// The forge block of type `kind` whose secret verifies the delivery. Several blocks of
    /// one type (github.com and an Enterprise Server) are each tried, every check in constant
    /// time inside plinth-forge.
    fn sender(
        &self,
        kind: ForgeKind,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<&ForgeSetup, Refusal> {
        let mut first_error: Option<VerifyError> = None;
        for forge in self.setup.forges().iter().filter(|f| f.kind() == kind) {
            match webhook::verify(kind, headers, body, forge.webhook_secret().expose_secret()) {
                Ok(()) => return Ok(forge),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(Refusal::Unauthorized(format!("{e}; nothing stored"))),
            None => Err(Refusal::NotConfigured(format!(
                "no {} forge is configured on this server",
                kind.as_str()
            ))),
        }
    }

    /// The repo block's name for `named`, when `forge` serves it.
    fn served(&self, forge: &ForgeSetup, named: &str) -> Result<String, Refusal> {
        match self.setup.repo(named) {
            Some(repo) if repo.forge == forge.name() => Ok(repo.name.clone()),
            Some(repo) => Err(Refusal::Forbidden(format!(
                "repository {named} is served through forge `{}`, not `{}`",
                repo.forge,
                forge.name()
            ))),
            None => Err(Refusal::Forbidden(format!(
                "repository {named} is not served here: plinth-server.hcl has no repo block for it"
            ))),
        }
    }
}

impl WebhookIntake for Intake {
    fn receive<'a>(
        &'a self,
        kind: ForgeKind,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> IntakeFuture<'a> {
        Box::pin(async move {
            match self.accept(kind, headers, body).await {
                Ok(Accepted::New(job)) => WebhookAnswer::Queued(job),
                Ok(Accepted::Duplicate) => WebhookAnswer::Duplicate,
                Ok(Accepted::Ignored(reason)) => WebhookAnswer::Ignored(reason),
                Err(Refusal::Unauthorized(m)) => WebhookAnswer::Unauthorized(m),
                Err(Refusal::BadRequest(m)) => WebhookAnswer::BadRequest(m),
                Err(Refusal::Forbidden(m)) => WebhookAnswer::Forbidden(m),
                Err(Refusal::NotConfigured(m)) => WebhookAnswer::NotConfigured(m),
                Err(Refusal::Store(m)) => WebhookAnswer::Failed(m),
            }
        })
    }
}

/// The serial key a delivery's job is queued under: the pull request's
/// ([`PullRef::serial_key`]) for pull-request and comment events, so one pull request's jobs
/// run one at a time and in order; `repo:REPO` for other events of a repository; `None` for
/// an event that names no repository (or no valid one).
pub fn serial_key(event: &Event) -> Option<String> {
    key_for(event, event.repo()?)
}

/// [`serial_key`] with the repository spelled as `repo`.
fn key_for(event: &Event, repo: &str) -> Option<String> {
    let pull = |number: u64| {
        let number = i64::try_from(number).ok()?;
        PullRef::new(repo, number).ok().map(|p| p.serial_key())
    };
    match event {
        Event::PullRequest(pr) => pull(pr.number),
        Event::Comment(c) => pull(c.number),
        Event::Ignored { .. } => Some(format!("repo:{repo}")),
    }
}

/// Decodes a stored delivery again (what a webhook job does first): `event_name` and `body`
/// as [`plinth_state::Delivery`] holds them, `kind` the type of its forge block.
pub fn decode_stored(kind: ForgeKind, event_name: &str, body: &[u8]) -> Result<Event, DecodeError> {
    let header = match kind {
        ForgeKind::GitHub => webhook::GITHUB_EVENT,
        ForgeKind::GitLab => webhook::GITLAB_EVENT,
        // `event_name` holds the precise type when Gitea sent one, else the coarse event;
        // decoding reads the precise header first and falls back to the coarse one.
        ForgeKind::Gitea => webhook::GITEA_EVENT_TYPE,
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(event_name) {
        headers.insert(HeaderName::from_static(header), value);
    }
    webhook::decode(kind, &headers, body)
}

fn delivery_header(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "X-GitHub-Delivery",
        ForgeKind::GitLab => "X-Gitlab-Event-UUID",
        ForgeKind::Gitea => "X-Gitea-Delivery",
    }
}

fn decode_reason(e: &DecodeError) -> String {
    match e {
        DecodeError::Json(detail) => format!("the body is not JSON ({detail})"),
        other => other.to_string(),
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= MAX_REASON_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_REASON_CHARS - 1).collect();
    cut.push('…');
    cut
}
