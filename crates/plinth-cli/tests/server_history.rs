//! One history with `state { backend = "plinth" }`: CLI runs are reported to a real
//! `plinth serve` (per-instance results, masked logs), promotion records and ephemeral copies
//! live there too, so a second checkout (its own `.plinth`) sees what the first applied and
//! made. A server that is down closes the promotion gate and only warns about the history.
//! Every run drives the real `terraform`.

mod serve_support;
mod support;

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use serve_support::{Db, PLINTH, PROJECT, Server, wait_until};
use support::{Fixture, code, stderr};

/// A credential only dev's engine gets; plinth masks it in every log.
const SECRET: &str = "hist-s3cr3t-4f9a1c";

/// dev (a credential, and an environment hook that can hold the run before its end),
/// staging, prod promoting from staging, and an ephemeral template.
fn plinth_hcl(url: &str) -> String {
    format!(
        r#"plinth {{
  project = "{PROJECT}"
}}

state {{
  backend = "plinth"
  url     = "{url}"
}}

environment "dev" {{
  credentials = {{ DEMO_TOKEN = "env:HISTORY_SECRET" }}
  hooks {{
    after_apply = ["sh scripts/hold.sh"]
  }}
}}

environment "staging" {{}}

environment "prod" {{
  promote_from = "staging"
}}

environment "test" {{
  lifecycle = "ephemeral"
  ttl       = "72h"
}}
"#
    )
}

/// Holds the run (after its instances, before its end) while `HOLD_STARTED` is set, until the
/// test writes `HOLD_RELEASE`.
const HOLD: &str = r#"[ -n "$HOLD_STARTED" ] || exit 0
touch "$HOLD_STARTED"
i=0
while [ ! -f "$HOLD_RELEASE" ]; do
  i=$((i+1)); [ $i -gt 2400 ] && exit 1
  sleep 0.05
done
"#;

/// `app` prints the credential from a provisioner, so it reaches the engine's log.
const APP_TF: &str = r#"resource "terraform_data" "app" {
  input = "app"
  provisioner "local-exec" {
    command = "echo secret-is-$DEMO_TOKEN"
  }
}
"#;

const NETWORK_TF: &str = r#"resource "terraform_data" "vpc" {
  input = "vpc"
}
"#;

/// A checkout of the project: two independent stacks.
fn checkout(server: &Server) -> Fixture {
    let fx = Fixture::in_memory();
    fx.write("plinth.hcl", &plinth_hcl(&server.url))
        .write(".gitignore", ".plinth/\n")
        .write("scripts/hold.sh", HOLD)
        .write("network/stack.hcl", "")
        .write("network/main.tf", NETWORK_TF)
        .write("app/stack.hcl", "")
        .write("app/main.tf", APP_TF);
    fx
}

/// A second checkout: a `git clone` of `origin`, with its own `.plinth`.
fn clone_of(origin: &Fixture) -> Fixture {
    let fx = Fixture::in_memory();
    let out = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(origin.root())
        .arg(fx.root())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git clone: {}", stderr(&out));
    fx
}

fn plinth_cmd(fx: &Fixture, token: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(PLINTH);
    cmd.arg("-C")
        .arg(fx.root())
        .args(["--color", "never"])
        .args(args)
        .env("PLINTH_TOKEN", token)
        .env("HISTORY_SECRET", SECRET)
        .env_remove("HOLD_STARTED")
        .stdin(Stdio::null());
    cmd
}

fn plinth(fx: &Fixture, token: &str, args: &[&str]) -> Output {
    plinth_cmd(fx, token, args).output().unwrap()
}

/// Runs a command, asserts its exit code, and returns its output.
fn expect(fx: &Fixture, token: &str, args: &[&str], exit: i32) -> Output {
    let out = plinth(fx, token, args);
    assert_eq!(
        code(&out),
        exit,
        "plinth {args:?}:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn started() -> (Db, Server, String) {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let token = db.token("ci", "write");
    (db, server, token)
}

fn instance<'a>(run: &'a Value, stack: &str) -> &'a Value {
    run["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["stack"] == stack)
        .unwrap_or_else(|| panic!("no {stack} in {run}"))
}

fn warnings(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("warning:")).collect()
}

