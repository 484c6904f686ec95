//! Concurrent plinth processes with the real terraform: two environments of one stack run at
//! the same time without sharing anything; a second run on the same environment stops with
//! exit 3 naming the holder, or waits with `--lock-timeout`.
//!
//! The fixtures synchronise inside the engine run: a `local-exec` provisioner waits (bounded)
//! for a marker file, so the tests know a run is in progress without sleeping.

mod runs_support;
mod support;

use std::time::Duration;

use runs_support::*;
use support::{Fixture, code, stderr};

/// Both environments' foundations must be applying at once to succeed: each announces itself
/// with a marker and waits (at most 60 s) for the other's.
const RENDEZVOUS_TF: &str = r#"variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "other" {
  type = string
}

resource "terraform_data" "net" {
  input = "${var.name}|${var.region}"

  provisioner "local-exec" {
    command = "touch ../${var.name}.started; i=0; while [ ! -f ../${var.other}.started ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done"
  }
}

output "vpc_id" {
  value = terraform_data.net.output
}
"#;

#[test]
fn two_processes_apply_two_environments_of_one_stack_at_once() {
    let fx = two_stack_project();
    fx.write(
        "plinth.hcl",
        &PROJECT
            .replace(
                "tier = \"vars-dev\"",
                "tier = \"vars-dev\", other = \"net-prod\"",
            )
            .replace(
                "tier = \"vars-prod\"",
                "tier = \"vars-prod\", other = \"net-dev\"",
            ),
    )
    .write("foundation/main.tf", RENDEZVOUS_TF);

    let dev = spawn(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    let prod = spawn(&fx, &["apply", "prod", "--auto-approve", "--json"]);
    let (dev, prod) = (finish(dev), finish(prod));
    for (env, out) in [("dev", &dev), ("prod", &prod)] {
        assert_eq!(code(out), 0, "{env}:\n{}", stderr(out));
        let doc = report(out);
        assert_eq!(doc["env"], env);
        assert_eq!(doc["status"], "succeeded");
        assert_eq!(
            output(&fx, env, "app", "seen"),
            format!(
                "net-{env}|{env}-region/{}",
                if env == "dev" { "small" } else { "none" }
            )
        );
    }
    assert!(fx.root().join("net-dev.started").is_file());
    assert!(fx.root().join("net-prod.started").is_file());
    assert_ne!(
        state(&fx, "dev", "foundation")["lineage"],
        state(&fx, "prod", "foundation")["lineage"]
    );
}

/// The foundation holds the run until `release` exists (at most 60 s).
const HOLD_TF: &str = r#"variable "name" {
  type = string
}

variable "region" {
  type = string
}

resource "terraform_data" "net" {
  input = "${var.name}|${var.region}"

  provisioner "local-exec" {
    command = "touch ../holding; i=0; while [ ! -f ../release ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done"
  }
}

output "vpc_id" {
  value = terraform_data.net.output
}
"#;

/// The run id in the environment's lock file, once a run holds it.
fn lock_holder(fx: &Fixture, env: &str) -> Option<String> {
    let text = std::fs::read_to_string(fx.root().join(".plinth/locks").join(format!("{env}.lock")))
        .ok()?;
    let holder: serde_json::Value = serde_json::from_str(&text).ok()?;
    holder["run_id"].as_str().map(str::to_string)
}

#[test]
fn a_second_process_on_the_same_environment_stops_naming_the_holder() {
    let fx = two_stack_project();
    fx.write("foundation/main.tf", HOLD_TF);

    let first = spawn(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    let holder = poll(
        "the first run to take the dev lock",
        Duration::from_secs(60),
        || lock_holder(&fx, "dev"),
    );
    // The first run is now inside its foundation's apply (or about to be): it cannot end
    // before `release` exists.
    poll(
        "the foundation's provisioner",
        Duration::from_secs(60),
        || fx.root().join("holding").is_file().then_some(()),
    );

    let before = state_snapshot(&fx);
    for args in [
        &["plan", "dev"][..],
        &["apply", "dev", "--auto-approve", "--json"][..],
    ] {
        let out = run(&fx, args);
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("environment `dev` is locked")
                && err.contains(&format!("apply run {holder}"))
                && err.contains("pid "),
            "{args:?} names the holder: {err}"
        );
    }
    assert_eq!(
        state_snapshot(&fx),
        before,
        "the refused runs wrote nothing"
    );

    // Another environment is not blocked by dev's lock.
    let prod = run(&fx, &["plan", "prod", "--json"]);
    assert_eq!(code(&prod), 0, "{}", stderr(&prod));

    // A run that may wait is queued behind the holder and runs once it is done.
    let waiting = spawn(&fx, &["plan", "dev", "--lock-timeout", "2m", "--json"]);

    fx.write("release", "");
    let first = finish(first);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let doc = report(&first);
    assert_eq!(doc["run_id"], holder, "the lock named the run that held it");
    assert_eq!(doc["status"], "succeeded");

    let waiting = finish(waiting);
    assert_eq!(code(&waiting), 0, "{}", stderr(&waiting));
    let plan = report(&waiting);
    assert!(
        statuses(&plan).iter().all(|(_, s)| s == "unchanged"),
        "the waiting plan saw the first run's result: {plan}"
    );
    assert_eq!(lock_holder(&fx, "dev"), None, "released after the runs");
}

/// Four independent stacks: `-j 1` never has two engine processes at once; with `-j 4`
/// the four must run together (each waits for all four markers, at most 60 s).
#[test]
fn jobs_bound_how_many_instances_run_at_once() {
    let stack_tf = |name: &str| {
        format!(
            r#"resource "terraform_data" "r" {{
  input = "{name}"

  provisioner "local-exec" {{
    command = "touch ../{name}.started; i=0; while [ \"$(ls .. | grep -c '[.]started$')\" -lt ${{var.together}} ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done"
  }}
}}

variable "together" {{
  type = number
}}
"#
        )
    };
    let project = |together: u32| {
        let fx = Fixture::new();
        for name in ["w1", "w2", "w3", "w4"] {
            fx.write(&format!("{name}/stack.hcl"), "stack {}\n")
                .write(&format!("{name}/main.tf"), &stack_tf(name))
                .write(
                    &format!("{name}/env/dev.tfvars"),
                    &format!("together = {together}\n"),
                );
        }
        wrap_engine(&fx, PROJECT);
        fx
    };

    let serial = project(1);
    let doc = run_json(&serial, &["apply", "dev", "--auto-approve", "-j", "1"], 0);
    assert_eq!(doc["instances"].as_array().unwrap().len(), 4);
    let calls = engine_calls(&serial);
    assert_eq!(
        calls.len(),
        1 + 4 * 2,
        "version, then init and apply each (an unprotected environment applies in one process)"
    );
    assert_eq!(max_overlap(&calls), 1, "-j 1 runs one engine at a time");

    let parallel = project(4);
    let doc = run_json(&parallel, &["apply", "dev", "--auto-approve", "-j", "4"], 0);
    assert_eq!(doc["status"], "succeeded", "the four instances met");
    assert!(max_overlap(&engine_calls(&parallel)) <= 4);
}
