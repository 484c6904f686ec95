//! Working copies under the data directory: one bare mirror per repository and one detached
//! worktree per head commit, created once and shared by every job of that commit.
//!
//! ```text
//! DATA_DIR/mirrors/acme+infra.git        bare mirror (refs as on the forge: refs/heads/*, refs/pull/*)
//! DATA_DIR/mirrors/acme+infra.lock       flock: one mutating git command per mirror at a time
//! DATA_DIR/worktrees/acme+infra/SHA      detached worktree of commit SHA
//! DATA_DIR/worktrees/acme+infra/SHA.ready  written once the worktree is complete
//! DATA_DIR/worktrees/acme+infra/SHA.lock   flock, shared while a job uses the worktree
//! ```
//!
//! - **Credentials** go to git as an HTTP header in its environment (see `git.rs`); a clone
//!   URL carrying userinfo is refused, and nothing is configured in the mirror, so no token
//!   is in a URL, a process argument, `config`, or (scrubbed) an error message.
//! - **Concurrency**: every mutation of a mirror (creating it, fetching, adding or removing
//!   worktrees) holds the mirror's flock, which excludes the workers of this replica and of
//!   every replica sharing the directory. A [`Worktree`] holds a shared flock on its commit
//!   until dropped, and [`Workspaces::prune`] skips worktrees someone holds.
//! - **Crashes**: a mirror is initialised in a temporary directory and renamed into place; a
//!   worktree counts only once its `.ready` marker exists and its HEAD is the commit, so one
//!   left half-made by a kill -9 is removed and built again; ref locks git leaves behind when
//!   killed are removed under the mirror's flock (no git command can be running then).

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plinth_forge::GitAuth;

use crate::file_lock::{self, FileLock};
use crate::git::{GitCommand, GitFailure, scrub};
/// The directory name of a repository's mirror and worktrees (`acme/infra` → `acme+infra`).
pub(crate) use crate::git_input::slug;
use crate::git_input::{check_clone_url, commit_id, full_refs};

