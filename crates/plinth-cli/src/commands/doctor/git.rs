//! git: change detection (`--changed`) and the pull-request flow run it.

use std::process::Command;

use super::{Doctor, Finding};

/// `git` runs; whether the project is a work tree is said, not required.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let what = "git";
    let version = Command::new("git").arg("--version").output();
    let finding = match version {
        Ok(out) if out.status.success() => {
            let v = String::from_utf8_lossy(&out.stdout)
                .trim()
                .trim_start_matches("git version ")
                .to_string();
            let inside = Command::new("git")
                .arg("-C")
                .arg(d.base())
                .args(["rev-parse", "--is-inside-work-tree"])
                .output()
                .is_ok_and(|o| o.status.success());
            let repo = if d.server_only() {
                "the server fetches pull requests with it"
            } else if inside {
                "the project is a git work tree"
            } else {
                "the project is not in a git repository yet (`--changed` needs one)"
            };
            Finding::ok(what, format!("git {v}; {repo}"))
        }
        Ok(out) => Finding::fail(
            what,
            format!(
                "`git --version` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "reinstall git",
        ),
        Err(e) => Finding::fail(
            what,
            format!("cannot run git: {e}"),
            "install git (e.g. `apt-get install git`) and put it on PATH",
        ),
    };
    vec![finding]
}
