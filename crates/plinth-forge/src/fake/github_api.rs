//! GitHub's REST dialect, which Gitea follows under `/api/v1` (the differences — review and
//! permission vocabulary, page parameters, a boolean `mergeable`, no App — are marked).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use plinth_config::ForgeKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::server::{Reply, Request};
use super::state::{AuthSeen, FakeComment, FakeIssue, FakeStatus, ReviewState, State};
use crate::forge::{Permission, PullState};

/// GitHub's comment limit, in characters.
const GITHUB_COMMENT_LIMIT: usize = 65_536;

pub(crate) fn route(s: &mut State, req: &Request<'_>) -> Option<Reply> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["repos", owner, name, "installation"]) => {
            installation(s, &format!("{owner}/{name}"))
        }
        ("POST", ["app", "installations", id, "access_tokens"]) => access_token(s, id),
        _ => repo_route(s, req, &segs),
    }
}

/// The routes GitHub and Gitea share; `segs` starts at `repos`.
pub(crate) fn repo_route(s: &mut State, req: &Request<'_>, segs: &[&str]) -> Option<Reply> {
    let method = req.method.as_str();
    let ["repos", owner, name, rest @ ..] = segs else {
        return None;
    };
    let repo = format!("{owner}/{name}");
    match (method, rest) {
        ("GET", []) => repository(s, req, &repo),
        ("GET", ["pulls", n]) => pull(s, &repo, n.parse().ok()?),
        ("GET", ["pulls", n, "reviews"]) => reviews(s, req, &repo, n.parse().ok()?),
        ("GET", ["collaborators", user, "permission"]) => permission(s, &repo, user),
        ("POST", ["issues", n, "comments"]) => post_comment(s, req, &repo, n.parse().ok()?),
        ("PATCH", ["issues", "comments", id]) => edit_comment(s, req, &repo, id.parse().ok()?),
        ("POST", ["statuses", sha]) => status(s, req, &repo, sha),
        ("POST", ["issues"]) => create_issue(s, req, &repo),
        ("PATCH", ["issues", n]) => update_issue(s, req, &repo, n.parse().ok()?),
        _ => None,
    }
}

fn validation_failed(resource: &str, field: &str, message: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{ "resource": resource, "code": "custom", "field": field, "message": message }],
            "documentation_url": "https://docs.github.com/rest"
        }),
    )
}

/// `GET /repos/O/R`: a repository the caller may see, with its `permissions` for a token
/// (GitHub leaves them out for an App installation token, which holds the App's permissions
/// instead; Gitea has no `maintain` or `triage`).
fn repository(s: &mut State, req: &Request<'_>, repo: &str) -> Option<Reply> {
    let kind = s.kind;
    let access = s.repo(repo).token_access?;
    if access == Permission::None {
        return None;
    }
    let (owner, name) = repo.split_once('/')?;
    let mut body = json!({
        "id": 1296269,
        "name": name,
        "full_name": repo,
        "owner": { "login": owner },
        "private": true,
        "default_branch": "main",
    });
    if !req.installation_token {
        let (admin, push) = (access == Permission::Admin, access >= Permission::Write);
        body["permissions"] = match kind {
            ForgeKind::Gitea => json!({ "admin": admin, "push": push, "pull": true }),
            _ => json!({
                "admin": admin, "maintain": admin, "push": push, "triage": true, "pull": true
            }),
        };
    }
    Some(Reply::json(200, body))
}

fn pull(s: &mut State, repo: &str, number: u64) -> Option<Reply> {
    let kind = s.kind;
    let p = s.repo(repo).pulls.get(&number)?.clone();
    let mergeable = match kind {
        // Gitea's field is a plain boolean.
        ForgeKind::Gitea => json!(p.mergeable.unwrap_or(false)),
        _ => json!(p.mergeable),
    };
    Some(Reply::json(
        200,
        json!({
            "number": number,
            "state": if p.state == PullState::Open { "open" } else { "closed" },
            "title": p.title,
            "user": { "login": p.author, "type": "User" },
            "draft": p.draft,
            "merged": p.state == PullState::Merged,
            "mergeable": mergeable,
            "mergeable_state": match p.mergeable { Some(true) => "clean", Some(false) => "dirty", None => "unknown" },
            "head": { "ref": p.head_ref, "sha": p.head_sha, "label": format!("{}:{}", repo.split('/').next().unwrap_or_default(), p.head_ref) },
            "base": { "ref": p.base_ref, "sha": p.base_sha },
        }),
    ))
}