/// How long one git command (a fetch of a large repository) may run.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Why a working copy could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// Not a full commit id.
    #[error("invalid commit {0:?}: expected 40 (or 64) hexadecimal digits")]
    BadCommit(String),
    /// Not a ref or revision git accepts here.
    #[error("invalid ref {0:?}")]
    BadRef(String),
    /// The clone URL embeds credentials, which would end up in logs and git's messages.
    #[error(
        "the clone URL of {repo} ({url}) carries credentials; plinth sends the forge's token as \
         a header: remove them from the URL"
    )]
    CredentialsInUrl {
        /// The repository.
        repo: String,
        /// The URL with the credentials replaced.
        url: String,
    },
    /// The commit is not in the mirror, even after fetching.
    #[error("commit {sha} of {repo} is not on the forge's {refs}")]
    CommitNotFound {
        /// The repository.
        repo: String,
        /// The commit.
        sha: String,
        /// The refs fetched.
        refs: String,
    },
    /// A git command failed.
    #[error("`git {args}` failed for {repo}: {message}")]
    Git {
        /// The repository.
        repo: String,
        /// The command's arguments (scrubbed).
        args: String,
        /// What git said (scrubbed).
        message: String,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A checked-out commit. The worktree stays on disk after the value is dropped (it is
/// reused); while the value lives, [`Workspaces::prune`] leaves it alone.
#[derive(Debug)]
pub struct Worktree {
    path: PathBuf,
    sha: String,
    _in_use: FileLock,
}

impl Worktree {
    /// The worktree's root (the repository root at the commit).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commit checked out.
    pub fn sha(&self) -> &str {
        &self.sha
    }
}

/// What [`Workspaces::prune`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Commits whose worktrees were removed.
    pub removed: Vec<String>,
    /// Commits not kept but in use by a job right now; removed by a later prune.
    pub in_use: Vec<String>,
}

/// The mirrors and worktrees under one data directory.
#[derive(Debug, Clone)]
pub struct Workspaces {
    root: PathBuf,
    git_timeout: Duration,
}

impl Workspaces {
    /// Working copies under `data_dir` (created when first needed).
    pub fn new(data_dir: &Path) -> Workspaces {
        Workspaces {
            // git takes paths relative to the directory it runs in (the mirror): absolute ones
            // mean the same thing to every command.
            root: std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf()),
            git_timeout: DEFAULT_GIT_TIMEOUT,
        }
    }

    /// The same with another limit on each git command.
    pub fn with_git_timeout(mut self, timeout: Duration) -> Workspaces {
        self.git_timeout = timeout;
        self
    }

    /// The bare mirror of `repo`.
    pub fn mirror_path(&self, repo: &str) -> PathBuf {
        self.root
            .join("mirrors")
            .join(format!("{}.git", slug(repo)))
    }

    /// Where the worktree of `sha` of `repo` lives (whether or not it exists).
    pub fn worktree_path(&self, repo: &str, sha: &str) -> PathBuf {
        self.worktrees_dir(repo).join(sha.to_ascii_lowercase())
    }

    fn worktrees_dir(&self, repo: &str) -> PathBuf {
        self.root.join("worktrees").join(slug(repo))
    }

    fn git<'a>(&self, dir: &'a Path, auth: Option<&'a GitAuth>) -> GitCommand<'a> {
        GitCommand {
            dir,
            auth,
            timeout: self.git_timeout,
        }
    }

    /// The worktree of commit `sha` of `repo`, fetching `fetch_refs` from `clone_url` first
    /// when the commit or one of the refs is not in the mirror yet. Pass the pull request's
    /// head ref ([`plinth_forge::pull_head_ref`]) and its base branch (`main` means
    /// `refs/heads/main`), so that [`Workspaces::merge_base`] finds the fork point. A commit
    /// never changes, and a head's merge base with its base branch stays where the head forked
    /// while the base moves on, so a worktree already made is reused without a fetch.
    pub async fn checkout(
        &self,
        repo: &str,
        clone_url: &str,
        auth: &GitAuth,
        fetch_refs: &[&str],
        sha: &str,
    ) -> Result<Worktree, WorkspaceError> {
        let sha = commit_id(sha)?;
        let refs = full_refs(fetch_refs)?;
        check_clone_url(repo, clone_url)?;
        let _mirror = self.lock_mirror(repo).await?;
        let mirror = self.ensure_mirror(repo).await?;
        if !self.has_all(&mirror, &sha, &refs).await? {
            self.fetch_locked(repo, &mirror, clone_url, auth, &refs)
                .await?;
            if !self.has_commit(&mirror, &sha).await {
                return Err(WorkspaceError::CommitNotFound {
                    repo: repo.to_string(),
                    sha,
                    refs: refs.join(", "),
                });
            }
        }
        let path = self.ensure_worktree(repo, &mirror, &sha).await?;
        // Taken under the mirror's lock, which prune holds throughout: so the worktree cannot
        // be pruned between being made and being held.
        let marker = self.worktrees_dir(repo).join(format!("{sha}.lock"));
        let in_use = file_lock::try_shared(&marker)
            .map_err(io_error(&marker))?
            .ok_or_else(|| WorkspaceError::Io {
                path: marker.display().to_string(),
                source: io::Error::new(io::ErrorKind::WouldBlock, "held exclusively"),
            })?;
        Ok(Worktree {
            path,
            sha,
            _in_use: in_use,
        })
    }

    /// Fetches `refs` of `repo` from `clone_url` into its mirror (created if needed), for a
    /// caller that wants the forge's current refs regardless of what the mirror holds.
    pub async fn fetch(
        &self,
        repo: &str,
        clone_url: &str,
        auth: &GitAuth,
        refs: &[&str],
    ) -> Result<(), WorkspaceError> {
        let refs = full_refs(refs)?;
        check_clone_url(repo, clone_url)?;
        let _mirror = self.lock_mirror(repo).await?;
        let mirror = self.ensure_mirror(repo).await?;
        self.fetch_locked(repo, &mirror, clone_url, auth, &refs)
            .await
    }

    /// The best common ancestor of revisions `a` and `b` (commits or refs of the mirror),
    /// `None` when they share no history.
    pub async fn merge_base(
        &self,
        repo: &str,
        a: &str,
        b: &str,
    ) -> Result<Option<String>, WorkspaceError> {
        for rev in [a, b] {
            if rev.is_empty() || rev.starts_with('-') || rev.chars().any(char::is_whitespace) {
                return Err(WorkspaceError::BadRef(rev.to_string()));
            }
        }
        let mirror = self.mirror_path(repo);
        match self.git(&mirror, None).run(&["merge-base", a, b]).await {
            Ok(out) => Ok(Some(out.trim().to_string())),
            // merge-base exits 1 and prints nothing when there is no common ancestor.
            Err(GitFailure::Exit {
                code: Some(1),
                message,
            }) if message.is_empty() => Ok(None),
            Err(e) => Err(git_error(repo, &["merge-base", a, b], e)),
        }
    }

    /// The commit a ref of the mirror points at (`refs/heads/main` after a [`Workspaces::fetch`]
    /// of it), `None` when the mirror or the ref does not exist.
    pub async fn resolve(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<String>, WorkspaceError> {
        let full = full_refs(&[reference])?.remove(0);
        let mirror = self.mirror_path(repo);
        if !mirror.join("HEAD").exists() {
            return Ok(None);
        }
        let spec = format!("{full}^{{commit}}");
        match self
            .git(&mirror, None)
            .run(&["rev-parse", "--verify", "--quiet", &spec])
            .await
        {
            Ok(out) => Ok(Some(out.trim().to_string())),
            // --quiet: exit 1 with nothing printed when the ref does not exist.
            Err(GitFailure::Exit {
                code: Some(1),
                message,
            }) if message.is_empty() => Ok(None),
            Err(e) => Err(git_error(repo, &["rev-parse", &spec], e)),
        }
    }

    /// Removes the worktrees of `repo` whose commits are not in `keep` (those no open pull
    /// request needs), except those a job holds right now, then lets git forget them.
    pub async fn prune(
        &self,
        repo: &str,
        keep: &HashSet<String>,
    ) -> Result<PruneReport, WorkspaceError> {
        let keep: HashSet<String> = keep.iter().map(|s| s.to_ascii_lowercase()).collect();
        let mut report = PruneReport::default();
        let dir = self.worktrees_dir(repo);
        let mirror = self.mirror_path(repo);
        if !mirror.exists() {
            return Ok(report);
        }
        let _mirror = self.lock_mirror(repo).await?;
        let mut shas: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .map(|name| {
                    name.trim_end_matches(".ready")
                        .trim_end_matches(".lock")
                        .to_string()
                })
                .filter(|name| commit_id(name).is_ok())
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_error(&dir)(e)),
        };
        shas.sort();
        shas.dedup();
        for sha in shas.into_iter().filter(|s| !keep.contains(s)) {
            let lock_path = dir.join(format!("{sha}.lock"));
            let Some(_held) = file_lock::try_exclusive(&lock_path).map_err(io_error(&lock_path))?
            else {
                report.in_use.push(sha);
                continue;
            };
            self.remove_worktree(&mirror, &dir.join(&sha)).await?;
            remove_file(&lock_path)?;
            report.removed.push(sha);
        }
        self.git(&mirror, None)
            .run(&["worktree", "prune"])
            .await
            .map_err(|e| git_error(repo, &["worktree", "prune"], e))?;
        Ok(report)
    }

    async fn lock_mirror(&self, repo: &str) -> Result<FileLock, WorkspaceError> {
        let dir = self.root.join("mirrors");
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let path = dir.join(format!("{}.lock", slug(repo)));
        file_lock::exclusive(&path).await.map_err(io_error(&path))
    }

    /// The mirror, made if missing; stale git locks of a killed command removed. Called with
    /// the mirror's flock held.
    async fn ensure_mirror(&self, repo: &str) -> Result<PathBuf, WorkspaceError> {
        let mirror = self.mirror_path(repo);
        let parent = mirror
            .parent()
            .expect("mirrors/ has a parent")
            .to_path_buf();
        let name = mirror
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        // Temporary directories of an init that was killed.
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for entry in entries.filter_map(Result::ok) {
                let stale = entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(&format!("{name}.tmp-")));
                if stale {
                    remove_dir(&entry.path())?;
                }
            }
        }
        if mirror.join("HEAD").exists() {
            remove_stale_git_locks(&mirror)?;
            return Ok(mirror);
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = parent.join(format!("{name}.tmp-{}-{nanos}", std::process::id()));
        let tmp_arg = tmp.display().to_string();
        self.git(&parent, None)
            .run(&["init", "--quiet", "--bare", &tmp_arg])
            .await
            .map_err(|e| git_error(repo, &["init", "--bare", &tmp_arg], e))?;
        if mirror.exists() {
            // A directory without HEAD is no mirror: the leftover of something interrupted.
            remove_dir(&mirror)?;
        }
        std::fs::rename(&tmp, &mirror).map_err(io_error(&mirror))?;
        Ok(mirror)
    }

    async fn has_commit(&self, mirror: &Path, sha: &str) -> bool {
        let spec = format!("{sha}^{{commit}}");
        self.git(mirror, None)
            .run(&["cat-file", "-e", &spec])
            .await
            .is_ok()
    }

    async fn has_all(
        &self,
        mirror: &Path,
        sha: &str,
        refs: &[String],
    ) -> Result<bool, WorkspaceError> {
        if !self.has_commit(mirror, sha).await {
            return Ok(false);
        }
        if refs.is_empty() {
            return Ok(true);
        }
        let mut args = vec!["show-ref", "--verify", "--quiet"];
        args.extend(refs.iter().map(String::as_str));
        Ok(self.git(mirror, None).run(&args).await.is_ok())
    }

    async fn fetch_locked(
        &self,
        repo: &str,
        mirror: &Path,
        clone_url: &str,
        auth: &GitAuth,
        refs: &[String],
    ) -> Result<(), WorkspaceError> {
        if refs.is_empty() {
            return Ok(());
        }
        let specs: Vec<String> = refs.iter().map(|r| format!("+{r}:{r}")).collect();
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            clone_url,
        ];
        args.extend(specs.iter().map(String::as_str));
        self.git(mirror, Some(auth))
            .run(&args)
            .await
            .map_err(|e| git_error_with(repo, &args, e, Some(auth)))?;
        Ok(())
    }

    /// The complete worktree of `sha`: reused when its marker is there and its HEAD is the
    /// commit, otherwise (missing, or left half-made) built again. Mirror's flock held.
    async fn ensure_worktree(
        &self,
        repo: &str,
        mirror: &Path,
        sha: &str,
    ) -> Result<PathBuf, WorkspaceError> {
        let dir = self.worktrees_dir(repo);
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let path = dir.join(sha);
        let ready = dir.join(format!("{sha}.ready"));
        if ready.exists()
            && path.join(".git").exists()
            && self.head_of(&path).await.as_deref() == Some(sha)
        {
            return Ok(path);
        }
        remove_file(&ready)?;
        self.remove_worktree(mirror, &path).await?;
        let path_arg = path.display().to_string();
        let args = ["worktree", "add", "--quiet", "--detach", &path_arg, sha];
        self.git(mirror, None)
            .run(&args)
            .await
            .map_err(|e| git_error(repo, &args, e))?;
        if self.head_of(&path).await.as_deref() != Some(sha) {
            return Err(WorkspaceError::Git {
                repo: repo.to_string(),
                args: args.join(" "),
                message: "the new worktree is not at the commit".to_string(),
            });
        }
        std::fs::write(&ready, sha.as_bytes()).map_err(io_error(&ready))?;
        Ok(path)
    }

    async fn head_of(&self, worktree: &Path) -> Option<String> {
        self.git(worktree, None)
            .run(&["rev-parse", "--verify", "--quiet", "HEAD"])
            .await
            .ok()
            .map(|out| out.trim().to_string())
    }

    /// Deletes a worktree's files and git's record of it (even one git marked as still
    /// being initialised by a command that was killed). Mirror's flock held.
    async fn remove_worktree(&self, mirror: &Path, path: &Path) -> Result<(), WorkspaceError> {
        remove_file(&path.with_extension("ready"))?;
        let admin = mirror.join("worktrees");
        if let Ok(entries) = std::fs::read_dir(&admin) {
            // git records the worktree's `.git` by its absolute path, symlinks resolved.
            let target = path.join(".git");
            let resolved = path
                .parent()
                .and_then(|p| p.canonicalize().ok())
                .zip(path.file_name())
                .map(|(dir, name)| dir.join(name).join(".git"));
            for entry in entries.filter_map(Result::ok) {
                let gitdir =
                    std::fs::read_to_string(entry.path().join("gitdir")).unwrap_or_default();
                let gitdir = Path::new(gitdir.trim());
                if gitdir == target || resolved.as_deref() == Some(gitdir) {
                    remove_dir(&entry.path())?;
                }
            }
        }
        remove_dir(path)
    }
}

