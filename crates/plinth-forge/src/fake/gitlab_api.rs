//! GitLab's REST dialect under `/api/v4`, projects addressed by their encoded full path.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::server::{Reply, Request};
use super::state::{FakeComment, FakeIssue, FakeStatus, ReviewState, State};
use crate::forge::{Permission, PullState};

/// GitLab's note limit, in characters.
const NOTE_LIMIT: usize = 1_000_000;

pub(crate) fn route(s: &mut State, req: &Request<'_>) -> Option<Reply> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let ["api", "v4", rest @ ..] = segs.as_slice() else {
        return None;
    };
    match (req.method.as_str(), rest) {
        ("GET", ["users"]) => users(s, req),
        ("GET", ["projects", project]) => project_info(s, project),
        ("GET", ["projects", project, "merge_requests", iid]) => {
            merge_request(s, project, iid.parse().ok()?)
        }
        ("GET", ["projects", project, "merge_requests", iid, "approvals"]) => {
            approvals(s, project, iid.parse().ok()?)
        }
        ("GET", ["projects", project, "members", "all", uid]) => {
            member(s, project, uid.parse().ok()?)
        }
        ("POST", ["projects", project, "merge_requests", iid, "notes"]) => {
            post_note(s, req, project, iid.parse().ok()?)
        }
        ("PUT", ["projects", project, "merge_requests", iid, "notes", id]) => {
            edit_note(s, req, project, iid.parse().ok()?, id.parse().ok()?)
        }
        ("POST", ["projects", project, "statuses", sha]) => status(s, req, project, sha),
        ("POST", ["projects", project, "issues"]) => create_issue(s, req, project),
        ("PUT", ["projects", project, "issues", iid]) => {
            update_issue(s, req, project, iid.parse().ok()?)
        }
        _ => None,
    }
}

fn bad_request(message: Value) -> Reply {
    Reply::json(400, json!({ "message": message }))
}

fn users(s: &mut State, req: &Request<'_>) -> Option<Reply> {
    let wanted = req.param("username")?;
    let found: Vec<Value> = s
        .user_ids
        .iter()
        .filter(|(login, _)| login.as_str() == wanted)
        .map(|(login, id)| json!({ "id": id, "username": login, "state": "active" }))
        .collect();
    Some(Reply::json(200, Value::Array(found)))
}

/// `GET /projects/ID`: the token's access as a project membership level (Reporter 20,
/// Developer 30, Maintainer 40); a project it cannot see is 404.
fn project_info(s: &mut State, project: &str) -> Option<Reply> {
    let level = match s.repo(project).token_access? {
        Permission::None => return None,
        Permission::Read => 20,
        Permission::Write => 30,
        Permission::Admin => 40,
    };
    let name = project.rsplit('/').next().unwrap_or(project);
    Some(Reply::json(
        200,
        json!({
            "id": 1,
            "name": name,
            "path": name,
            "path_with_namespace": project,
            "default_branch": "main",
            "visibility": "private",
            "permissions": {
                "project_access": { "access_level": level, "notification_level": 3 },
                "group_access": null,
            },
        }),
    ))
}

fn merge_request(s: &mut State, project: &str, iid: u64) -> Option<Reply> {
    let author_id = |s: &State, login: &str| s.user_ids.get(login).copied();
    let p = s.repo(project).pulls.get(&iid)?.clone();
    let (detailed, legacy) = match p.mergeable {
        Some(true) => ("mergeable", "can_be_merged"),
        Some(false) => ("conflict", "cannot_be_merged"),
        None => ("checking", "checking"),
    };
    Some(Reply::json(
        200,
        json!({
            "iid": iid,
            "project_id": 1,
            "title": p.title,
            "state": match p.state { PullState::Open => "opened", PullState::Closed => "closed", PullState::Merged => "merged" },
            "sha": p.head_sha,
            "source_branch": p.head_ref,
            "target_branch": p.base_ref,
            "draft": p.draft,
            "work_in_progress": p.draft,
            "detailed_merge_status": detailed,
            "merge_status": legacy,
            "author": { "id": author_id(s, &p.author), "username": p.author },
        }),
    ))
}

fn approvals(s: &mut State, project: &str, iid: u64) -> Option<Reply> {
    let user_ids = s.user_ids.clone();
    let r = s.repo(project);
    if !r.pulls.contains_key(&iid) {
        return None;
    }
    // An approval stands until the same user withdraws it.
    let mut standing: BTreeMap<String, bool> = BTreeMap::new();
    for review in r.reviews.get(&iid).cloned().unwrap_or_default() {
        match review.state {
            ReviewState::Approved => {
                standing.insert(review.user, true);
            }
            ReviewState::ChangesRequested | ReviewState::Dismissed => {
                standing.insert(review.user, false);
            }
            ReviewState::Commented => {}
        }
    }
    let approved_by: Vec<Value> = standing
        .into_iter()
        .filter(|(_, approved)| *approved)
        .map(|(user, _)| json!({ "user": { "id": user_ids.get(&user), "username": user } }))
        .collect();
    Some(Reply::json(
        200,
        json!({
            "iid": iid,
            "approved": !approved_by.is_empty(),
            "approvals_required": 1,
            "approvals_left": if approved_by.is_empty() { 1 } else { 0 },
            "approved_by": approved_by,
        }),
    ))
}