fn reviews(s: &mut State, req: &Request<'_>, repo: &str, number: u64) -> Option<Reply> {
    let kind = s.kind;
    let base_url = s.base_url.clone();
    let r = s.repo(repo);
    if !r.pulls.contains_key(&number) {
        return None;
    }
    let all: Vec<Value> = r
        .reviews
        .get(&number)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|review| {
            let (state, dismissed) = match (kind, review.state) {
                (_, ReviewState::Approved) => ("APPROVED", false),
                (ForgeKind::Gitea, ReviewState::ChangesRequested) => ("REQUEST_CHANGES", false),
                (_, ReviewState::ChangesRequested) => ("CHANGES_REQUESTED", false),
                (ForgeKind::Gitea, ReviewState::Commented) => ("COMMENT", false),
                (_, ReviewState::Commented) => ("COMMENTED", false),
                (ForgeKind::Gitea, ReviewState::Dismissed) => ("APPROVED", true),
                (_, ReviewState::Dismissed) => ("DISMISSED", false),
            };
            let mut v = json!({
                "id": review.id,
                "user": { "login": review.user, "type": "User" },
                "body": "",
                "state": state,
                "commit_id": review.commit_id,
                "submitted_at": "2026-01-01T00:00:00Z",
            });
            if kind == ForgeKind::Gitea {
                v["dismissed"] = json!(dismissed);
                v["stale"] = json!(false);
                v["official"] = json!(true);
            }
            v
        })
        .collect();
    let size_param = if kind == ForgeKind::Gitea {
        "limit"
    } else {
        "per_page"
    };
    let size: usize = req
        .param(size_param)
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = req
        .param("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    let mut reply = Reply::json(200, Value::Array(items));
    if page * size < all.len() {
        let prefix = if kind == ForgeKind::Gitea {
            "/api/v1"
        } else {
            ""
        };
        reply = reply.with_header(
            "link",
            format!(
                "<{base_url}{prefix}/repos/{repo}/pulls/{number}/reviews?{size_param}={size}&page={}>; rel=\"next\"",
                page + 1
            ),
        );
    }
    Some(reply)
}

fn permission(s: &mut State, repo: &str, user: &str) -> Option<Reply> {
    let kind = s.kind;
    let level = s.repo(repo).members.get(user).copied();
    let word = match level {
        Some(Permission::Admin) => "admin",
        Some(Permission::Write) => "write",
        Some(Permission::Read) => "read",
        Some(Permission::None) | None if kind == ForgeKind::Gitea => "none",
        // GitHub answers 404 for someone it does not know as a collaborator here.
        Some(Permission::None) | None => return None,
    };
    Some(Reply::json(
        200,
        json!({ "permission": word, "role_name": word, "user": { "login": user } }),
    ))
}

fn post_comment(s: &mut State, req: &Request<'_>, repo: &str, number: u64) -> Option<Reply> {
    let kind = s.kind;
    let Some(body) = req.field("body") else {
        return Some(validation_failed("IssueComment", "body", "body is missing"));
    };
    if kind == ForgeKind::GitHub && body.chars().count() > GITHUB_COMMENT_LIMIT {
        return Some(validation_failed(
            "IssueComment",
            "body",
            "body is too long (maximum is 65536 characters)",
        ));
    }
    let id = s.id();
    let r = s.repo(repo);
    if !r.pulls.contains_key(&number) && !r.issues.contains_key(&number) {
        return None;
    }
    let comment = FakeComment {
        id,
        number,
        body: body.to_string(),
        edits: 0,
    };
    r.comments.push(comment.clone());
    Some(Reply::json(201, comment_json(&comment)))
}

fn comment_json(c: &FakeComment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": { "login": "plinth-bot", "type": "Bot" },
        "created_at": "2026-01-01T00:00:00Z",
    })
}

fn edit_comment(s: &mut State, req: &Request<'_>, repo: &str, id: u64) -> Option<Reply> {
    let kind = s.kind;
    let Some(body) = req.field("body").map(str::to_string) else {
        return Some(validation_failed("IssueComment", "body", "body is missing"));
    };
    if kind == ForgeKind::GitHub && body.chars().count() > GITHUB_COMMENT_LIMIT {
        return Some(validation_failed(
            "IssueComment",
            "body",
            "body is too long (maximum is 65536 characters)",
        ));
    }
    let comment = s.repo(repo).comments.iter_mut().find(|c| c.id == id)?;
    comment.body = body;
    comment.edits += 1;
    let reply = comment_json(comment);
    Some(Reply::json(200, reply))
}

fn status(s: &mut State, req: &Request<'_>, repo: &str, sha: &str) -> Option<Reply> {
    let kind = s.kind;
    let state = req.field("state").unwrap_or_default().to_string();
    let allowed: &[&str] = match kind {
        ForgeKind::Gitea => &["pending", "success", "error", "failure", "warning"],
        _ => &["pending", "success", "error", "failure"],
    };
    if !allowed.contains(&state.as_str()) {
        return Some(validation_failed(
            "Status",
            "state",
            "state is not included in the list",
        ));
    }
    let description = req.field("description").unwrap_or_default().to_string();
    if kind == ForgeKind::GitHub && description.chars().count() > 140 {
        return Some(validation_failed(
            "Status",
            "description",
            "description is too long (maximum is 140 characters)",
        ));
    }
    let status = FakeStatus {
        sha: sha.to_string(),
        context: req.field("context").unwrap_or("default").to_string(),
        state,
        description,
        target_url: req.field("target_url").map(str::to_string),
    };
    let id = s.id();
    let reply = json!({
        "id": id,
        "state": status.state,
        "context": status.context,
        "description": status.description,
        "target_url": status.target_url,
    });
    s.repo(repo).statuses.push(status);
    Some(Reply::json(201, reply))
}

