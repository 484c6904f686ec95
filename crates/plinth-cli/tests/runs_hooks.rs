//! Deploy steps with the real terraform: `hooks` of stacks and environments see the outputs
//! they should, fail their instance when they fail or pass their timeout, and `getenv` hands
//! a stack a value from CI that is part of the plan's fingerprint.

mod runs_support;
mod support;

use runs_support::*;
use support::{Fixture, code, stderr};

/// A stack with a plain and a sensitive output, and a hook that writes what it sees.
const SVC_TF: &str = r#"variable "tag" {
  type    = string
  default = "none"
}

resource "terraform_data" "svc" {
  input = var.tag
}

output "binding" {
  value = "kv-${terraform_data.svc.output}"
}

output "token" {
  value     = "tok-s3cr3t-value"
  sensitive = true
}
"#;

const SEE: &str = r#"printf 'env=%s stack=%s binding=%s token=%s\n' "$PLINTH_ENV" "$PLINTH_STACK" "$PLINTH_OUTPUT_BINDING" "${PLINTH_OUTPUT_TOKEN:-unset}" > "../seen-$PLINTH_STACK.txt"; cp "$PLINTH_OUTPUTS" "../outputs-$PLINTH_STACK.json""#;

fn project(hooks: &str, inputs: &str) -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "plinth.hcl",
        "environment \"dev\" {\n  hooks {\n    after_apply = [\"sh -c 'echo env-hook >> env-hook.txt; test -n \\\"$PLINTH_OUTPUT_SVC_BINDING\\\"'\"]\n  }\n}\n",
    )
    .write("svc/stack.hcl", &format!("{hooks}\n{inputs}"))
    .write("svc/main.tf", SVC_TF)
    .write(
        "app/stack.hcl",
        "dependency \"svc\" {\n  stack = \"svc\"\n}\n\ninputs = {\n  tag = dependency.svc.outputs.binding\n}\n",
    )
    .write("app/main.tf", SVC_TF);
    fx
}

/// A `hooks` block running `after_apply` (`${` escaped as HCL wants it: `$${`).
fn hooks(after_apply: &str, extra: &str) -> String {
    let command = format!("{after_apply:?}").replace("${", "$${");
    format!("hooks {{\n  after_apply = [{command}]\n{extra}}}\n")
}

#[test]
fn a_hook_sees_the_outputs_and_not_a_sensitive_one_unless_revealed() {
    let fx = project(&hooks(SEE, ""), "");
    let out = run(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let seen = std::fs::read_to_string(fx.root().join("seen-svc.txt")).unwrap();
    assert_eq!(seen, "env=dev stack=svc binding=kv-none token=unset\n");
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fx.root().join("outputs-svc.json")).unwrap())
            .unwrap();
    assert_eq!(outputs["binding"], "kv-none");
    assert_eq!(outputs["token"], "(sensitive)");
    let doc = report(&out);
    assert_eq!(instance(&doc, "svc")["hooks"][0]["exit_code"], 0);
    // The environment's hook ran once, after every instance, with every stack's outputs.
    assert_eq!(
        std::fs::read_to_string(fx.root().join("env-hook.txt")).unwrap(),
        "env-hook\n"
    );
    assert_eq!(doc["hooks"][0]["exit_code"], 0);
    // The history keeps each hook.
    let runs = run(&fx, &["runs", doc["run_id"].as_str().unwrap(), "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs["hooks"].as_array().unwrap().len(), 2, "{runs}");

    // With reveal, the sensitive output reaches the hook, and never the log.
    let fx = project(&hooks(SEE, "  reveal = true\n"), "");
    let out = run(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let seen = std::fs::read_to_string(fx.root().join("seen-svc.txt")).unwrap();
    assert!(seen.contains("token=tok-s3cr3t-value"), "{seen}");
    let log = std::fs::read_to_string(
        fx.root()
            .join(".plinth/runs")
            .join(report(&out)["run_id"].as_str().unwrap())
            .join("svc/engine.log"),
    )
    .unwrap();
    assert!(log.contains("$ hook after_apply"), "{log}");
}

#[test]
fn a_failing_hook_fails_its_instance_and_skips_dependents() {
    let fx = project(
        &hooks(
            "echo deploying; echo 'wrangler: auth error' >&2; exit 3",
            "",
        ),
        "",
    );
    let out = run(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc = report(&out);
    let svc = instance(&doc, "svc");
    assert_eq!(svc["status"], "failed");
    let reason = svc["reason"].as_str().unwrap();
    assert!(
        reason.contains("after_apply hook")
            && reason.contains("failed (exit 3)")
            && reason.contains("wrangler: auth error"),
        "the exit code and the last lines: {reason}"
    );
    assert_eq!(instance(&doc, "app")["status"], "skipped");
    assert!(
        !fx.root().join("env-hook.txt").exists(),
        "the environment's hook did not run"
    );
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_reported() {
    let fx = project(
        &hooks(
            "echo started > ../hung.txt; exec sleep 600",
            "  timeout = \"1s\"\n",
        ),
        "",
    );
    let out = run(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc = report(&out);
    let svc = instance(&doc, "svc");
    assert!(
        svc["reason"]
            .as_str()
            .unwrap()
            .contains("passed its timeout and was killed"),
        "{doc}"
    );
    assert_eq!(svc["hooks"][0]["timed_out"], true);
    assert!(fx.root().join("hung.txt").is_file());
}

#[test]
fn after_destroy_runs_after_a_destroy() {
    let fx = project(
        "hooks {\n  after_destroy = [\"echo gone > ../destroyed-$PLINTH_STACK.txt\"]\n}\n",
        "",
    );
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert!(!fx.root().join("destroyed-svc.txt").exists());
    run_json(&fx, &["destroy", "dev", "--auto-approve"], 0);
    assert_eq!(
        std::fs::read_to_string(fx.root().join("destroyed-svc.txt")).unwrap(),
        "gone\n"
    );
}

#[test]
fn getenv_reaches_the_stack_and_a_changed_value_makes_the_plan_stale() {
    let fx = project("", "inputs = {\n  tag = getenv(\"IMAGE_TAG\")\n}\n");
    // Unset and no default: a configuration error where the file asks for it.
    let out = plinth_cmd(&fx, &["plan", "dev"])
        .env_remove("IMAGE_TAG")
        .output()
        .unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("environment variable IMAGE_TAG is not set")
            && stderr(&out).contains("svc/stack.hcl:3:9"),
        "{}",
        stderr(&out)
    );
    let plan = plinth_cmd(&fx, &["plan", "dev", "--stack", "svc", "--json"])
        .env("IMAGE_TAG", "v1.2.3")
        .output()
        .unwrap();
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let run_id = report(&plan)["run_id"].as_str().unwrap().to_string();
    let out = plinth_cmd(&fx, &["apply", "dev", "--plan", &run_id])
        .env("IMAGE_TAG", "v1.2.4")
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stale: input tag changed"),
        "{}",
        stderr(&out)
    );
    let out = plinth_cmd(&fx, &["apply", "dev", "--plan", &run_id])
        .env("IMAGE_TAG", "v1.2.3")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(output(&fx, "dev", "svc", "binding"), "kv-v1.2.3");
}
