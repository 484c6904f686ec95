//! Shared fixture for the integration tests: a temporary repository, the real `plinth`
//! binary run on it with `-C`, and git with a fixed identity.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary project directory, removed when dropped.
pub struct Fixture {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    /// An empty directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        // Canonical, so that paths printed by plinth (which canonicalizes) compare equal.
        let root = dir.path().canonicalize().expect("canonical temp dir");
        Fixture { dir, root }
    }

    /// An empty directory in memory (`/dev/shm`) when the machine has one: fixtures of tens
    /// of thousands of files take minutes to create and delete on a loaded virtual disk.
    pub fn in_memory() -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("create a temporary directory");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        Fixture { dir, root }
    }

    /// The directory's absolute path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `text` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("create parent directories");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        self
    }

    /// Deletes the file `rel`.
    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.root.join(rel)).unwrap_or_else(|e| panic!("remove {rel}: {e}"));
    }

    /// Runs `plinth -C ROOT ARGS…` without colour.
    pub fn plinth(&self, args: &[&str]) -> Output {
        self.plinth_in(".", args)
    }

    /// Runs `plinth -C ROOT/REL ARGS…` without colour.
    pub fn plinth_in(&self, rel: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
        cmd.arg("-C")
            .arg(self.root.join(rel))
            .arg("--color")
            .arg("never");
        cmd.args(args);
        isolate_git(&mut cmd);
        cmd.output().expect("run plinth")
    }

    /// Runs plinth, asserts exit 0, and parses stdout as one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.plinth(args);
        assert_eq!(code(&out), 0, "plinth {args:?} failed:\n{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "plinth {args:?}: stdout is not JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs plinth, asserts the exit code is 64, and returns stderr.
    pub fn usage_error(&self, args: &[&str]) -> String {
        let out = self.plinth(args);
        assert_eq!(
            code(&out),
            64,
            "plinth {args:?} should fail with 64; stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "a configuration error prints nothing on stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr(&out)
    }

    /// Runs `git ARGS…` in the fixture with a fixed identity; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(".", args)
    }

    /// Runs `git ARGS…` in the fixture's subdirectory `rel`; panics on failure.
    pub fn git_in(&self, rel: &str, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(self.root.join(rel)).args([
            "-c",
            "user.name=Plinth Tests",
            "-c",
            "user.email=tests@plinth.invalid",
            "-c",
            "commit.gpgsign=false",
        ]);
        cmd.args(args);
        isolate_git(&mut cmd);
        let out = cmd.output().expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `git init -b main`.
    pub fn git_init(&self) {
        self.git(&["init", "-q", "-b", "main"]);
    }

    /// Stages everything and commits.
    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    /// Keeps `dir` alive; only for debugging a failing test by hand.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

/// Keeps the developer's own git configuration (global excludes, hooks, signing) out of
/// tests, so they see the same repository everywhere.
fn isolate_git(cmd: &mut Command) {
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
}

/// The process exit code.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("plinth exited normally")
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `id` of every instance of an `ls --json` document, in output order.
pub fn instance_ids(doc: &Value) -> Vec<String> {
    doc["instances"]
        .as_array()
        .expect("`instances` is an array")
        .iter()
        .map(|i| i["id"].as_str().expect("`id` is a string").to_string())
        .collect()
}

/// A JSON array of strings.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}
