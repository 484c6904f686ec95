//! `/pulls`: pull requests with their instances, plans, locks, queue positions and jobs.

use axum::Extension;
use axum::extract::State;
use maud::{Markup, html};
use plinth_state::{PullState, PullView};

use crate::Web;
use crate::display::{counts, ms_of, now_ms, run_href, short};
use crate::error::WebError;
use crate::pages::{ago, badge, empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};

/// Open pull requests shown, and closed or merged ones after them.
const OPEN_SHOWN: i64 = 100;
const CLOSED_SHOWN: i64 = 20;

/// `GET /pulls`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
) -> Result<Markup, WebError> {
    let open = web
        .store
        .pull_views(None, Some(PullState::Open), OPEN_SHOWN)
        .await?;
    let mut done = web
        .store
        .pull_views(None, Some(PullState::Merged), CLOSED_SHOWN)
        .await?;
    done.extend(
        web.store
            .pull_views(None, Some(PullState::Closed), CLOSED_SHOWN)
            .await?,
    );
    done.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    done.truncate(CLOSED_SHOWN as usize);
    let now = now_ms();
    let body = html! {
        h1 { "Pull requests" }
        @if open.is_empty() && done.is_empty() {
            (empty("No pull request has reached this server. Configure a forge and a repo in \
                    plinth-server.hcl and point the repository's webhook at /webhooks/…."))
        }
        @if !open.is_empty() {
            h2 { "Open" }
            @for p in &open { (pull(p, now)) }
        }
        @if !done.is_empty() {
            h2 { "Recently closed or merged" }
            @for p in &done { (pull(p, now)) }
        }
    };
    Ok(shell::page(
        "Pull requests",
        Nav::Pulls,
        &session,
        Head::default(),
        body,
    ))
}

fn pull(p: &PullView, now: i64) -> Markup {
    html! {
        section.pull data-pull={ (p.repo) "#" (p.number) } {
            h3 { (p.repo) " #" (p.number) " " (badge(p.state.as_str()))
                 @if p.idle { " " span.muted { "idle" } } @else { " " (badge("running")) } }
            p.meta { "by " (p.author) " into " code { (p.base) } " at " code title=(p.head) { (short(&p.head)) }
                     " · updated " @match ms_of(&p.updated_at) { Some(ms) => (ago(ms, now)), None => (p.updated_at) } }
            @if p.instances.is_empty() {
                p.empty { "No affected instance." }
            } @else {
                div.scroll { table {
                    thead { tr { th { "env" } th { "stack" } th { "plan" } th { "applied" } th { "lock" } } }
                    tbody { @for i in &p.instances { tr {
                        td { (i.env) }
                        td { (i.stack) }
                        td { @match &i.plan {
                            Some(plan) => {
                                a href=(run_href(&plan.run_id)) { (counts((plan.add, plan.change, plan.destroy))) }
                                @if plan.preview_only { " preview only" }
                                " at " code { (short(&plan.commit)) }
                            },
                            None => span.muted { "no plan" },
                        } }
                        td { @if i.applied { "applied" } @else { "–" } }
                        td { @match i.lock {
                            "held" => span.st-ok { "held" },
                            "queued" => span.st-blocked {
                                "queued"
                                @if let Some(pos) = i.position { ", position " (pos) }
                                @if let Some(n) = i.waiting_for { ", waiting for #" (n) }
                            },
                            other => span.muted { (other) },
                        } }
                    } } }
                } }
            }
            @if !p.jobs.is_empty() {
                details { summary { (p.jobs.len()) " jobs" }
                    ul.jobs { @for j in &p.jobs { li {
                        "#" (j.id) " " (j.kind) " " (badge(j.status.as_str())) " "
                        @match ms_of(&j.created_at) { Some(ms) => (ago(ms, now)), None => (j.created_at) }
                    } } }
                }
            }
        }
    }
}
