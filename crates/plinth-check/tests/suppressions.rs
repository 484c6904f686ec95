//! Inline `# plinth:ignore` suppressions: reasons, expiry, coverage, unsuppressible rules.

mod common;

use std::fs;

use common::{check_dir, check_with, count, fixture};
use plinth_check::{EnvProfile, Policy, PolicyBlock};

#[test]
fn a_valid_suppression_silences_its_finding_and_is_counted() {
    let report = check_dir(&fixture("SUP001", "good"));
    assert_eq!(count(&report, "SAF004"), 0);
    assert_eq!(count(&report, "SUP001"), 0);
    assert_eq!(report.suppressed, 1);
}

#[test]
fn reasonless_unknown_and_unsuppressible_suppressions_are_findings_and_do_not_apply() {
    let report = check_dir(&fixture("SUP001", "bad"));
    let sup: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SUP001")
        .map(|f| f.diagnostic.message.clone())
        .collect();
    assert_eq!(sup.len(), 3, "{sup:#?}");
    assert!(sup.iter().any(|m| m.contains("without a reason")));
    assert!(sup.iter().any(|m| m.contains("unknown rule id `NOPE42`")));
    assert!(
        sup.iter()
            .any(|m| m.contains("SCR001 cannot be suppressed"))
    );
    assert_eq!(
        count(&report, "SAF004"),
        1,
        "reason-less suppression must not apply"
    );
    assert_eq!(count(&report, "SCR001"), 1, "SCR001 is unsuppressible");
    assert_eq!(report.suppressed, 0);
}

#[test]
fn an_expired_suppression_is_a_finding_and_stops_applying() {
    let report = check_dir(&fixture("SUP002", "bad"));
    assert_eq!(count(&report, "SUP002"), 1);
    assert_eq!(count(&report, "SAF004"), 1);
    let good = check_dir(&fixture("SUP002", "good"));
    assert_eq!(count(&good, "SUP002"), 0);
    assert_eq!(count(&good, "SAF004"), 0);
}

#[test]
fn a_comment_above_a_block_covers_every_line_of_it_and_nothing_after() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("db");
    fs::create_dir(&stack).unwrap();
    fs::write(
        stack.join("main.tf"),
        r#"# plinth:ignore SAF009 reason="reporting replica, firewalled upstream"
resource "aws_db_instance" "replica" {
  deletion_protection = true
  publicly_accessible = true
}

resource "aws_db_instance" "main" {
  deletion_protection = true
  publicly_accessible = true
}
"#,
    )
    .unwrap();
    let report = check_dir(&stack);
    let lines: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SAF009")
        .map(|f| f.diagnostic.location().unwrap().1)
        .collect();
    assert_eq!(lines, vec![9]);
    assert_eq!(report.suppressed, 1);
}

#[test]
fn a_check_block_can_make_a_rule_unsuppressible() {
    let envs = vec![EnvProfile {
        name: "prod".into(),
        protected: true,
    }];
    let block = PolicyBlock {
        unsuppressible: vec![("SAF004".into(), 0..6)],
        ..Default::default()
    };
    let policy = Policy::new(envs, &[block], None).unwrap();
    let report = check_with(&fixture("SUP001", "good"), &policy, &["prod"], &[]);
    assert_eq!(count(&report, "SAF004"), 1);
    let sup = report
        .findings
        .iter()
        .find(|f| f.rule.id == "SUP001")
        .unwrap();
    assert!(sup.diagnostic.message.contains("cannot be suppressed"));
    // Protected environment: the safety rule is an error.
    let saf = report
        .findings
        .iter()
        .find(|f| f.rule.id == "SAF004")
        .unwrap();
    assert_eq!(saf.diagnostic.severity, plinth_diag::Severity::Error);
}
