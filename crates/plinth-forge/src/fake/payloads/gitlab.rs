//! GitLab hook payloads, with the fields of the examples on GitLab's "Webhook events" page
//! (`doc/user/project/integrations/webhook_events.md`): merge request events, comments on
//! merge requests, issues and commits, pushes.

use serde_json::{Value, json};

use super::Payload;
use plinth_config::ForgeKind;

/// A merge request to build hooks about.
#[derive(Debug, Clone)]
pub struct GitLabMergeRequest {
    /// The project's full path (`group/project`).
    pub project: String,
    /// The project's numeric id.
    pub project_id: u64,
    /// The merge request's `iid`.
    pub iid: u64,
    /// Its head commit (`last_commit.id`).
    pub head_sha: String,
    /// Source branch.
    pub source_branch: String,
    /// Target branch.
    pub target_branch: String,
    /// Draft.
    pub draft: bool,
    /// Who triggers the hook: username and id.
    pub user: (String, u64),
    /// The author's id (the hook carries no author name).
    pub author_id: u64,
    /// The project's HTTP clone URL.
    pub git_http_url: String,
}

impl GitLabMergeRequest {
    /// Merge request `iid` of `project` at `head_sha`, `feature` into `main`, by `root`.
    pub fn new(project: &str, iid: u64, head_sha: &str) -> Self {
        GitLabMergeRequest {
            project: project.to_string(),
            project_id: 15,
            iid,
            head_sha: head_sha.to_string(),
            source_branch: "feature".to_string(),
            target_branch: "main".to_string(),
            draft: false,
            user: ("root".to_string(), 1),
            author_id: 1,
            git_http_url: format!("http://example.com/{project}.git"),
        }
    }

    fn project_json(&self) -> Value {
        project_json(&self.project, self.project_id, &self.git_http_url)
    }

    fn user_json(&self) -> Value {
        user_json(&self.user.0, self.user.1)
    }

    fn attributes(&self, action: &str) -> Value {
        let state = match action {
            "close" => "closed",
            "merge" => "merged",
            _ => "opened",
        };
        json!({
            "id": 99,
            "iid": self.iid,
            "target_branch": self.target_branch,
            "source_branch": self.source_branch,
            "source_project_id": self.project_id,
            "author_id": self.author_id,
            "assignee_ids": [],
            "assignee_id": null,
            "reviewer_ids": [],
            "title": "Change the infrastructure",
            "created_at": "2026-01-01T10:00:00Z",
            "updated_at": "2026-01-01T10:00:00Z",
            "last_edited_at": null,
            "last_edited_by_id": null,
            "milestone_id": null,
            "state_id": 1,
            "state": state,
            "blocking_discussions_resolved": true,
            "work_in_progress": self.draft,
            "draft": self.draft,
            "first_contribution": false,
            "merge_status": "unchecked",
            "target_project_id": self.project_id,
            "description": "",
            "url": format!("http://example.com/{}/-/merge_requests/{}", self.project, self.iid),
            "source": self.project_json(),
            "target": self.project_json(),
            "last_commit": {
                "id": self.head_sha,
                "message": "Change the infrastructure",
                "title": "Change the infrastructure",
                "timestamp": "2026-01-01T10:00:00+00:00",
                "url": format!("http://example.com/{}/-/commit/{}", self.project, self.head_sha),
                "author": { "name": "Test User", "email": "test@example.com" }
            },
            "labels": [],
            "action": action,
            "detailed_merge_status": "mergeable"
        })
    }

    fn hook(&self, attributes: Value, changes: Value) -> Payload {
        Payload {
            kind: ForgeKind::GitLab,
            event: "Merge Request Hook".to_string(),
            json: json!({
                "object_kind": "merge_request",
                "event_type": "merge_request",
                "user": self.user_json(),
                "project": self.project_json(),
                "repository": repository_json(&self.project, &self.git_http_url),
                "object_attributes": attributes,
                "labels": [],
                "changes": changes,
                "assignees": [],
                "reviewers": []
            }),
        }
    }

    /// `action` as sent (`open`, `reopen`, `close`, `approved`, …), no changes listed.
    pub fn event(&self, action: &str) -> Payload {
        self.hook(self.attributes(action), json!({}))
    }

    /// An `update` that pushed commits: `oldrev` was the head before.
    pub fn pushed(&self, oldrev: &str) -> Payload {
        let mut attributes = self.attributes("update");
        attributes["oldrev"] = json!(oldrev);
        self.hook(
            attributes,
            json!({ "updated_at": { "previous": "2026-01-01 10:00:00 UTC", "current": "2026-01-01 11:00:00 UTC" } }),
        )
    }

    /// An `update` without code: the title changed.
    pub fn retitled(&self) -> Payload {
        self.hook(
            self.attributes("update"),
            json!({ "title": { "previous": "Draft", "current": "Change the infrastructure" } }),
        )
    }

    /// An `update` that took the merge request out of draft.
    pub fn marked_ready(&self) -> Payload {
        let mut ready = self.clone();
        ready.draft = false;
        ready.hook(
            ready.attributes("update"),
            json!({ "draft": { "previous": true, "current": false } }),
        )
    }

    /// A `merge` into `merge_commit_sha`.
    pub fn merged(&self, merge_commit_sha: &str) -> Payload {
        let mut attributes = self.attributes("merge");
        attributes["merge_commit_sha"] = json!(merge_commit_sha);
        self.hook(
            attributes,
            json!({ "state_id": { "previous": 1, "current": 3 } }),
        )
    }

