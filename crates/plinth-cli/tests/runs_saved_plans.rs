//! `plinth apply --plan RUN_ID` with the real terraform: exactly the saved plans are applied;
//! preview-only and stale plans are refused with exit 3 before any state is touched.

mod runs_support;
mod support;

use runs_support::*;
use support::{code, stderr};

/// The run id of a `plan --json` report.
fn run_id(doc: &serde_json::Value) -> String {
    doc["run_id"].as_str().expect("a run id").to_string()
}

/// A plan made while the foundation had no state is preview-only for its dependent; applying
/// it is refused as a whole, and not even the foundation's own plan is applied.
#[test]
fn preview_only_plan_is_refused_before_touching_state() {
    let fx = two_stack_project();
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "app")["preview_only"], true);
    let saved = fx.root().join(".plinth/runs").join(run_id(&plan));
    for file in ["plan.tfplan", "plan.json", "meta.json", "engine.log"] {
        assert!(saved.join("app").join(file).is_file(), "saved {file}");
    }

    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan), "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("dev/app")
            && err.contains("preview-only")
            && err.contains("nothing was applied"),
        "{err}"
    );
    assert!(state_snapshot(&fx).is_empty(), "no state was written");

    // Apply the foundation, plan again: now a real plan, applied exactly.
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "app")["preview_only"], false);
    assert_eq!(instance(&plan, "foundation")["status"], "unchanged");
    let applied = run_json(&fx, &["apply", "dev", "--plan", &run_id(&plan)], 0);
    assert_eq!(applied["action"], "apply");
    assert_ne!(
        applied["run_id"], plan["run_id"],
        "the apply is a run of its own"
    );
    assert_eq!(instance(&applied, "app")["status"], "succeeded");
    assert_eq!(instance(&applied, "app")["add"], 1);
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/small"
    );

    // A saved plan cannot be applied twice: the state it was made against has moved on.
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));
}

/// Every kind of change after the plan makes it stale: upstream outputs it reads, own inputs,
/// code.
/// The refused apply leaves every state file byte-identical.
#[test]
fn stale_plans_are_refused_and_state_is_untouched() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);

    // Upstream state moved: the foundation is applied again after app's plan was made.
    fx.write("app/env/dev.tfvars", "size = \"medium\"\n");
    let plan = run_json(&fx, &["plan", "dev", "--stack", "app"], 0);
    assert_eq!(instance(&plan, "app")["change"], 1);
    fx.write("foundation/env/dev.tfvars", "tier = \"file-dev\"\n");
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );
    let before = state_snapshot(&fx);
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("dev/app") && err.contains("stale: upstream output foundation.vpc_id"),
        "{err}"
    );
    assert_eq!(
        state_snapshot(&fx),
        before,
        "state files are byte-identical"
    );

    // Own inputs changed: an environment variable edited in plinth.hcl after planning.
    fx.write("foundation/env/dev.tfvars", "tier = \"file-dev-2\"\n");
    let plan = run_json(&fx, &["plan", "dev", "--stack", "foundation"], 0);
    assert_eq!(instance(&plan, "foundation")["change"], 1);
    fx.write(
        "plinth.hcl",
        &PROJECT.replace("\"dev-region\"", "\"dev-region-2\""),
    );
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("dev/foundation") && err.contains("stale: input region changed"),
        "only the inputs changed: {err}"
    );
    assert_eq!(state_snapshot(&fx), before);

    // A var file edited after planning (it is part of the stack's files, too).
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "app")["change"], 1);
    fx.write("app/env/dev.tfvars", "size = \"large\"\n");
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stale") && err.contains("input size"), "{err}");
    assert_eq!(state_snapshot(&fx), before);

    // Code changed after planning.
    let plan = run_json(&fx, &["plan", "dev"], 0);
    fx.write("app/main.tf", &format!("{APP_TF}\n# edited\n"));
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stale") && err.contains("code"), "{err}");
    assert_eq!(state_snapshot(&fx), before);

    // With the foundation applied first, a fresh plan of app applies.
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "foundation")["status"], "unchanged");
    run_json(&fx, &["apply", "dev", "--plan", &run_id(&plan)], 0);
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region-2|file-dev-2/large"
    );
}

