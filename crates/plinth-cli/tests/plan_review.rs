//! What every plan is reviewed for, with the real terraform on `terraform_data` stand-ins:
//! team policies in Rego (written here: deny deleting a stateful resource, deny untagged
//! resources, warn without an owner tag) reported in the plan's text and JSON, gating apply in
//! a protected environment until an owner runs `plinth approve-policy`; the monthly cost delta
//! of priced stand-ins and the budget (CST001); and the endpoints override of a local
//! environment, which only that environment's instances see.

mod runs_support;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use runs_support::*;
use serde_json::Value;
use support::{Fixture, code, stderr, stdout};

const PROJECT: &str = r#"plinth {
  project        = "review"
  engine         = "terraform"
  engine_version = ">= 1.6"
  var_files      = ["env/${env.name}.tfvars"]
}

environment "dev" {
  vars   = { region = "us-east-1" }
  budget = 10
}

environment "prod" {
  vars      = { region = "us-east-1" }
  protected = true
  budget    = 30
}

policy "plans" {
  paths  = ["policies/"]
  owners = ["platform-lead", "security"]
}
"#;

/// Prod's usage: no NAT traffic, a small table, a busy queue.
const PROD_USAGE: &str = r#"[types.aws_nat_gateway]
monthly_data_processed_gb = 0

[types.aws_dynamodb_table]
monthly_write_request_units = 2_000_000
monthly_read_request_units = 4_000_000
storage_gb = 2

[types.aws_sqs_queue]
monthly_requests = 3_000_000
"#;

/// A NAT gateway stand-in: $0.045/hour in us-east-1, 730 hours a month.
const NETWORK_TF: &str = r#"variable "region" {}

resource "terraform_data" "nat" {
  input = {
    resource_type = "aws_nat_gateway"
    tags          = { team = "net", owner = "ana" }
  }
}
"#;

/// A stateful table that a variable can delete, and an untagged queue it can add.
const DATA_TF: &str = r#"variable "region" {}

variable "keep_orders" {
  type    = bool
  default = true
}

variable "add_cache" {
  type    = bool
  default = false
}

resource "terraform_data" "orders" {
  count = var.keep_orders ? 1 : 0
  input = {
    resource_type = "aws_dynamodb_table"
    billing_mode  = "PAY_PER_REQUEST"
    tags          = { team = "data" }
  }
}

resource "terraform_data" "cache" {
  count = var.add_cache ? 1 : 0
  input = {
    resource_type = "aws_sqs_queue"
  }
}
"#;

/// Nothing priced: a plain `terraform_data` costs nothing by itself.
const APP_TF: &str = r#"variable "region" {}

resource "terraform_data" "app" {
  input = {
    tags = { team = "app", owner = "bo" }
  }
}
"#;

const STATEFUL_REGO: &str = r#"# Deleting a stateful resource needs an owner's approval.
package main

import rego.v1

stateful := {"aws_db_instance", "aws_rds_cluster", "aws_dynamodb_table", "aws_s3_bucket"}

# terraform_data stand-ins name the type they stand for in their input.
kind(rc) := rc.change.before.input.resource_type if rc.type == "terraform_data"

kind(rc) := rc.type if rc.type != "terraform_data"

deny contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	kind(rc) in stateful
	msg := sprintf("%s deletes stateful %s", [rc.address, kind(rc)])
}
"#;

const TAGS_REGO: &str = r#"# Every created resource carries tags, and should name an owner.
package main

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	"create" in rc.change.actions
	not rc.change.after.input.tags
	msg := sprintf("%s has no tags", [rc.address])
}

warn contains msg if {
	some rc in input.resource_changes
	"create" in rc.change.actions
	rc.change.after.input.tags
	not rc.change.after.input.tags.owner
	msg := sprintf("%s: tag `owner` is recommended", [rc.address])
}
"#;

fn review_project() -> Fixture {
    let fx = Fixture::new();
    fx.write("plinth.hcl", PROJECT)
        .write("network/stack.hcl", "stack {}\n")
        .write("network/main.tf", NETWORK_TF)
        .write("data/stack.hcl", "stack {}\n")
        .write("data/main.tf", DATA_TF)
        .write("app/stack.hcl", "stack {}\n")
        .write("app/main.tf", APP_TF)
        .write("policies/stateful.rego", STATEFUL_REGO)
        .write("policies/tags.rego", TAGS_REGO)
        .write("usage/prod.toml", PROD_USAGE);
    fx
}