    /// A comment (`Note Hook`) on this merge request by `author` (`username`, `id`).
    pub fn note(&self, note_id: u64, body: &str, author: (&str, u64)) -> Payload {
        self.note_with_action(note_id, body, author, "create")
    }

    /// A comment's hook with `action` (`create`, `update`).
    pub fn note_with_action(
        &self,
        note_id: u64,
        body: &str,
        author: (&str, u64),
        action: &str,
    ) -> Payload {
        let mut merge_request = self.attributes("update");
        if let Some(map) = merge_request.as_object_mut() {
            map.remove("action");
        }
        Payload {
            kind: ForgeKind::GitLab,
            event: "Note Hook".to_string(),
            json: json!({
                "object_kind": "note",
                "event_type": "note",
                "user": user_json(author.0, author.1),
                "project_id": self.project_id,
                "project": self.project_json(),
                "repository": repository_json(&self.project, &self.git_http_url),
                "object_attributes": {
                    "id": note_id,
                    "note": body,
                    "noteable_type": "MergeRequest",
                    "author_id": author.1,
                    "created_at": "2026-01-01 12:00:00 UTC",
                    "updated_at": "2026-01-01 12:00:00 UTC",
                    "project_id": self.project_id,
                    "attachment": null,
                    "line_code": null,
                    "commit_id": "",
                    "noteable_id": 99,
                    "system": false,
                    "st_diff": null,
                    "action": action,
                    "url": format!("http://example.com/{}/-/merge_requests/{}#note_{note_id}", self.project, self.iid)
                },
                "merge_request": merge_request
            }),
        }
    }
}

fn user_json(username: &str, id: u64) -> Value {
    json!({
        "id": id,
        "name": username,
        "username": username,
        "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon",
        "email": format!("{username}@example.com")
    })
}

fn project_json(project: &str, id: u64, git_http_url: &str) -> Value {
    let name = project.rsplit('/').next().unwrap_or(project);
    let namespace = project.rsplit_once('/').map_or("", |(ns, _)| ns);
    json!({
        "id": id,
        "name": name,
        "description": "",
        "web_url": format!("http://example.com/{project}"),
        "avatar_url": null,
        "git_ssh_url": format!("git@example.com:{project}.git"),
        "git_http_url": git_http_url,
        "namespace": namespace,
        "visibility_level": 0,
        "path_with_namespace": project,
        "default_branch": "main",
        "ci_config_path": "",
        "homepage": format!("http://example.com/{project}"),
        "url": format!("git@example.com:{project}.git"),
        "ssh_url": format!("git@example.com:{project}.git"),
        "http_url": git_http_url
    })
}

fn repository_json(project: &str, git_http_url: &str) -> Value {
    json!({
        "name": project.rsplit('/').next().unwrap_or(project),
        "url": git_http_url,
        "description": "",
        "homepage": format!("http://example.com/{project}")
    })
}

/// A comment on issue `iid` of `project` (`noteable_type: Issue`).
pub fn note_on_issue(project: &str, iid: u64, note_id: u64, body: &str) -> Payload {
    let git = format!("http://example.com/{project}.git");
    Payload {
        kind: ForgeKind::GitLab,
        event: "Note Hook".to_string(),
        json: json!({
            "object_kind": "note",
            "event_type": "note",
            "user": user_json("root", 1),
            "project_id": 15,
            "project": project_json(project, 15, &git),
            "repository": repository_json(project, &git),
            "object_attributes": {
                "id": note_id,
                "note": body,
                "noteable_type": "Issue",
                "author_id": 1,
                "created_at": "2026-01-01 12:00:00 UTC",
                "updated_at": "2026-01-01 12:00:00 UTC",
                "project_id": 15,
                "attachment": null,
                "line_code": null,
                "commit_id": "",
                "noteable_id": 92,
                "system": false,
                "st_diff": null,
                "action": "create",
                "url": format!("http://example.com/{project}/-/issues/{iid}#note_{note_id}")
            },
            "issue": {
                "id": 92,
                "title": "A plain issue",
                "assignee_ids": [],
                "assignee_id": null,
                "author_id": 1,
                "project_id": 15,
                "created_at": "2026-01-01 11:00:00 UTC",
                "updated_at": "2026-01-01 11:00:00 UTC",
                "position": 0,
                "branch_name": null,
                "description": "",
                "milestone_id": null,
                "state": "opened",
                "iid": iid,
                "labels": []
            }
        }),
    }
}

/// A push of `after` onto `main` of `project` (`Push Hook`).
pub fn push(project: &str, before: &str, after: &str) -> Payload {
    let git = format!("http://example.com/{project}.git");
    Payload {
        kind: ForgeKind::GitLab,
        event: "Push Hook".to_string(),
        json: json!({
            "object_kind": "push",
            "event_name": "push",
            "before": before,
            "after": after,
            "ref": "refs/heads/main",
            "ref_protected": true,
            "checkout_sha": after,
            "user_id": 1,
            "user_name": "root",
            "user_username": "root",
            "user_email": "root@example.com",
            "user_avatar": null,
            "project_id": 15,
            "project": project_json(project, 15, &git),
            "repository": repository_json(project, &git),
            "commits": [],
            "total_commits_count": 0
        }),
    }
}