fn issue_json(issue: &FakeIssue) -> Value {
    json!({
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": if issue.open { "open" } else { "closed" },
    })
}

fn create_issue(s: &mut State, req: &Request<'_>, repo: &str) -> Option<Reply> {
    let kind = s.kind;
    let Some(title) = req.field("title").filter(|t| !t.is_empty()) else {
        return Some(validation_failed("Issue", "title", "title is missing"));
    };
    let r = s.repo(repo);
    let issue = FakeIssue {
        number: r.next_issue_number(kind),
        title: title.to_string(),
        body: req.field("body").unwrap_or_default().to_string(),
        open: true,
    };
    r.issues.insert(issue.number, issue.clone());
    Some(Reply::json(201, issue_json(&issue)))
}

fn update_issue(s: &mut State, req: &Request<'_>, repo: &str, number: u64) -> Option<Reply> {
    let kind = s.kind;
    let issue = s.repo(repo).issues.get_mut(&number)?;
    if let Some(title) = req.field("title") {
        issue.title = title.to_string();
    }
    if let Some(body) = req.field("body") {
        issue.body = body.to_string();
    }
    match req.field("state") {
        Some("open") => issue.open = true,
        Some("closed") => issue.open = false,
        Some(_) => {
            return Some(validation_failed(
                "Issue",
                "state",
                "state is not open or closed",
            ));
        }
        None => {}
    }
    // Gitea answers an edit with 201.
    let status = if kind == ForgeKind::Gitea { 201 } else { 200 };
    Some(Reply::json(status, issue_json(issue)))
}

#[derive(Deserialize)]
struct Claims {
    iat: u64,
    exp: u64,
}

/// Checks a GitHub App JWT: RS256 with the App's key, `iss` the App id, unexpired, issued
/// in the past, at most 10 minutes long.
pub(crate) fn check_jwt(s: &State, headers: &HeaderMap) -> AuthSeen {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return AuthSeen::Missing;
    };
    let Some(app) = &s.app else {
        return AuthSeen::Invalid;
    };
    let Some(jwt) = value.strip_prefix("Bearer ") else {
        return AuthSeen::Invalid;
    };
    let Ok(key) = DecodingKey::from_rsa_pem(&app.public_key_pem) else {
        return AuthSeen::Invalid;
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    validation.set_issuer(&[app.app_id.to_string()]);
    validation.leeway = 0;
    let Ok(data) = jsonwebtoken::decode::<Claims>(jwt, &key, &validation) else {
        return AuthSeen::Invalid;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = data.claims;
    if claims.iat > now || claims.exp.saturating_sub(claims.iat) > 600 {
        return AuthSeen::Invalid;
    }
    AuthSeen::Valid
}

/// Whether `token` is an installation token this stand-in issued and has not expired.
pub(crate) fn installation_token_valid(s: &State, token: &str) -> bool {
    s.app
        .as_ref()
        .and_then(|app| app.issued.get(token))
        .is_some_and(|expires| SystemTime::now() < *expires)
}

fn installation(s: &mut State, repo: &str) -> Option<Reply> {
    let base_url = s.base_url.clone();
    let app = s.app.as_ref()?;
    let id = *app.installations.get(repo)?;
    Some(Reply::json(
        200,
        json!({
            "id": id,
            "app_id": app.app_id,
            "account": { "login": repo.split('/').next().unwrap_or_default() },
            "repository_selection": "selected",
            "access_tokens_url": format!("{base_url}/app/installations/{id}/access_tokens"),
        }),
    ))
}

fn access_token(s: &mut State, id: &str) -> Option<Reply> {
    let id: u64 = id.parse().ok()?;
    let app = s.app.as_mut()?;
    if !app.installations.values().any(|i| *i == id) {
        return None;
    }
    let token = format!("ghs_{}", uuid::Uuid::new_v4().simple());
    let expires = SystemTime::now() + app.token_ttl;
    let secs = expires
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let expires_at = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    app.issued.insert(token.clone(), expires);
    Some(Reply::json(
        201,
        json!({
            "token": token,
            "expires_at": expires_at,
            "permissions": { "pull_requests": "write", "statuses": "write", "issues": "write", "contents": "read" },
            "repository_selection": "selected",
        }),
    ))
}
