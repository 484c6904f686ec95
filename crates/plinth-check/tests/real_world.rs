//! False positives found on public module code, fixed and kept fixed; the value-following
//! that fixed them; checkov skip comments; environment problems.

mod common;

use common::{check_dir, count, fixture};
use plinth_check::{CheckRequest, CheckTarget, Policy, check, parse_date};
use plinth_diag::Severity;

fn messages(report: &plinth_check::Report, rule: &str) -> Vec<(Severity, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| (f.diagnostic.severity, f.diagnostic.message.clone()))
        .collect()
}

#[test]
fn settings_about_secrets_are_not_secrets() {
    let report = check_dir(&fixture("fp", "secret-names"));
    for rule in ["SCR001", "SCR003", "SCR004"] {
        assert_eq!(messages(&report, rule), [], "{rule}");
    }
}

#[test]
fn real_secrets_are_still_found_and_named_by_their_attribute() {
    let report = check_dir(&fixture("fp", "real-secrets"));
    let found = messages(&report, "SCR001");
    let errors: Vec<&str> = found
        .iter()
        .filter(|(s, _)| *s == Severity::Error)
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(
        errors,
        [
            "plaintext secret in the repository: AWS access key id",
            "plaintext secret in the repository: AWS secret access key",
            "plaintext secret in the repository: literal value for `password`",
        ],
        "{found:#?}"
    );
    // A value that calls itself a password is a demo value: a note, not an error.
    let notes: Vec<&str> = found
        .iter()
        .filter(|(s, _)| *s == Severity::Note)
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(notes.len(), 1, "{found:#?}");
    assert!(notes[0].contains("`password` looks like a demo password"));
    let lines: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SCR001")
        .map(|f| f.diagnostic.location().unwrap().1)
        .collect();
    assert_eq!(
        lines,
        [6, 7, 16, 22],
        "the user_data lines and the attributes"
    );
}

#[test]
fn region_keyed_account_maps_and_documentation_accounts_are_not_hard_coded_ids() {
    assert_eq!(
        count(&check_dir(&fixture("fp", "elb-accounts")), "ARC002"),
        0
    );
    // The rule itself still fires on a real account id.
    assert!(count(&check_dir(&fixture("ARC002", "bad")), "ARC002") > 0);
}

#[test]
fn variable_defaults_are_followed() {
    let report = check_dir(&fixture("fp", "pab-defaults"));
    assert_eq!(messages(&report, "SAF001"), []);
}

#[test]
fn a_callers_literal_reaches_the_module_it_calls() {
    let report = check_dir(&fixture("fp", "caller-values"));
    let found = messages(&report, "SAF015");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "SAF015")
        .unwrap();
    assert_eq!(
        f.diagnostic.location().unwrap().0,
        "caller-values/db/main.tf"
    );
    assert!(
        f.diagnostic
            .message
            .contains("with the values of module `db` at caller-values/main.tf:3"),
        "{}",
        f.diagnostic.message
    );
}

#[test]
fn checkov_skip_comments_suppress_the_matching_rule_in_their_block() {
    let report = check_dir(&fixture("fp", "checkov-skip"));
    let kms: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SAF004")
        .map(|f| f.diagnostic.location().unwrap().1)
        .collect();
    assert_eq!(kms, [6], "only the key without a skip comment");
    assert_eq!(report.suppressed, 1);
    // A checkov id plinth has no rule for suppresses nothing and is not a finding.
    assert_eq!(count(&report, "SAF018"), 1);
    assert_eq!(count(&report, "SUP001"), 0);
}

#[test]
fn project_conventions_are_notes_outside_a_project_and_files_that_cannot_be_opened_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("m");
    std::fs::create_dir(&module).unwrap();
    std::fs::write(
        module.join("main.tf"),
        "terraform {\n  backend \"s3\" {\n    bucket = \"state\"\n  }\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("missing.auto.tfvars"),
        module.join("prod.auto.tfvars"),
    )
    .unwrap();
    let targets = [CheckTarget {
        id: "m".into(),
        dir: module.clone(),
        modules: Vec::new(),
        environments: Vec::new(),
    }];
    let report = check(&CheckRequest {
        root: dir.path(),
        targets: &targets,
        project_files: &[],
        policy: &Policy::defaults(),
        engine: &[],
        today: parse_date("2026-06-01").unwrap(),
        project: false,
        loose: &[],
    });
    let arc: Vec<Severity> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "ARC004" || f.rule.id == "ARC005")
        .map(|f| f.diagnostic.severity)
        .collect();
    assert_eq!(arc, [Severity::Note, Severity::Note]);
    assert_eq!(
        count(&report, "FMT007"),
        0,
        "an unreadable file is no syntax error"
    );
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].affected, ["m/prod.auto.tfvars"]);
    assert!(report.problems[0].what.contains("could not be opened"));
    let line = report.summary_line();
    assert!(line.contains("in 1 module (2 files"), "{line}");
    assert!(line.contains("no plinth.hcl"), "{line}");
    assert!(line.contains("1 environment problem"), "{line}");
}

#[test]
fn engine_failures_of_the_environment_are_problems_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut targets = Vec::new();
    let mut engine = Vec::new();
    for name in ["a", "b"] {
        let stack = dir.path().join(name);
        std::fs::create_dir(&stack).unwrap();
        std::fs::write(
            stack.join("bucket.tf"),
            "resource \"terraform_data\" \"x\" {}\n",
        )
        .unwrap();
        targets.push(CheckTarget {
            id: name.into(),
            dir: stack,
            modules: Vec::new(),
            environments: Vec::new(),
        });
        engine.push(plinth_check::EngineOutcome {
            stack: name.into(),
            failure: Some(
                "init failed: Error: Failed to query available provider packages\n\nCould not \
retrieve the list of available versions for provider hashicorp/aws: could not connect to \
registry.terraform.io"
                    .into(),
            ),
            ..Default::default()
        });
    }
    let report = check(&CheckRequest {
        root: dir.path(),
        targets: &targets,
        project_files: &[],
        policy: &Policy::defaults(),
        engine: &engine,
        today: parse_date("2026-06-01").unwrap(),
        project: true,
        loose: &[],
    });
    assert_eq!(count(&report, "FMT002"), 0, "not a finding in bucket.tf");
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].affected, ["a", "b"]);
    assert!(report.problems[0].fix.contains("--no-engine"));
}

#[test]
fn read_only_wildcards_are_notes_and_write_wildcards_warnings() {
    let report = check_dir(&fixture("SAF013", "bad"));
    let found = messages(&report, "SAF013");
    assert_eq!(
        found,
        [
            (
                Severity::Warning,
                "IAM policy allows ec2:TerminateInstances, s3:PutObject on every resource".into()
            ),
            (
                Severity::Note,
                "IAM policy allows read-only actions on every resource".into()
            ),
        ]
    );
}

#[test]
fn firewall_rules_name_the_exposed_ports() {
    let azure = messages(&check_dir(&fixture("SAF020", "bad")), "SAF020");
    assert_eq!(
        azure.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
        [
            "security rule `ssh` opens port 22 to the internet",
            "security rule `rdp` opens port 3389 to the internet"
        ]
    );
    let google = messages(&check_dir(&fixture("SAF023", "bad")), "SAF023");
    assert_eq!(
        google.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
        [
            "firewall `admin` opens port 22, 3389 to the internet",
            "firewall `everything` opens port 22, 3389 to the internet"
        ]
    );
}