/// A saved plan belongs to its environment; an unknown run id is a usage error.
#[test]
fn saved_plan_of_another_environment_or_unknown_run_is_a_usage_error() {
    let fx = two_stack_project();
    let plan = run_json(&fx, &["plan", "dev"], 0);
    let out = run(&fx, &["apply", "prod", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("planned environment `dev`"),
        "{}",
        stderr(&out)
    );
    let out = run(&fx, &["apply", "dev", "--plan", "20990101-000000-abcdef"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no saved plan run"),
        "{}",
        stderr(&out)
    );
    assert!(state_snapshot(&fx).is_empty());
}

/// A `terraform_data` stand-in for a database: replaced when `generation` changes.
const DATABASE_TF: &str = r#"variable "generation" {
  type    = string
  default = "1"
}

resource "terraform_data" "db" {
  input            = { resource_type = "aws_db_instance", generation = var.generation }
  triggers_replace = [var.generation]
}

output "generation" {
  value = terraform_data.db.output.generation
}
"#;

/// Replacing a stateful resource in a protected environment needs `--approve-destructive`,
/// for `apply --auto-approve` and for saved plans alike; elsewhere it does not.
#[test]
fn destructive_change_in_a_protected_environment_needs_approval() {
    let fx = support::Fixture::new();
    fx.write("plinth.hcl", PROJECT)
        .write("db/stack.hcl", "stack {}\n")
        .write("db/main.tf", DATABASE_TF);
    run_json(&fx, &["apply", "prod", "--auto-approve"], 0);
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write("db/env/prod.tfvars", "generation = \"2\"\n")
        .write("db/env/dev.tfvars", "generation = \"2\"\n");

    // dev is not protected: the replacement applies.
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(output(&fx, "dev", "db", "generation"), "2");

    let before = state_snapshot(&fx);
    let doc = run_json(&fx, &["apply", "prod", "--auto-approve"], 3);
    let db = instance(&doc, "db");
    assert_eq!(db["status"], "blocked");
    assert_eq!(
        (db["add"].as_u64(), db["destroy"].as_u64()),
        (Some(1), Some(1))
    );
    let why = db["reason"].as_str().unwrap();
    assert!(
        why.contains("--approve-destructive") && why.contains("terraform_data.db"),
        "{why}"
    );
    assert_eq!(state_snapshot(&fx), before, "nothing was applied");

    let plan = run_json(&fx, &["plan", "prod"], 0);
    assert!(
        instance(&plan, "db")["reason"]
            .as_str()
            .unwrap()
            .contains("needs --approve-destructive"),
        "{plan}"
    );
    let out = run(&fx, &["apply", "prod", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--approve-destructive"),
        "{}",
        stderr(&out)
    );
    assert_eq!(state_snapshot(&fx), before, "refused before touching state");

    let applied = run_json(
        &fx,
        &[
            "apply",
            "prod",
            "--plan",
            &run_id(&plan),
            "--approve-destructive",
        ],
        0,
    );
    assert_eq!(instance(&applied, "db")["status"], "succeeded");
    assert_eq!(output(&fx, "prod", "db", "generation"), "2");
}

/// A plan run that changes an upstream's outputs says so on its dependents. Applying it
/// applies the upstream; the dependent's plan read the old output, so plinth plans the rest
/// again at once and, without a terminal, stops with exit 3 and the one command that
/// continues; that command applies the fresh plan.
#[test]
fn a_dependent_whose_upstream_output_moved_is_planned_again_and_continued() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write(
        "foundation/stack.hcl",
        &FOUNDATION_HCL.replace("net-${env.name}", "net2-${env.name}"),
    );
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "foundation")["status"], "succeeded");
    let note = instance(&plan, "app")["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        note.contains("reads foundation, which has pending changes"),
        "the dependent's plan says it may be planned again: {plan}"
    );

    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan), "--json"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let applied = report(&out);
    assert_eq!(applied["status"], "blocked");
    assert_eq!(instance(&applied, "foundation")["status"], "succeeded");
    let app = instance(&applied, "app");
    assert_eq!(app["status"], "blocked");
    assert!(
        app["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("stale: upstream output foundation.vpc_id"),
        "{applied}"
    );
    let next = applied["next_plan"].as_str().expect("the re-plan's run id");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("plinth apply dev --plan {next}")),
        "the one command that continues: {err}"
    );
    assert_eq!(
        output(&fx, "dev", "foundation", "vpc_id"),
        "net2-dev|dev-region|vars-dev"
    );
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/small",
        "the stale plan left the dependent as it was"
    );

    let done = run_json(&fx, &["apply", "dev", "--plan", next], 0);
    assert_eq!(
        statuses(&done),
        [("app".to_string(), "succeeded".to_string())]
    );
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net2-dev|dev-region|vars-dev/small"
    );
}

