//! `plinth plan` and `plinth apply --auto-approve` with the real terraform: foundation-first
//! order with outputs wired into inputs, env `vars` and var files, isolated environments,
//! preflight errors (typo in `inputs`, missing or wrong engine), refusals and blocked plans.

mod runs_support;
mod support;

use runs_support::*;
use support::{code, stderr};

/// The foundation's output arrives in the dependent's input: the dependent's state echoes
/// a value that only exists once the foundation has been applied in this same run.
#[test]
fn auto_apply_is_foundation_first_with_outputs_wired_into_inputs() {
    let fx = two_stack_project();
    fx.write(
        "web/stack.hcl",
        r#"dependency "net" {
  stack = "foundation"
}

dependency "app" {
  stack = "../app"
}

inputs = {
  vpc_id = "${dependency.app.outputs.seen}+${dependency.net.outputs.vpc_id}"
}
"#,
    )
    .write("web/main.tf", APP_TF);

    let doc = run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(doc["action"], "apply");
    assert_eq!(doc["env"], "dev");
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(
        statuses(&doc),
        [
            ("foundation".into(), "succeeded".into()),
            ("app".into(), "succeeded".into()),
            ("web".into(), "succeeded".into()),
        ]
    );
    for stack in ["foundation", "app", "web"] {
        let i = instance(&doc, stack);
        assert_eq!(
            (i["add"].as_u64(), i["preview_only"].as_bool()),
            (Some(1), Some(false))
        );
    }

    let vpc = "net-dev|dev-region|vars-dev";
    assert_eq!(output(&fx, "dev", "foundation", "vpc_id"), vpc);
    assert_eq!(output(&fx, "dev", "app", "seen"), format!("{vpc}/small"));
    assert_eq!(
        output(&fx, "dev", "web", "seen"),
        format!("{vpc}/small+{vpc}/none"),
        "web got both upstreams' fresh outputs"
    );

    // Applied again with nothing changed: every instance is unchanged.
    let again = run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(again["status"], "succeeded");
    assert!(
        statuses(&again).iter().all(|(_, s)| s == "unchanged"),
        "{again}"
    );
    assert_eq!(
        output(&fx, "dev", "web", "seen"),
        format!("{vpc}/small+{vpc}/none")
    );
}

/// A second run with nothing changed skips `init` (it still plans).
#[test]
fn unchanged_rerun_skips_init() {
    let fx = two_stack_project();
    let first = run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let again = run_json(&fx, &["plan", "dev"], 0);
    let log = |doc: &serde_json::Value| {
        std::fs::read_to_string(
            fx.root()
                .join(".plinth/runs")
                .join(doc["run_id"].as_str().unwrap())
                .join("app/engine.log"),
        )
        .unwrap()
    };
    assert!(log(&first).contains("$ engine init"));
    let second = log(&again);
    assert!(
        !second.contains("$ engine init") && second.contains("$ engine plan"),
        "init is skipped when nothing it depends on changed:\n{second}"
    );
}

/// Environment `vars` < var files < `inputs`, and each value only reaches stacks that declare
/// the variable: the dependent never receives `region` or `tier`.
#[test]
fn env_vars_and_var_files_reach_only_the_declaring_instance() {
    let fx = two_stack_project();
    fx.write(
        "foundation/env/prod.tfvars",
        "tier = \"file-prod\"\nname = \"overridden-by-inputs\"\n",
    )
    // `tier` is not a variable of app: it must not be passed to app.
    .write(
        "app/env/dev.tfvars",
        "size = \"small\"\ntier = \"not-app\"\n",
    );

    let dev = run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let prod = run_json(&fx, &["apply", "prod", "--auto-approve"], 0);
    assert_eq!(dev["status"], "succeeded");
    assert_eq!(prod["status"], "succeeded");

    assert_eq!(
        output(&fx, "dev", "foundation", "vpc_id"),
        "net-dev|dev-region|vars-dev",
        "dev: env vars only (foundation has no dev var file)"
    );
    assert_eq!(
        output(&fx, "prod", "foundation", "vpc_id"),
        "net-prod|prod-region|file-prod",
        "prod: the var file beats env vars, inputs beat the var file"
    );
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/small"
    );
    assert_eq!(
        output(&fx, "prod", "app", "seen"),
        "net-prod|prod-region|file-prod/none",
        "app's dev var file does not reach prod"
    );

    // The generated var file of app holds exactly app's variables.
    let vars: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.root().join(".plinth/work/dev/app/plinth.tfvars.json"))
            .unwrap(),
    )
    .unwrap();
    let mut keys: Vec<&str> = vars
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["size", "vpc_id"]);
    let log = std::fs::read_to_string(
        fx.root()
            .join(".plinth/runs")
            .join(dev["run_id"].as_str().unwrap())
            .join("app/engine.log"),
    )
    .unwrap();
    assert!(!log.contains("undeclared variable"), "{log}");
}