/// Lock files git leaves when killed mid-command (`refs/heads/main.lock`, `packed-refs.lock`,
/// …). Only called with the mirror's flock held, when no git command runs on it.
fn remove_stale_git_locks(mirror: &Path) -> Result<(), WorkspaceError> {
    for name in [
        "packed-refs.lock",
        "shallow.lock",
        "config.lock",
        "HEAD.lock",
        "index.lock",
    ] {
        remove_file(&mirror.join(name))?;
    }
    let mut dirs = vec![mirror.join("refs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                remove_file(&path)?;
            }
        }
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<(), WorkspaceError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

fn remove_dir(path: &Path) -> Result<(), WorkspaceError> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

fn git_error(repo: &str, args: &[&str], failure: GitFailure) -> WorkspaceError {
    git_error_with(repo, args, failure, None)
}

fn git_error_with(
    repo: &str,
    args: &[&str],
    failure: GitFailure,
    auth: Option<&GitAuth>,
) -> WorkspaceError {
    let message = match failure {
        GitFailure::Spawn(e) => format!("cannot run git: {e}"),
        GitFailure::Exit { code, message } => match code {
            Some(code) => format!("exit {code}: {message}"),
            None => format!("killed: {message}"),
        },
        GitFailure::Timeout => "timed out; the command was killed".to_string(),
    };
    WorkspaceError::Git {
        repo: repo.to_string(),
        args: scrub(&args.join(" "), auth),
        message,
    }
}
