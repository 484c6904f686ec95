//! FMT001/FMT002: the real engine's `fmt -check` and `validate` results become findings at
//! the place the engine points to.

mod common;

use std::path::Path;

use common::{check_with, count, fixture};
use plinth_check::{EngineOutcome, Policy};
use plinth_engine::validate::{self, StackDir, ValidateOptions};

/// Copies a fixture into a temporary project (the engine writes under `<root>/.plinth`).
fn project_with(rule: &str, kind: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let stack = root.path().join(kind);
    std::fs::create_dir(&stack).unwrap();
    for entry in std::fs::read_dir(fixture(rule, kind)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), stack.join(entry.file_name())).unwrap();
    }
    (root, stack)
}

fn engine_outcome(root: &Path, stack: &Path) -> EngineOutcome {
    let options = ValidateOptions {
        engine: "terraform".into(),
        root: root.to_path_buf(),
        parallelism: 1,
        fmt: true,
        validate: true,
    };
    let id = stack.file_name().unwrap().to_string_lossy().into_owned();
    validate::run(
        &options,
        &[StackDir {
            id,
            dir: stack.to_path_buf(),
        }],
    )
    .pop()
    .unwrap()
}

#[test]
fn engine_rules_trigger_on_bad_fixtures_only() {
    for rule in ["FMT001", "FMT002"] {
        for (kind, expected) in [("bad", true), ("good", false)] {
            let (root, stack) = project_with(rule, kind);
            let outcome = engine_outcome(root.path(), &stack);
            assert_eq!(outcome.failure, None);
            let report = check_with(&stack, &Policy::defaults(), &[], &[outcome]);
            assert_eq!(
                count(&report, rule) > 0,
                expected,
                "{rule}/{kind}: {:?}",
                report.findings
            );
        }
    }
}

#[test]
fn validate_findings_point_at_the_engine_range() {
    let (root, stack) = project_with("FMT002", "bad");
    let outcome = engine_outcome(root.path(), &stack);
    let report = check_with(&stack, &Policy::defaults(), &[], &[outcome]);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "FMT002")
        .unwrap();
    let (file, line, col) = f.diagnostic.location().unwrap();
    assert_eq!((file, line, col), ("bad/main.tf", 2, 11));
    assert!(
        f.diagnostic
            .message
            .contains("Reference to undeclared input variable"),
        "{}",
        f.diagnostic.message
    );
}
