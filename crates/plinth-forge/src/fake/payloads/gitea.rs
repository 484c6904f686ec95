//! Gitea hook payloads, with the fields of Gitea's payload types (`PullRequestPayload`,
//! `IssueCommentPayload`, `PushPayload` in `modules/structs/hook.go`, their `PullRequest`,
//! `Issue`, `Comment`, `Repository` and `User`), under Gitea's event types.

use serde_json::{Value, json};

use super::Payload;
use plinth_config::ForgeKind;

/// A pull request to build hooks about.
#[derive(Debug, Clone)]
pub struct GiteaPull {
    /// `owner/name`.
    pub repo: String,
    /// Its number.
    pub number: u64,
    /// Head commit.
    pub head_sha: String,
    /// Head branch.
    pub head_ref: String,
    /// Base commit.
    pub base_sha: String,
    /// Base branch.
    pub base_ref: String,
    /// Title (older Gitea marks drafts with a `WIP:` prefix).
    pub title: String,
    /// `draft` (sent by newer Gitea; `None` leaves the field out).
    pub draft: Option<bool>,
    /// Author's login.
    pub author: String,
    /// Who sends the event.
    pub sender: String,
    /// The repository's clone URL.
    pub clone_url: String,
}

impl GiteaPull {
    /// Pull request `number` of `repo` at `head_sha`, `feature` into `main`, by `gitea`.
    pub fn new(repo: &str, number: u64, head_sha: &str) -> Self {
        GiteaPull {
            repo: repo.to_string(),
            number,
            head_sha: head_sha.to_string(),
            head_ref: "feature".to_string(),
            base_sha: "1".repeat(40),
            base_ref: "main".to_string(),
            title: "Change the infrastructure".to_string(),
            draft: Some(false),
            author: "gitea".to_string(),
            sender: "gitea".to_string(),
            clone_url: format!("http://localhost:3000/{repo}.git"),
        }
    }

    fn pull_json(&self, merged: Option<&str>) -> Value {
        let repo = repository_json(&self.repo, &self.clone_url);
        let mut pull = json!({
            "id": 7,
            "url": format!("http://localhost:3000/{}/pulls/{}", self.repo, self.number),
            "number": self.number,
            "user": user_json(&self.author, 1),
            "title": self.title,
            "body": "",
            "labels": [],
            "milestone": null,
            "assignee": null,
            "assignees": null,
            "state": if merged.is_some() { "closed" } else { "open" },
            "is_locked": false,
            "comments": 0,
            "html_url": format!("http://localhost:3000/{}/pulls/{}", self.repo, self.number),
            "diff_url": format!("http://localhost:3000/{}/pulls/{}.diff", self.repo, self.number),
            "patch_url": format!("http://localhost:3000/{}/pulls/{}.patch", self.repo, self.number),
            "mergeable": true,
            "merged": merged.is_some(),
            "merged_at": merged.map(|_| "2026-01-01T12:00:00Z"),
            "merge_commit_sha": merged,
            "merged_by": merged.map(|_| user_json(&self.sender, 1)),
            "base": {
                "label": self.base_ref,
                "ref": self.base_ref,
                "sha": self.base_sha,
                "repo_id": 1,
                "repo": repo
            },
            "head": {
                "label": self.head_ref,
                "ref": self.head_ref,
                "sha": self.head_sha,
                "repo_id": 1,
                "repo": repository_json(&self.repo, &self.clone_url)
            },
            "merge_base": self.base_sha,
            "due_date": null,
            "created_at": "2026-01-01T10:00:00Z",
            "updated_at": "2026-01-01T11:00:00Z",
            "closed_at": merged.map(|_| "2026-01-01T12:00:00Z")
        });
        if let Some(draft) = self.draft {
            pull["draft"] = json!(draft);
        }
        pull
    }

    fn hook(&self, event_type: &str, action: &str, merged: Option<&str>) -> Payload {
        Payload {
            kind: ForgeKind::Gitea,
            event: event_type.to_string(),
            json: json!({
                "action": action,
                "number": self.number,
                "pull_request": self.pull_json(merged),
                "requested_reviewer": null,
                "repository": repository_json(&self.repo, &self.clone_url),
                "sender": user_json(&self.sender, 1),
                "commit_id": "",
                "review": null
            }),
        }
    }

    /// `pull_request` with `action` (`opened`, `reopened`, `closed`, `edited`, …).
    pub fn event(&self, action: &str) -> Payload {
        self.hook("pull_request", action, None)
    }

    /// `pull_request_sync`, action `synchronized`: new commits on the head.
    pub fn synchronized(&self) -> Payload {
        self.hook("pull_request_sync", "synchronized", None)
    }

    /// `pull_request`, action `closed`, merged as `merge_commit_sha`.
    pub fn merged(&self, merge_commit_sha: &str) -> Payload {
        self.hook("pull_request", "closed", Some(merge_commit_sha))
    }

    /// `pull_request_label`, action `label_updated`.
    pub fn labeled(&self) -> Payload {
        self.hook("pull_request_label", "label_updated", None)
    }

    /// A comment on this pull request (`pull_request_comment`, `is_pull: true`).
    pub fn comment(
        &self,
        comment_id: u64,
        body: &str,
        author: (&str, i64),
        action: &str,
    ) -> Payload {
        comment_payload(
            &self.repo,
            &self.clone_url,
            self.number,
            comment_id,
            body,
            author,
            action,
            true,
        )
    }
}

