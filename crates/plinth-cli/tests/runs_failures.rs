//! Failure isolation and destroy with the real terraform: a failing instance skips its
//! dependents and lets independent branches finish; destroy walks the DAG in reverse;
//! protected environments refuse destroy.

mod runs_support;
mod support;

use runs_support::*;
use support::{Fixture, code, stderr};

/// A dependent of the foundation whose `local-exec` provisioner fails.
const FAILING_TF: &str = r#"variable "vpc_id" {
  type = string
}

resource "terraform_data" "broken" {
  input = var.vpc_id

  provisioner "local-exec" {
    command = "echo provisioning failed on purpose >&2; exit 7"
  }
}

output "seen" {
  value = terraform_data.broken.output
}
"#;

/// `stack.hcl` of a dependent of `UPSTREAM` (wired through `seen` or `vpc_id`).
fn dependent_hcl(upstream: &str, output: &str) -> String {
    format!(
        r#"dependency "up" {{
  stack = "{upstream}"
}}

inputs = {{
  vpc_id = dependency.up.outputs.{output}
}}
"#
    )
}

/// foundation → broken → after_broken, and foundation → app, foundation → other.
#[test]
fn a_failure_skips_its_dependents_and_independent_branches_finish() {
    let fx = two_stack_project();
    fx.write("broken/stack.hcl", &dependent_hcl("foundation", "vpc_id"))
        .write("broken/main.tf", FAILING_TF)
        .write("after_broken/stack.hcl", &dependent_hcl("broken", "seen"))
        .write("after_broken/main.tf", APP_TF)
        .write("other/stack.hcl", &dependent_hcl("foundation", "vpc_id"))
        .write("other/main.tf", APP_TF);

    let doc = run_json(&fx, &["apply", "dev", "--auto-approve", "-j", "2"], 1);
    assert_eq!(doc["status"], "failed");
    let broken = instance(&doc, "broken");
    assert_eq!(broken["status"], "failed");
    let why = broken["reason"].as_str().unwrap();
    assert!(
        why.contains("apply failed (exit 1)") && why.contains("local-exec"),
        "the reason quotes the engine's error: {why}"
    );
    let skipped = instance(&doc, "after_broken");
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["reason"], "upstream broken failed");
    for stack in ["foundation", "app", "other"] {
        assert_eq!(instance(&doc, stack)["status"], "succeeded", "{stack}");
    }
    assert_eq!(
        output(&fx, "dev", "other", "seen"),
        "net-dev|dev-region|vars-dev/none"
    );
    assert!(
        !state_path(&fx, "dev", "after_broken").exists(),
        "a skipped instance never ran"
    );
    let log = fx
        .root()
        .join(".plinth/runs")
        .join(doc["run_id"].as_str().unwrap())
        .join("broken/engine.log");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("provisioning failed on purpose"), "{log}");

    // The run history has the same outcome per instance.
    let out = run(&fx, &["runs", doc["run_id"].as_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let recorded = report(&out);
    assert_eq!(recorded["run"]["status"], "failed");
    assert_eq!(recorded["run"]["action"], "apply");
    assert_eq!(statuses(&recorded), statuses(&doc));

    // The human summary names the failure and the skip too.
    let out = run(&fx, &["apply", "dev", "--auto-approve"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("dev/broken") && err.contains("failed"),
        "{err}"
    );
    assert!(err.contains("upstream broken failed"), "{err}");
}

/// A chain foundation → middle → leaf (plus app on the foundation) whose resources append
/// their stack name to `destroy-order.log` when destroyed.
fn chain_project() -> Fixture {
    let fx = Fixture::new();
    let tf = |name: &str| {
        format!(
            r#"variable "vpc_id" {{
  type    = string
  default = "root"
}}

resource "terraform_data" "r" {{
  input = "{name}<${{var.vpc_id}}"

  provisioner "local-exec" {{
    when    = destroy
    command = "echo {name} >> ../destroy-order.log"
  }}
}}

output "seen" {{
  value = terraform_data.r.output
}}
"#
        )
    };
    fx.write("plinth.hcl", PROJECT)
        .write("foundation/stack.hcl", "stack {}\n")
        .write("foundation/main.tf", &tf("foundation"))
        .write("middle/stack.hcl", &dependent_hcl("foundation", "seen"))
        .write("middle/main.tf", &tf("middle"))
        .write("leaf/stack.hcl", &dependent_hcl("middle", "seen"))
        .write("leaf/main.tf", &tf("leaf"))
        .write("side/stack.hcl", &dependent_hcl("foundation", "seen"))
        .write("side/main.tf", &tf("side"));
    fx
}

