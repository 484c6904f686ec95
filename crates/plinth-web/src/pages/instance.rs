//! `/instances/{project}/{env}/{stack}`: one instance's state versions, the runs that touched
//! it, its drift, its locks and its audit trail.

use axum::Extension;
use axum::extract::{Path, State};
use maud::{Markup, html};
use plinth_state::{InstanceId, StateError};

use crate::display::{counts, now_ms, run_href, short, span};
use crate::error::WebError;
use crate::pages::{ago, badge, empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};
use crate::{Web, display};

/// `GET /instances/{project}/{env}/{*stack}`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    Path((project, env, stack)): Path<(String, String, String)>,
) -> Result<Markup, WebError> {
    // Not validated: this page only reads (every value is a bound parameter), and a row whose
    // name today's rules refuse must still be viewable.
    let id = InstanceId {
        project,
        env,
        stack: stack.trim_matches('/').to_owned(),
    };
    let store = &web.store;
    let versions = match store.list_versions(&id).await {
        Ok(v) => v,
        Err(StateError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let runs = store.instance_runs(&id, 50).await?;
    let drift = store.instance_drift(&id).await?;
    let state_lock = store.lock_holder(&id).await?;
    let pull_lock = store
        .pull_locks(Some(&id.project))
        .await?
        .into_iter()
        .find(|l| l.env == id.env && l.stack == id.stack);
    let audit = store.audit_log(Some(&id), 30).await?;
    let now = now_ms();
    let title = format!("{}/{}", id.env, id.stack);

    let body = html! {
        p.crumbs { a href={ "/?project=" (display::query_value(&id.project)) } { (id.project) } " / " (id.env) }
        h1 { (id.stack) }
        section.facts {
            div { h2 { "Drift" }
                @match &drift {
                    Some(d) => p { (badge(&d.status)) " "
                        @if d.status == "drifted" { (counts(d.counts)) " " }
                        "checked " (ago(d.checked_ms, now))
                        @if let Some(r) = &d.run_id { " by run " a href=(run_href(r)) { (r) } } },
                    None => p.empty { "Never checked for drift." },
                }
            }
            div { h2 { "Terraform lock" }
                @match &state_lock {
                    Some(l) => p { "held by " b { (l.who()) } " (token " (l.token) ") since "
                        (l.locked_at) br; "lock ID " code { (l.id) }
                        @if let Some(op) = l.info.get("Operation").and_then(|o| o.as_str()) {
                            br; "operation " (op) } },
                    None => p { "not locked" },
                }
            }
            div { h2 { "Pull-request lock" }
                @match pull_lock.as_ref().and_then(|l| l.holder.as_ref().map(|h| (l, h))) {
                    Some((l, h)) => p { "held by " (h.repo) " #" (h.number)
                        @if let Some(at) = &l.acquired_at { " since " (at) }
                        @if !l.queue.is_empty() { br; "queued: "
                            @for (n, q) in l.queue.iter().enumerate() {
                                @if n > 0 { ", " } (q.repo) " #" (q.number) } } },
                    None => p { "not held by a pull request" },
                }
            }
        }
        h2 { "Runs" }
        @if runs.is_empty() {
            (empty("No run of this instance was reported to the server. CLI runs of a project \
                    with state { backend = \"plinth\" } report here."))
        } @else {
            div.scroll { table {
                thead { tr { th { "run" } th { "action" } th { "result" } th { "changes" }
                             th { "duration" } th { "who" } th { "commit" } th { "started" } } }
                tbody { @for r in &runs { tr {
                    td { a href=(run_href(&r.run_id)) { (r.run_id) } }
                    td { (r.action) }
                    td { (badge(&r.status)) }
                    td { (counts(r.counts)) }
                    td { (span(r.duration_ms)) }
                    td { (r.who) }
                    td { @if let Some(c) = &r.commit { code title=(c) { (short(c)) } } }
                    td { (ago(r.started_ms, now)) }
                } } }
            } }
        }
        h2 { "State versions" }
        @if versions.is_empty() {
            (empty("No state is stored for this instance."))
        } @else {
            div.scroll { table {
                thead { tr { th { "version" } th { "serial" } th { "size" } th { "stored" }
                             th { "by" } th { "note" } } }
                tbody { @for v in &versions { tr class=[v.current.then_some("current")] {
                    td { (v.version) @if v.current { " (current)" } }
                    td { @if let Some(s) = v.serial { (s) } }
                    td { (v.size) " B" }
                    td { @match display::ms_of(&v.created_at) {
                        Some(ms) => (ago(ms, now)), None => (v.created_at) } }
                    td { (v.created_by) }
                    td { @if let Some(n) = &v.note { (n) } }
                } } }
            } }
        }
        h2 { "Audit" }
        @if audit.is_empty() { (empty("Nothing recorded.")) } @else {
            div.scroll { table {
                thead { tr { th { "when" } th { "who" } th { "action" } th { "detail" } } }
                tbody { @for a in &audit { tr {
                    td { (a.at) } td { (a.actor) } td { (a.action) } td { code { (a.detail) } }
                } } }
            } }
        }
    };
    Ok(shell::page(
        &title,
        Nav::Overview,
        &session,
        Head::default(),
        body,
    ))
}
