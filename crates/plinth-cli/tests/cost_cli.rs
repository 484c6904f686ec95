//! `plinth cost` end to end: the real binary on fixture projects of `terraform_data` stand-ins,
//! from code and from plans the real terraform made; usage files; budgets as CST001 findings
//! of `plinth check --env`; bad input.
//!
//! Most tests price against a small catalogue of round prices (`--prices`, `replace = true`),
//! so that every expected total is plain arithmetic; one prices the seed-002-like service with
//! the built-in catalogue, the figures docs/cost.md shows.

mod runs_support;
mod support;

use std::path::Path;

use serde_json::Value;
use support::{Fixture, code, stderr, stdout};

/// Round prices: a NAT gateway is $36.50/month (730 h × $0.05), a key $1, a provisioned WCU
/// $0.73/month in us-east-1 and $1.46 in eu-west-1, a million Lambda requests $0.20.
const PRICES: &str = r#"[catalogue]
name = "test prices"
date = "2026-11-30"
replace = true
free = ["aws_iam_*", "terraform_data"]

[usage.aws_lambda_function]
monthly_requests = 1_000_000

[[price]]
type = "aws_nat_gateway"
name = "hours"
unit = "hour"
hourly = true
price = { "*" = 0.05 }
source = "https://prices.example/nat"
read = "2026-11-30"

[[price]]
type = "aws_kms_key"
name = "key"
unit = "key-month"
price = { "*" = 1 }
source = "https://prices.example/kms"
read = "2026-11-30"

[[price]]
type = "aws_dynamodb_table"
name = "write capacity"
unit = "WCU-hour"
hourly = true
multiply = ["write_capacity"]
price = { us-east-1 = 0.001, eu-west-1 = 0.002 }
source = "https://prices.example/dynamodb"
read = "2026-11-30"

[[price]]
type = "aws_lambda_function"
name = "requests"
unit = "1M requests"
usage = ["monthly_requests"]
per = 1_000_000
price = { "*" = 0.2 }
source = "https://prices.example/lambda"
read = "2026-11-30"
"#;

const PROJECT: &str = r#"plinth {
  project        = "costs"
  engine         = "terraform"
  engine_version = ">= 1.6"
}

environment "dev" {
  vars = { region = "us-east-1" }
}

environment "prod" {
  vars      = { region = "eu-west-1" }
  protected = true
}
"#;

/// Known counts (2 NAT gateways, 3 keys, a module called twice with a 10-WCU table), one
/// count only the environment's var file decides, one unpriced type and one free one.
const APP_TF: &str = r#"variable "n" {
  type = number
}

locals {
  keys = toset(["a", "b", "c"])
}

resource "terraform_data" "nat" {
  count = 2
  input = { resource_type = "aws_nat_gateway" }
}

resource "terraform_data" "key" {
  for_each = local.keys
  input    = { resource_type = "aws_kms_key" }
}

resource "terraform_data" "extra_nat" {
  count = var.n
  input = { resource_type = "aws_nat_gateway" }
}

resource "terraform_data" "role" {
  input = { resource_type = "aws_iam_role" }
}

resource "terraform_data" "mystery" {
  input = { resource_type = "aws_quantum_annealer" }
}

module "tables" {
  source = "../modules/table"
  count  = 2
  wcu    = 10
}
"#;

const TABLE_TF: &str = r#"variable "wcu" {
  type = number
}

resource "terraform_data" "table" {
  input = {
    resource_type  = "aws_dynamodb_table"
    billing_mode   = "PROVISIONED"
    write_capacity = var.wcu
  }
}
"#;

/// Two functions: one with its usage stated per resource, one left to the assumption.
const FN_TF: &str = r#"resource "terraform_data" "api" {
  input = { resource_type = "aws_lambda_function", memory_size = 128 }
}

resource "terraform_data" "worker" {
  input = { resource_type = "aws_lambda_function", memory_size = 128 }
}
"#;

fn project() -> Fixture {
    let fx = Fixture::new();
    fx.write("plinth.hcl", PROJECT)
        .write("prices.toml", PRICES)
        .write("app/stack.hcl", "stack {}\n")
        .write("app/main.tf", APP_TF)
        .write("app/env/dev.tfvars", "n = 3\n")
        .write("app/env/prod.tfvars", "n = 1\n")
        .write("modules/table/main.tf", TABLE_TF)
        .write("fn/stack.hcl", "stack {}\n")
        .write("fn/main.tf", FN_TF)
        .write(
            "usage/dev.toml",
            "[stacks.\"fn\".\"terraform_data.api\"]\nmonthly_requests = 5_000_000\n",
        );
    fx
}

fn instance<'a>(doc: &'a Value, stack: &str) -> &'a Value {
    doc["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["stack"] == stack)
        .unwrap_or_else(|| panic!("no instance {stack} in {doc}"))
}