/// An upstream change that leaves the outputs a dependent reads as they were does not make
/// the dependent's plan stale: the environment applies in one pass.
#[test]
fn a_foundation_change_that_keeps_its_outputs_applies_in_one_pass() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write(
        "foundation/extra.tf",
        "resource \"terraform_data\" \"extra\" {\n  input = \"more\"\n}\n",
    );
    fx.write("app/env/dev.tfvars", "size = \"medium\"\n");
    let plan = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(instance(&plan, "foundation")["add"], 1);
    assert_eq!(instance(&plan, "app")["change"], 1);
    let applied = run_json(&fx, &["apply", "dev", "--plan", &run_id(&plan)], 0);
    assert_eq!(
        statuses(&applied),
        [
            ("foundation".to_string(), "succeeded".to_string()),
            ("app".to_string(), "succeeded".to_string())
        ]
    );
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/medium"
    );
}

/// A plan run in which an instance failed (and its dependents were skipped) cannot be
/// applied as if it were whole; narrowing to what planned can.
#[test]
fn a_plan_run_with_a_failed_instance_is_refused_unless_narrowed() {
    let fx = two_stack_project();
    fx.write("lone/stack.hcl", "").write(
        "lone/main.tf",
        "resource \"terraform_data\" \"l\" {\n  input = \"x\"\n}\n",
    );
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write(
        "foundation/main.tf",
        &format!(
            "{FOUNDATION_TF}\nresource \"terraform_data\" \"bad\" {{\n  input = var.nope\n}}\n"
        ),
    );
    fx.write(
        "lone/main.tf",
        "resource \"terraform_data\" \"l\" {\n  input = \"y\"\n}\n",
    );
    let plan = run_json(&fx, &["plan", "dev"], 1);
    assert_eq!(instance(&plan, "foundation")["status"], "failed");
    assert_eq!(instance(&plan, "app")["status"], "skipped");
    let reason = instance(&plan, "foundation")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("foundation/main.tf:")
            && reason.contains("Reference to undeclared input variable")
            && reason.contains("engine.log"),
        "the engine's file:line and the log: {reason}"
    );
    let before = state_snapshot(&fx);
    let out = run(&fx, &["apply", "dev", "--plan", &run_id(&plan)]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("nothing was applied")
            && err.contains("dev/foundation failed")
            && err.contains("dev/app skipped")
            && err.contains("--stack lone"),
        "{err}"
    );
    assert_eq!(state_snapshot(&fx), before, "nothing was applied");
    let applied = run_json(
        &fx,
        &["apply", "dev", "--plan", &run_id(&plan), "--stack", "lone"],
        0,
    );
    assert_eq!(
        statuses(&applied),
        [("lone".to_string(), "succeeded".to_string())]
    );
}

/// Variables declared `ephemeral = true` (Terraform ≥ 1.10) are not kept in the plan file:
/// applying the saved plan gives them again.
#[test]
fn ephemeral_variables_are_given_again_when_a_saved_plan_is_applied() {
    let fx = support::Fixture::new();
    fx.write("plinth.hcl", "environment \"dev\" {}\n")
        .write(
            "s/stack.hcl",
            "inputs = {\n  session = \"session-from-inputs\"\n}\n",
        )
        .write(
            "s/main.tf",
            r#"variable "session" {
  type      = string
  ephemeral = true
}

resource "terraform_data" "r" {
  input = "x"

  provisioner "local-exec" {
    command     = "printf '%s' \"$SESSION\" > ../session.txt"
    environment = { SESSION = var.session }
  }
}
"#,
        );
    let plan = run_json(&fx, &["plan", "dev"], 0);
    // Terraform refuses to apply a plan without its ephemeral variables: this passes only
    // because plinth gives them again.
    run_json(&fx, &["apply", "dev", "--plan", &run_id(&plan)], 0);
    assert_eq!(
        std::fs::read_to_string(fx.root().join("session.txt")).unwrap(),
        "session-from-inputs"
    );
}
