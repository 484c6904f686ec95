//! PLN001 on real plan JSON: terraform applies a `terraform_data`, then a changed
//! `triggers_replace` makes the next plan replace it.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixture;
use plinth_check::plan_rules::{self, Destruction, PlanContext};
use plinth_diag::Severity;
use serde_json::Value;

fn terraform(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("terraform on PATH");
    assert!(
        out.status.success(),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Applies the fixture with generation 1, then plans generation 2 and returns the plan JSON.
fn replacement_plan(kind: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("PLN001", kind).join("main.tf"),
        dir.path().join("main.tf"),
    )
    .unwrap();
    terraform(dir.path(), &["init", "-input=false", "-no-color"]);
    terraform(
        dir.path(),
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    terraform(
        dir.path(),
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-var",
            "generation=2",
            "-out=next.tfplan",
        ],
    );
    serde_json::from_slice(&terraform(dir.path(), &["show", "-json", "next.tfplan"])).unwrap()
}

fn ctx(protected: bool) -> PlanContext {
    PlanContext {
        env: if protected { "prod" } else { "dev" }.into(),
        protected,
        stack: "data/orders".into(),
    }
}

#[test]
fn replacing_a_stateful_standin_blocks_apply_in_a_protected_environment() {
    let plan = replacement_plan("bad");
    let findings = plan_rules::evaluate(&plan, &ctx(true));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.rule, "PLN001");
    assert_eq!(f.address, "terraform_data.orders");
    assert_eq!(f.resource_type, "aws_dynamodb_table");
    assert_eq!(f.destruction, Destruction::Replace);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.blocks_apply);
    assert!(f.message.contains("prod/data/orders"), "{}", f.message);

    let dev = plan_rules::evaluate(&plan, &ctx(false));
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].severity, Severity::Warning);
    assert!(!dev[0].blocks_apply);
}

#[test]
fn replacing_a_stateless_resource_is_fine() {
    let plan = replacement_plan("good");
    let actions = plan
        .pointer("/resource_changes/0/change/actions")
        .unwrap()
        .clone();
    assert_eq!(
        actions,
        serde_json::json!(["delete", "create"]),
        "the fixture must really replace"
    );
    assert!(plan_rules::evaluate(&plan, &ctx(true)).is_empty());
}

#[test]
fn deletes_of_real_resource_types_are_flagged_and_creates_are_not() {
    let plan = serde_json::json!({"resource_changes": [
        {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance",
         "change": {"actions": ["delete"], "before": {}, "after": null}},
        {"address": "aws_s3_bucket.new", "mode": "managed", "type": "aws_s3_bucket",
         "change": {"actions": ["create"], "before": null, "after": {}}},
        {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key",
         "change": {"actions": ["create", "delete"], "before": {}, "after": {}}},
        {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role",
         "change": {"actions": ["delete"], "before": {}, "after": null}}
    ]});
    let findings = plan_rules::evaluate(&plan, &ctx(true));
    let got: Vec<(&str, Destruction)> = findings
        .iter()
        .map(|f| (f.address.as_str(), f.destruction))
        .collect();
    assert_eq!(
        got,
        vec![
            ("aws_db_instance.main", Destruction::Delete),
            ("aws_kms_key.k", Destruction::Replace)
        ]
    );
}
