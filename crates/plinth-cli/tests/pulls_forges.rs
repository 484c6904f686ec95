//! The same pull-request flow from GitLab (merge requests, Note Hooks) and Gitea (pull
//! requests, `pull_request_sync`, comments, merges), with payloads built to their documented
//! formats and the stand-in answering in each one's REST dialect.

mod pulls_support;
mod serve_support;

use std::time::Duration;

use plinth_forge::fake::FakePull;
use plinth_forge::fake::payloads::gitea::GiteaPull;
use plinth_forge::fake::payloads::gitlab::GitLabMergeRequest;
use plinth_forge::{ForgeKind, Permission};
use pulls_support::{PullsEnv, REPO, SECRET, STACKS};
use serve_support::PLINTH;

const WAIT: Duration = Duration::from_secs(240);

fn project(url: &str, apply: &str) -> String {
    format!(
        "plinth {{\n  project = \"acme\"\n}}\n\
         state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\
         environment \"staging\" {{\n  pull_request {{\n    autoplan = true\n    apply    = \"{apply}\"\n  }}\n}}\n"
    )
}

fn files() -> Vec<(&'static str, &'static str)> {
    let mut files = STACKS.to_vec();
    files.push((".gitignore", ".plinth/\nplinth_*_override.tf\n"));
    files
}

fn apply_main(env: &PullsEnv) {
    let out = std::process::Command::new(PLINTH)
        .arg("-C")
        .arg(&env.origin)
        .args(["apply", "staging", "--auto-approve"])
        .env("PLINTH_TOKEN", &env.service)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn change_app(env: &PullsEnv, number: u64) -> (String, String) {
    let base = env.sha("HEAD");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write(
        "app/main.tf",
        &STACKS[3]
            .1
            .replace("app in ${var.vpc_id}", "app v2 in ${var.vpc_id}"),
    );
    let head = env.commit("app v2");
    env.push_head(number, &head);
    env.forge.set_pull(
        REPO,
        number,
        FakePull {
            base_sha: base.clone(),
            ..FakePull::open(&head)
        },
    );
    (base, head)
}

#[test]
fn gitlab_merge_requests_are_planned_and_applied_from_notes() {
    let env = PullsEnv::start(ForgeKind::GitLab, |u| project(u, "comment"), &files());
    apply_main(&env);
    let (_, head) = change_app(&env, 3);
    env.forge.set_permission(REPO, "dev", 41, Permission::Write);
    env.forge
        .set_permission(REPO, "guest", 42, Permission::Read);
    let mut mr = GitLabMergeRequest::new(REPO, 3, &head);
    mr.git_http_url = env.origin.display().to_string();

    env.deliver(&mr.event("open").delivery(SECRET));
    let view = env.wait(3, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    assert_eq!(PullsEnv::instances(&view), ["staging/app"]);
    assert!(env.summary(3).body.contains("| `app` | +0 ~1 -0 | held |"));
    // GitLab's vocabulary for a pending status.
    let status = env
        .forge
        .latest_status(REPO, &head, "plinth/apply/staging")
        .unwrap();
    assert_eq!(status.state, "pending", "{status:?}");

    let before = env.replies(3).len();
    env.deliver(
        &mr.note(900, "plinth apply staging", ("guest", 42))
            .delivery(SECRET),
    );
    env.wait(3, WAIT, |_| env.replies(3).len() > before);
    assert!(
        env.replies(3)
            .last()
            .unwrap()
            .contains("guest has no write access")
    );

    env.deliver(
        &mr.note(901, "plinth apply staging", ("dev", 41))
            .delivery(SECRET),
    );
    let view = env.wait(3, WAIT, |v| {
        PullsEnv::instance(v, "staging", "app")["applied"] == true
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    let status = env
        .forge
        .latest_status(REPO, &head, "plinth/apply/staging")
        .unwrap();
    assert_eq!(status.state, "success");
    let summary = env.summary(3);
    assert!(
        summary.edits >= 1 && summary.body.contains("applied at"),
        "{}",
        summary.body
    );
    // Every call the stand-in got carried GitLab's token header.
    assert!(
        env.forge
            .calls()
            .iter()
            .all(|c| c.path.starts_with("/api/v4/"))
    );
}

#[test]
fn gitea_pull_requests_with_apply_on_merge() {
    let env = PullsEnv::start(ForgeKind::Gitea, |u| project(u, "merge"), &files());
    apply_main(&env);
    let (base, head) = change_app(&env, 5);
    env.forge.set_permission(REPO, "dev", 51, Permission::Write);
    let mut pull = GiteaPull::new(REPO, 5, &head);
    pull.base_sha = base.clone();
    pull.clone_url = env.origin.display().to_string();

    env.deliver(&pull.event("opened").delivery(SECRET));
    let view = env.wait(5, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    assert!(
        env.summary(5).body.contains("applies after the merge"),
        "{}",
        env.summary(5).body
    );

    let before = env.replies(5).len();
    env.deliver(
        &pull
            .comment(77, "plinth apply staging", ("dev", 51), "created")
            .delivery(SECRET),
    );
    env.wait(5, WAIT, |_| env.replies(5).len() > before);
    assert!(
        env.replies(5)
            .last()
            .unwrap()
            .contains("applies after the merge")
    );

    // Merged: the merge commit's affected instances are planned and applied.
    env.git(&["checkout", "-q", "main"]);
    env.git(&["merge", "-q", "--no-ff", "-m", "merge #5", "feature"]);
    let merge = env.sha("HEAD");
    env.forge
        .update_pull(REPO, 5, |p| p.state = plinth_forge::PullState::Merged);
    env.deliver(&pull.merged(&merge).delivery(SECRET));
    env.wait(5, WAIT, |_| {
        env.forge
            .latest_status(REPO, &merge, "plinth/apply/staging")
            .is_some_and(|s| s.state != "pending")
    });
    let status = env
        .forge
        .latest_status(REPO, &merge, "plinth/apply/staging")
        .unwrap();
    assert_eq!(
        status.state,
        "success",
        "{status:?}\n{}",
        env.summary(5).body
    );
    let view = env.settle(5);
    assert_eq!(view["state"], "merged");
    assert!(
        env.summary(5).body.contains("applied after the merge"),
        "{}",
        env.summary(5).body
    );
    // The apply is in the server's history, made by the server.
    let (_, runs) = env
        .server
        .api(&env.read, "GET", "/v1/runs?project=acme&env=staging");
    let runs = runs["runs"].as_array().cloned().unwrap_or_default();
    assert!(
        runs.iter().any(|r| r["action"] == "apply"
            && r["source"] == "server"
            && r["commit"]
                .as_str()
                .is_some_and(|c| c.starts_with(&merge[..7]))),
        "{runs:#?}"
    );
}
