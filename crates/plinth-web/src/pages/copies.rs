//! `/copies`: ephemeral copies of every project with their age, expiry and status.

use axum::Extension;
use axum::extract::State;
use maud::{Markup, html};

use crate::Web;
use crate::display::{ms_of, now_ms, span};
use crate::error::WebError;
use crate::pages::{ago, badge, empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};

/// `GET /copies`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
) -> Result<Markup, WebError> {
    let mut copies = Vec::new();
    for project in web.store.dashboard_projects().await? {
        copies.extend(web.store.copies(&project).await?);
    }
    let now = now_ms();
    let body = html! {
        h1 { "Ephemeral copies" }
        @if copies.is_empty() {
            (empty("No ephemeral copy is up. `plinth env up NAME --from TEMPLATE` and pull \
                    requests of environments with lifecycle = \"ephemeral\" create them."))
        } @else {
            div.scroll { table.copies {
                thead { tr { th { "project" } th { "copy" } th { "template" } th { "status" }
                             th { "instances" } th { "created" } th { "expires" }
                             th { "by" } th { "pull request" } } }
                tbody { @for c in &copies { tr data-copy=(c.name) {
                    td { (c.project) }
                    td { (c.name) }
                    td { (c.template) }
                    td { (badge(c.status.as_str())) }
                    td { (c.instances) }
                    td { @match ms_of(&c.created_at) { Some(ms) => (ago(ms, now)), None => (c.created_at) } }
                    td { @match c.expires_at.as_deref().and_then(ms_of) {
                        Some(ms) if ms > now => { "in " (span(ms - now)) },
                        Some(ms) => span.st-failed { "expired " (span(now - ms)) " ago" },
                        None => "never",
                    } }
                    td { (c.creator) }
                    td { @if let Some(n) = c.pull_request { "#" (n) } }
                } } }
            } }
        }
    };
    Ok(shell::page(
        "Copies",
        Nav::Copies,
        &session,
        Head::default(),
        body,
    ))
}