fn resource<'a>(instance: &'a Value, address: &str) -> &'a Value {
    instance["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("no resource {address} in {instance}"))
}

fn money(v: &Value) -> f64 {
    let x = v.as_f64().unwrap_or_else(|| panic!("not an amount: {v}"));
    (x * 100.0).round() / 100.0
}

#[test]
fn code_totals_are_exact_and_unknown_counts_are_reported() {
    let fx = project();
    let doc = fx.json(&[
        "cost",
        "dev",
        "--stack",
        "app",
        "--prices",
        &p(&fx, "prices.toml"),
        "--format",
        "json",
    ]);
    assert_eq!(doc["env"], "dev");
    assert_eq!(doc["currency"], "USD");
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["basis"], "code");
    assert_eq!(doc["prices"][0]["date"], "2026-11-30");
    let app = instance(&doc, "app");
    // 2 × $36.50 + 3 × $1 + 2 × (730 h × 10 WCU × $0.001)
    assert_eq!(money(&app["monthly"]), 73.00 + 3.00 + 14.60);
    assert_eq!(money(&doc["monthly"]), 90.60);
    let nat = resource(app, "terraform_data.nat");
    assert_eq!(
        (nat["type"].as_str(), nat["count"].as_u64()),
        (Some("aws_nat_gateway"), Some(2))
    );
    assert_eq!(resource(app, "terraform_data.key")["count"], 3);
    let tables = resource(app, "module.tables.terraform_data.table");
    assert_eq!(
        (tables["count"].as_u64(), money(&tables["each"])),
        (Some(2), 7.30)
    );
    let extra = resource(app, "terraform_data.extra_nat");
    assert_eq!(extra["status"], "unknown_count");
    assert_eq!(extra["count"], Value::Null);
    assert_eq!(extra["reason"], "count = var.n");
    assert_eq!(
        (money(&extra["each"]), money(&extra["monthly"])),
        (36.50, 0.0)
    );
    let mystery = resource(app, "terraform_data.mystery");
    assert_eq!(mystery["status"], "unpriced");
    assert_eq!(mystery["type"], "aws_quantum_annealer");
    assert_eq!(mystery["monthly"], 0.0);
    assert!(
        mystery["reason"].as_str().unwrap().contains("no price"),
        "{mystery}"
    );
    assert_eq!(resource(app, "terraform_data.role")["status"], "free");
    assert_eq!(
        (doc["unpriced"].as_u64(), doc["unknown_counts"].as_u64()),
        (Some(1), Some(1))
    );

    // prod is in eu-west-1, where the test catalogue's WCU costs twice as much.
    let prod = fx.json(&[
        "cost",
        "prod",
        "--stack",
        "app",
        "--prices",
        &p(&fx, "prices.toml"),
        "--format",
        "json",
    ]);
    assert_eq!(money(&prod["monthly"]), 73.00 + 3.00 + 29.20);

    let out = fx.plinth(&[
        "cost",
        "dev",
        "--stack",
        "app",
        "--prices",
        &p(&fx, "prices.toml"),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("prices: test prices (") && text.contains("read 2026-11-30)"),
        "{text}"
    );
    assert!(text.contains("dev/app: $90.60/month"), "{text}");
    assert!(
        text.contains("$36.50 each  count unknown: count = var.n"),
        "{text}"
    );
    assert!(
        text.contains("unpriced: no price for aws_quantum_annealer"),
        "{text}"
    );
    assert!(text.contains("+ 1 free (aws_iam_role)"), "{text}");
    assert!(text.contains("total dev: $90.60/month"), "{text}");
    assert!(
        text.contains("not in the total: 1 unpriced resource, 1 with a count unknown"),
        "{text}"
    );
}

#[test]
fn the_builtin_catalogue_prints_its_date() {
    let fx = project();
    let out = fx.plinth(&["cost", "dev", "--stack", "app"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The date as the embedded catalogue states it, not restated here.
    let catalogue = include_str!("../../plinth-cost/prices/catalogue.toml");
    let date = catalogue
        .lines()
        .find(|l| l.starts_with("date = "))
        .and_then(|l| l.split('"').nth(1))
        .expect("the catalogue has a date");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("prices: plinth built-in prices (read {date})")),
        "{text}"
    );
}

