//! The plinth server this project's state lives on (`state { backend = "plinth" }`), where
//! runs, promotion records and ephemeral copies are shared with every other checkout, CI job
//! and the server's own pull-request flow. With any other backend there is no link and
//! everything stays in `.plinth/plinth.db` alone.
//!
//! Two rules for a server that cannot be reached: reading promotion records fails closed (the
//! gate refuses, since skipping the check would let unpromoted code through), while what only
//! reports (runs, copy status) warns once per run and lets the run go on. The token comes from
//! `PLINTH_TOKEN`, as for the engine's http backend, and never appears in a message.

use std::sync::atomic::{AtomicBool, Ordering};

use plinth_client::{
    Client, ClientError, CopyStatus, CopyUpdate, NewPromotion, Promotion, PromotionKind,
};
use plinth_config::{Backend, Scope};
use plinth_project::Project;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

pub use plinth_client::RunSource;

use crate::copies::CopyRecord;
use crate::events::Event;
use crate::promotion::PromotionRecord;

/// What the server stores for a record made outside git (its `commit` is required).
const NO_COMMIT: &str = "unknown";

/// Who a run is reported as in the server's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrigin {
    /// `cli` (laptops and CI) or `server` (the server's own flows).
    pub source: RunSource,
    /// Who to name instead of this process's `user@host` (the forge user who asked).
    pub who: Option<String>,
}

impl Default for RunOrigin {
    fn default() -> Self {
        RunOrigin::cli()
    }
}

impl RunOrigin {
    /// A run started from a CLI, named after `user@host`.
    pub fn cli() -> Self {
        RunOrigin {
            source: RunSource::Cli,
            who: None,
        }
    }

    /// A run of the server's own pull-request flow, asked for by `who`.
    pub fn server(who: impl Into<String>) -> Self {
        RunOrigin {
            source: RunSource::Server,
            who: Some(who.into()),
        }
    }
}

/// The scope the state block's `url` is evaluated in: `project`, and `env` where a run has
/// one (a URL naming `stack` would point every instance elsewhere: no single server).
struct LinkScope<'a> {
    project: &'a str,
    env: Option<(&'a str, &'a str)>,
}

impl Scope for LinkScope<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        match (name, self.env) {
            ("project", _) => Some(json!(self.project)),
            ("env", Some((env, template))) => Some(json!({ "name": env, "template": template })),
            _ => None,
        }
    }
}

/// The link to the plinth server of one project.
#[derive(Debug, Clone)]
pub struct ServerLink {
    client: Client,
    project: String,
}

/// What creating a copy's record on the server found.
pub(crate) enum Created {
    /// The record is ours now.
    Yes,
    /// A copy of that name exists already (its record, when it could be read).
    Exists(Option<CopyRecord>),
}

