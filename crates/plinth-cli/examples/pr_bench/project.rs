//! The hosted repository: a plinth project of `terraform_data` stacks in dependency chains,
//! every stack calling one local module, in a real git repository whose pull-request heads
//! live under `refs/pull/N/head` as on GitHub.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The one environment, planned on every pull request (`autoplan`).
pub const ENV: &str = "staging";
/// The plinth project's name.
pub const PROJECT: &str = "acme";
/// Stacks per dependency chain: the first of each chain has no dependency, each other one
/// reads its predecessor's output.
const CHAIN: usize = 5;

/// The stack id of stack `k` (1-based).
pub fn stack_id(k: usize) -> String {
    format!("stacks/s{k:02}")
}

/// A git repository holding the project.
pub struct Repo {
    /// Its work tree.
    pub dir: PathBuf,
}

impl Repo {
    /// Writes the project (`stacks` stacks, state on the plinth server at `url`) and commits
    /// it on `main`; the commit is [`Repo::sha`] of `main`.
    pub fn create(dir: &Path, url: &str, stacks: usize) -> Repo {
        std::fs::create_dir_all(dir).expect("the repository directory");
        let repo = Repo {
            dir: dir.to_path_buf(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write(
            "plinth.hcl",
            &format!(
                "plinth {{\n  project = \"{PROJECT}\"\n}}\n\nstate {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\n\
                 environment \"{ENV}\" {{\n  pull_request {{\n    autoplan = true\n  }}\n}}\n"
            ),
        );
        repo.write(".gitignore", ".plinth/\nplinth_*_override.tf\n");
        repo.write("modules/tags/main.tf", &module_tf(1));
        for k in 1..=stacks {
            repo.write(&format!("{}/stack.hcl", stack_id(k)), &stack_hcl(k));
            repo.write(&format!("{}/main.tf", stack_id(k)), &main_tf(k, "main"));
        }
        repo.commit("forty stacks");
        repo
    }

    /// Writes a file of the work tree.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("a file");
    }

    /// Stack `k` with its `rev` local set to `rev` (a change of its plan).
    pub fn set_rev(&self, k: usize, rev: &str) {
        self.write(&format!("{}/main.tf", stack_id(k)), &main_tf(k, rev));
    }

    /// The shared module at `version` (a change of every stack's plan).
    pub fn set_module(&self, version: u32) {
        self.write("modules/tags/main.tf", &module_tf(version));
    }

    /// Commits everything; the new commit.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-q",
            "-m",
            message,
        ]);
        self.sha("HEAD")
    }

    /// The commit `rev` names.
    pub fn sha(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    /// Points GitHub's head ref of pull request `number` at `sha`, as a push does.
    pub fn push_head(&self, number: u64, sha: &str) {
        self.git(&["update-ref", &format!("refs/pull/{number}/head"), sha]);
    }

    /// Runs git in the work tree; its stdout. Panics with git's message on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("git prints UTF-8")
    }
}

fn stack_hcl(k: usize) -> String {
    if (k - 1).is_multiple_of(CHAIN) {
        "inputs = {\n  env_name = env.name\n}\n".to_string()
    } else {
        format!(
            "dependency \"up\" {{\n  stack = \"../s{:02}\"\n}}\n\ninputs = {{\n  upstream = dependency.up.outputs.id\n}}\n",
            k - 1
        )
    }
}

fn main_tf(k: usize, rev: &str) -> String {
    let (variable, from) = if (k - 1).is_multiple_of(CHAIN) {
        ("env_name", "${var.env_name}")
    } else {
        ("upstream", "${var.upstream}")
    };
    format!(
        "variable \"{variable}\" {{\n  type = string\n}}\n\n\
         module \"tags\" {{\n  source = \"../../modules/tags\"\n  name   = \"s{k:02}\"\n}}\n\n\
         locals {{\n  rev = \"{rev}\"\n}}\n\n\
         resource \"terraform_data\" \"this\" {{\n  input = \"{from}>s{k:02}@${{local.rev}}#${{module.tags.tag}}\"\n}}\n\n\
         output \"id\" {{\n  value = terraform_data.this.output\n}}\n"
    )
}

fn module_tf(version: u32) -> String {
    format!(
        "variable \"name\" {{\n  type = string\n}}\n\noutput \"tag\" {{\n  value = \"tags-v{version}-${{var.name}}\"\n}}\n"
    )
}