#[test]
fn cli_runs_appear_in_the_servers_history_with_masked_logs() {
    let (_db, server, token) = started();
    let fx = checkout(&server);
    let plan = json(&expect(&fx, &token, &["plan", "dev", "--json"], 0));
    let applied = expect(
        &fx,
        &token,
        &["apply", "dev", "--auto-approve", "--json"],
        0,
    );
    assert!(
        warnings(&stderr(&applied)).is_empty(),
        "{}",
        stderr(&applied)
    );
    let apply = json(&applied);

    let (status, list) = server.api(&token, "GET", &format!("/v1/runs?project={PROJECT}"));
    assert_eq!(status, 200, "{list}");
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{list}");
    for (report, action) in [(&plan, "plan"), (&apply, "apply")] {
        let run = runs
            .iter()
            .find(|r| r["run_id"] == report["run_id"])
            .unwrap_or_else(|| panic!("{} missing from {list}", report["run_id"]));
        assert_eq!(run["action"], action, "{run}");
        assert_eq!(run["env"], "dev", "{run}");
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["source"], "cli", "{run}");
        assert_eq!(run["recorded_by"], "ci", "{run}");
        assert!(
            run["who"].as_str().unwrap().contains('@'),
            "user@host: {run}"
        );
        assert!(run["finished_at"].is_string(), "{run}");
    }

    let (status, run) = server.api(
        &token,
        "GET",
        &format!("/v1/runs/{}", apply["run_id"].as_str().unwrap()),
    );
    assert_eq!(status, 200, "{run}");
    for stack in ["network", "app"] {
        let i = instance(&run, stack);
        assert_eq!(i["status"], "succeeded", "{i}");
        assert_eq!(
            (&i["add"], &i["change"], &i["destroy"]),
            (&1.into(), &0.into(), &0.into()),
            "{i}"
        );
        assert_eq!(i["preview_only"], false, "{i}");
        assert!(i["duration_ms"].as_i64().unwrap() > 0, "{i}");
        assert_eq!(i["log_cut_bytes"], 0, "{i}");
        let log = i["log"].as_str().unwrap();
        assert!(
            !log.is_empty() && log.len() <= plinth_state::MAX_RUN_LOG_BYTES,
            "{stack}: {} bytes",
            log.len()
        );
    }
    let log = instance(&run, "app")["log"].as_str().unwrap();
    assert!(
        log.contains("secret-is-***"),
        "the provisioner's line, masked:\n{log}"
    );
    assert!(
        !log.contains(SECRET),
        "the credential never leaves unmasked:\n{log}"
    );

    let (_, planned) = server.api(
        &token,
        "GET",
        &format!("/v1/runs/{}", plan["run_id"].as_str().unwrap()),
    );
    let i = instance(&planned, "app");
    assert_eq!(
        (&i["status"], &i["add"]),
        (&"succeeded".into(), &1.into()),
        "{i}"
    );
    assert!(
        i["log"].as_str().unwrap().contains("terraform_data.app"),
        "{i}"
    );
}

#[test]
fn a_promotion_recorded_by_one_checkout_opens_the_gate_of_another() {
    let (_db, server, token) = started();
    let a = checkout(&server);
    a.git_init();
    a.commit_all("infra");
    let b = clone_of(&a);

    // Nothing applied in staging anywhere: B's gate is closed.
    let refused = expect(&b, &token, &["apply", "prod", "--auto-approve"], 3);
    let err = stderr(&refused);
    assert!(
        err.contains("promotion gate")
            && err.contains("prod/app: its code")
            && err.contains("staging never applied it"),
        "{err}"
    );

    // A applies staging; B, whose own history has no staging apply, now promotes.
    expect(&a, &token, &["apply", "staging", "--auto-approve"], 0);
    let report = json(&expect(
        &b,
        &token,
        &["promote", "staging", "prod", "--json"],
        0,
    ));
    for i in report["instances"].as_array().unwrap() {
        assert_eq!(i["status"], "promotable", "{report}");
    }
    let applied = json(&expect(
        &b,
        &token,
        &["apply", "prod", "--auto-approve", "--json"],
        0,
    ));
    assert_eq!(applied["status"], "succeeded", "{applied}");

    // B's prod records went to the server, with the commit both checkouts have.
    let head = a.git(&["rev-parse", "HEAD"]).trim().to_string();
    let (status, records) = server.api(
        &token,
        "GET",
        &format!("/v1/promotions?project={PROJECT}&env=prod&kind=stack"),
    );
    assert_eq!(status, 200, "{records}");
    let records = records["promotions"].as_array().unwrap();
    let mut subjects: Vec<&str> = records
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["app", "network"], "{records:?}");
    for r in records {
        assert_eq!(r["run_id"], applied["run_id"], "{r}");
        assert_eq!(r["commit"], head, "{r}");
    }
    let report = json(&expect(
        &a,
        &token,
        &["promote", "staging", "prod", "--json"],
        0,
    ));
    for i in report["instances"].as_array().unwrap() {
        assert_eq!(i["status"], "current", "A sees B's prod apply: {report}");
    }
}

