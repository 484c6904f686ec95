//! `/runs/{id}`: one run with its per-instance results and masked logs. While the run is
//! running, `/assets/live.js` polls `/runs/{id}/progress` and updates the statuses in place.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use maud::{Markup, html};

use crate::Web;
use crate::display::{counts, instance_href, ms_of, now_ms, short, span};
use crate::error::WebError;
use crate::pages::{ago, badge};
use crate::session::Session;
use crate::shell::{self, Head, Nav};

/// `GET /runs/{id}`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Result<Markup, WebError> {
    let run =
        web.store.run(&id).await?.ok_or_else(|| {
            WebError::not_found(format!("no run {id} was reported to this server"))
        })?;
    let now = now_ms();
    let running = run.status == "running";
    let started_ms = ms_of(&run.started_at);
    let body = html! {
        p.crumbs { a href="/runs" { "Runs" } " / " (run.project) " / " (run.env) }
        h1 { (run.action) " " (run.env) " " span #run-status data-status=(run.status) { (badge(&run.status)) } }
        @if running {
            div #live data-progress={ "/runs/" (crate::display::segment(&run.run_id)) "/progress" } {
                p.note { "Running: this page updates itself." }
            }
        }
        dl.facts {
            dt { "run" } dd { code { (run.run_id) } }
            dt { "who" } dd { (run.who) " (" (match run.source { plinth_state::RunSource::Cli => "cli", plinth_state::RunSource::Server => "server" }) ", reported by token " (run.recorded_by) ")" }
            @if let Some(c) = &run.commit { dt { "commit" } dd { code title=(c) { (short(c)) } " " (c) } }
            dt { "started" } dd { @match started_ms { Some(ms) => (ago(ms, now)), None => (run.started_at) } }
            @if let (Some(f), Some(s)) = (run.finished_at.as_deref().and_then(ms_of), started_ms) {
                dt { "took" } dd { (span(f - s)) }
            }
            @if let Some(p) = &run.from_plan { dt { "applied plan" } dd { a href=(crate::display::run_href(p)) { (p) } } }
            @if run.approved_destructive { dt { "destroys" } dd { "approved (--approve-destructive)" } }
            @if let Some(r) = &run.skipped_promotion { dt { "promotion gate" } dd { "skipped: " (r) } }
        }
        h2 { "Instances" }
        div.scroll { table #instances {
            thead { tr { th { "stack" } th { "status" } th { "changes" } th { "duration" } th { "reason" } } }
            tbody { @for i in &run.instances { tr data-stack=(i.stack) {
                td { a href=(instance_href(&run.project, &run.env, &i.stack)) { (i.stack) } }
                td.status { (badge(&i.status)) @if i.preview_only { " preview only" } }
                td { (counts((i.add, i.change, i.destroy))) }
                td.duration { (span(i.duration_ms)) }
                td { @if let Some(r) = &i.reason { (r) } }
            } } }
        } }
        h2 { "Logs" }
        p.note { "Logs are masked by the reporter before they reach the server." }
        @for i in &run.instances {
            details.log open[run.instances.len() == 1 || i.status == "failed"] {
                summary { (i.stack) " " (badge(&i.status)) }
                @if i.log_cut_bytes > 0 { p.note { "The first " (i.log_cut_bytes) " bytes were cut; the end is kept." } }
                @match i.log.as_deref() {
                    Some(log) if !log.is_empty() => pre { (log) },
                    _ => p.empty { "No log was reported." },
                }
            }
        }
    };
    let title = format!("{} {} {}", run.action, run.env, run.run_id);
    Ok(shell::page(
        &title,
        Nav::Runs,
        &session,
        Head { live: running },
        body,
    ))
}

/// `GET /runs/{id}/progress`: `{"status": S, "instances": [{"stack", "status", "duration_ms"}]}`.
pub(crate) async fn progress(
    State(web): State<Web>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = web
        .store
        .run_progress(&id)
        .await?
        .ok_or_else(|| WebError::not_found(format!("no run {id}")))?;
    Ok(Json(serde_json::json!({
        "status": p.status,
        "instances": p.instances.iter().map(|(stack, status, d)| serde_json::json!({
            "stack": stack, "status": status, "duration": span(*d),
        })).collect::<Vec<_>>(),
    })))
}
