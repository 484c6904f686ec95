//! `plinth check` end to end: the real binary on real projects (and the real terraform for
//! the engine-backed rules).

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn plinth(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.arg("-C").arg(dir).arg("--color").arg("never");
    cmd
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// dev (unprotected) and prod (protected); a KMS key stack in both, a network stack in dev.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "plinth.hcl",
        r#"plinth {
  project = "t"
}

environment "dev" {}

environment "prod" {
  protected = true
}

check {
  severity = { ARC005 = "off", FMT003 = "off" }
}
"#,
    );
    write(
        root,
        "stacks/kms/stack.hcl",
        "stack {\n  description = \"keys\"\n}\n",
    );
    write(
        root,
        "stacks/kms/main.tf",
        "resource \"aws_kms_key\" \"data\" {\n  description = \"data\"\n}\n",
    );
    write(
        root,
        "stacks/net/stack.hcl",
        "stack {\n  description  = \"net\"\n  environments = [\"dev\"]\n}\n",
    );
    write(
        root,
        "stacks/net/main.tf",
        "locals {\n  vpc = \"vpc-0a1b2c3d4e5f67890\"\n}\n",
    );
    dir
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is one JSON document")
}

#[test]
fn safety_rules_are_errors_in_protected_environments_only() {
    let dir = project();
    let dev = plinth(dir.path())
        .args(["check", "--no-engine", "--env", "dev", "--format", "json"])
        .assert()
        .code(0);
    let dev = json_of(&dev.get_output().stdout);
    let kms = dev["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SAF004")
        .unwrap();
    assert_eq!(kms["severity"], "warning");
    assert_eq!(dev["summary"]["stacks"], 2);

    let prod = plinth(dir.path())
        .args(["check", "--no-engine", "--env", "prod", "--format", "json"])
        .assert()
        .code(1);
    let prod = json_of(&prod.get_output().stdout);
    let findings = prod["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "net is not deployed to prod: {findings:#?}"
    );
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["file"], "stacks/kms/main.tf");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(prod["summary"]["errors"], 1);
}

#[test]
fn without_env_the_strictest_environment_of_each_stack_applies() {
    let dir = project();
    let out = plinth(dir.path())
        .args(["check", "--no-engine"])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("error[SAF004]: KMS key without automatic rotation"),
        "{text}"
    );
    assert!(text.contains("--> stacks/kms/main.tf:1:1"), "{text}");
    assert!(text.contains("warning[ARC002]"), "{text}");
    assert!(
        text.contains("check: 1 error, 1 warning, 0 notes in 2 stacks"),
        "{text}"
    );
}

#[test]
fn paths_limit_the_stacks_checked() {
    let dir = project();
    let out = plinth(dir.path())
        .args(["check", "--no-engine", "--format", "json", "stacks/net"])
        .assert()
        .code(0);
    let doc = json_of(&out.get_output().stdout);
    let stacks: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["stack"].as_str().unwrap())
        .collect();
    assert_eq!(stacks, vec!["stacks/net"]);
    plinth(dir.path())
        .args(["check", "--no-engine", "stacks/missing"])
        .assert()
        .code(64);
}

#[test]
fn sarif_output_is_one_run_with_locations() {
    let dir = project();
    let out = plinth(dir.path())
        .args(["check", "--no-engine", "--format", "sarif"])
        .assert()
        .code(1);
    let doc = json_of(&out.get_output().stdout);
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}

#[test]
fn usage_errors_exit_64() {
    let dir = project();
    plinth(dir.path())
        .args(["check", "--env", "qa"])
        .assert()
        .code(64);
    let out = plinth(dir.path())
        .args(["check", "--explain", "NOPE99"])
        .assert()
        .code(64);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("unknown rule id"));
    plinth(dir.path())
        .args(["check", "--format", "xml"])
        .assert()
        .code(64);
}

#[test]
fn an_unknown_rule_in_a_check_block_points_into_plinth_hcl() {
    let dir = project();
    let hcl = fs::read_to_string(dir.path().join("plinth.hcl")).unwrap();
    fs::write(
        dir.path().join("plinth.hcl"),
        hcl.replace("FMT003", "FMT999"),
    )
    .unwrap();
    let out = plinth(dir.path())
        .args(["check", "--no-engine"])
        .assert()
        .code(64);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("unknown rule id `FMT999`"), "{err}");
    assert!(err.contains("plinth.hcl:12:"), "{err}");
}

#[test]
fn explain_prints_the_rule_and_lists_all_rules() {
    let dir = project();
    let out = plinth(dir.path())
        .args(["check", "--explain", "SAF005"])
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.starts_with("SAF005 (dynamodb-pitr)"), "{text}");
    assert!(
        text.contains("terraform_data"),
        "the stand-in convention is documented: {text}"
    );
    let out = plinth(dir.path())
        .args(["check", "--explain"])
        .assert()
        .code(0);
    let list = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(list.lines().count(), plinth_check::RULES.len());
}

#[test]
fn engine_rules_report_unformatted_and_invalid_code() {
    let dir = project();
    // terraform_data needs no provider download, so init works offline.
    write(
        dir.path(),
        "stacks/app/stack.hcl",
        "stack {\n  description = \"app\"\n}\n",
    );
    write(
        dir.path(),
        "stacks/app/main.tf",
        "resource \"terraform_data\" \"x\" {\n    input = var.missing\n}\n",
    );
    let out = plinth(dir.path())
        .args(["check", "--format", "json", "stacks/app"])
        .assert()
        .code(1);
    let doc = json_of(&out.get_output().stdout);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"FMT001"), "{rules:?}");
    assert!(rules.contains(&"FMT002"), "{rules:?}");
    let validate = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "FMT002")
        .unwrap();
    assert_eq!(validate["file"], "stacks/app/main.tf");
    assert_eq!(validate["line"], 2);
    // The engine's working files stay under .plinth/check, not in the stack.
    assert!(dir.path().join(".plinth/check/stacks/app").is_dir());
    assert!(!dir.path().join("stacks/app/.terraform").exists());
}

/// Copies a directory tree (the example repository) into a scratch location.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".plinth" || name == ".terraform" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_example_repository_passes_clean_with_the_engine() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&examples, dir.path());
    let out = plinth(dir.path())
        .args(["check", "--format", "json"])
        .assert();
    let doc = json_of(&out.get_output().stdout);
    assert_eq!(doc["findings"], serde_json::json!([]), "{doc:#}");
    assert!(doc["summary"]["stacks"].as_u64().unwrap() >= 8);
    out.code(0);
    for env in ["dev", "staging", "prod"] {
        plinth(dir.path())
            .args(["check", "--no-engine", "--env", env])
            .assert()
            .code(0);
    }
}