#[test]
fn a_server_that_is_down_closes_the_gate_and_only_warns_about_the_history() {
    let (_db, mut server, token) = started();
    let fx = checkout(&server);
    let marks = tempfile::tempdir().unwrap();
    let hold_started = marks.path().join("started");
    let hold_release = marks.path().join("release");
    let mut child = plinth_cmd(&fx, &token, &["apply", "dev", "--auto-approve"])
        .env("HOLD_STARTED", &hold_started)
        .env("HOLD_RELEASE", &hold_release)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the environment hook to hold the run", || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("plinth exited early with {status}");
        }
        hold_started.exists()
    });

    // Reported when it started: running, every instance pending.
    let (status, list) = server.api(
        &token,
        "GET",
        &format!("/v1/runs?project={PROJECT}&env=dev"),
    );
    assert_eq!(status, 200, "{list}");
    let run_id = list["runs"][0]["run_id"].as_str().unwrap().to_string();
    let (_, run) = server.api(&token, "GET", &format!("/v1/runs/{run_id}"));
    assert_eq!(run["status"], "running", "{run}");
    for stack in ["network", "app"] {
        assert_eq!(instance(&run, stack)["status"], "pending", "{run}");
    }

    // The server goes away before the run ends: the apply still succeeds, with a warning.
    let url = server.url.clone();
    server.kill();
    std::fs::write(&hold_release, "go").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    let lines = warnings(&err);
    let reported: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(&format!("cannot report the run to the plinth server {url}")))
        .collect();
    assert_eq!(reported.len(), 1, "one warning about the history:\n{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("promotion records of this apply are in the local history only")),
        "{err}"
    );
    assert!(lines.len() <= 2, "{err}");
    assert!(!err.contains(&token), "the token is never printed:\n{err}");
    let local = json(&expect(&fx, &token, &["runs", "--json"], 0));
    assert!(local.to_string().contains(&run_id), "{local}");

    // Down, the gate cannot be checked: prod refuses, and so does the promotion report.
    let out = expect(&fx, &token, &["apply", "prod", "--auto-approve"], 3);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot read promotion records from the plinth server {url}: "
        )) && err.contains("nothing was applied"),
        "{err}"
    );
    assert!(!err.contains(&token), "{err}");
    let out = expect(&fx, &token, &["promote", "staging", "prod"], 1);
    assert!(
        stderr(&out).contains("cannot read promotion records from the plinth server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn copies_are_shared_through_the_server() {
    let (_db, server, token) = started();
    let a = checkout(&server);
    let b = checkout(&server);
    let copies = || {
        let (status, body) = server.api(&token, "GET", &format!("/v1/copies?project={PROJECT}"));
        assert_eq!(status, 200, "{body}");
        body["copies"].as_array().unwrap().clone()
    };

    expect(
        &a,
        &token,
        &["env", "up", "t1", "--from", "test", "--auto-approve"],
        0,
    );
    let on_server = copies();
    assert_eq!(on_server.len(), 1, "{on_server:?}");
    let copy = &on_server[0];
    assert_eq!(
        (
            &copy["name"],
            &copy["template"],
            &copy["status"],
            &copy["instances"]
        ),
        (&"t1".into(), &"test".into(), &"up".into(), &2.into()),
        "{copy}"
    );
    let creator = copy["creator"].as_str().unwrap().to_string();
    assert!(creator.contains('@'), "{copy}");

    // Another checkout cannot make a copy of the same name.
    let out = expect(
        &b,
        &token,
        &["env", "up", "t1", "--from", "test", "--auto-approve"],
        3,
    );
    let err = stderr(&out);
    assert!(
        err.contains("copy `t1` exists already on the plinth server")
            && err.contains(&format!("created by {creator}")),
        "{err}"
    );
    assert!(
        !b.root().join(".plinth/work/t1").exists(),
        "B applied nothing"
    );

    // It sees A's copy.
    let listed = json(&expect(&b, &token, &["env", "ls", "--json"], 0));
    let names: Vec<&str> = listed["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["t1"], "{listed}");
    assert_eq!(listed["environments"][0]["creator"], creator.as_str());

    expect(&a, &token, &["env", "down", "t1", "--auto-approve"], 0);
    assert!(copies().is_empty(), "env down removes it from the server");
    let listed = json(&expect(&b, &token, &["env", "ls", "--json"], 0));
    assert_eq!(listed["environments"], Value::Array(Vec::new()), "{listed}");
}
