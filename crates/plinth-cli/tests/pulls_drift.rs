//! The server's own schedule, end to end with the real `terraform` and a real
//! `plinth serve --config`: an environment with `drift { every }` is checked from the default
//! branch's head; its drift opens one issue on the stand-in forge, other drift rewrites that
//! issue, being back in sync closes it, and `/metrics` follows. A copy past its `ttl` is
//! destroyed by the reaper while a copy that is not expired stays.
//!
//! The scheduler's minute is shortened with its test knob (`PLINTH_SCHEDULE_TICK_MS`), so that
//! `every = "5m"` (the shortest the configuration allows) lasts five ticks.

mod pulls_support;
mod serve_support;

use std::process::Command;
use std::time::{Duration, Instant};

use plinth_forge::ForgeKind;
use plinth_forge::fake::FakePull;
use plinth_forge::fake::payloads::github::OctokitExamples;
use plinth_forge::fake::webhooks::Delivery;
use pulls_support::{PullsEnv, REPO, SECRET};
use serde_json::Value;
use serve_support::{Db, PLINTH};

/// The scheduler's tick in the tests: a scheduled minute lasts this many milliseconds.
const TICK_MS: &str = "150";

const WAIT: Duration = Duration::from_secs(60);

fn scheduled_env(project: impl Fn(&str) -> String, files: &[(&str, &str)]) -> PullsEnv {
    PullsEnv::start_with(
        ForgeKind::GitHub,
        Db::sqlite(),
        &[("PLINTH_SCHEDULE_TICK_MS", TICK_MS)],
        project,
        files,
    )
}

