//! `plan_delta` and `plan_estimate` on plan JSON the real terraform wrote for `terraform_data`
//! stand-ins: a first plan (everything new), then a plan that resizes, removes and adds.

use std::path::Path;
use std::process::Command;

use plinth_cost::{Catalogue, Pricing, Status, Usage};
use serde_json::Value;

/// $0.10/hour per db.small and $0.20 per db.large (730 h: $73 and $146), $1 per key.
const PRICES: &str = r#"[catalogue]
name = "test prices"
date = "2026-11-30"
free = ["terraform_data"]

[[price]]
type = "aws_db_instance"
name = "instance"
unit = "hour"
hourly = true
by = ["instance_class"]
source = "https://prices.example/rds"
read = "2026-11-30"
[price.prices]
"db.small" = { "*" = 0.10 }
"db.large" = { "*" = 0.20 }

[[price]]
type = "aws_kms_key"
name = "key"
unit = "key-month"
price = { "*" = 1 }
source = "https://prices.example/kms"
read = "2026-11-30"
"#;

fn terraform(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform on PATH (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn plan_json(dir: &Path) -> Value {
    terraform(dir, &["plan", "-input=false", "-out=plan.tfplan"]);
    serde_json::from_str(&terraform(dir, &["show", "-json", "plan.tfplan"])).unwrap()
}

fn code(db_class: &str, keys: u32) -> String {
    format!(
        r#"resource "terraform_data" "db" {{
  input = {{ resource_type = "aws_db_instance", instance_class = "{db_class}" }}
}}

resource "terraform_data" "key" {{
  count = {keys}
  input = {{ resource_type = "aws_kms_key" }}
}}

resource "terraform_data" "robot" {{
  input = {{ resource_type = "aws_robot_arm" }}
}}
"#
    )
}

#[test]
fn delta_of_real_plans() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalogue = Catalogue::parse("prices.toml", PRICES, None).unwrap();
    let usage = Usage::none();
    let pricing = Pricing {
        catalogue: &catalogue,
        usage: &usage,
        region: "us-east-1",
    };
    std::fs::write(d.join("main.tf"), code("db.small", 3)).unwrap();
    terraform(d, &["init", "-input=false"]);

    let first = plan_json(d);
    let delta = plinth_cost::plan_delta(&first, &pricing, "svc");
    assert_eq!((delta.before, delta.after, delta.delta), (0.0, 76.0, 76.0));
    assert_eq!(delta.unpriced.len(), 1);
    assert_eq!(delta.unpriced[0].address, "terraform_data.robot");
    assert_eq!(delta.unpriced[0].kind, "aws_robot_arm");
    assert_eq!(delta.resources.len(), 4, "db and three keys are created");
    assert!(delta.resources.iter().all(|r| r.actions == ["create"]));
    assert_eq!(
        delta.summary(),
        "+$76.00/month ($0.00 → $76.00), 1 unpriced"
    );
    let estimate = plinth_cost::plan_estimate(&first, &pricing, "svc");
    assert_eq!(estimate.monthly, 76.0);
    assert_eq!(estimate.unpriced, 1);
    let db = estimate
        .resources
        .iter()
        .find(|r| r.address == "terraform_data.db")
        .unwrap();
    assert_eq!(
        (db.kind.as_str(), db.status, db.standin),
        ("aws_db_instance", Status::Priced, true)
    );

    terraform(
        d,
        &["apply", "-input=false", "-auto-approve", "plan.tfplan"],
    );
    std::fs::write(d.join("main.tf"), code("db.large", 1)).unwrap();
    let second = plan_json(d);
    let delta = plinth_cost::plan_delta(&second, &pricing, "svc");
    // db.small → db.large (+$73), two of three keys go (−$2).
    assert_eq!(
        (delta.before, delta.after, delta.delta),
        (76.0, 147.0, 71.0)
    );
    let db = delta
        .resources
        .iter()
        .find(|r| r.address == "terraform_data.db")
        .unwrap();
    assert_eq!((db.before, db.after, db.delta), (73.0, 146.0, 73.0));
    assert_ne!(db.actions, ["no-op"]);
    let gone: Vec<&str> = delta
        .resources
        .iter()
        .filter(|r| r.actions == ["delete"])
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(gone, ["terraform_data.key[1]", "terraform_data.key[2]"]);
    assert!(
        !delta
            .resources
            .iter()
            .any(|r| r.address == "terraform_data.key[0]"),
        "unchanged resources are not listed"
    );
}
