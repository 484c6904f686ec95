//! `/`: the environments × stacks matrix of one project. Each cell shows the instance's last
//! apply (status, commit, age), its drift (status, counts, age) and who holds it (Terraform's
//! state lock, a pull request's lock). Totals cover every instance; the rows are paged, and the
//! store reads only the shown page's instances in full.

use std::collections::HashMap;
use std::time::Instant;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use plinth_state::{EnvTotals, InstanceStatus, OverviewQuery};
use serde::Deserialize;

use crate::display::{counts, env_order, instance_href, now_ms, query_value, short};
use crate::error::WebError;
use crate::pages::{ago, empty, non_empty};
use crate::session::Session;
use crate::shell::{self, Head, Nav};
use crate::{Web, display};

/// Rows per page unless `per` says otherwise.
const DEFAULT_PER_PAGE: usize = 100;
/// The most rows one page may show.
const MAX_PER_PAGE: usize = 5000;

/// `?project=&q=&problems=1&page=&per=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    project: Option<String>,
    q: Option<String>,
    problems: Option<String>,
    page: Option<usize>,
    per: Option<usize>,
}

/// `GET /`.
pub(crate) async fn page(
    State(web): State<Web>,
    Extension(session): Extension<Session>,
    Query(params): Query<Params>,
) -> Result<Response, WebError> {
    let started = Instant::now();
    let q = non_empty(params.q.clone());
    let problems = params.problems.is_some();
    let per = params
        .per
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let overview = web
        .store
        .dashboard_overview(&OverviewQuery {
            project: non_empty(params.project.clone()),
            filter: q.clone(),
            problems,
            page: params.page.unwrap_or(1),
            per_page: per,
        })
        .await?;
    let db_ms = started.elapsed().as_secs_f64() * 1000.0;
    let now = now_ms();

    let mut envs: Vec<String> = overview.totals.iter().map(|t| t.env.clone()).collect();
    env_order(&mut envs);
    let totals: HashMap<&str, &EnvTotals> = overview
        .totals
        .iter()
        .map(|t| (t.env.as_str(), t))
        .collect();
    // The page's rows, by stack (the store returns them by stack then environment).
    let mut rows: Vec<(&str, HashMap<&str, &InstanceStatus>)> = Vec::new();
    for i in &overview.instances {
        match rows.last_mut() {
            Some((stack, cells)) if *stack == i.stack => {
                cells.insert(i.env.as_str(), i);
            }
            _ => rows.push((i.stack.as_str(), HashMap::from([(i.env.as_str(), i)]))),
        }
    }
    let project = overview.project.clone().unwrap_or_default();

    let body = html! {
        @if overview.project.is_none() {
            h1 { "Overview" }
            (empty("The server has no state and no runs yet. Apply a project whose plinth.hcl \
                    has state { backend = \"plinth\" } against this server, and its \
                    environments and stacks appear here."))
        } @else {
            div.titlebar {
                h1 { (project) }
                @if overview.projects.len() > 1 {
                    nav.projects aria-label="projects" {
                        @for p in &overview.projects {
                            a href={ "/?project=" (query_value(p)) }
                              class=[(p == &project).then_some("current")] { (p) }
                        }
                    }
                }
            }
            section.totals aria-label="per environment" {
                @for env in &envs {
                    @let t = totals[env.as_str()];
                    div.total data-env=(env) {
                        h2 { (env) }
                        p { b { (t.instances) } " instances" }
                        p { span.st-ok { (t.applied) " applied" }
                            @if t.failed > 0 { " · " span.st-failed { (t.failed) " failed" } } }
                        p { @if t.drifted > 0 { span.st-drifted { (t.drifted) " drifted" } }
                            @else { "no drift" }
                            @if t.locked > 0 { " · " (t.locked) " locked" } }
                    }
                }
            }
            form.filters method="get" action="/" {
                input type="hidden" name="project" value=(project);
                input type="search" name="q" placeholder="filter stacks" value=[q.as_deref()]
                      aria-label="filter stacks";
                label { input type="checkbox" name="problems" value="1" checked[problems];
                        " only failed, drifted or locked" }
                button type="submit" { "Filter" }
            }
            @if overview.stacks == 0 {
                (empty("No stack matches the filter."))
            } @else {
                div.matrix-wrap {
                    table.matrix {
                        thead { tr { th scope="col" { "stack" }
                            @for env in &envs { th scope="col" { (env) } } } }
                        tbody {
                            @for (stack, cells) in &rows {
                                tr {
                                    th scope="row" { (stack) }
                                    @for env in &envs {
                                        @match cells.get(env.as_str()) {
                                            Some(i) => (cell(&project, i, now)),
                                            None => td.none { "–" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (pager(&params, &project, overview.page, overview.pages, overview.stacks))
            }
            @if !overview.copies.is_empty() {
                p.note { (overview.copies.len()) " ephemeral copies are listed under "
                         a href="/copies" { "Copies" } "." }
            }
        }
    };
    let markup = shell::page("Overview", Nav::Overview, &session, Head::default(), body);
    let render_ms = started.elapsed().as_secs_f64() * 1000.0 - db_ms;
    let timing = format!("db;dur={db_ms:.1}, render;dur={render_ms:.1}");
    Ok((
        [(header::HeaderName::from_static("server-timing"), timing)],
        markup,
    )
        .into_response())
}

fn cell(project: &str, i: &InstanceStatus, now: i64) -> Markup {
    let class = match &i.last_apply {
        Some(a) => display::status_class(&a.status),
        None if i.state.is_some() => "st-state",
        None => "st-other",
    };
    html! {
        td class={ "cell " (class) } data-stack=(i.stack) data-env=(i.env) {
            a href=(instance_href(project, &i.env, &i.stack)) {
                @if let Some(a) = &i.last_apply {
                    span.apply {
                        (a.action) " " (a.status)
                        @if let Some(c) = &a.commit { " " code { (short(c)) } }
                        " " span.age { (ago(a.at_ms, now)) }
                    }
                } @else if let Some(s) = &i.state {
                    span.apply { "state v" (s.version) " " span.age { (ago(s.updated_ms, now)) } }
                } @else {
                    span.apply { "no state" }
                }
                @if let Some(d) = &i.drift {
                    span class={ "drift " (display::status_class(&d.status)) } {
                        (d.status)
                        @if d.status == "drifted" { " " (counts(d.counts)) }
                        " " span.age { (ago(d.checked_ms, now)) }
                    }
                }
                @if let Some(l) = &i.state_lock {
                    span.lock title={ "Terraform lock " (l.lock_id) } { "locked: " (l.who) }
                }
                @if let Some(p) = &i.pull_lock {
                    span.lock title={ "held by " (p.repo) "#" (p.number) } {
                        "PR #" (p.number)
                        @if p.queued > 0 { " (+" (p.queued) " queued)" }
                    }
                }
            }
        }
    }
}

fn pager(params: &Params, project: &str, page_no: usize, pages: usize, rows: usize) -> Markup {
    let link = |n: usize| {
        let mut href = format!("/?project={}&page={n}", query_value(project));
        if let Some(q) = non_empty(params.q.clone()) {
            href.push_str(&format!("&q={}", query_value(&q)));
        }
        if params.problems.is_some() {
            href.push_str("&problems=1");
        }
        if let Some(per) = params.per {
            href.push_str(&format!("&per={per}"));
        }
        href
    };
    html! {
        nav.pager aria-label="pages" {
            @if page_no > 1 { a rel="prev" href=(link(page_no - 1)) { "← previous" } }
            span { "page " (page_no) " of " (pages) " · " (rows) " stacks" }
            @if page_no < pages { a rel="next" href=(link(page_no + 1)) { "next →" } }
        }
    }
}
