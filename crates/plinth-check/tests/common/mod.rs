//! Shared helpers: run the static check on a fixture directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use plinth_check::{CheckRequest, CheckTarget, EngineOutcome, Policy, Report, check, parse_date};

/// `tests/fixtures/<rule>/<kind>`.
pub fn fixture(rule: &str, kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rule)
        .join(kind)
}

/// Checks `dir` as one stack (its `modules/*` as local modules) with default severities.
pub fn check_dir(dir: &Path) -> Report {
    check_with(dir, &Policy::defaults(), &[], &[])
}

/// Checks `dir` as one stack with a policy, environments and engine outcomes.
pub fn check_with(dir: &Path, policy: &Policy, envs: &[&str], engine: &[EngineOutcome]) -> Report {
    let modules = std::fs::read_dir(dir.join("modules"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    let targets = [CheckTarget {
        id: dir.file_name().unwrap().to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
        modules,
        environments: envs.iter().map(|s| s.to_string()).collect(),
    }];
    let root = dir.parent().unwrap();
    // Directories of .tf files below the stack that are not its modules (ARC006).
    let loose: Vec<PathBuf> = plinth_check::discover::tf_dirs(dir)
        .into_iter()
        .filter(|d| d != dir)
        .collect();
    check(&CheckRequest {
        root,
        targets: &targets,
        project_files: &[],
        policy,
        engine,
        today: parse_date("2026-06-01").unwrap(),
        project: true,
        loose: &loose,
    })
}

/// Rule ids of a report's findings.
pub fn rules_of(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.rule.id).collect()
}

/// The count of findings of `rule`.
pub fn count(report: &Report, rule: &str) -> usize {
    report.findings.iter().filter(|f| f.rule.id == rule).count()
}