#[test]
fn usage_files_state_quantities_and_the_rest_is_marked_assumed() {
    let fx = project();
    let prices = p(&fx, "prices.toml");
    let doc = fx.json(&[
        "cost", "dev", "--stack", "fn", "--prices", &prices, "--format", "json",
    ]);
    assert_eq!(doc["usage_file"], "usage/dev.toml");
    let fns = instance(&doc, "fn");
    let api = resource(fns, "terraform_data.api");
    assert_eq!(
        api["components"][0]["quantity"], 5.0,
        "5M requests in units of 1M"
    );
    assert_eq!(money(&api["monthly"]), 1.00);
    assert_eq!(api["assumed"], false);
    let worker = resource(fns, "terraform_data.worker");
    assert_eq!(
        money(&worker["monthly"]),
        0.20,
        "the catalogue's assumed 1M requests"
    );
    assert_eq!(worker["assumed"], true);
    assert_eq!(worker["components"][0]["assumed"], true);
    assert_eq!(
        (
            money(&doc["monthly"]),
            money(&doc["usage"]),
            money(&doc["fixed"])
        ),
        (1.20, 1.20, 0.0)
    );
    assert_eq!(doc["assumed"], true);

    fx.write(
        "team-usage.toml",
        "[types.aws_lambda_function]\nmonthly_requests = 10_000_000\n",
    );
    let doc = fx.json(&[
        "cost",
        "dev",
        "--stack",
        "fn",
        "--prices",
        &prices,
        "--usage",
        &p(&fx, "team-usage.toml"),
        "--format",
        "json",
    ]);
    assert_eq!(
        money(&doc["monthly"]),
        4.00,
        "10M requests for each of two functions"
    );
    assert_eq!(doc["assumed"], false);

    let text = stdout(&fx.plinth(&["cost", "dev", "--stack", "fn", "--prices", &prices]));
    assert!(
        text.contains("requests: 1 × $0.20 per 1M requests = $0.20 *"),
        "{text}"
    );
    assert!(text.contains("* includes assumed usage"), "{text}");
}

#[test]
fn a_saved_plan_prices_exact_counts_and_its_delta() {
    let fx = project();
    let prices = p(&fx, "prices.toml");
    let plan = runs_support::run_json(&fx, &["plan", "dev", "--stack", "app"], 0);
    let run = plan["run_id"].as_str().unwrap().to_owned();
    let doc = fx.json(&[
        "cost", "dev", "--plan", &run, "--prices", &prices, "--format", "json",
    ]);
    assert_eq!(doc["basis"], "plan");
    assert_eq!(doc["run_id"], run.as_str());
    let app = instance(&doc, "app");
    // The plan knows var.n = 3 (env/dev.tfvars): three more NAT gateways than the code said.
    assert_eq!(money(&app["monthly"]), 90.60 + 3.0 * 36.50);
    assert_eq!(app["unknown_counts"], 0);
    assert_eq!(
        money(&app["delta"]),
        200.10,
        "nothing exists yet: all of it is new"
    );
    let extra: Vec<&Value> = app["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["address"]
                .as_str()
                .unwrap()
                .starts_with("terraform_data.extra_nat[")
        })
        .collect();
    assert_eq!(extra.len(), 3);
    assert!(
        extra
            .iter()
            .all(|r| r["type"] == "aws_nat_gateway" && money(&r["monthly"]) == 36.50)
    );
    assert_eq!(
        resource(app, r#"module.tables[1].terraform_data.table"#)["monthly"],
        7.30
    );

    let applied = runs_support::run(&fx, &["apply", "dev", "--plan", &run]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    fx.write("app/env/dev.tfvars", "n = 1\n");
    let second = runs_support::run_json(&fx, &["plan", "dev", "--stack", "app"], 0);
    let second = second["run_id"].as_str().unwrap().to_owned();
    let doc = fx.json(&[
        "cost", "dev", "--plan", &second, "--prices", &prices, "--format", "json",
    ]);
    let app = instance(&doc, "app");
    assert_eq!(money(&app["monthly"]), 90.60 + 36.50);
    assert_eq!(money(&app["delta"]), -73.00, "two NAT gateways go");
    let text = stdout(&fx.plinth(&["cost", "dev", "--plan", &second, "--prices", &prices]));
    assert!(
        text.contains("dev/app: $127.10/month (-$73.00 in this plan)"),
        "{text}"
    );
}

/// The seed-002-like service (crates/plinth-cost/tests/fixtures/seed-002) with the built-in
/// catalogue and its prod usage file: the figures docs/cost.md puts beside the seed's table.
#[test]
fn seed_002_like_service_against_its_readme_table() {
    let fx = seed_002();
    let doc = fx.json(&["cost", "prod", "--format", "json"]);
    let orders = instance(&doc, "services/orders");
    let by_type = |kind: &str| -> f64 {
        let sum: f64 = orders["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"].as_str().unwrap().starts_with(kind))
            .map(|r| r["monthly"].as_f64().unwrap())
            .sum();
        (sum * 100.0).round() / 100.0
    };
    assert_eq!(by_type("aws_dynamodb_table"), 75.00);
    assert_eq!(by_type("aws_secretsmanager_secret"), 0.50);
    assert_eq!(by_type("aws_kms_key"), 1.03);
    assert_eq!(by_type("aws_lambda_function"), 15.17);
    assert_eq!(by_type("aws_cloudwatch"), 15.99);
    assert_eq!(by_type("aws_sns_topic"), 0.50);
    assert_eq!(money(&doc["monthly"]), 108.19);
    assert_eq!(
        (doc["assumed"].as_bool(), doc["unpriced"].as_u64()),
        (Some(false), Some(0))
    );
    assert_eq!(doc["budget"]["over"], true);
    assert_eq!(doc["budget"]["severity"], "error");
}

