//! Pull requests from GitHub, end to end: GitHub's real payloads (`@octokit/webhooks-examples`)
//! re-pointed at a real git repository, a stand-in GitHub API that records every call, a real
//! `plinth serve --config` planning and applying with the real `terraform` against its own
//! state backend.

mod pulls_support;
mod serve_support;

use std::time::Duration;

use plinth_forge::fake::payloads::github::OctokitExamples;
use plinth_forge::fake::{FakePull, ReviewState};
use plinth_forge::{ForgeKind, Permission};
use pulls_support::{PullsEnv, REPO, SECRET, STACKS, two_stacks};
use serve_support::PLINTH;

const WAIT: Duration = Duration::from_secs(240);

/// Applies `env` of the main branch from a checkout, as CI did before the pull request.
fn apply_main(env: &PullsEnv, name: &str) {
    let out = std::process::Command::new(PLINTH)
        .arg("-C")
        .arg(&env.origin)
        .args(["apply", name, "--auto-approve"])
        .env("PLINTH_TOKEN", &env.service)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apply {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pull_request` `action` for pull request `number` at `head` into main at `base`.
fn pull_event(
    env: &PullsEnv,
    action: &str,
    number: u64,
    head: &str,
    base: &str,
) -> plinth_forge::fake::webhooks::Delivery {
    OctokitExamples::get()
        .example("pull_request", Some(action))
        .repo(REPO)
        .clone_url(env.origin.to_str().unwrap())
        .number(number)
        .head(head)
        .base(base, "main")
        .draft(false)
        .sender("octocat", 583231)
        .delivery(SECRET)
}

fn comment(
    number: u64,
    id: u64,
    body: &str,
    who: &str,
    who_id: u64,
) -> plinth_forge::fake::webhooks::Delivery {
    OctokitExamples::get()
        .example("issue_comment", Some("created"))
        .repo(REPO)
        .on_pull_request()
        .number(number)
        .comment(id, body)
        .commenter(who, who_id)
        .delivery(SECRET)
}

fn project_files() -> Vec<(&'static str, &'static str)> {
    let mut files = STACKS.to_vec();
    files.push((".gitignore", ".plinth/\nplinth_*_override.tf\n"));
    files
}

#[test]
fn a_pull_request_is_planned_gated_applied_and_promoted() {
    let env = PullsEnv::start(ForgeKind::GitHub, two_stacks, &project_files());
    let base = env.sha("HEAD");
    apply_main(&env, "staging");
    apply_main(&env, "prod");

    // The pull request changes the app only.
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write(
        "app/main.tf",
        &STACKS[3]
            .1
            .replace("app in ${var.vpc_id}", "app v2 in ${var.vpc_id}"),
    );
    let head = env.commit("app v2");
    env.push_head(7, &head);
    env.forge.set_pull(
        REPO,
        7,
        FakePull {
            base_sha: base.clone(),
            ..FakePull::open(&head)
        },
    );
    env.forge
        .set_permission(REPO, "alice", 1001, Permission::Write);
    env.forge
        .set_permission(REPO, "mallory", 1002, Permission::Read);

    env.deliver(&pull_event(&env, "opened", 7, &head, &base));
    let view = env.wait(7, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    // Only the changed stack, in both environments that autoplan.
    assert_eq!(
        PullsEnv::instances(&view),
        ["prod/app", "staging/app"],
        "{view:#}"
    );
    for e in ["staging", "prod"] {
        let i = PullsEnv::instance(&view, e, "app");
        assert_eq!(i["plan"]["change"], 1, "{i}");
        assert_eq!(i["plan"]["commit"], head.as_str());
        assert_eq!(i["lock"], "held");
    }
    let summary = env.summary(7);
    assert!(
        summary.body.contains("| `app` | +0 ~1 -0 | held |"),
        "{}",
        summary.body
    );
    assert!(
        summary.body.contains("next: `plinth apply staging`"),
        "{}",
        summary.body
    );
    let plan_status = env.forge.latest_status(REPO, &head, "plinth/plan").unwrap();
    assert_eq!(plan_status.state, "success", "{plan_status:?}");
    assert_eq!(
        env.forge
            .latest_status(REPO, &head, "plinth/apply/staging")
            .unwrap()
            .state,
        "pending"
    );
    // The details comment holds the engine's plan.
    let details = env.replies(7);
    assert!(
        details
            .iter()
            .any(|d| d.contains("plinth plan details") && d.contains("terraform_data.app")),
        "{details:#?}"
    );

    // Gates, each refusing with its reason.
    let refused = |id: u64, body: &str, who: &str, who_id: u64, says: &str| {
        let before = env.replies(7).len();
        env.deliver(&comment(7, id, body, who, who_id));
        env.wait(7, WAIT, |_| env.replies(7).len() > before);
        let reply = env.replies(7).pop().unwrap();
        assert!(
            reply.contains("refused") && reply.contains(says),
            "{body}: {reply}"
        );
    };
    refused(
        1,
        "plinth apply staging",
        "mallory",
        1002,
        "mallory has no write access",
    );
    refused(
        2,
        "plinth apply prod",
        "alice",
        1001,
        "**approvals**: 0 of 1",
    );
    env.forge
        .add_review(REPO, 7, "bob", ReviewState::Approved, &head);
    refused(3, "plinth apply prod", "alice", 1001, "promotion gate");
    env.forge
        .update_pull(REPO, 7, |p| p.mergeable = Some(false));
    refused(
        4,
        "plinth apply staging",
        "alice",
        1001,
        "does not merge cleanly",
    );
    env.forge.update_pull(REPO, 7, |p| p.mergeable = Some(true));

    // Staging, then prod: the promotion record of staging opens prod's gate.
    let summary_id = env.summary(7).id;
    env.deliver(&comment(7, 5, "plinth apply staging", "alice", 1001));
    let view = env.wait(7, WAIT, |v| {
        PullsEnv::instance(v, "staging", "app")["applied"] == true
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    assert_eq!(
        env.forge
            .latest_status(REPO, &head, "plinth/apply/staging")
            .unwrap()
            .state,
        "success"
    );
    env.deliver(&comment(7, 6, "plinth apply prod", "alice", 1001));
    let view = env.wait(7, WAIT, |v| {
        PullsEnv::instance(v, "prod", "app")["applied"] == true
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    let summary = env.summary(7);
    assert_eq!(summary.id, summary_id, "the summary is edited in place");
    assert!(summary.body.contains("applied at"), "{}", summary.body);
    let reply = env.replies(7).pop().unwrap();
    assert!(
        reply.contains("**plinth apply prod**") && reply.contains("succeeded"),
        "{reply}"
    );

    // Unknown commands get the help; other comments are left alone.
    let before = env.replies(7).len();
    env.deliver(&comment(7, 8, "plinth destroy prod", "alice", 1001));
    env.wait(7, WAIT, |_| env.replies(7).len() > before);
    let reply = env.replies(7).pop().unwrap();
    assert!(
        reply.contains("`destroy` is not a plinth command") && reply.contains("plinth apply ENV"),
        "{reply}"
    );
    let (status, _) = env.send(&comment(7, 9, "looks good to me", "alice", 1001));
    assert!(status == 200 || status == 202, "{status}");
    env.settle(7);
    assert_eq!(
        env.replies(7).len(),
        before + 1,
        "no reply to a plain comment"
    );

    // No secret of the server in anything it sent.
    for c in env.comments(7) {
        assert!(
            !c.body.contains(env.forge.token())
                && !c.body.contains(&env.service)
                && !c.body.contains(SECRET)
        );
    }
}

/// staging only, autoplan.
fn staging_only(url: &str) -> String {
    format!(
        "plinth {{\n  project = \"acme\"\n}}\n\
         state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\
         environment \"staging\" {{\n  pull_request {{\n    autoplan = true\n  }}\n}}\n"
    )
}

fn open_pull(
    env: &PullsEnv,
    number: u64,
    base: &str,
    branch: &str,
    edits: &[(&str, &str)],
) -> String {
    env.git(&["checkout", "-q", "-B", branch, base]);
    for (path, text) in edits {
        env.write(path, text);
    }
    let head = env.commit(branch);
    env.push_head(number, &head);
    env.forge.set_pull(
        REPO,
        number,
        FakePull {
            base_sha: base.to_string(),
            head_ref: branch.to_string(),
            ..FakePull::open(&head)
        },
    );
    env.deliver(&pull_event(env, "opened", number, &head, base));
    head
}

fn app_v(n: u32) -> String {
    STACKS[3].1.replace(
        "app in ${var.vpc_id}",
        &format!("app v{n} in ${{var.vpc_id}}"),
    )
}

fn network_v(n: u32) -> String {
    STACKS[1]
        .1
        .replace("vpc-${var.env_name}", &format!("vpc{n}-${{var.env_name}}"))
}

#[test]
fn a_push_replans_only_what_moved_and_a_second_pull_request_waits_for_the_locks() {
    let env = PullsEnv::start(ForgeKind::GitHub, staging_only, &project_files());
    let base = env.sha("HEAD");
    apply_main(&env, "staging");

    let head1 = open_pull(&env, 7, &base, "feature", &[("app/main.tf", &app_v(2))]);
    let first = env.wait(7, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert_eq!(PullsEnv::instances(&first), ["staging/app"]);
    let app_plan = PullsEnv::instance(&first, "staging", "app")["plan"].clone();

    // A push that touches the network too: the network is planned; the app's plan, whose
    // inputs did not move, is kept.
    env.write("network/main.tf", &network_v(2));
    let head2 = env.commit("network v2");
    env.push_head(7, &head2);
    env.forge
        .update_pull(REPO, 7, |p| p.head_sha = head2.clone());
    env.deliver(&pull_event(&env, "synchronize", 7, &head2, &base));
    let second = env.wait(7, WAIT, |v| {
        PullsEnv::instance(v, "staging", "network")["plan"]["commit"] == head2.as_str()
    });
    assert!(
        env.failed_jobs(&second).is_empty(),
        "{}",
        env.job_logs(&second)
    );
    let app = PullsEnv::instance(&second, "staging", "app");
    assert_eq!(
        app["plan"]["commit"],
        head2.as_str(),
        "bound to the new head"
    );
    assert_eq!(app["plan"]["change"], app_plan["change"]);
    assert_eq!(
        app["fingerprint"],
        PullsEnv::instance(&first, "staging", "app")["fingerprint"],
        "nothing the app's plan read moved"
    );
    let summary = env.summary(7);
    assert!(
        summary.body.contains("| `app` | +0 ~1 -0 · kept | held |"),
        "{}",
        summary.body
    );
    assert!(summary.edits >= 1, "edited, not re-posted");
    let details: Vec<String> = env
        .replies(7)
        .into_iter()
        .filter(|d| d.contains(&format!("plan details** for `{}`", &head2[..7])))
        .collect();
    assert_eq!(details.len(), 1, "{details:#?}");
    assert!(details[0].contains("staging/network") && !details[0].contains("staging/app"));
    let _ = head1;

    // A second pull request on the app waits for #7's lock, in line.
    let base8 = base.clone();
    let head8 = open_pull(&env, 8, &base8, "other", &[("app/main.tf", &app_v(3))]);
    let queued = env.wait(8, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    let app8 = PullsEnv::instance(&queued, "staging", "app");
    assert_eq!(app8["lock"], "queued", "{queued:#}");
    assert_eq!(app8["waiting_for"], 7);
    assert!(app8["plan"].is_null());
    assert!(
        env.summary(8).body.contains("queued (1st, held by #7)"),
        "{}",
        env.summary(8).body
    );
    let status = env
        .forge
        .latest_status(REPO, &head8, "plinth/plan")
        .unwrap();
    assert_eq!(status.state, "pending");
    assert!(status.description.contains("#7"), "{status:?}");

    // #7 closes without merging: #8 gets the lock and is planned without anyone pushing.
    env.forge
        .update_pull(REPO, 7, |p| p.state = plinth_forge::PullState::Closed);
    env.deliver(&pull_event(&env, "closed", 7, &head2, &base));
    let planned = env.wait(8, WAIT, |v| {
        PullsEnv::instance(v, "staging", "app")["plan"]["commit"] == head8.as_str()
    });
    assert_eq!(
        PullsEnv::instance(&planned, "staging", "app")["lock"],
        "held"
    );
    assert!(
        env.summary(8).body.contains("| `app` | +0 ~1 -0 | held |"),
        "{}",
        env.summary(8).body
    );
    let closed = env.settle(7);
    assert_eq!(closed["state"], "closed");
    assert!(
        closed["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["plan"].is_null() && i["lock"] == "none")
    );
}

/// staging plus an ephemeral `test` environment copied per pull request.
fn with_copies(url: &str) -> String {
    format!(
        "{}environment \"test\" {{\n  lifecycle = \"ephemeral\"\n  test      = [\"test -s \\\"$PLINTH_OUTPUTS\\\" && grep -q vpc-test-pr-7 \\\"$PLINTH_OUTPUTS\\\"\"]\n  pull_request {{\n    autoplan = true\n  }}\n}}\n",
        staging_only(url)
    )
}

#[test]
fn copies_are_applied_and_tested_per_pull_request_and_destroyed_on_close() {
    let env = PullsEnv::start(ForgeKind::GitHub, with_copies, &project_files());
    let base = env.sha("HEAD");
    apply_main(&env, "staging");
    let head = open_pull(&env, 7, &base, "feature", &[("app/main.tf", &app_v(2))]);
    env.wait(7, WAIT, |_| {
        env.forge
            .latest_status(REPO, &head, "plinth/test")
            .is_some_and(|s| s.state != "pending")
    });
    let status = env.forge.latest_status(REPO, &head, "plinth/test").unwrap();
    assert_eq!(
        status.state,
        "success",
        "{status:?}\n{}",
        env.summary(7).body
    );
    let summary = env.summary(7).body;
    assert!(
        summary.contains("copy `test-pr-7`") && summary.contains("applied and tested"),
        "{summary}"
    );
    let (code, copies) = env.server.api(&env.read, "GET", "/v1/copies?project=acme");
    assert_eq!(code, 200);
    assert_eq!(
        copies["copies"].as_array().map(Vec::len),
        Some(1),
        "{copies}"
    );
    // The copy has its own state on the server, for both stacks (applied whole).
    let (code, _) = env
        .server
        .api(&env.service, "GET", "/v1/state/acme/test-pr-7/network");
    assert_eq!(code, 200);

    env.forge
        .update_pull(REPO, 7, |p| p.state = plinth_forge::PullState::Closed);
    env.deliver(&pull_event(&env, "closed", 7, &head, &base));
    env.wait(7, WAIT, |_| {
        env.forge
            .latest_status(REPO, &head, "plinth/test")
            .is_some_and(|s| s.description.contains("destroyed"))
    });
    let (_, copies) = env.server.api(&env.read, "GET", "/v1/copies?project=acme");
    assert_eq!(
        copies["copies"].as_array().map(Vec::len),
        Some(0),
        "{copies}"
    );
    assert!(env.summary(7).body.contains("destroyed"));
}

#[test]
fn redeliveries_drafts_and_a_local_backend() {
    let local = |_: &str| {
        "plinth {\n  project = \"acme\"\n}\nenvironment \"staging\" {\n  pull_request {\n    autoplan = true\n  }\n}\n".to_string()
    };
    let env = PullsEnv::start(ForgeKind::GitHub, local, &project_files());
    let base = env.sha("HEAD");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write("app/main.tf", &app_v(2));
    let head = env.commit("app v2");
    env.push_head(7, &head);
    env.forge.set_pull(
        REPO,
        7,
        FakePull {
            base_sha: base.clone(),
            ..FakePull::open(&head)
        },
    );

    // A draft waits: nothing is planned, nothing is said.
    let draft = OctokitExamples::get()
        .example("pull_request", Some("opened"))
        .repo(REPO)
        .clone_url(env.origin.to_str().unwrap())
        .number(7)
        .head(&head)
        .base(&base, "main")
        .draft(true)
        .delivery(SECRET);
    env.deliver(&draft);
    let view = env.settle(7);
    assert!(view["instances"].as_array().unwrap().is_empty());
    assert!(env.comments(7).is_empty());

    // Ready for review; delivered twice: one job, one summary.
    let ready = pull_event(&env, "ready_for_review", 7, &head, &base);
    env.deliver(&ready);
    let (status, body) = env.send(&ready.redelivery());
    assert!(status == 200 || status == 202, "{status} {body}");
    assert!(
        !(body["job"].as_i64().is_some() && status == 202),
        "a redelivery makes no job: {body}"
    );
    let view = env.settle(7);
    assert_eq!(view["jobs"].as_array().unwrap().len(), 2, "{view:#}");
    // Local state cannot live in a throw-away worktree: the summary says so.
    let summary = env.summary(7).body;
    assert!(summary.contains("backend = \"local\""), "{summary}");
    assert_eq!(
        env.forge
            .latest_status(REPO, &head, "plinth/plan")
            .unwrap()
            .state,
        "failure"
    );
}

#[test]
fn a_killed_server_finishes_the_job_after_restart() {
    let mut env = PullsEnv::start(ForgeKind::GitHub, staging_only, &project_files());
    let base = env.sha("HEAD");
    apply_main(&env, "staging");
    // A generator that takes its time, so that the server dies during the plan.
    let marker = env.dir().join("generator-started");
    let slow = format!(
        "dependency \"network\" {{\n  stack = \"../network\"\n}}\ninputs = {{\n  vpc_id = dependency.network.outputs.vpc_id\n}}\nhooks {{\n  before_plan = [\"touch {} && sleep 3\"]\n}}\n",
        marker.display()
    );
    let head = open_pull(
        &env,
        7,
        &base,
        "feature",
        &[("app/main.tf", &app_v(2)), ("app/stack.hcl", &slow)],
    );
    let deadline = std::time::Instant::now() + WAIT;
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the plan never started:\n{}",
            env.server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    env.restart_after_kill();
    let view = env.wait(7, WAIT, |v| {
        v["instances"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| !i["plan"].is_null()))
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    let job = &view["jobs"][0];
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["attempts"], 2, "resumed by the restarted server: {job}");
    assert_eq!(
        PullsEnv::instance(&view, "staging", "app")["plan"]["commit"],
        head.as_str()
    );
    assert_eq!(env.summary(7).body.matches("| `app` |").count(), 1);
}

#[test]
fn a_plan_larger_than_a_comment_is_split_and_secrets_stay_out() {
    let with_secret = |url: &str| {
        format!(
            "{}secret \"app_token\" {{\n  environments = [\"staging\"]\n  from         = \"env:APP_TOKEN\"\n}}\n",
            staging_only(url)
        )
    };
    let env = PullsEnv::start(ForgeKind::GitHub, with_secret, &project_files());
    let base = env.sha("HEAD");
    let big = "variable \"app_token\" {\n  type      = string\n  sensitive = true\n}\nresource \"terraform_data\" \"big\" {\n  count = 3\n  input = [for i in range(1000) : \"item-${count.index}-${i}-0123456789abcdefghijklmnopqrstuvwxyz\"]\n}\nresource \"terraform_data\" \"token\" {\n  input = nonsensitive(var.app_token)\n}\n";
    let head = open_pull(
        &env,
        7,
        &base,
        "feature",
        &[("big/main.tf", big), ("big/stack.hcl", "")],
    );
    let view = env.wait(7, WAIT, |v| {
        v["instances"].as_array().is_some_and(|i| !i.is_empty())
    });
    assert!(env.failed_jobs(&view).is_empty(), "{}", env.job_logs(&view));
    let details: Vec<String> = env
        .replies(7)
        .into_iter()
        .filter(|d| d.contains("plinth plan details"))
        .collect();
    assert!(
        details.len() >= 2,
        "{} details comments; summary:\n{}\n{}",
        details.len(),
        env.summary(7).body,
        env.job_logs(&view)
    );
    let mut items = 0;
    for (i, d) in details.iter().enumerate() {
        assert!(d.len() <= 65_536, "part {i} is {} bytes", d.len());
        assert!(
            d.contains(&format!("(part {} of {})", i + 1, details.len())),
            "{}",
            &d[..200]
        );
        assert_eq!(
            d.matches("```diff").count(),
            d.lines().filter(|l| *l == "```").count(),
            "balanced fences in part {i}"
        );
        items += d.matches("item-").count();
    }
    assert_eq!(items, 3000, "every line of the plan, once");
    for c in env.comments(7) {
        assert!(
            !c.body.contains(pulls_support::APP_SECRET),
            "the secret leaked into a comment"
        );
    }
    let _ = head;
}