/// Two environments of one stack: separate state files, lineages and work directories.
#[test]
fn two_environments_are_isolated() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let prod_before = state_snapshot(&fx)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains("/prod/"))
        .count();
    assert_eq!(prod_before, 0, "applying dev wrote nothing for prod");
    run_json(&fx, &["apply", "prod", "--auto-approve"], 0);

    let dev = state(&fx, "dev", "foundation");
    let prod = state(&fx, "prod", "foundation");
    assert_ne!(dev["lineage"], prod["lineage"], "two separate states");
    assert_eq!(
        dev["outputs"]["vpc_id"]["value"],
        "net-dev|dev-region|vars-dev"
    );
    assert_eq!(
        prod["outputs"]["vpc_id"]["value"],
        "net-prod|prod-region|vars-prod"
    );
    for env in ["dev", "prod"] {
        assert!(
            fx.root()
                .join(".plinth/work")
                .join(env)
                .join("foundation")
                .is_dir(),
            "{env} has its own TF_DATA_DIR"
        );
    }
    // No state was written into the stack directory itself.
    assert!(!fx.root().join("foundation/terraform.tfstate").exists());
    assert!(!fx.root().join("foundation/.terraform").exists());
}

/// An `inputs` key the stack does not declare is a configuration error at file:line:col,
/// found before any engine runs.
#[test]
fn undeclared_input_is_a_configuration_error_with_its_location() {
    let fx = two_stack_project();
    fx.write(
        "app/stack.hcl",
        &APP_HCL.replace("  vpc_id = dependency", "  vpc_idd = dependency"),
    );
    let out = run(&fx, &["plan", "dev", "--json"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("input `vpc_idd`"), "{err}");
    assert!(err.contains("app/stack.hcl:7:13"), "{err}");
    assert!(err.contains("did you mean `vpc_id`?"), "{err}");
    assert!(
        !fx.root().join(".plinth/work").exists(),
        "no engine ran before the error"
    );
}

/// A missing engine or one outside `engine_version` is named in a clear error.
#[test]
fn missing_or_wrong_engine_is_a_clear_error() {
    let fx = two_stack_project();
    fx.write(
        "plinth.hcl",
        &PROJECT.replace(
            "engine         = \"terraform\"",
            "engine = \"terraform-nowhere\"",
        ),
    );
    let out = run(&fx, &["plan", "dev"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("engine `terraform-nowhere`") && err.contains("not found on PATH"),
        "{err}"
    );

    fx.write(
        "plinth.hcl",
        &PROJECT.replace("engine         = \"terraform\"", "engine = \"bin/tf\""),
    );
    let out = run(&fx, &["plan", "dev"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("bin/tf` cannot be used"),
        "{}",
        stderr(&out)
    );

    // A version plinth.hcl does not accept is a configuration error.
    fx.write("plinth.hcl", &PROJECT.replace(">= 1.6", ">= 99.0"));
    let out = run(&fx, &["apply", "dev", "--auto-approve"]);
    assert_eq!(code(&out), 64);
    let err = stderr(&out);
    assert!(
        err.contains("terraform is version") && err.contains("\">= 99.0\""),
        "{err}"
    );
    assert!(state_snapshot(&fx).is_empty(), "nothing was applied");
}

/// Without `--plan` or `--auto-approve` and no terminal, apply refuses (exit 3).
#[test]
fn apply_without_flags_on_a_non_tty_is_refused() {
    let fx = two_stack_project();
    let out = run(&fx, &["apply", "dev"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("no terminal"), "{}", stderr(&out));
    assert!(state_snapshot(&fx).is_empty());
    assert!(!fx.root().join(".plinth/work").exists(), "not even planned");
}

/// A dependent whose upstream has neither state nor mock outputs is blocked with a reason;
/// with mocks it is planned preview-only.
#[test]
fn plan_blocks_without_state_or_mocks_and_previews_with_mocks() {
    let fx = two_stack_project();
    fx.write(
        "bare/stack.hcl",
        r#"dependency "net" {
  stack = "foundation"
}

inputs = {
  vpc_id = dependency.net.outputs.vpc_id
}
"#,
    )
    .write("bare/main.tf", APP_TF);

    let doc = run_json(&fx, &["plan", "dev"], 3);
    assert_eq!(doc["action"], "plan");
    assert_eq!(doc["status"], "blocked");
    let bare = instance(&doc, "bare");
    assert_eq!(bare["status"], "blocked");
    let reason = bare["reason"].as_str().unwrap();
    assert!(
        reason.contains("foundation") && reason.contains("no mock_outputs"),
        "{reason}"
    );
    let app = instance(&doc, "app");
    assert_eq!(app["status"], "succeeded");
    assert_eq!(app["preview_only"], true);
    assert_eq!(app["add"], 1);
    assert_eq!(instance(&doc, "foundation")["preview_only"], false);
    assert!(state_snapshot(&fx).is_empty(), "a plan writes no state");

    // Once the foundation is applied, nothing is blocked or preview-only any more.
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );
    let doc = run_json(&fx, &["plan", "dev"], 0);
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(instance(&doc, "foundation")["status"], "unchanged");
    for stack in ["app", "bare"] {
        let i = instance(&doc, stack);
        assert_eq!(
            (i["status"].as_str(), i["preview_only"].as_bool()),
            (Some("succeeded"), Some(false))
        );
    }
}

/// `--detailed-exitcode`: 2 while there are changes, 0 once applied.
#[test]
fn plan_detailed_exitcode_reports_changes() {
    let fx = two_stack_project();
    let out = run(&fx, &["plan", "dev", "--detailed-exitcode"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let out = run(&fx, &["plan", "dev", "--detailed-exitcode"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    fx.write("app/env/dev.tfvars", "size = \"large\"\n");
    let doc = run_json(&fx, &["plan", "dev", "--detailed-exitcode"], 2);
    assert_eq!(instance(&doc, "foundation")["status"], "unchanged");
    let app = instance(&doc, "app");
    assert_eq!(
        (
            app["status"].as_str(),
            app["add"].as_u64(),
            app["destroy"].as_u64()
        ),
        (Some("succeeded"), Some(0), Some(0))
    );
    assert_eq!(
        app["change"], 1,
        "terraform_data updates its input in place"
    );
}

/// The engine is run through a logging wrapper (`engine = "bin/terraform"`): dependents get
/// upstream outputs from the state file, never from an `output` or `state pull` process.
#[test]
fn upstream_outputs_are_read_from_state_without_spawning_the_engine() {
    let fx = two_stack_project();
    wrap_engine(&fx, PROJECT);

    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/small"
    );
    let calls = engine_calls(&fx);
    let mut calls: Vec<&str> = calls.iter().map(|c| c.2.as_str()).collect();
    calls.sort();
    assert_eq!(
        calls,
        ["apply", "apply", "init", "init", "version"],
        "one version check, then init and apply (which plans) per instance of an unprotected \
         environment; no output or state pull"
    );
}
