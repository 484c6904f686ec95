//! `plinth doctor`: one line per check, ✓ or ✗ with a fix, exit 1 on any ✗. Each failure mode
//! is produced for real: a PATH without terraform or git, an engine of the wrong version or
//! none at all, a plugin cache that cannot be a directory, and a real `plinth serve` that is
//! down, gets no token, a revoked one, a read-only one, or a good one.

mod serve_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serve_support::{Db, Server};
use support::{Fixture, code, stdout};

const PLINTH: &str = env!("CARGO_BIN_EXE_plinth");

fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH");
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

/// A directory holding only the named tools, to stand as PATH.
fn bin_with(tools: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for t in tools {
        std::os::unix::fs::symlink(which(t), dir.path().join(t)).unwrap();
    }
    dir
}

fn doctor(root: &Path, path: Option<&Path>, token: Option<&str>) -> Output {
    let mut cmd = Command::new(PLINTH);
    cmd.arg("-C").arg(root).args(["--color", "never", "doctor"]);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.env_remove("PLINTH_TOKEN");
    if let Some(t) = token {
        cmd.env("PLINTH_TOKEN", t);
    }
    cmd.output().unwrap()
}

/// The report's line for `what`.
fn line<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| {
            l[l.char_indices().nth(2).map_or(0, |(i, _)| i)..].starts_with(&format!("{what}:"))
        })
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{text}"))
}

fn project(plinth_hcl: &str) -> Fixture {
    let f = Fixture::new();
    f.write("plinth.hcl", plinth_hcl)
        .write("app/stack.hcl", "stack {}\n")
        .write("app/main.tf", "resource \"terraform_data\" \"x\" {}\n");
    f
}

const LOCAL: &str = "plinth {\n  engine_version = \">= 1.6\"\n}\n\nenvironment \"dev\" {}\n";

#[test]
fn a_healthy_local_project_passes_every_check() {
    let f = project(LOCAL);
    let out = doctor(f.root(), None, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    for what in ["project", "engine", "git", "plugin cache", "state backend"] {
        assert!(line(&text, what).starts_with('✓'), "{text}");
    }
    assert!(
        line(&text, "engine").contains("satisfies engine_version \">= 1.6\""),
        "{text}"
    );
    assert!(f.root().join(".plinth/plugin-cache").is_dir());
}

#[test]
fn missing_engine_and_git_fail_with_fixes() {
    let f = project(LOCAL);
    let only_git = bin_with(&["git"]);
    let out = doctor(f.root(), Some(only_git.path()), None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    let engine = line(&text, "engine");
    assert!(engine.starts_with("✗ engine: engine `terraform` cannot be used: not found on PATH — fix: install terraform"), "{text}");
    assert!(line(&text, "git").starts_with('✓'), "{text}");

    let only_terraform = bin_with(&["terraform"]);
    let out = doctor(f.root(), Some(only_terraform.path()), None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(
        line(&text, "git").starts_with("✗ git: cannot run git"),
        "{text}"
    );
    assert!(line(&text, "git").contains("— fix: install git"), "{text}");
    assert!(line(&text, "engine").starts_with('✓'), "{text}");
}

#[test]
fn wrong_engine_version_and_a_non_engine_fail() {
    let f = project("plinth {\n  engine_version = \">= 99.0\"\n}\n\nenvironment \"dev\" {}\n");
    let text = stdout(&doctor(f.root(), None, None));
    assert!(
        line(&text, "engine")
            .contains("outside engine_version \">= 99.0\" — fix: install a terraform matching"),
        "{text}"
    );

    let f = project("plinth {\n  engine = \"./bin/fake\"\n}\n\nenvironment \"dev\" {}\n");
    f.write("bin/fake", "#!/bin/sh\necho hello\n");
    std::fs::set_permissions(
        f.root().join("bin/fake"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = doctor(f.root(), None, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(
        line(&text, "engine").contains("did not answer `version -json` like terraform or tofu"),
        "{text}"
    );
}

#[test]
fn a_plugin_cache_that_cannot_be_a_directory_fails() {
    let f = project(LOCAL);
    f.write(
        ".plinth/plugin-cache",
        "a file where the cache directory belongs",
    );
    let out = doctor(f.root(), None, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(
        line(&text, "plugin cache").starts_with("✗ plugin cache: .plinth/plugin-cache:"),
        "{text}"
    );
}

#[test]
fn no_project_and_a_broken_plinth_hcl_fail() {
    let empty = tempfile::tempdir().unwrap();
    let text = stdout(&doctor(empty.path(), None, None));
    assert!(
        line(&text, "project").starts_with("✗ project: no plinth.hcl"),
        "{text}"
    );
    assert!(
        line(&text, "project").contains("fix: run `plinth init`"),
        "{text}"
    );

    let f = project("environment \"dev\" {\n  lifecycle = \"forever\"\n}\n");
    let out = doctor(f.root(), None, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1);
    assert!(line(&text, "project").contains("plinth.hcl:2:"), "{text}");
}

fn plinth_backend(url: &str) -> Fixture {
    project(&format!(
        "state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\nenvironment \"dev\" {{}}\n"
    ))
}

#[test]
fn plinth_backend_failure_modes_and_success() {
    // Down: a port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = plinth_backend(&format!("http://127.0.0.1:{port}"));
    let text = stdout(&doctor(f.root(), None, Some("whatever")));
    let l = line(&text, "state backend");
    assert!(
        l.starts_with(&format!(
            "✗ state backend: cannot reach http://127.0.0.1:{port}/v1/whoami"
        )),
        "{text}"
    );
    assert!(l.contains("fix: start the server"), "{text}");
    assert!(!text.contains("whatever"), "the token is never printed");

    let db = Db::sqlite();
    let server = Server::start(&db);
    let write = db.token("ci", "write");
    let read = db.token("viewer", "read");
    let f = plinth_backend(&server.url);

    let text = stdout(&doctor(f.root(), None, None));
    assert!(
        line(&text, "state backend").contains("PLINTH_TOKEN is not set — fix: export PLINTH_TOKEN"),
        "{text}"
    );

    let text = stdout(&doctor(f.root(), None, Some("plinth_not-a-real-token")));
    assert!(
        line(&text, "state backend").contains("refused PLINTH_TOKEN (403 Forbidden)"),
        "{text}"
    );
    assert!(
        !text.contains("plinth_not-a-real-token"),
        "the token is never printed"
    );

    let text = stdout(&doctor(f.root(), None, Some(&read)));
    assert!(
        line(&text, "state backend").contains("token `viewer` has scope read"),
        "{text}"
    );

    let out = doctor(f.root(), None, Some(&write));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert_eq!(
        line(&text, "state backend"),
        format!(
            "✓ state backend: plinth server {}: token `ci`, scope write",
            server.url
        )
    );
    assert!(!text.contains(&write), "the token is never printed");
}