impl ServerLink {
    /// The link of `project`: `Ok(None)` unless its state block says `backend = "plinth"`.
    /// `env` is `(name, template)` of the environment at hand, for a `url` that names it. An
    /// error says why the server cannot be used (no `url`, no PLINTH_TOKEN, a bad URL).
    pub fn of(project: &Project, env: Option<(&str, &str)>) -> Result<Option<ServerLink>, String> {
        let state = &project.config.state;
        if state.backend != Backend::Plinth {
            return Ok(None);
        }
        let url = match &state.url {
            Some(url) => {
                let scope = LinkScope {
                    project: project.config.project(),
                    env,
                };
                match url.value.evaluate(&scope) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_string(),
                    Err(e) => {
                        return Err(format!(
                            "the state block's `url` cannot be evaluated here: {} (the plinth \
                             server's URL must be one for the project: a literal, `project` or \
                             getenv)",
                            e.message
                        ));
                    }
                }
            }
            None => return Err("the state block has no `url` for the plinth server".into()),
        };
        let token = std::env::var("PLINTH_TOKEN").unwrap_or_default();
        if token.trim().is_empty() {
            return Err(format!(
                "PLINTH_TOKEN is not set: no token for the plinth server {}",
                url.trim_end_matches('/')
            ));
        }
        let client = Client::new(&url, &token).map_err(|e| e.to_string())?;
        Ok(Some(ServerLink {
            client,
            project: project.config.project().to_string(),
        }))
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        self.client.base_url()
    }

    /// The typed client (for the server's own flows, which talk to it further).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The project's name on the server.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// Stores each record on the server.
    pub(crate) async fn record_promotions(
        &self,
        records: &[PromotionRecord],
    ) -> Result<(), String> {
        for r in records {
            let new = NewPromotion {
                project: self.project.clone(),
                env: r.env.clone(),
                kind: promotion_kind(&r.kind),
                subject: r.subject.clone(),
                fingerprint: r.fingerprint.clone(),
                run_id: r.run_id.clone(),
                commit: r.commit.clone().unwrap_or_else(|| NO_COMMIT.to_string()),
                who: Some(bounded_line(&r.who, 255)),
                applied_at: Some(r.applied_at.clone()),
            };
            self.client
                .record_promotion(&new)
                .await
                .map_err(|e| self.failure("cannot store a promotion record on", &e))?;
        }
        Ok(())
    }

    /// The server's records of `env` that the gate needs: the newest of every subject, plus,
    /// for each of `wanted` (`(kind, subject, fingerprint)`) whose newest record is at another
    /// fingerprint, the newest at exactly that one. One request when everything is current.
    pub(crate) async fn promotions(
        &self,
        env: &str,
        wanted: &[(String, String, String)],
    ) -> Result<Vec<PromotionRecord>, String> {
        const WHAT: &str = "cannot read promotion records from";
        let mut found: Vec<PromotionRecord> = self
            .client
            .latest_promotions(&self.project, env, None)
            .await
            .map_err(|e| self.failure(WHAT, &e))?
            .into_iter()
            .map(local_promotion)
            .collect();
        let missing: Vec<&(String, String, String)> = wanted
            .iter()
            .filter(|(kind, subject, fingerprint)| {
                !found.iter().any(|r| {
                    &r.kind == kind && &r.subject == subject && &r.fingerprint == fingerprint
                })
            })
            .collect();
        for (kind, subject, fingerprint) in missing {
            if let Some(p) = self
                .client
                .find_promotion(
                    &self.project,
                    env,
                    promotion_kind(kind),
                    subject,
                    fingerprint,
                )
                .await
                .map_err(|e| self.failure(WHAT, &e))?
            {
                found.push(local_promotion(p));
            }
        }
        Ok(found)
    }

    /// Creates copy `copy.name`'s record; two machines cannot both create one name.
    pub(crate) async fn create_copy(&self, copy: &CopyRecord) -> Result<Created, String> {
        match self
            .client
            .create_copy(&self.project, &copy.name, &copy_update(copy))
            .await
        {
            Ok(_) => Ok(Created::Yes),
            Err(e) if e.status() == Some(412) => {
                let existing = self.copy(&copy.name).await.ok().flatten();
                Ok(Created::Exists(existing))
            }
            Err(e) => Err(self.failure("cannot record the copy on", &e)),
        }
    }

    /// Creates or replaces copy `copy.name`'s record.
    pub(crate) async fn put_copy(&self, copy: &CopyRecord) -> Result<(), String> {
        self.client
            .put_copy(&self.project, &copy.name, &copy_update(copy))
            .await
            .map(|_| ())
            .map_err(|e| self.failure("cannot update the copy on", &e))
    }

    /// Forgets a destroyed copy (one the server never knew is forgotten already).
    pub(crate) async fn delete_copy(&self, name: &str) -> Result<(), String> {
        match self.client.delete_copy(&self.project, name).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(self.failure("cannot remove the copy from", &e)),
        }
    }

    /// The project's copies on the server.
    pub(crate) async fn copies(&self) -> Result<Vec<CopyRecord>, String> {
        self.client
            .copies(&self.project)
            .await
            .map(|all| all.into_iter().map(local_copy).collect())
            .map_err(|e| self.failure("cannot list the copies on", &e))
    }

    /// The project's copies past their expiry, as the server sees them.
    pub(crate) async fn expired_copies(&self) -> Result<Vec<CopyRecord>, String> {
        self.client
            .expired_copies(&self.project)
            .await
            .map(|all| all.into_iter().map(local_copy).collect())
            .map_err(|e| self.failure("cannot list the copies on", &e))
    }

    /// Copy `name` as the server records it.
    pub(crate) async fn copy(&self, name: &str) -> Result<Option<CopyRecord>, String> {
        Ok(self.copies().await?.into_iter().find(|c| c.name == name))
    }

    /// "WHAT the plinth server URL: why" (the client's own words name the URL again).
    pub(crate) fn failure(&self, what: &str, err: &ClientError) -> String {
        let why = match err {
            ClientError::Unreachable { detail, .. } => detail.clone(),
            ClientError::Status {
                status, message, ..
            } => format!("it refused ({status}): {message}"),
            other => other.to_string(),
        };
        format!("{what} the plinth server {}: {why}", self.url())
    }
}