/// `plinth ARGS` in the hosted repository's work tree, as CI or an operator would; must
/// succeed.
fn plinth(env: &PullsEnv, args: &[&str]) -> String {
    let out = Command::new(PLINTH)
        .arg("-C")
        .arg(&env.origin)
        .args(args)
        .env("PLINTH_TOKEN", &env.service)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "plinth {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `ready` until it gives a value, failing after [`WAIT`] with `context()`.
fn poll<T>(what: &str, context: impl Fn() -> String, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn project(drift: bool) -> impl Fn(&str) -> String {
    move |url: &str| {
        format!(
            "plinth {{\n  project = \"acme\"\n}}\n\
             state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\
             environment \"staging\" {{\n{}}}\n",
            if drift {
                "  drift {\n    every = \"5m\"\n  }\n"
            } else {
                ""
            }
        )
    }
}

/// Two independent stacks, so that each drifts on its own.
const STACKS: &[(&str, &str)] = &[
    (".gitignore", ".plinth/\nplinth_*_override.tf\n"),
    (
        "network/stack.hcl",
        "inputs = {\n  env_name = env.name\n}\n",
    ),
    (
        "network/main.tf",
        "variable \"env_name\" {\n  type = string\n}\nresource \"terraform_data\" \"vpc\" {\n  input = \"vpc-${var.env_name}\"\n}\noutput \"vpc_id\" {\n  value = terraform_data.vpc.output\n}\n",
    ),
    ("app/stack.hcl", "inputs = {\n  env_name = env.name\n}\n"),
    (
        "app/main.tf",
        "variable \"env_name\" {\n  type = string\n}\nresource \"terraform_data\" \"app\" {\n  input = \"app-${var.env_name}\"\n}\n# An output keeps the state non-empty once the resource leaves it: an empty state reads as never applied.\noutput \"app_id\" {\n  value = terraform_data.app.output\n}\n",
    ),
];

/// `plinth_drifted_instances` of acme/staging, if the series exists.
fn drifted_gauge(env: &PullsEnv) -> Option<i64> {
    env.metrics()
        .lines()
        .find(|l| {
            l.starts_with("plinth_drifted_instances{")
                && l.contains("project=\"acme\"")
                && l.contains("env=\"staging\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn scheduled_drift_opens_updates_and_closes_one_issue() {
    let started = Instant::now();
    let env = scheduled_env(project(false), STACKS);
    plinth(&env, &["apply", "staging", "--auto-approve"]);
    // Out of band: the network's resource leaves its state (as if deleted by hand).
    plinth(
        &env,
        &[
            "exec",
            "staging",
            "--stack",
            "network",
            "--",
            "state",
            "rm",
            "terraform_data.vpc",
        ],
    );
    // Only now does the default branch ask for drift checks.
    env.write("plinth.hcl", &project(true)(&env.server.url));
    env.commit("check staging for drift");

    let context = || {
        format!(
            "issues: {:#?}\njobs:\n{}\nserver log:\n{}",
            env.issues(),
            env.jobs_log("drift", 200),
            env.server.log()
        )
    };
    let opened = poll("the drift issue", context, || {
        env.issues().into_iter().find(|i| i.open)
    });
    assert_eq!(opened.title, "plinth: drift in staging");
    assert!(
        opened.body.contains("| `staging/network` | +1 ~0 -0 |"),
        "{}",
        opened.body
    );
    assert!(
        !opened.body.contains("staging/app"),
        "app is in sync: {}",
        opened.body
    );
    assert!(
        opened.body.contains("1 instance drifted"),
        "{}",
        opened.body
    );
    assert!(
        opened.body.contains("http://plinth.test/runs/"),
        "{}",
        opened.body
    );
    assert!(
        opened.body.contains(&env.sha("HEAD")[..7]),
        "the commit checked: {}",
        opened.body
    );
    poll("the gauge at 1", context, || {
        (drifted_gauge(&env) == Some(1)).then_some(())
    });
    let (_, runs) = env
        .server
        .api(&env.read, "GET", "/v1/runs?project=acme&env=staging");
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "drift"
                && r["who"] == "plinth-drift"
                && r["source"] == "server"),
        "the check is in the history: {runs:#}"
    );

    // Other drift: the same issue is rewritten.
    plinth(
        &env,
        &[
            "exec",
            "staging",
            "--stack",
            "app",
            "--",
            "state",
            "rm",
            "terraform_data.app",
        ],
    );
    let updated = poll("the issue rewritten", context, || {
        env.issues()
            .into_iter()
            .find(|i| i.number == opened.number && i.body.contains("staging/app"))
    });
    assert!(updated.open);
    assert!(
        updated.body.contains("| `staging/app` | +1 ~0 -0 |"),
        "{}",
        updated.body
    );
    assert!(
        updated.body.contains("2 instances drifted"),
        "{}",
        updated.body
    );
    assert_eq!(
        env.issues().len(),
        1,
        "one issue per environment: {:#?}",
        env.issues()
    );
    poll("the gauge at 2", context, || {
        (drifted_gauge(&env) == Some(2)).then_some(())
    });

    // Back in sync: the issue is closed with a last word.
    plinth(&env, &["apply", "staging", "--auto-approve"]);
    let closed = poll("the issue closed", context, || {
        env.issues()
            .into_iter()
            .find(|i| i.number == opened.number && !i.open)
    });
    assert!(closed.body.contains("is back in sync"), "{}", closed.body);
    assert_eq!(env.issues().len(), 1, "{:#?}", env.issues());
    poll("the gauge at 0", context, || {
        (drifted_gauge(&env) == Some(0)).then_some(())
    });
    let checked = env.metrics().lines().any(|l| {
        l.starts_with("plinth_drift_last_check_timestamp_seconds{") && l.contains("env=\"staging\"")
    });
    assert!(checked, "{}", env.metrics());

    for issue in env.issues() {
        for secret in [env.forge.token(), env.service.as_str(), SECRET] {
            assert!(!issue.body.contains(secret), "a secret in {issue:#?}");
        }
    }
    eprintln!("scheduled drift: {:?}", started.elapsed());
}

fn with_copies(url: &str) -> String {
    format!(
        "plinth {{\n  project = \"acme\"\n}}\n\
         state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\
         environment \"test\" {{\n  lifecycle = \"ephemeral\"\n  ttl       = \"1s\"\n  pull_request {{\n    autoplan = true\n  }}\n}}\n\
         environment \"preview\" {{\n  lifecycle = \"ephemeral\"\n  ttl       = \"1h\"\n  pull_request {{\n    autoplan = true\n  }}\n}}\n"
    )
}

fn opened(env: &PullsEnv, number: u64, head: &str, base: &str) -> Delivery {
    OctokitExamples::get()
        .example("pull_request", Some("opened"))
        .repo(REPO)
        .clone_url(env.origin.to_str().unwrap())
        .number(number)
        .head(head)
        .base(base, "main")
        .draft(false)
        .sender("octocat", 583231)
        .delivery(SECRET)
}

fn copies(env: &PullsEnv) -> Vec<Value> {
    let (code, body) = env.server.api(&env.read, "GET", "/v1/copies?project=acme");
    assert_eq!(code, 200, "{body}");
    body["copies"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_reaper_destroys_an_expired_copy_of_an_open_pull_request_and_nothing_else() {
    let started = Instant::now();
    let env = scheduled_env(with_copies, &STACKS[..3]);
    let base = env.sha("HEAD");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write("network/main.tf", &STACKS[2].1.replace("vpc-", "vpc2-"));
    let head = env.commit("network v2");
    env.git(&["checkout", "-q", "main"]);
    env.push_head(7, &head);
    env.forge.set_pull(
        REPO,
        7,
        FakePull {
            base_sha: base.clone(),
            ..FakePull::open(&head)
        },
    );
    env.deliver(&opened(&env, 7, &head, &base));

    let context = || {
        format!(
            "copies: {:#?}\npull request: {:#}\nreap jobs:\n{}\nserver log:\n{}",
            copies(&env),
            env.pull(7),
            env.jobs_log("reap", 200),
            env.server.log()
        )
    };
    env.wait(7, WAIT, |_| {
        ["plinth/test", "plinth/preview"].iter().all(|c| {
            env.forge
                .latest_status(REPO, &head, c)
                .is_some_and(|s| s.state != "pending")
        })
    });
    for c in ["plinth/test", "plinth/preview"] {
        let status = env.forge.latest_status(REPO, &head, c).unwrap();
        assert_eq!(status.state, "success", "{c}: {status:?}\n{}", context());
    }

    // test-pr-7 is past its ttl of 1s: the reaper destroys it; preview-pr-7 has an hour left.
    let left = poll("test-pr-7 reaped", context, || {
        let list = copies(&env);
        (!list.iter().any(|c| c["name"] == "test-pr-7")).then_some(list)
    });
    let names: Vec<&str> = left.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["preview-pr-7"], "{left:#?}");
    assert_eq!(left[0]["status"], "up");
    let (_, runs) = env
        .server
        .api(&env.read, "GET", "/v1/runs?project=acme&env=test-pr-7");
    let destroy = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "destroy")
        .unwrap_or_else(|| panic!("no destroy run: {runs:#}"))
        .clone();
    assert_eq!(destroy["who"], "plinth-reaper", "{destroy:#}");
    assert_eq!(destroy["status"], "succeeded", "{destroy:#}");
    assert_eq!(
        destroy["commit"],
        head.as_str(),
        "destroyed from the commit it was applied from"
    );
    // Its state on the server holds nothing any more.
    let (code, state) = env
        .server
        .api(&env.service, "GET", "/v1/state/acme/test-pr-7/network");
    assert!(
        code == 404 || state["resources"].as_array().is_some_and(Vec::is_empty),
        "{code} {state:#}"
    );
    // The copy that is not expired is still applied.
    let (code, state) = env
        .server
        .api(&env.service, "GET", "/v1/state/acme/preview-pr-7/network");
    assert_eq!(code, 200);
    assert_eq!(
        state["resources"].as_array().map(Vec::len),
        Some(1),
        "{state:#}"
    );
    eprintln!("reaper: {:?}", started.elapsed());
}
