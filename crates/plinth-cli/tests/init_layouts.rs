//! `plinth init` in an empty directory: each layout parses with plinth's own parser, is in
//! `terraform fmt` style, passes `plinth check` (with the engine) and applies at once; existing
//! files are never overwritten and `.gitignore` gets plinth's lines.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{Fixture, code, stderr, stdout};

fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".plinth") {
                continue;
            }
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// Every generated `.tf`, `.tfvars` and `.hcl` file is what `terraform fmt` would write.
fn assert_fmt_style(f: &Fixture) {
    let copy = tempfile::tempdir().unwrap();
    for (i, rel) in files(f.root()).iter().enumerate() {
        if rel.ends_with(".tf") || rel.ends_with(".tfvars") || rel.ends_with(".hcl") {
            let text = std::fs::read_to_string(f.root().join(rel)).unwrap();
            let ext = if rel.ends_with(".tfvars") {
                "tfvars"
            } else {
                "tf"
            };
            std::fs::write(copy.path().join(format!("f{i}.{ext}")), text).unwrap();
        }
    }
    let out = Command::new("terraform")
        .args(["fmt", "-check", "-list=true"])
        .current_dir(copy.path())
        .output()
        .expect("terraform on PATH");
    assert!(
        out.status.success(),
        "not in terraform fmt style: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn init_check_apply(layout: &str, stacks: &[&str]) {
    let f = Fixture::new();
    let out = f.plinth(&["init", "--layout", layout]);
    assert_eq!(code(&out), 0, "init: {}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("created plinth.hcl"), "{printed}");
    assert!(
        printed.contains("next: plinth check && plinth apply dev --auto-approve"),
        "{printed}"
    );

    let project = plinth_config::ProjectConfig::parse(
        "plinth.hcl",
        &std::fs::read_to_string(f.root().join("plinth.hcl")).unwrap(),
        "x",
    )
    .expect("plinth.hcl parses");
    assert_eq!(
        project.environment_names().collect::<Vec<_>>(),
        ["dev", "staging", "prod"]
    );
    assert_eq!(
        project
            .environment("prod")
            .unwrap()
            .promote_from
            .as_ref()
            .unwrap()
            .value,
        "staging"
    );
    assert!(project.environment("prod").unwrap().protected);
    for stack in stacks {
        let rel = format!("{stack}/stack.hcl");
        plinth_config::StackConfig::parse(
            &rel,
            &std::fs::read_to_string(f.root().join(&rel)).unwrap(),
        )
        .unwrap_or_else(|d| panic!("{rel}: {d:?}"));
    }
    let gitignore = std::fs::read_to_string(f.root().join(".gitignore")).unwrap();
    assert!(
        gitignore.contains(".plinth/\nplinth_*_override.tf\n"),
        "{gitignore}"
    );
    assert_fmt_style(&f);

    let out = f.plinth(&["check"]);
    assert_eq!(code(&out), 0, "check:\n{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("0 errors, 0 warnings"),
        "{}",
        stdout(&out)
    );
    let out = f.plinth(&["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 0, "apply:\n{}{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "succeeded", "{report}");
    let applied: Vec<&str> = report["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "succeeded")
        .map(|i| i["stack"].as_str().unwrap())
        .collect();
    let in_dev: Vec<&str> = stacks
        .iter()
        .copied()
        .filter(|s| !s.starts_with("envs/") || *s == "envs/dev")
        .collect();
    assert_eq!(applied.len(), in_dev.len(), "{report}");
}

#[test]
fn modules_layout_checks_and_applies() {
    init_check_apply("modules", &["infra/network", "infra/app"]);
}

#[test]
fn components_layout_checks_and_applies() {
    init_check_apply("components", &["envs/dev", "envs/staging", "envs/prod"]);
}

#[test]
fn single_layout_checks_and_applies() {
    init_check_apply("single", &["app"]);
}

#[test]
fn never_overwrites_and_completes_gitignore() {
    let f = Fixture::new();
    f.write(".gitignore", "target/\n")
        .write("infra/app/README.md", "# ours\n");
    let out = f.plinth(&["init", "--envs", "dev,prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("kept    infra/app/README.md (it exists; not overwritten)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(f.root().join("infra/app/README.md")).unwrap(),
        "# ours\n"
    );
    let gitignore = std::fs::read_to_string(f.root().join(".gitignore")).unwrap();
    assert!(gitignore.starts_with("target/\n"), "{gitignore}");
    assert!(
        gitignore.contains(".plinth/") && gitignore.contains("plinth_*_override.tf"),
        "{gitignore}"
    );
    // A second init refuses: the project exists.
    let err = f.usage_error(&["init"]);
    assert!(err.contains("already has a plinth.hcl"), "{err}");
    let err = Fixture::new().usage_error(&["init", "--envs", "dev,pr od"]);
    assert!(err.contains("not a valid environment name"), "{err}");
}