/// Runs `plinth --json ARGS` and returns the report with the summary table (on stderr),
/// flattened: borders gone and whitespace collapsed, so a note wrapped inside its column
/// reads as one line.
fn plan_json(fx: &Fixture, args: &[&str], expected: i32) -> (Value, String) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(fx, &all);
    assert_eq!(code(&out), expected, "plinth {all:?}:\n{}", stderr(&out));
    let doc = report(&out);
    check_report_shape(&doc);
    let flat = stderr(&out)
        .replace(['│', '┌', '┐', '└', '┘', '─', '═', '╞', '╡'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (doc, flat)
}

fn run_id(doc: &Value) -> String {
    doc["run_id"].as_str().expect("a run id").to_string()
}

/// `(kind, policy, message)` of an instance's policy findings.
fn findings(doc: &Value, stack: &str) -> Vec<(String, String, String)> {
    instance(doc, stack)["policy_findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["kind"].as_str().unwrap().to_string(),
                        f["policy"].as_str().unwrap().to_string(),
                        f["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `plinth approve-policy ARGS` as local user `user`.
fn approve_as(fx: &Fixture, user: &str, args: &[&str]) -> Output {
    let mut all = vec!["approve-policy"];
    all.extend_from_slice(args);
    plinth_cmd(fx, &all)
        .env("USER", user)
        .env("LOGNAME", user)
        .output()
        .expect("run plinth")
}

fn deny(message: &str) -> (String, String, String) {
    ("deny".into(), "plans".into(), message.into())
}

/// Prod is protected: a plan that deletes the stateful table and adds an untagged queue is
/// denied, reported in the table and the JSON, and its apply refused (exit 3) with the
/// policy, the messages, the owners and the command; a non-owner's approval is refused, an
/// owner's lets the apply through. The cost delta and the budget come with every plan.
#[test]
fn a_denied_plan_in_a_protected_environment_applies_only_after_an_owner_approves() {
    let fx = review_project();

    let (first, table) = plan_json(&fx, &["plan", "prod"], 0);
    // Tagged creations deny nothing; the table without an owner tag gets a warning.
    assert_eq!(
        findings(&first, "data"),
        [(
            "warn".to_string(),
            "plans".to_string(),
            "terraform_data.orders[0]: tag `owner` is recommended".to_string()
        )]
    );
    assert!(findings(&first, "network").is_empty());
    // 730 hours × $0.045 of the NAT gateway stand-in, no traffic (usage/prod.toml).
    assert_eq!(instance(&first, "network")["monthly_delta"], 32.85);
    assert_eq!(
        instance(&first, "network")["cost"],
        "+$32.85/month ($0.00 → $32.85)"
    );
    // 2M writes × $0.625 + 4M reads × $0.125 + 2 GB × $0.25.
    assert_eq!(instance(&first, "data")["monthly_delta"], 2.25);
    // Nothing priced in a plain terraform_data: no cost, not $0.
    assert!(instance(&first, "app").get("monthly_delta").is_none());
    assert!(instance(&first, "app").get("cost").is_none());
    let budget = &first["findings"][0];
    assert_eq!(budget["rule"], "CST001");
    assert_eq!(budget["severity"], "error", "prod is protected");
    assert!(
        budget["message"].as_str().unwrap().starts_with(
            "prod is estimated at $35.10/month, over its budget of $30.00/month by $5.10"
        ),
        "{budget}"
    );
    assert!(
        table.contains("COST/MONTH NOTE")
            && table.contains("prod/network succeeded 1 0 0")
            && table.contains("+$32.85"),
        "{table}"
    );
    assert!(
        table.contains("error CST001: prod is estimated at"),
        "{table}"
    );
    assert!(
        table.contains("policy plans warn terraform_data.orders[0]: tag `owner` is recommended"),
        "{table}"
    );
    // Warnings block nothing.
    let (applied, _) = plan_json(&fx, &["apply", "prod", "--plan", &run_id(&first)], 0);
    assert_eq!(instance(&applied, "data")["status"], "succeeded");

    fx.write(
        "data/env/prod.tfvars",
        "keep_orders = false\nadd_cache   = true\n",
    );
    let (second, table) = plan_json(&fx, &["plan", "prod"], 0);
    let denied = run_id(&second);
    assert_eq!(
        findings(&second, "data"),
        [
            deny("terraform_data.cache[0] has no tags"),
            deny("terraform_data.orders[0] deletes stateful aws_dynamodb_table"),
        ]
    );
    assert_eq!(instance(&second, "network")["status"], "unchanged");
    // The table goes ($2.25), the queue comes (3M requests × $0.40).
    assert_eq!(
        instance(&second, "data")["cost"],
        "-$1.05/month ($2.25 → $1.20)"
    );
    let note = instance(&second, "data")["reason"].as_str().unwrap();
    assert!(
        note.contains("needs an owner's approval")
            && note.contains(&format!("plinth approve-policy {denied}")),
        "{note}"
    );
    for text in [
        "policy plans deny terraform_data.orders[0] deletes stateful aws_dynamodb_table",
        "policy plans deny terraform_data.cache[0] has no tags",
        "-$1.05",
    ] {
        assert!(table.contains(text), "`{text}` in\n{table}");
    }

    let refused = run(
        &fx,
        &["apply", "prod", "--plan", &denied, "--approve-destructive"],
    );
    assert_eq!(code(&refused), 3, "{}", stderr(&refused));
    let err = stderr(&refused);
    for text in [
        "prod/data",
        "denied by policy `plans`",
        "terraform_data.orders[0] deletes stateful aws_dynamodb_table",
        "owners of `plans`: platform-lead, security",
        &format!("plinth approve-policy {denied}"),
        "nothing was applied",
    ] {
        assert!(err.contains(text), "`{text}` in\n{err}");
    }
    assert_eq!(
        resource_count(&fx, "prod", "data"),
        1,
        "the table is still there"
    );

    let mallory = approve_as(&fx, "mallory", &[&denied]);
    assert_eq!(code(&mallory), 3, "{}", stderr(&mallory));
    let err = stderr(&mallory);
    assert!(
        err.contains("mallory@")
            && err.contains("owners of `plans`: platform-lead, security")
            && err.contains("nothing was recorded"),
        "{err}"
    );
    let still = run(
        &fx,
        &["apply", "prod", "--plan", &denied, "--approve-destructive"],
    );
    assert_eq!(code(&still), 3, "a refused approval records nothing");

    let lead = approve_as(
        &fx,
        "platform-lead",
        &[&denied, "--reason", "orders moved to the new table"],
    );
    assert_eq!(code(&lead), 0, "{}", stderr(&lead));
    assert!(
        stdout(&lead).contains("approved policy `plans` for prod/data"),
        "{}",
        stdout(&lead)
    );
    let (applied, _) = plan_json(
        &fx,
        &["apply", "prod", "--plan", &denied, "--approve-destructive"],
        0,
    );
    assert_eq!(instance(&applied, "data")["status"], "succeeded");
    let addresses: Vec<String> = state(&fx, "prod", "data")["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(addresses, ["cache"]);
}

/// In an unprotected environment a deny is reported like anywhere else but gates nothing,
/// and the budget finding is a warning.
#[test]
fn a_deny_in_an_unprotected_environment_is_reported_and_does_not_block() {
    let fx = review_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write(
        "data/env/dev.tfvars",
        "keep_orders = false\nadd_cache   = true\n",
    );
    let (plan, _) = plan_json(&fx, &["plan", "dev"], 0);
    assert_eq!(
        findings(&plan, "data"),
        [
            deny("terraform_data.cache[0] has no tags"),
            deny("terraform_data.orders[0] deletes stateful aws_dynamodb_table"),
        ]
    );
    assert!(
        instance(&plan, "data").get("reason").is_none(),
        "no approval asked: {}",
        instance(&plan, "data")
    );
    // Without a usage file, the catalogue's assumptions: the table's 1M writes, 1M reads and
    // 1 GB ($1.00) go, the queue's 1M requests ($0.40) come.
    assert_eq!(instance(&plan, "data")["monthly_delta"], -0.6);
    // Unchanged stacks count from their code: the NAT gateway with 10 GB assumed ($33.30)
    // and the queue after the plan.
    assert_eq!(plan["findings"][0]["rule"], "CST001");
    assert_eq!(plan["findings"][0]["severity"], "warning");
    assert!(
        plan["findings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("dev is estimated at $33.70/month, over its budget of $10.00/month"),
        "{}",
        plan["findings"][0]
    );
    let (applied, _) = plan_json(&fx, &["apply", "dev", "--plan", &run_id(&plan)], 0);
    assert_eq!(instance(&applied, "data")["status"], "succeeded");
}

/// A policy that does not parse stops the plan before any engine runs, at its file:line.
#[test]
fn a_rego_syntax_error_is_a_configuration_error_at_its_line() {
    let fx = review_project();
    fx.write(
        "policies/broken.rego",
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    let out = run(&fx, &["plan", "dev"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("policies/broken.rego:") && err.contains("Rego syntax error"),
        "{err}"
    );
    assert!(
        !fx.root().join(".plinth/runs").exists(),
        "nothing ran: {err}"
    );
}

/// The example's `local` environment: its instances of a stack that uses AWS run in a mirror
/// of the stack with the generated provider override (valid `terraform fmt` output); the
/// stack directory never holds it, so dev's run of the same stack, and stacks without AWS, do
/// not see it. No AWS provider is downloadable here: a CLI configuration with an empty
/// provider mirror makes the stack's `init` fail at once, after the files are in place.
#[test]
fn the_endpoints_override_reaches_only_the_local_environment() {
    let fx = Fixture::new();
    fx.write(
        "plinth.hcl",
        r#"plinth {
  project = "emulated"
  engine  = "terraform"
}

environment "dev" {}

environment "local" {
  lifecycle = "persistent"
  endpoints = { aws = "http://localhost:4566" }
}
"#,
    )
    .write("queue/stack.hcl", "stack {}\n")
    .write(
        "queue/main.tf",
        "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nresource \"aws_sqs_queue\" \"jobs\" {\n  name = \"jobs\"\n}\n",
    )
    .write("plain/stack.hcl", "stack {}\n")
    .write("plain/main.tf", "resource \"terraform_data\" \"x\" {}\n")
    .write("mirror/.keep", "")
    .write(
        "terraform.rc",
        &format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            fx.root().join("mirror").display()
        ),
    );
    let plan = |env: &str| {
        plinth_cmd(&fx, &["plan", env, "--json"])
            .env("TF_CLI_CONFIG_FILE", fx.root().join("terraform.rc"))
            .output()
            .expect("run plinth")
    };
    let local = plan("local");
    let doc = report(&local);
    assert_eq!(
        instance(&doc, "plain")["status"],
        "succeeded",
        "{}",
        stderr(&local)
    );
    assert_eq!(
        instance(&doc, "queue")["status"],
        "failed",
        "init cannot fetch aws here"
    );

    assert!(
        !stderr(&local).contains("COST/MONTH"),
        "nothing priced, no cost column:\n{}",
        stderr(&local)
    );
    let generated = fx
        .root()
        .join(".plinth/work/local/queue/.tree/queue/plinth_endpoints_override.tf");
    let text = std::fs::read_to_string(&generated).expect("the override is in local's mirror");
    for line in [
        "provider \"aws\" {",
        "    s3             = \"http://localhost:4566\"",
        "    sts            = \"http://localhost:4566\"",
        "  skip_credentials_validation = true",
        "  s3_use_path_style           = true",
    ] {
        assert!(text.contains(line), "`{line}` in\n{text}");
    }
    let fmt = Command::new("terraform")
        .args(["fmt", "-check", "-diff"])
        .arg(&generated)
        .output()
        .expect("terraform on PATH");
    assert!(
        fmt.status.success(),
        "terraform fmt -check: {}",
        String::from_utf8_lossy(&fmt.stdout)
    );
    let linked = generated.with_file_name("main.tf");
    assert_eq!(
        std::fs::read_link(&linked).expect("the code is linked, not copied"),
        fx.root().join("queue/main.tf")
    );
    assert!(
        !fx.root()
            .join("plain/plinth_endpoints_override.tf")
            .exists()
            && !fx.root().join(".plinth/work/local/plain/.tree").exists(),
        "a stack without AWS runs as it is"
    );

    let dev = plan("dev");
    let doc = report(&dev);
    assert_eq!(instance(&doc, "queue")["status"], "failed");
    assert!(!fx.root().join(".plinth/work/dev/queue/.tree").exists());
    for stack in ["queue", "plain"] {
        let names = names_in(&fx.root().join(stack));
        assert!(
            !names.iter().any(|n| n == "plinth_endpoints_override.tf"),
            "{stack}: {names:?}"
        );
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}
