//! Every static rule has a fixture that triggers it and a fixed twin that does not.

mod common;

use common::{check_dir, count, fixture, rules_of};
use plinth_check::RULES;
use plinth_check::registry::Category;

/// Rules whose fixtures are exercised elsewhere: engine-backed ones in `engine_rules.rs`,
/// the plan rule in `plan_rules.rs`.
fn static_rule(id: &str) -> bool {
    let rule = RULES.iter().find(|r| r.id == id).unwrap();
    !rule.needs_engine && rule.category != Category::Plan && !TESTED_ELSEWHERE.contains(&id)
}

/// Rules evaluated outside this crate, tested where they are computed.
const TESTED_ELSEWHERE: &[&str] = &[
    // The budget rule: plinth-cost estimates the cost, its tests hold the fixtures.
    "CST001",
    // Secret rules that read plinth.hcl and Vault: the CLI's secrets tests hold them.
    "SCR005", "SCR006",
];

#[test]
fn every_rule_has_a_bad_and_a_good_fixture() {
    for rule in RULES.iter().filter(|r| !TESTED_ELSEWHERE.contains(&r.id)) {
        for kind in ["bad", "good"] {
            let dir = fixture(rule.id, kind);
            assert!(dir.is_dir(), "missing fixture {}", dir.display());
        }
    }
}

#[test]
fn bad_fixtures_trigger_their_rule() {
    for rule in RULES.iter().filter(|r| static_rule(r.id)) {
        let report = check_dir(&fixture(rule.id, "bad"));
        assert!(
            count(&report, rule.id) > 0,
            "{}: bad fixture did not trigger it; findings: {:?}",
            rule.id,
            rules_of(&report)
        );
    }
}

#[test]
fn good_fixtures_do_not_trigger_their_rule() {
    for rule in RULES.iter().filter(|r| static_rule(r.id)) {
        let report = check_dir(&fixture(rule.id, "good"));
        let hits: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule.id == rule.id)
            .map(|f| f.diagnostic.one_line())
            .collect();
        assert!(
            hits.is_empty(),
            "{}: good fixture triggered it: {hits:#?}",
            rule.id
        );
    }
}

#[test]
fn findings_point_at_the_offending_line() {
    let report = check_dir(&fixture("SAF009", "bad"));
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "SAF009")
        .unwrap();
    let (file, line, col) = f.diagnostic.location().unwrap();
    assert_eq!((file, line, col), ("bad/main.tf", 6, 3));
    let text = plinth_diag::render(&f.diagnostic, false);
    assert!(text.contains("publicly_accessible = true"), "{text}");
    assert!(text.contains("^^^"), "{text}");
    assert!(text.contains("help:"), "{text}");
}

#[test]
fn standins_are_checked_like_the_resource_they_name() {
    let report = check_dir(&fixture("SAF005", "bad"));
    let lines: Vec<usize> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SAF005")
        .map(|f| f.diagnostic.location().unwrap().1)
        .collect();
    // The real table (line 1) and the terraform_data stand-in (line 17).
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.contains(&1));
}

#[test]
fn each_secret_kind_is_reported_once_per_occurrence() {
    let report = check_dir(&fixture("SCR001", "bad"));
    let messages: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SCR001")
        .map(|f| f.diagnostic.message.clone())
        .collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    for what in [
        "AWS access key id",
        "Slack token",
        "Vault/OpenBao service token",
        "`db_password`",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(what)),
            "{what} not in {messages:#?}"
        );
    }
}

#[test]
fn security_group_rules_name_the_exposed_ports() {
    let report = check_dir(&fixture("SAF010", "bad"));
    let messages: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SAF010")
        .map(|f| f.diagnostic.message.clone())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].contains("port 22"));
    assert!(messages[1].contains("port 3389"));
}

#[test]
fn iam_wildcards_are_found_in_all_three_spellings() {
    assert_eq!(count(&check_dir(&fixture("SAF011", "bad")), "SAF011"), 3);
}

#[test]
fn a_file_that_is_not_utf8_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("s");
    std::fs::create_dir(&stack).unwrap();
    std::fs::write(stack.join("main.tf"), b"locals {\n  x = \"\xff\xfe\"\n}\n").unwrap();
    let report = check_dir(&stack);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "FMT007")
        .expect("FMT007");
    assert!(
        f.diagnostic.message.contains("cannot read the file"),
        "{}",
        f.diagnostic.message
    );
    assert_eq!(f.diagnostic.location().unwrap().0, "s/main.tf");
}

#[test]
fn the_backend_override_plinth_generates_is_not_stack_code() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("s");
    std::fs::create_dir(&stack).unwrap();
    std::fs::write(
        stack.join("plinth_backend_override.tf"),
        "terraform {\n  backend \"s3\" {\n    bucket = \"x\"\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(count(&check_dir(&stack), "ARC004"), 0);
    std::fs::rename(
        stack.join("plinth_backend_override.tf"),
        stack.join("backend.tf"),
    )
    .unwrap();
    assert_eq!(count(&check_dir(&stack), "ARC004"), 1);
}
