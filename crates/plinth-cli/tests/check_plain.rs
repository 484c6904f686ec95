//! `plinth check` on plain Terraform (no plinth.hcl), SARIF placement in a repository,
//! project directories that are not stacks, and environment problems.

use std::fs;
use std::path::Path;
use std::process::Command as Std;

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

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is one JSON document")
}

/// A repository of plain Terraform: a vulnerable root module and a module it calls.
fn plain_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "infra/app/main.tf",
        r#"terraform {
  required_version = ">= 1.6"
  backend "s3" {
    bucket = "state"
  }
}

module "db" {
  source = "../modules/db"
}

resource "aws_security_group" "ssh" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#,
    );
    write(
        root,
        "infra/modules/db/main.tf",
        r#"resource "aws_db_instance" "this" {
  deletion_protection = true
  storage_encrypted   = false
  password            = "k7#Qm2vX9pLw4Rt8"
}
"#,
    );
    dir
}

#[test]
fn a_plain_directory_is_checked_module_by_module_and_a_vulnerable_one_exits_1() {
    let dir = plain_repo();
    let out = plinth(dir.path())
        .args(["check", "--no-engine", "infra"])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("error[SCR001]"), "{text}");
    assert!(text.contains("warning[SAF010]"), "{text}");
    assert!(text.contains("warning[SAF015]"), "{text}");
    assert!(text.contains("note[ARC004]"), "outside a project: {text}");
    assert!(
        text.contains(
            "in 2 modules (2 files; 0 suppressed); no plinth.hcl: checked as plain Terraform"
        ),
        "{text}"
    );

    let out = plinth(dir.path())
        .args(["check", "--no-engine", "--format", "json", "infra"])
        .assert()
        .code(1);
    let doc = json_of(&out.get_output().stdout);
    assert_eq!(doc["summary"]["project"], false);
    assert_eq!(doc["summary"]["modules"], 2);
    let files: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    // Not in a repository: paths are relative to the checked directory.
    assert!(files.contains(&"modules/db/main.tf"), "{files:?}");

    // Without a path, the working directory is checked.
    plinth(&dir.path().join("infra"))
        .args(["check", "--no-engine", "-q"])
        .assert()
        .code(1);
}

#[test]
fn clean_plain_code_exits_0_and_an_empty_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        "terraform {\n  required_version = \">= 1.6\"\n}\n\nresource \"terraform_data\" \"x\" {}\n",
    );
    plinth(dir.path())
        .args(["check", "--no-engine"])
        .assert()
        .code(0);
    let empty = tempfile::tempdir().unwrap();
    let out = plinth(empty.path())
        .args(["check", "--no-engine"])
        .assert()
        .code(64);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("no .tf files"));
    plinth(dir.path())
        .args(["check", "--no-engine", "--env", "prod"])
        .assert()
        .code(64);
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root() {
    let dir = plain_repo();
    let git = Std::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .expect("git on PATH");
    assert!(git.success());
    // Checked from inside the repository, on a subdirectory.
    let out = plinth(&dir.path().join("infra"))
        .args(["check", "--no-engine", "--format", "sarif", "modules"])
        .assert()
        .code(1);
    let doc = json_of(&out.get_output().stdout);
    let run = &doc["runs"][0];
    let uris: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!uris.is_empty());
    assert!(
        uris.iter().all(|u| *u == "infra/modules/db/main.tf"),
        "{uris:?}"
    );
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(base, format!("file://{}/", canonical.display()));
    let info = run["tool"]["driver"]["informationUri"].as_str().unwrap();
    assert!(info.ends_with("/docs/checks.md"), "{info}");
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "SAF015")
        .unwrap();
    assert_eq!(rule["helpUri"].as_str().unwrap(), format!("{info}#saf015"));
    assert_eq!(
        rule["properties"]["checkov"],
        serde_json::json!(["CKV_AWS_16", "CKV_AWS_96"])
    );
}

#[test]
fn a_project_directory_that_is_neither_stack_nor_module_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "plinth.hcl",
        "plinth {\n  project = \"t\"\n}\n\nenvironment \"dev\" {}\n\ncheck {\n  severity = { ARC005 = \"off\", FMT003 = \"off\" }\n}\n",
    );
    write(
        root,
        "stacks/app/stack.hcl",
        "stack {\n  description = \"app\"\n}\n",
    );
    write(
        root,
        "stacks/app/main.tf",
        "module \"labels\" {\n  source = \"../../modules/labels\"\n}\n",
    );
    write(
        root,
        "modules/labels/main.tf",
        "locals {\n  team = \"platform\"\n}\n",
    );
    write(
        root,
        "legacy/kms/main.tf",
        "resource \"aws_kms_key\" \"old\" {\n  description = \"old\"\n}\n",
    );
    let out = plinth(root)
        .args(["check", "--no-engine", "--format", "json"])
        .assert()
        .code(0);
    let doc = json_of(&out.get_output().stdout);
    let rules: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect();
    assert!(
        rules.contains(&("ARC006", "legacy/kms/main.tf")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("SAF004", "legacy/kms/main.tf")),
        "the directory is still checked: {rules:?}"
    );
    assert!(
        !rules
            .iter()
            .any(|(r, f)| *r == "ARC006" && f.starts_with("modules/")),
        "a called module is not loose: {rules:?}"
    );
    assert_eq!(doc["summary"]["stacks"], 1);
    assert_eq!(doc["summary"]["modules"], 2);
}

#[test]
fn a_missing_engine_is_one_environment_problem_not_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    for m in ["a", "b"] {
        write(
            dir.path(),
            &format!("{m}/main.tf"),
            "terraform {\n  required_version = \">= 1.6\"\n}\n",
        );
    }
    let empty_path = tempfile::tempdir().unwrap();
    let out = plinth(dir.path())
        .env("PATH", empty_path.path())
        .args(["check", "--format", "json"])
        .assert()
        .code(0);
    let doc = json_of(&out.get_output().stdout);
    let findings: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        findings,
        ["ARC005", "ARC005"],
        "only the README notes: {doc:#}"
    );
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["affected"], serde_json::json!(["a", "b"]));
    assert!(
        problems[0]["fix"].as_str().unwrap().contains("--no-engine"),
        "{problems:#?}"
    );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("environment problem:").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn explain_names_the_checkov_checks_a_rule_corresponds_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = plinth(dir.path())
        .args(["check", "--explain", "SAF015"])
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("checkov: CKV_AWS_16, CKV_AWS_96"), "{text}");
    assert!(text.contains("#checkov:skip="), "{text}");
}
