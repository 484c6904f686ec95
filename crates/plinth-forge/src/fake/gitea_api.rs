//! Gitea's REST dialect: GitHub's repository routes under `/api/v1` (the few differences are
//! marked in `github_api`).

use super::github_api::repo_route;
use super::server::{Reply, Request};
use super::state::State;

pub(crate) fn route(s: &mut State, req: &Request<'_>) -> Option<Reply> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["api", "v1", rest @ ..] => repo_route(s, req, rest),
        _ => None,
    }
}
