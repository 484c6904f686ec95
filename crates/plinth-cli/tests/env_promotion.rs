//! Promotion gates, `apply_via`, credentials and the var_files default, with the real
//! terraform, on the three layouts of DESIGN §2.2: per-module stacks on a foundation,
//! components with one composition per environment, one root with per-environment var files.

mod runs_support;
mod support;

use runs_support::*;
use support::{Fixture, code, stderr, stdout};

/// staging promotes from dev, prod from staging; no var_files setting (the default applies).
const PROJECT: &str = r#"plinth {
  project = "promo"
}

environment "dev" {
  vars = { region = "dev-region", tier = "vars-dev" }
}

environment "staging" {
  promote_from = "dev"
  vars         = { region = "staging-region", tier = "vars-staging" }
}

environment "prod" {
  promote_from = "staging"
  vars         = { region = "prod-region", tier = "vars-prod" }
}
"#;

/// A module both layouts call.
const MODULE_TF: &str = r#"variable "label" {
  type = string
}

resource "terraform_data" "m" {
  input = var.label
}

output "label" {
  value = terraform_data.m.output
}
"#;

/// Per-module stacks: `foundation` and `app` in every environment, and a per-environment
/// var file; plus components and one `envs/ENV` composition per environment.
fn layouts() -> Fixture {
    let fx = two_stack_project();
    fx.write("plinth.hcl", PROJECT)
        .write("app/env/prod.tfvars", "size = \"large\"\n")
        .write("components/label/main.tf", MODULE_TF);
    for env in ["dev", "staging", "prod"] {
        fx.write(
            &format!("envs/{env}/stack.hcl"),
            &format!("stack {{\n  environments = [\"{env}\"]\n}}\n"),
        )
        .write(
            &format!("envs/{env}/main.tf"),
            &format!(
                "module \"label\" {{\n  source = \"../../components/label\"\n  label  = \"{env}\"\n}}\n"
            ),
        );
    }
    fx
}

fn apply(fx: &Fixture, env: &str, expected: i32) -> String {
    let out = run(fx, &["apply", env, "--auto-approve"]);
    assert_eq!(code(&out), expected, "apply {env}: {}", stderr(&out));
    stderr(&out)
}