/// One warning per run about the server, through the run's events: a server that is down
/// would otherwise say so at every report.
pub(crate) struct LinkWarning {
    events: UnboundedSender<Event>,
    sent: AtomicBool,
}

impl LinkWarning {
    /// Warnings for a run whose events go to `events`.
    pub(crate) fn new(events: UnboundedSender<Event>) -> LinkWarning {
        LinkWarning {
            events,
            sent: AtomicBool::new(false),
        }
    }

    /// Sends `text`, unless a warning was sent already.
    pub(crate) fn warn(&self, text: impl Into<String>) {
        if !self.sent.swap(true, Ordering::SeqCst) {
            let _ = self.events.send(Event::Warning(text.into()));
        }
    }
}

/// `text` on one line, without control characters, at most `max` characters: what the
/// server accepts for names (`who`, `creator`).
pub(crate) fn bounded_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean
    }
}

fn promotion_kind(kind: &str) -> PromotionKind {
    if kind == "module" {
        PromotionKind::Module
    } else {
        PromotionKind::Stack
    }
}

fn local_promotion(p: Promotion) -> PromotionRecord {
    PromotionRecord {
        env: p.env,
        kind: match p.kind {
            PromotionKind::Stack => "stack".into(),
            PromotionKind::Module => "module".into(),
        },
        subject: p.subject,
        fingerprint: p.fingerprint,
        run_id: p.run_id,
        commit: (p.commit != NO_COMMIT).then_some(p.commit),
        who: p.who,
        applied_at: p.applied_at,
    }
}

/// The server knows fewer states than the local record: an apply or test that failed is
/// `failed` there.
fn server_status(local: &str) -> CopyStatus {
    match local {
        "up" => CopyStatus::Up,
        "applying" => CopyStatus::Applying,
        "destroying" => CopyStatus::Destroying,
        "destroy_failed" => CopyStatus::DestroyFailed,
        _ => CopyStatus::Failed,
    }
}

fn copy_update(copy: &CopyRecord) -> CopyUpdate {
    CopyUpdate {
        template: copy.template.clone(),
        creator: Some(bounded_line(&copy.creator, 255)),
        pull_request: copy.pull_request.and_then(|n| i64::try_from(n).ok()),
        created_at: Some(copy.created_at.clone()),
        expires_at: copy.expires_at.clone(),
        status: server_status(&copy.status),
        instances: copy.instances,
    }
}

fn local_copy(c: plinth_client::CopyRecord) -> CopyRecord {
    let status = match c.status {
        CopyStatus::Up => "up",
        CopyStatus::Applying => "applying",
        CopyStatus::Failed => "failed",
        CopyStatus::Destroying => "destroying",
        CopyStatus::DestroyFailed => "destroy_failed",
    };
    CopyRecord {
        name: c.name,
        template: c.template,
        creator: c.creator,
        pull_request: c.pull_request.and_then(|n| u64::try_from(n).ok()),
        created_at: c.created_at,
        expires_at: c.expires_at,
        status: status.into(),
        instances: c.instances,
        last_run: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_what_the_server_accepts() {
        assert_eq!(bounded_line("ana@host", 255), "ana@host");
        assert_eq!(bounded_line("a\nb\u{1b}", 255), "a?b?");
        assert_eq!(bounded_line(&"x".repeat(300), 255).len(), 255);
        assert_eq!(bounded_line("", 255), "unknown");
    }

    #[test]
    fn copy_statuses_survive_the_round_trip() {
        for local in ["up", "applying", "destroying", "destroy_failed"] {
            let on_the_wire = serde_json::to_value(server_status(local)).unwrap();
            assert_eq!(on_the_wire, local);
        }
        // The server has one word for an apply or a test that failed.
        assert_eq!(server_status("test_failed"), CopyStatus::Failed);
        assert_eq!(server_status("apply_failed"), CopyStatus::Failed);
    }
}
