//! Version-control queries for change detection, through the `git` command line.
//!
//! The git CLI is used rather than libgit2 bindings: it is always present where a repository
//! is, it honours the user's own configuration (worktrees, sparse checkouts, safe.directory),
//! and the three calls change detection needs cost a few milliseconds.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A git failure, with the command's own message.
#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    /// `git` is not installed.
    #[error("git is not installed or not on PATH: {0}")]
    NoGit(std::io::Error),
    /// The directory is not inside a git work tree.
    #[error("{0} is not inside a git repository; --changed needs git history")]
    NotARepo(String),
    /// A git command failed.
    #[error("`git {args}` failed: {message}")]
    Git {
        /// The arguments given to git.
        args: String,
        /// What git printed on stderr.
        message: String,
    },
    /// No base could be chosen automatically.
    #[error(
        "cannot tell the repository's default branch (no origin/HEAD, main or master); pass --changed=BASE"
    )]
    NoDefaultBranch,
}

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Repo {
    toplevel: PathBuf,
}

/// What changed since a base revision.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The commit compared against (the merge-base).
    pub base: String,
    /// Changed, added, deleted and untracked files, absolute, sorted.
    pub files: Vec<PathBuf>,
}

impl Repo {
    /// The work tree containing `dir`.
    pub fn discover(dir: &Path) -> Result<Repo, VcsError> {
        let out = run(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| match e {
            VcsError::Git { .. } => VcsError::NotARepo(dir.display().to_string()),
            other => other,
        })?;
        let toplevel = PathBuf::from(out.trim());
        let toplevel = toplevel.canonicalize().unwrap_or(toplevel);
        Ok(Repo { toplevel })
    }

    /// The work tree's root.
    pub fn toplevel(&self) -> &Path {
        &self.toplevel
    }

    /// The default branch to compare with: `origin/HEAD`'s target, else `main`, else `master`.
    pub fn default_branch(&self) -> Result<String, VcsError> {
        if let Ok(out) = run(
            &self.toplevel,
            &["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"],
        ) && let Some(branch) = out.trim().strip_prefix("refs/remotes/")
        {
            return Ok(branch.to_string());
        }
        for candidate in ["main", "master", "origin/main", "origin/master"] {
            let full = if candidate.starts_with("origin/") {
                format!("refs/remotes/{candidate}")
            } else {
                format!("refs/heads/{candidate}")
            };
            if run(&self.toplevel, &["rev-parse", "--verify", "--quiet", &full]).is_ok() {
                return Ok(candidate.to_string());
            }
        }
        Err(VcsError::NoDefaultBranch)
    }

    /// Files changed between the merge-base of HEAD and `base` (default: the default branch)
    /// and the work tree, plus untracked files.
    pub fn changes(&self, base: Option<&str>) -> Result<Changes, VcsError> {
        let base_ref = match base {
            Some(b) if !b.is_empty() => b.to_string(),
            _ => self.default_branch()?,
        };
        let merge_base = run(&self.toplevel, &["merge-base", "HEAD", &base_ref])?
            .trim()
            .to_string();
        let diff = run(
            &self.toplevel,
            &[
                "diff",
                "--name-only",
                "--no-renames",
                "-z",
                &merge_base,
                "--",
            ],
        )?;
        let untracked = run(
            &self.toplevel,
            &["ls-files", "--others", "--exclude-standard", "-z"],
        )?;
        let mut files: Vec<PathBuf> = diff
            .split('\0')
            .chain(untracked.split('\0'))
            .filter(|p| !p.is_empty())
            .map(|p| self.toplevel.join(p))
            .collect();
        files.sort();
        files.dedup();
        Ok(Changes {
            base: merge_base,
            files,
        })
    }

    /// Files changed from commit `from` to commit `to`, and nothing of the work tree: what a
    /// pull request changes, whatever a run left in its worktree.
    pub fn changes_between(&self, from: &str, to: &str) -> Result<Changes, VcsError> {
        for rev in [from, to] {
            if rev.is_empty() || rev.starts_with('-') {
                return Err(VcsError::Git {
                    args: "diff".into(),
                    message: format!("`{rev}` is not a revision"),
                });
            }
        }
        let diff = run(
            &self.toplevel,
            &["diff", "--name-only", "--no-renames", "-z", from, to, "--"],
        )?;
        let mut files: Vec<PathBuf> = diff
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(|p| self.toplevel.join(p))
            .collect();
        files.sort();
        files.dedup();
        Ok(Changes {
            base: from.to_string(),
            files,
        })
    }

    /// The commit checked out (`HEAD`), with `+dirty` when tracked files have uncommitted
    /// changes; `None` in a repository without commits.
    pub fn head(&self) -> Result<Option<String>, VcsError> {
        let sha = match run(&self.toplevel, &["rev-parse", "--verify", "-q", "HEAD"]) {
            Ok(sha) => sha.trim().to_string(),
            Err(VcsError::Git { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let dirty = !run(
            &self.toplevel,
            &["status", "--porcelain", "--untracked-files=no"],
        )?
        .trim()
        .is_empty();
        Ok(Some(if dirty { format!("{sha}+dirty") } else { sha }))
    }

    /// The content of `path` (absolute, inside the work tree) at `rev`, or `None` if it did not
    /// exist there.
    pub fn file_at(&self, rev: &str, path: &Path) -> Result<Option<String>, VcsError> {
        let rel = path.strip_prefix(&self.toplevel).unwrap_or(path);
        let spec = format!("{rev}:{}", rel.to_string_lossy().replace('\\', "/"));
        match run(&self.toplevel, &["cat-file", "-e", &spec]) {
            Ok(_) => run(&self.toplevel, &["show", &spec]).map(Some),
            Err(VcsError::Git { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn run(dir: &Path, args: &[&str]) -> Result<String, VcsError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(VcsError::NoGit)?;
    if !out.status.success() {
        return Err(VcsError::Git {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn changes_include_committed_modified_deleted_and_untracked_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        std::fs::write(dir.join("a.tf"), "a").unwrap();
        std::fs::write(dir.join("b.tf"), "b").unwrap();
        std::fs::write(dir.join("keep.tf"), "k").unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-qm", "base"]);
        git(dir, &["checkout", "-qb", "feature"]);
        std::fs::write(dir.join("c.tf"), "c").unwrap();
        git(dir, &["add", "c.tf"]);
        git(dir, &["commit", "-qm", "add c"]);
        std::fs::write(dir.join("a.tf"), "a2").unwrap();
        std::fs::remove_file(dir.join("b.tf")).unwrap();
        std::fs::write(dir.join("new.tf"), "n").unwrap();

        let repo = Repo::discover(dir).unwrap();
        assert_eq!(repo.default_branch().unwrap(), "main");
        let changes = repo.changes(None).unwrap();
        let names: Vec<String> = changes
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.tf", "b.tf", "c.tf", "new.tf"]);
        assert_eq!(
            repo.file_at(&changes.base, &repo.toplevel().join("a.tf"))
                .unwrap()
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            repo.file_at(&changes.base, &repo.toplevel().join("c.tf"))
                .unwrap(),
            None
        );
    }

    #[test]
    fn outside_a_repository_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Repo::discover(tmp.path()).unwrap_err();
        assert!(matches!(err, VcsError::NotARepo(_)), "{err}");
    }
}