fn member(s: &mut State, project: &str, uid: u64) -> Option<Reply> {
    let login = s
        .user_ids
        .iter()
        .find(|(_, id)| **id == uid)
        .map(|(login, _)| login.clone())?;
    let level = match s.repo(project).members.get(&login)? {
        Permission::Admin => 40,
        Permission::Write => 30,
        Permission::Read => 20,
        Permission::None => return None,
    };
    Some(Reply::json(
        200,
        json!({ "id": uid, "username": login, "state": "active", "access_level": level }),
    ))
}

fn note_json(c: &FakeComment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "author": { "username": "plinth-bot" },
        "noteable_type": "MergeRequest",
        "noteable_iid": c.number,
        "system": false,
    })
}

fn note_body(req: &Request<'_>) -> Result<String, Reply> {
    match req.field("body") {
        None | Some("") => Err(bad_request(json!("400 Bad request - body is missing"))),
        Some(b) if b.chars().count() > NOTE_LIMIT => Err(bad_request(
            json!({ "note": ["is too long (maximum is 1000000 characters)"] }),
        )),
        Some(b) => Ok(b.to_string()),
    }
}

fn post_note(s: &mut State, req: &Request<'_>, project: &str, iid: u64) -> Option<Reply> {
    let body = match note_body(req) {
        Ok(b) => b,
        Err(reply) => return Some(reply),
    };
    let id = s.id();
    let r = s.repo(project);
    if !r.pulls.contains_key(&iid) {
        return None;
    }
    let note = FakeComment {
        id,
        number: iid,
        body,
        edits: 0,
    };
    r.comments.push(note.clone());
    Some(Reply::json(201, note_json(&note)))
}

fn edit_note(s: &mut State, req: &Request<'_>, project: &str, iid: u64, id: u64) -> Option<Reply> {
    let body = match note_body(req) {
        Ok(b) => b,
        Err(reply) => return Some(reply),
    };
    let note = s
        .repo(project)
        .comments
        .iter_mut()
        .find(|c| c.id == id && c.number == iid)?;
    note.body = body;
    note.edits += 1;
    let reply = note_json(note);
    Some(Reply::json(200, reply))
}

fn status(s: &mut State, req: &Request<'_>, project: &str, sha: &str) -> Option<Reply> {
    let state = req.field("state").unwrap_or_default().to_string();
    const STATES: [&str; 6] = [
        "pending", "running", "success", "failed", "canceled", "skipped",
    ];
    if !STATES.contains(&state.as_str()) {
        return Some(bad_request(json!(
            "400 Bad request - state does not have a valid value"
        )));
    }
    let status = FakeStatus {
        sha: sha.to_string(),
        context: req
            .field("name")
            .or(req.field("context"))
            .unwrap_or("default")
            .to_string(),
        state,
        description: req.field("description").unwrap_or_default().to_string(),
        target_url: req.field("target_url").map(str::to_string),
    };
    let id = s.id();
    let reply = json!({
        "id": id,
        "sha": status.sha,
        "status": status.state,
        "name": status.context,
        "description": status.description,
        "target_url": status.target_url,
    });
    s.repo(project).statuses.push(status);
    Some(Reply::json(201, reply))
}

fn issue_json(issue: &FakeIssue) -> Value {
    json!({
        "iid": issue.number,
        "title": issue.title,
        "description": issue.body,
        "state": if issue.open { "opened" } else { "closed" },
    })
}

fn create_issue(s: &mut State, req: &Request<'_>, project: &str) -> Option<Reply> {
    let kind = s.kind;
    let Some(title) = req.field("title").filter(|t| !t.is_empty()) else {
        return Some(bad_request(json!("400 Bad request - title is missing")));
    };
    let r = s.repo(project);
    let issue = FakeIssue {
        number: r.next_issue_number(kind),
        title: title.to_string(),
        body: req.field("description").unwrap_or_default().to_string(),
        open: true,
    };
    r.issues.insert(issue.number, issue.clone());
    Some(Reply::json(201, issue_json(&issue)))
}

fn update_issue(s: &mut State, req: &Request<'_>, project: &str, iid: u64) -> Option<Reply> {
    let issue = s.repo(project).issues.get_mut(&iid)?;
    if let Some(title) = req.field("title") {
        issue.title = title.to_string();
    }
    if let Some(body) = req.field("description") {
        issue.body = body.to_string();
    }
    match req.field("state_event") {
        Some("reopen") => issue.open = true,
        Some("close") => issue.open = false,
        Some(_) => {
            return Some(bad_request(json!(
                "400 Bad request - state_event does not have a valid value"
            )));
        }
        None => {}
    }
    Some(Reply::json(200, issue_json(issue)))
}