fn user_json(login: &str, id: i64) -> Value {
    json!({
        "id": id,
        "login": login,
        "login_name": "",
        "source_id": 0,
        "full_name": "",
        "email": format!("{login}@noreply.localhost"),
        "avatar_url": "http://localhost:3000/avatar/1",
        "html_url": format!("http://localhost:3000/{login}"),
        "language": "",
        "is_admin": false,
        "last_login": "0001-01-01T00:00:00Z",
        "created": "2026-01-01T00:00:00Z",
        "restricted": false,
        "active": false,
        "prohibit_login": false,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "public",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
        "username": login
    })
}

fn repository_json(repo: &str, clone_url: &str) -> Value {
    let (owner, name) = repo.split_once('/').unwrap_or(("gitea", repo));
    json!({
        "id": 1,
        "owner": user_json(owner, 1),
        "name": name,
        "full_name": repo,
        "description": "",
        "empty": false,
        "private": false,
        "fork": false,
        "template": false,
        "parent": null,
        "mirror": false,
        "size": 0,
        "html_url": format!("http://localhost:3000/{repo}"),
        "ssh_url": format!("git@localhost:{repo}.git"),
        "clone_url": clone_url,
        "original_url": "",
        "website": "",
        "stars_count": 0,
        "forks_count": 0,
        "watchers_count": 1,
        "open_issues_count": 0,
        "open_pr_counter": 1,
        "release_counter": 0,
        "default_branch": "main",
        "archived": false,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "has_issues": true,
        "has_wiki": true,
        "has_pull_requests": true,
        "default_merge_style": "merge"
    })
}

#[allow(clippy::too_many_arguments)]
fn comment_payload(
    repo: &str,
    clone_url: &str,
    number: u64,
    comment_id: u64,
    body: &str,
    author: (&str, i64),
    action: &str,
    is_pull: bool,
) -> Payload {
    let kind = if is_pull { "pulls" } else { "issues" };
    let mut issue = json!({
        "id": 70,
        "url": format!("http://localhost:3000/api/v1/repos/{repo}/issues/{number}"),
        "html_url": format!("http://localhost:3000/{repo}/{kind}/{number}"),
        "number": number,
        "user": user_json("gitea", 1),
        "original_author": "",
        "original_author_id": 0,
        "title": "Change the infrastructure",
        "body": "",
        "ref": "",
        "labels": [],
        "milestone": null,
        "assignee": null,
        "assignees": null,
        "state": "open",
        "is_locked": false,
        "comments": 1,
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T12:00:00Z",
        "closed_at": null,
        "due_date": null,
        "pull_request": null,
        "repository": { "id": 1, "name": repo.rsplit('/').next().unwrap_or(repo), "owner": repo.split('/').next().unwrap_or(repo), "full_name": repo }
    });
    if is_pull {
        issue["pull_request"] = json!({
            "merged": false,
            "merged_at": null,
            "draft": false,
            "html_url": format!("http://localhost:3000/{repo}/pulls/{number}")
        });
    }
    let mut json = json!({
        "action": action,
        "issue": issue,
        "comment": {
            "id": comment_id,
            "html_url": format!("http://localhost:3000/{repo}/{kind}/{number}#issuecomment-{comment_id}"),
            "pull_request_url": if is_pull { format!("http://localhost:3000/{repo}/pulls/{number}") } else { String::new() },
            "issue_url": if is_pull { String::new() } else { format!("http://localhost:3000/{repo}/issues/{number}") },
            "user": user_json(author.0, author.1),
            "original_author": "",
            "original_author_id": 0,
            "body": body,
            "assets": [],
            "created_at": "2026-01-01T12:00:00Z",
            "updated_at": "2026-01-01T12:00:00Z"
        },
        "repository": repository_json(repo, clone_url),
        "sender": user_json(author.0, author.1),
        "is_pull": is_pull
    });
    if action == "edited" {
        json["changes"] = json!({ "body": { "from": "an earlier text" } });
    }
    Payload {
        kind: ForgeKind::Gitea,
        event: if is_pull {
            "pull_request_comment"
        } else {
            "issue_comment"
        }
        .to_string(),
        json,
    }
}

/// A comment on plain issue `number` of `repo` (`issue_comment`, `is_pull: false`).
pub fn comment_on_issue(repo: &str, number: u64, comment_id: u64, body: &str) -> Payload {
    let clone_url = format!("http://localhost:3000/{repo}.git");
    comment_payload(
        repo,
        &clone_url,
        number,
        comment_id,
        body,
        ("gitea", 1),
        "created",
        false,
    )
}

/// A push of `after` onto `main` of `repo`.
pub fn push(repo: &str, before: &str, after: &str) -> Payload {
    let clone_url = format!("http://localhost:3000/{repo}.git");
    Payload {
        kind: ForgeKind::Gitea,
        event: "push".to_string(),
        json: json!({
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "compare_url": format!("http://localhost:3000/{repo}/compare/{before}...{after}"),
            "commits": [],
            "total_commits": 0,
            "head_commit": null,
            "repository": repository_json(repo, &clone_url),
            "pusher": user_json("gitea", 1),
            "sender": user_json("gitea", 1)
        }),
    }
}