#[test]
fn budgets_are_findings_by_environment() {
    let fx = seed_002();
    let check = |env: &str| -> (i32, Vec<Value>) {
        let out = fx.plinth(&["check", "--env", env, "--no-engine", "--format", "json"]);
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("check --env {env}: {e}\n{}", stderr(&out)));
        let cst = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "CST001")
            .cloned()
            .collect();
        (code(&out), cst)
    };
    let (exit, prod) = check("prod");
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0]["severity"], "error", "prod is protected");
    assert_eq!(
        (prod[0]["file"].as_str(), prod[0]["line"].as_u64()),
        (Some("plinth.hcl"), Some(23))
    );
    assert_eq!(
        prod[0]["message"],
        "prod is estimated at $108.19/month, over its budget of $100.00/month by $8.19"
    );
    assert_eq!(exit, 1, "an error fails the check");
    let (_, staging) = check("staging");
    assert_eq!(staging.len(), 1);
    assert_eq!(
        staging[0]["severity"], "warning",
        "staging is not protected"
    );
    assert_eq!(staging[0]["line"], 17);
    let (_, dev) = check("dev");
    assert!(dev.is_empty(), "dev has no budget: {dev:?}");

    // A budget the estimate fits in is no finding.
    let text = std::fs::read_to_string(fx.root().join("plinth.hcl")).unwrap();
    fx.write(
        "plinth.hcl",
        &text.replace("budget    = 100", "budget    = 120"),
    );
    assert!(check("prod").1.is_empty());
    let out = fx.plinth(&["check", "--explain", "CST001"]);
    assert!(stdout(&out).contains("over-budget"), "{}", stdout(&out));
}

#[test]
fn bad_input_is_a_usage_error() {
    let fx = project();
    fx.write(
        "broken.toml",
        "[catalogue]\nname = \"x\"\ndate = 2026-11-30\n[[price]\n",
    );
    let err = fx.usage_error(&["cost", "dev", "--prices", &p(&fx, "broken.toml")]);
    assert!(err.contains("broken.toml:4:"), "{err}");
    fx.write(
        "undated.toml",
        &PRICES.replace("date = \"2026-11-30\"\nreplace", "date = \"soon\"\nreplace"),
    );
    let err = fx.usage_error(&["cost", "dev", "--prices", &p(&fx, "undated.toml")]);
    assert!(err.contains("`soon` is not YYYY-MM-DD"), "{err}");
    fx.write(
        "usage/dev.toml",
        "[types.aws_lambda_function]\nmonthly_reqs = 5\n",
    );
    let err = fx.usage_error(&["cost", "dev"]);
    assert!(
        err.contains("unknown usage key `monthly_reqs`") && err.contains("usage/dev.toml:2:"),
        "{err}"
    );
    assert!(
        err.contains("monthly_requests"),
        "the help lists the keys: {err}"
    );
    fx.remove("usage/dev.toml");
    let err = fx.usage_error(&["cost", "staging"]);
    assert!(err.contains("staging"), "{err}");
    let err = fx.usage_error(&["cost", "dev", "--plan", "20261130-000000-abcdef"]);
    assert!(
        err.contains("no saved plan run") || err.contains("not a run id"),
        "{err}"
    );
    let err = fx.usage_error(&["cost", "dev", "--prices", "missing.toml"]);
    assert!(err.contains("cannot read missing.toml"), "{err}");
}

/// A path inside the fixture, as given on the command line.
fn p(fx: &Fixture, rel: &str) -> String {
    fx.root().join(rel).display().to_string()
}

fn seed_002() -> Fixture {
    let fx = Fixture::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plinth-cost/tests/fixtures/seed-002");
    copy(&src, &src, &fx);
    fx
}

fn copy(base: &Path, dir: &Path, fx: &Fixture) {
    for entry in std::fs::read_dir(dir).expect("the fixture exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copy(base, &path, fx);
        } else {
            let rel = path.strip_prefix(base).unwrap().to_str().unwrap();
            fx.write(rel, &std::fs::read_to_string(&path).unwrap());
        }
    }
}