/// Destroy runs dependents before what they depend on, and empties every state.
#[test]
fn destroy_walks_the_graph_in_reverse() {
    let fx = chain_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(
        output(&fx, "dev", "leaf", "seen"),
        "leaf<middle<foundation<root"
    );

    let doc = run_json(&fx, &["destroy", "dev", "--auto-approve", "-j", "4"], 0);
    assert_eq!(doc["action"], "destroy");
    assert_eq!(doc["status"], "succeeded");
    for stack in ["foundation", "middle", "leaf", "side"] {
        let i = instance(&doc, stack);
        assert_eq!(
            (i["status"].as_str(), i["destroy"].as_u64()),
            (Some("succeeded"), Some(1)),
            "{stack}"
        );
        assert_eq!(resource_count(&fx, "dev", stack), 0, "{stack} is empty");
    }
    let order = std::fs::read_to_string(fx.root().join("destroy-order.log")).unwrap();
    let order: Vec<&str> = order.lines().collect();
    assert_eq!(order.len(), 4, "{order:?}");
    let pos = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(pos("leaf") < pos("middle"), "{order:?}");
    assert!(pos("middle") < pos("foundation"), "{order:?}");
    assert!(pos("side") < pos("foundation"), "{order:?}");

    // Nothing left: a second destroy has nothing to do.
    let again = run_json(&fx, &["destroy", "dev", "--auto-approve"], 0);
    assert!(
        statuses(&again).iter().all(|(_, s)| s == "unchanged"),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(fx.root().join("destroy-order.log"))
            .unwrap()
            .lines()
            .count(),
        4
    );
}

/// A protected environment refuses destroy with exit 3 and leaves its state as it was; a
/// destroy without `--auto-approve` and no terminal is refused too.
#[test]
fn protected_environment_and_non_tty_refuse_destroy() {
    let fx = chain_project();
    run_json(&fx, &["apply", "prod", "--auto-approve"], 0);
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let before = state_snapshot(&fx);

    let out = run(&fx, &["destroy", "prod", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("environment `prod` is protected"),
        "{}",
        stderr(&out)
    );

    let out = run(&fx, &["destroy", "dev"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("no terminal"), "{}", stderr(&out));

    assert_eq!(
        state_snapshot(&fx),
        before,
        "every state file is byte-identical"
    );
    assert!(!fx.root().join("destroy-order.log").exists());
    assert_eq!(resource_count(&fx, "prod", "leaf"), 1);
}

/// A long note wraps inside the summary table instead of running past the screen; one
/// instance is "1 instance".
#[test]
fn summary_tables_wrap_long_notes_and_count_in_the_singular() {
    let fx = two_stack_project();
    let out = run(&fx, &["plan", "dev", "--stack", "foundation"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("plan dev: 1 instance,"), "{err}");
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write("foundation/env/dev.tfvars", "tier = \"file-dev\"\n");
    let out = run(&fx, &["plan", "dev"]);
    let err = stderr(&out);
    let table: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(['│', '┌', '└', '╞']))
        .collect();
    let text = table.join("\n");
    assert!(text.contains("reads foundation, which has"), "{err}");
    assert!(
        !text.contains("if they change what it reads, apply plans it again"),
        "the long note is wrapped over several lines: {text}"
    );
    for line in table {
        assert!(
            line.chars().count() <= 120,
            "no table line past 120 columns off a terminal: {line:?}"
        );
    }
}
