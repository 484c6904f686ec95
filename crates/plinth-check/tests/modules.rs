//! Local modules are found through the stacks' module blocks and checked once.

use std::fs;
use std::path::Path;

use plinth_check::{CheckRequest, CheckTarget, Policy, check, parse_date};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn modules_called_by_several_stacks_are_checked_once_with_the_strictest_severity() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let call = |depth: usize| {
        format!(
            "module \"keys\" {{\n  source = \"{}modules/keys\"\n}}\n",
            "../".repeat(depth)
        )
    };
    write(root, "stacks/a/main.tf", &call(2));
    write(root, "stacks/b/main.tf", &call(2));
    // The module calls a nested module through a `./` path.
    write(
        root,
        "modules/keys/main.tf",
        "module \"inner\" {\n  source = \"./inner\"\n}\n\nresource \"aws_kms_key\" \"k\" {}\n",
    );
    write(
        root,
        "modules/keys/inner/main.tf",
        "resource \"aws_kms_key\" \"inner\" {}\n",
    );
    let envs = vec![
        plinth_check::EnvProfile {
            name: "dev".into(),
            protected: false,
        },
        plinth_check::EnvProfile {
            name: "prod".into(),
            protected: true,
        },
    ];
    let policy = Policy::new(envs, &[], None).unwrap();
    let targets = [
        CheckTarget {
            id: "stacks/b".into(),
            dir: root.join("stacks/b"),
            modules: Vec::new(),
            environments: vec!["prod".into()],
        },
        CheckTarget {
            id: "stacks/a".into(),
            dir: root.join("stacks/a"),
            modules: Vec::new(),
            environments: vec!["dev".into()],
        },
    ];
    let report = check(&CheckRequest {
        root,
        targets: &targets,
        project_files: &[],
        policy: &policy,
        engine: &[],
        today: parse_date("2026-06-01").unwrap(),
        project: true,
        loose: &[],
    });
    let kms: Vec<(String, String, plinth_diag::Severity)> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "SAF004")
        .map(|f| {
            let (file, _, _) = f.diagnostic.location().unwrap();
            (file.to_owned(), f.stack.clone(), f.diagnostic.severity)
        })
        .collect();
    assert_eq!(
        kms,
        vec![
            (
                "modules/keys/inner/main.tf".to_owned(),
                "stacks/a".to_owned(),
                plinth_diag::Severity::Error
            ),
            (
                "modules/keys/main.tf".to_owned(),
                "stacks/a".to_owned(),
                plinth_diag::Severity::Error
            ),
        ]
    );
}