#[test]
fn prod_applies_only_what_staging_applied() {
    let fx = layouts();
    // Nothing applied upstream: every prod instance is refused before anything runs.
    let err = apply(&fx, "prod", 3);
    assert!(
        err.contains("promotion gate") && err.contains("nothing was applied"),
        "{err}"
    );
    assert!(
        err.contains("prod/foundation: its code")
            && err.contains("has not been applied in staging; staging never applied it"),
        "{err}"
    );
    assert!(
        err.contains("prod/envs/prod: module components/label at"),
        "a composition is gated on the modules it calls: {err}"
    );
    assert!(!state_path(&fx, "prod", "foundation").exists());

    apply(&fx, "dev", 0);
    apply(&fx, "staging", 0);
    apply(&fx, "prod", 0);
    assert_eq!(
        output(&fx, "prod", "app", "seen"),
        "net-prod|prod-region|vars-prod/large"
    );

    // A per-environment var file changes nothing promotion compares.
    fx.write("app/env/prod.tfvars", "size = \"huge\"\n");
    apply(&fx, "prod", 0);

    // A change of the shared module blocks prod (and staging) until it went through.
    fx.write("components/label/main.tf", &format!("{MODULE_TF}\n# v2\n"));
    let err = apply(&fx, "prod", 3);
    assert!(
        err.contains("prod/envs/prod: module components/label"),
        "{err}"
    );
    assert!(
        err.contains("staging last applied"),
        "names the upstream's last apply: {err}"
    );
    let out = run(&fx, &["promote", "staging", "prod", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |stack: &str| {
        doc["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["stack"] == stack)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("envs/prod"), "blocked");
    assert_eq!(status("foundation"), "current");
    apply(&fx, "dev", 0);
    apply(&fx, "staging", 0);
    let out = run(&fx, &["promote", "staging", "prod"]);
    assert!(
        stdout(&out).contains("envs/prod") && stdout(&out).contains("promotable"),
        "{}",
        stdout(&out)
    );
    apply(&fx, "prod", 0);

    // A code change of a stack in both environments: blocked, then overridden and recorded.
    fx.write("app/main.tf", &format!("{APP_TF}\n# hotfix\n"));
    apply(&fx, "staging", 3);
    let out = run(
        &fx,
        &[
            "apply",
            "staging",
            "--auto-approve",
            "--skip-promotion",
            "--reason",
            "hotfix INC-42",
            "--json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let run_id = report(&out)["run_id"].as_str().unwrap().to_string();
    let out = run(&fx, &["runs", &run_id, "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["run"]["skipped_promotion"], "hotfix INC-42", "{doc}");
}

#[test]
fn a_saved_plan_is_gated_too() {
    let fx = layouts();
    let plan = run_json(&fx, &["plan", "prod", "--stack", "foundation"], 0);
    let out = run(
        &fx,
        &["apply", "prod", "--plan", plan["run_id"].as_str().unwrap()],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("prod/foundation: its code"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_environment_applied_via_the_server_refuses_the_cli() {
    let fx = layouts();
    fx.write(
        "plinth.hcl",
        &PROJECT.replace("promote_from = \"staging\"", "apply_via = \"server\""),
    );
    let out = run(&fx, &["apply", "prod", "--auto-approve"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("applies only through pull requests on the plinth server"),
        "{}",
        stderr(&out)
    );
    let out = run(&fx, &["destroy", "prod", "--auto-approve"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    // Planning is still allowed from the CLI.
    run_json(&fx, &["plan", "prod", "--stack", "foundation"], 0);
}

/// A stack that writes what the engine's environment holds for `AWS_ACCESS_KEY_ID`.
const WITNESS_TF: &str = r#"resource "terraform_data" "w" {
  provisioner "local-exec" {
    command = "printf '%s' \"$AWS_ACCESS_KEY_ID\" > ../witness-$PLINTH_WITNESS"
  }
}
"#;

#[test]
fn credentials_reach_only_their_environment_and_a_missing_one_blocks() {
    let fx = Fixture::new();
    fx.write(
        "plinth.hcl",
        r#"environment "dev" {
  env = { PLINTH_WITNESS = "dev" }
}
environment "staging" {
  env         = { PLINTH_WITNESS = "staging" }
  credentials = { AWS_ACCESS_KEY_ID = "env:STAGING_KEY_ID" }
}
"#,
    )
    .write("w/stack.hcl", "")
    .write("w/main.tf", WITNESS_TF);
    let out = plinth_cmd(&fx, &["apply", "staging", "--auto-approve", "--json"])
        .env_remove("STAGING_KEY_ID")
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let doc = report(&out);
    let reason = instance(&doc, "w")["reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains(
            "credential AWS_ACCESS_KEY_ID of environment `staging` comes from STAGING_KEY_ID"
        ),
        "{reason}"
    );

    for env in ["staging", "dev"] {
        let out = plinth_cmd(&fx, &["apply", env, "--auto-approve", "-v"])
            .env("STAGING_KEY_ID", "AKIASTAGINGONLY00001")
            .env_remove("AWS_ACCESS_KEY_ID")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{env}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("AKIASTAGINGONLY00001"),
            "masked: {}",
            stderr(&out)
        );
    }
    let read =
        |env: &str| std::fs::read_to_string(fx.root().join(format!("witness-{env}"))).unwrap();
    assert_eq!(read("staging"), "AKIASTAGINGONLY00001");
    assert_eq!(
        read("dev"),
        "",
        "dev's engine never saw staging's credential"
    );
}

/// Seed 002's layout: `env/dev.tfvars` in one stack, `staging.tfvars` beside the code of
/// another, and no `var_files` setting at all.
#[test]
fn the_default_var_files_cover_both_conventions() {
    let fx = Fixture::new();
    fx.write("plinth.hcl", "environment \"dev\" {}\nenvironment \"staging\" {}\n")
        .write("svc/stack.hcl", "")
        .write("svc/main.tf", "variable \"size\" {\n  type    = string\n  default = \"none\"\n}\n\noutput \"size\" {\n  value = var.size\n}\n")
        .write("svc/env/dev.tfvars", "size = \"dev-from-env-dir\"\n")
        .write("svc/staging.tfvars", "size = \"staging-beside-code\"\n");
    for (env, want) in [
        ("dev", "dev-from-env-dir"),
        ("staging", "staging-beside-code"),
    ] {
        run_json(&fx, &["apply", env, "--auto-approve"], 0);
        assert_eq!(output(&fx, env, "svc", "size"), want);
    }
}
