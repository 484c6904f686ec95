//! `/locks`: Terraform's state locks and pull requests' instance locks with their queues. An
//! admin session gets a release button per lock: a POST carrying the session's CSRF token.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use plinth_state::InstanceId;
use serde::Deserialize;

use crate::display::{instance_href, ms_of, now_ms};
use crate::error::WebError;
use crate::pages::{ago, empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};
use crate::{Web, csrf};

/// The release form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct Release {
    /// `state` (Terraform's lock) or `pull` (a pull request's lock).
    kind: String,
    project: String,
    env: String,
    stack: String,
    /// For a state lock: the lock ID the admin saw, so a lock that changed hands since is kept.
    lock_id: Option<String>,
    csrf: Option<String>,
}

fn release_button(session: &Session, kind: &str, id: &InstanceId, lock_id: Option<&str>) -> Markup {
    html! {
        form.release method="post" action="/locks/release" {
            input type="hidden" name=(csrf::FIELD) value=(session.csrf);
            input type="hidden" name="kind" value=(kind);
            input type="hidden" name="project" value=(id.project);
            input type="hidden" name="env" value=(id.env);
            input type="hidden" name="stack" value=(id.stack);
            @if let Some(l) = lock_id { input type="hidden" name="lock_id" value=(l); }
            button.danger type="submit" { "Release" }
        }
    }
}

/// `GET /locks`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
) -> Result<Markup, WebError> {
    let state_locks = web.store.list_locks(None).await?;
    let pull_locks = web.store.pull_locks(None).await?;
    let now = now_ms();
    let admin = session.is_admin();
    let body = html! {
        h1 { "Locks" }
        @if !admin { p.note { "Releasing a lock needs a session signed in with an admin token." } }
        h2 { "Terraform state locks" }
        @if state_locks.is_empty() {
            (empty("No state is locked."))
        } @else {
            div.scroll { table #state-locks {
                thead { tr { th { "instance" } th { "who" } th { "operation" } th { "token" }
                             th { "since" } th { "lock ID" } @if admin { th {} } } }
                tbody { @for l in &state_locks {
                    @let id = InstanceId::parse(&l.instance).ok();
                    tr data-instance=(l.instance) {
                        td { @match &id {
                            Some(id) => a href=(instance_href(&id.project, &id.env, &id.stack)) { (l.instance) },
                            None => (l.instance),
                        } }
                        td { (l.who()) }
                        td { @if let Some(op) = l.info.get("Operation").and_then(|o| o.as_str()) { (op) } }
                        td { (l.token) }
                        td { @match ms_of(&l.locked_at) { Some(ms) => (ago(ms, now)), None => (l.locked_at) } }
                        td { code { (l.id) } }
                        @if admin { td { @if let Some(id) = &id { (release_button(&session, "state", id, Some(&l.id))) } } }
                    }
                } }
            } }
        }
        h2 { "Pull-request locks" }
        @if pull_locks.is_empty() {
            (empty("No instance is held or awaited by a pull request."))
        } @else {
            div.scroll { table #pull-locks {
                thead { tr { th { "instance" } th { "held by" } th { "since" } th { "queue" } @if admin { th {} } } }
                tbody { @for l in &pull_locks {
                    @let id = InstanceId::new(&l.project, &l.env, &l.stack).ok();
                    tr data-instance={ (l.project) "/" (l.env) "/" (l.stack) } {
                        td { a href=(instance_href(&l.project, &l.env, &l.stack)) { (l.project) "/" (l.env) "/" (l.stack) } }
                        td { @match &l.holder { Some(h) => { (h.repo) " #" (h.number) }, None => span.muted { "nobody" } } }
                        td { @match l.acquired_at.as_deref().and_then(ms_of) { Some(ms) => (ago(ms, now)), None => "–" } }
                        td { @if l.queue.is_empty() { "–" } @else {
                            ol.queue { @for q in &l.queue { li { (q.repo) " #" (q.number) } } } } }
                        @if admin { td { @if let (Some(id), Some(_)) = (&id, &l.holder) { (release_button(&session, "pull", id, None)) } } }
                    }
                } }
            } }
        }
    };
    Ok(shell::page(
        "Locks",
        Nav::Locks,
        &session,
        Head::default(),
        body,
    ))
}

/// `POST /locks/release`: an admin releases a lock.
pub(crate) async fn release(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    Form(form): Form<Release>,
) -> Result<Response, WebError> {
    csrf::check(&session, form.csrf.as_deref())?;
    if !session.is_admin() {
        return Err(WebError::forbidden(format!(
            "releasing a lock needs an admin token; this session signed in with {:?} (scope {})",
            session.actor.name, session.actor.scope
        )));
    }
    let id = InstanceId::new(&form.project, &form.env, &form.stack)?;
    match form.kind.as_str() {
        "state" => {
            web.store
                .force_unlock(&id, form.lock_id.as_deref(), &session.actor)
                .await?;
        }
        "pull" => {
            let (_holder, handed_over) = web
                .store
                .force_release_pull_lock(&id, &session.actor)
                .await?;
            if let Some(hook) = &web.config.hand_over {
                hook(handed_over);
            }
        }
        other => {
            return Err(WebError::bad_request(format!(
                "unknown lock kind {other:?}"
            )));
        }
    }
    Ok(Redirect::to("/locks").into_response())
}
