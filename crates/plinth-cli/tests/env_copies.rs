//! Ephemeral copies with the real terraform: `env up` applies a copy of an ephemeral
//! environment whole and runs its tests, `env down` destroys it and forgets it, `env reap`
//! takes down what is past its ttl; names are checked against the rule.

mod runs_support;
mod support;

use std::time::Duration;

use runs_support::*;
use support::{Fixture, code, stderr};

/// dev (persistent) and `test` (ephemeral, with a test that reads the copy's outputs).
const PROJECT: &str = r#"plinth {
  project = "copies"
}

environment "dev" {
  vars = { region = "dev-region", tier = "vars-dev" }
}

environment "test" {
  lifecycle = "ephemeral"
  ttl       = "72h"
  vars      = { region = "test-region", tier = "vars-test" }
  test      = ["sh scripts/smoke.sh"]
}

environment "short" {
  lifecycle = "ephemeral"
  ttl       = "1s"
  vars      = { region = "short-region", tier = "vars-short" }
}
"#;

/// The smoke test: the outputs file names the copy, and PLINTH_ENV is the copy's name; a
/// `fail-NAME` marker makes it fail.
const SMOKE: &str = r#"set -e
test -n "$PLINTH_OUTPUTS"
grep -q "net-$PLINTH_ENV|test-region" "$PLINTH_OUTPUTS"
echo "$PLINTH_ENV $PLINTH_TEMPLATE" >> smoke-ran.txt
if [ -f "fail-$PLINTH_ENV" ]; then echo "smoke failed for $PLINTH_ENV" >&2; exit 7; fi
"#;

fn project() -> Fixture {
    let fx = two_stack_project();
    fx.write("plinth.hcl", PROJECT)
        .write("scripts/smoke.sh", SMOKE);
    fx
}

fn env_ls(fx: &Fixture) -> serde_json::Value {
    let out = run(fx, &["env", "ls", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_copy_is_applied_tested_listed_and_destroyed() {
    let fx = project();
    let out = run(
        &fx,
        &[
            "env",
            "up",
            "test-pr-7",
            "--from",
            "test",
            "--auto-approve",
            "--pull-request",
            "7",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = report(&out);
    assert_eq!(doc["copy"]["status"], "up");
    assert_eq!(doc["tests"][0]["exit_code"], 0);
    // Its own state, its own name in its inputs.
    assert_eq!(
        output(&fx, "test-pr-7", "foundation", "vpc_id"),
        "net-test-pr-7|test-region|vars-test"
    );
    assert!(
        !state_path(&fx, "test", "foundation").exists(),
        "the template has no state"
    );
    let smoke = std::fs::read_to_string(fx.root().join("smoke-ran.txt")).unwrap();
    assert_eq!(smoke, "test-pr-7 test\n");

    let list = env_ls(&fx);
    let copy = &list["environments"][0];
    assert_eq!(copy["name"], "test-pr-7");
    assert_eq!(copy["template"], "test");
    assert_eq!(copy["pull_request"], 7);
    assert_eq!(copy["instances"], 2);
    assert!(copy["expires_at"].as_str().unwrap() > copy["created_at"].as_str().unwrap());

    // Outputs of a copy are read like an environment's.
    let out = run(&fx, &["output", "test-pr-7", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = run(
        &fx,
        &["env", "down", "test-pr-7", "--auto-approve", "--json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = report(&out);
    assert_eq!(doc["removed"], true);
    assert_eq!(
        statuses(&doc["run"]),
        [
            ("app".to_string(), "succeeded".to_string()),
            ("foundation".to_string(), "succeeded".to_string())
        ],
        "destroyed in reverse order"
    );
    assert!(env_ls(&fx)["environments"].as_array().unwrap().is_empty());
    assert!(!fx.root().join(".plinth/state/test-pr-7").exists());
}

#[test]
fn two_copies_at_once_keep_their_own_state() {
    let fx = project();
    let a = spawn(
        &fx,
        &["env", "up", "test-a", "--from", "test", "--auto-approve"],
    );
    let b = spawn(
        &fx,
        &["env", "up", "test-b", "--from", "test", "--auto-approve"],
    );
    let (a, b) = (finish(a), finish(b));
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(code(&b), 0, "{}", stderr(&b));
    assert_ne!(
        state(&fx, "test-a", "foundation")["lineage"],
        state(&fx, "test-b", "foundation")["lineage"]
    );
    assert_eq!(
        output(&fx, "test-b", "app", "seen"),
        "net-test-b|test-region|vars-test/none"
    );
    assert_eq!(env_ls(&fx)["environments"].as_array().unwrap().len(), 2);
}

#[test]
fn a_failing_test_exits_1_and_leaves_the_copy_up() {
    let fx = project();
    fx.write("fail-test-bad", "");
    let out = run(
        &fx,
        &["env", "up", "test-bad", "--from", "test", "--auto-approve"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("smoke failed for test-bad"), "{err}");
    assert!(
        err.contains("failed, exit 7") && err.contains("plinth env down test-bad"),
        "{err}"
    );
    let list = env_ls(&fx);
    assert_eq!(list["environments"][0]["status"], "test_failed");
    assert_eq!(
        resource_count(&fx, "test-bad", "app"),
        1,
        "left up to look at"
    );
}

#[test]
fn reap_destroys_copies_past_their_ttl_only() {
    let fx = project();
    for (name, template) in [("short-1", "short"), ("test-keep", "test")] {
        let out = run(
            &fx,
            &["env", "up", name, "--from", template, "--auto-approve"],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    // The short copy's ttl is one second: poll until reap has taken it.
    poll(
        "the short copy to be reaped",
        Duration::from_secs(60),
        || {
            let out = run(&fx, &["env", "reap"]);
            assert_eq!(code(&out), 0, "{}", stderr(&out));
            let names: Vec<String> = env_ls(&fx)["environments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect();
            (names == ["test-keep"]).then_some(())
        },
    );
    assert_eq!(resource_count(&fx, "test-keep", "app"), 1);
}

#[test]
fn bad_names_and_templates_are_usage_errors_with_the_rule() {
    let fx = project();
    for (name, template, needle) in [
        ("Test-1", "test", "contains 'T'"),
        ("test_1", "test", "contains '_'"),
        ("test-", "test", "starts or ends with `-`"),
        (&"x".repeat(64) as &str, "test", "has 64 characters"),
        ("dev", "test", "is an environment of plinth.hcl"),
        ("copy-1", "dev", "is a persistent environment"),
        ("copy-1", "nope", "no environment `nope`"),
    ] {
        let out = run(
            &fx,
            &["env", "up", name, "--from", template, "--auto-approve"],
        );
        assert_eq!(code(&out), 64, "{name} from {template}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{name}: {}", stderr(&out));
    }
    assert!(!fx.root().join(".plinth/state").exists(), "nothing ran");
    // The template itself is not run directly.
    let out = run(&fx, &["apply", "test", "--auto-approve"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("plinth env up NAME --from test"),
        "{}",
        stderr(&out)
    );
}
