//! `/runs`: the run history (CLI runs reported with `POST /v1/runs` and the server's own),
//! newest first, filtered by project, environment, action and status.

use axum::Extension;
use axum::extract::{Query, State};
use maud::{Markup, html};
use plinth_state::RunFilter;
use serde::Deserialize;

use crate::Web;
use crate::display::{counts, now_ms, query_value, run_href, short, span};
use crate::error::WebError;
use crate::pages::{ago, badge, empty, non_empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};

const PER_PAGE: i64 = 100;
const ACTIONS: &[&str] = &["plan", "apply", "destroy", "drift", "exec", "check"];
const STATUSES: &[&str] = &["running", "succeeded", "failed", "blocked", "interrupted"];

/// `?project=&env=&action=&status=&page=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    project: Option<String>,
    env: Option<String>,
    action: Option<String>,
    status: Option<String>,
    page: Option<i64>,
}

fn select(name: &str, label: &str, options: &[&str], current: Option<&str>) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { "any" }
                @for o in options { option value=(o) selected[current == Some(*o)] { (o) } }
            }
        }
    }
}

/// `GET /runs`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    Query(params): Query<Params>,
) -> Result<Markup, WebError> {
    let page_no = params.page.unwrap_or(1).max(1);
    let filter = RunFilter {
        project: non_empty(params.project.clone()),
        env: non_empty(params.env.clone()),
        action: non_empty(params.action.clone()),
        status: non_empty(params.status.clone()),
        // One more than shown tells whether there is a next page.
        limit: PER_PAGE + 1,
        offset: (page_no - 1) * PER_PAGE,
    };
    let mut runs = web.store.dashboard_runs(&filter).await?;
    let more = runs.len() as i64 > PER_PAGE;
    runs.truncate(PER_PAGE as usize);
    let now = now_ms();
    let link = |n: i64| {
        let mut href = format!("/runs?page={n}");
        for (k, v) in [
            ("project", &filter.project),
            ("env", &filter.env),
            ("action", &filter.action),
            ("status", &filter.status),
        ] {
            if let Some(v) = v {
                href.push_str(&format!("&{k}={}", query_value(v)));
            }
        }
        href
    };
    let body = html! {
        h1 { "Runs" }
        form.filters method="get" action="/runs" {
            label { "project " input type="text" name="project" size="10" value=[filter.project.as_deref()]; }
            label { "env " input type="text" name="env" size="8" value=[filter.env.as_deref()]; }
            (select("action", "action", ACTIONS, filter.action.as_deref()))
            (select("status", "status", STATUSES, filter.status.as_deref()))
            button type="submit" { "Filter" }
        }
        @if runs.is_empty() {
            (empty(if page_no > 1 { "No more runs." } else {
                "No run matches. CLI runs of a project with state { backend = \"plinth\" } \
                 and the server's own runs are listed here." }))
        } @else {
            div.scroll { table.runs {
                thead { tr { th { "run" } th { "action" } th { "env" } th { "status" }
                             th { "instances" } th { "changes" } th { "who" } th { "commit" }
                             th { "started" } th { "took" } } }
                tbody { @for r in &runs { tr data-run=(r.run_id) {
                    td { a href=(run_href(&r.run_id)) { (r.run_id) } }
                    td { (r.action) }
                    td { (r.env) }
                    td { (badge(&r.status)) }
                    td { (r.instances) @if r.failed > 0 { " (" span.st-failed { (r.failed) " failed" } ")" } }
                    td { (counts(r.counts)) }
                    td { (r.who) @if r.source == "server" { " (server)" } }
                    td { @if let Some(c) = &r.commit { code title=(c) { (short(c)) } } }
                    td { (ago(r.started_ms, now)) }
                    td { @if let Some(f) = r.finished_ms { (span(f - r.started_ms)) } @else { "…" } }
                } } }
            } }
            nav.pager aria-label="pages" {
                @if page_no > 1 { a rel="prev" href=(link(page_no - 1)) { "← newer" } }
                span { "page " (page_no) }
                @if more { a rel="next" href=(link(page_no + 1)) { "older →" } }
            }
        }
    };
    Ok(shell::page(
        "Runs",
        Nav::Runs,
        &session,
        Head::default(),
        body,
    ))
}
