//! Team policies in Rego on real plan JSON: terraform applies `terraform_data` stand-ins,
//! then plans a deletion of a stateful one and the creation of an untagged one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixture;
use plinth_check::rego::{self, PolicyError, PolicyKind, PolicySet};
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

fn plan_json(dir: &Path, vars: &[&str]) -> Value {
    let mut args = vec!["plan", "-input=false", "-no-color", "-out=next.tfplan"];
    for v in vars {
        args.push("-var");
        args.push(v);
    }
    terraform(dir, &args);
    serde_json::from_slice(&terraform(dir, &["show", "-json", "next.tfplan"])).unwrap()
}

/// Returns the plan that creates everything and, after applying it, the plan that deletes
/// the orders table and creates an untagged cache.
fn plans() -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("rego", "plan").join("main.tf"),
        dir.path().join("main.tf"),
    )
    .unwrap();
    terraform(dir.path(), &["init", "-input=false", "-no-color"]);
    let first = plan_json(dir.path(), &[]);
    terraform(
        dir.path(),
        &["apply", "-input=false", "-no-color", "next.tfplan"],
    );
    let second = plan_json(dir.path(), &["keep_orders=false", "add_cache=true"]);
    (first, second)
}

fn team_policies() -> PolicySet {
    PolicySet::load("plans", &[fixture("rego", "policies")]).unwrap()
}

#[test]
fn deny_and_warn_rules_report_their_messages_on_real_plans() {
    let policies = team_policies();
    let names: Vec<String> = policies
        .files()
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["stateful.rego", "tags.rego"],
        "tests are not loaded"
    );

    let (first, second) = plans();
    let findings = policies.evaluate(&first).unwrap();
    assert!(
        findings.iter().all(|f| f.kind == PolicyKind::Warn),
        "creating tagged resources denies nothing: {findings:#?}"
    );
    let warned: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        warned,
        [
            "terraform_data.orders[0]: tag `team` is recommended",
            "terraform_data.queue: tag `team` is recommended"
        ]
    );
    assert!(
        findings
            .iter()
            .all(|f| f.rule == "warn_owner" && f.policy == "plans" && f.package == "main")
    );

    let findings = policies.evaluate(&second).unwrap();
    let denied: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.kind == PolicyKind::Deny)
        .map(|f| (f.rule.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        denied,
        [
            ("deny", "terraform_data.cache[0] has no tags"),
            (
                "deny",
                "terraform_data.orders[0] deletes stateful aws_dynamodb_table"
            ),
        ],
        "{findings:#?}"
    );
}

#[test]
fn a_policy_set_is_reused_across_plans_without_leaking_input() {
    let policies = team_policies();
    let (_, second) = plans();
    assert!(!policies.evaluate(&second).unwrap().is_empty());
    let empty = serde_json::json!({"resource_changes": []});
    assert_eq!(policies.evaluate(&empty).unwrap(), []);
}

#[test]
fn an_unparsable_policy_names_its_file_and_line() {
    let err = PolicySet::load("plans", &[fixture("rego", "broken")]).unwrap_err();
    let PolicyError::Parse {
        ref path,
        line,
        column,
        ref message,
        ..
    } = err
    else {
        panic!("not a parse error: {err}");
    };
    assert!(path.ends_with("broken/bad.rego"), "{}", path.display());
    assert_eq!(line, 6, "{err}");
    assert!(column > 0, "{err}");
    assert!(!message.is_empty());
    let shown = err.to_string();
    assert!(shown.starts_with("policy `plans`: "), "{shown}");
    assert!(shown.contains("bad.rego:6:"), "{shown}");
}

#[test]
fn a_policy_without_package_main_is_an_error_not_a_silent_pass() {
    let err = PolicySet::load("plans", &[fixture("rego", "v0")]).unwrap_err();
    assert!(matches!(err, PolicyError::NoPackage { .. }), "{err}");
    assert!(err.to_string().contains("package main"), "{err}");
    // With the namespace it declares, the same file evaluates.
    let set = PolicySet::load_namespaces("plans", &[fixture("rego", "v0")], &["terraform.rules"])
        .unwrap();
    let findings = set.evaluate(&serde_json::json!({})).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].package, "terraform.rules");
}

#[test]
fn missing_and_empty_paths_are_errors() {
    let missing = PathBuf::from("/nonexistent/policies");
    assert!(matches!(
        PolicySet::load("p", std::slice::from_ref(&missing)),
        Err(PolicyError::Read { .. })
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        PolicySet::load("p", &[empty.path().to_path_buf()]),
        Err(PolicyError::Empty { .. })
    ));
    assert_eq!(rego::default_paths(empty.path()), None);
    std::fs::create_dir(empty.path().join("policies")).unwrap();
    std::fs::copy(
        fixture("rego", "policies").join("tags.rego"),
        empty.path().join("policies/tags.rego"),
    )
    .unwrap();
    assert_eq!(
        rego::default_paths(empty.path()),
        Some(empty.path().join("policies"))
    );
}
