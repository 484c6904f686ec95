//! The work the server does without a pull request (scheduled drift checks, the reaper): the
//! repository's default branch fetched into its mirror, a commit checked out, and the project
//! there loaded with a work directory of the job's own under the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_config::Backend;
use plinth_project::Project;

use crate::automation::Automation;
use crate::error::FlowError;
use crate::setup::RepoSetup;
use crate::workspace::{WorkspaceError, Worktree};

/// A project loaded at a commit of a served repository.
pub(crate) struct AtCommit {
    /// Held while the job uses it, so that pruning leaves it alone.
    pub _worktree: Worktree,
    /// The commit.
    pub sha: String,
    /// The project, with the job's work directory.
    pub project: Arc<Project>,
}

/// A commit's project, or why the server cannot use it.
pub(crate) enum Loaded {
    /// Ready to run.
    Ready(AtCommit),
    /// No project there, configuration errors, or state the server cannot reach.
    Unusable(String),
}

impl Automation {
    /// Where `repo` is fetched from: its repo block's `clone_url`, else the URL the forge sent
    /// with its latest pull request (remembered in the pull request's sheet); `None` when
    /// neither is known yet.
    pub(crate) fn clone_url_of(&self, repo: &RepoSetup) -> Option<String> {
        if let Some(url) = &repo.clone_url {
            return Some(url.clone());
        }
        let dir = self
            .setup
            .data_dir()
            .join("pulls")
            .join(crate::git_input::slug(&repo.name));
        let mut sheets: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path().join("pull.json"))
            .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
            .collect();
        sheets.sort_by_key(|s| std::cmp::Reverse(s.0));
        sheets.into_iter().find_map(|(_, path)| {
            let sheet: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
            sheet["clone_url"].as_str().map(str::to_string)
        })
    }

    /// Fetches the default branch of `repo` and returns the commit it points at.
    pub(crate) async fn default_head(&self, repo: &RepoSetup) -> Result<String, FlowError> {
        let url = self.clone_url_of(repo).ok_or_else(|| {
            FlowError::Refused(format!(
                "no clone URL for {} yet: set `clone_url` in its repo block (or wait for its \
                 first pull request)",
                repo.name
            ))
        })?;
        let auth = self.forge(&repo.name)?.git_auth(&repo.name).await?;
        let branch = branch_ref(repo);
        self.workspaces
            .fetch(&repo.name, &url, &auth, &[&branch])
            .await?;
        self.workspaces
            .resolve(&repo.name, &branch)
            .await?
            .ok_or_else(|| {
                FlowError::Refused(format!(
                    "{} has no branch `{}` (the repo block's `default_branch`)",
                    repo.name, repo.default_branch
                ))
            })
    }

    /// Checks out `sha` of `repo` (fetching `refs` when the mirror lacks it) and loads the
    /// project there with `work_dir`. A commit that is not on the forge any more is
    /// `Ok(None)`, so that the caller can fall back to another.
    pub(crate) async fn load_at(
        &self,
        repo: &RepoSetup,
        sha: &str,
        refs: &[String],
        work_dir: PathBuf,
    ) -> Result<Option<Loaded>, FlowError> {
        let url = self
            .clone_url_of(repo)
            .ok_or_else(|| FlowError::Refused(format!("no clone URL for {}", repo.name)))?;
        let auth = self.forge(&repo.name)?.git_auth(&repo.name).await?;
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let worktree = match self
            .workspaces
            .checkout(&repo.name, &url, &auth, &refs, sha)
            .await
        {
            Ok(w) => w,
            Err(WorkspaceError::CommitNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let root = worktree.path().join(&repo.project_dir);
        let prefix = format!("{}/", worktree.path().display());
        let loaded = tokio::task::spawn_blocking(move || load(&root, &prefix, work_dir))
            .await
            .map_err(|e| FlowError::Other(format!("loading the project: {e}")))?;
        Ok(Some(match loaded {
            Ok(project) => Loaded::Ready(AtCommit {
                _worktree: worktree,
                sha: sha.to_ascii_lowercase(),
                project: Arc::new(project),
            }),
            Err(why) => Loaded::Unusable(why),
        }))
    }

    /// A directory of the server's own work for `repo` under the data directory
    /// (`drift/acme+infra/prod`).
    pub(crate) fn repo_work_dir(&self, what: &str, repo: &str, name: &str) -> PathBuf {
        self.setup
            .data_dir()
            .join(what)
            .join(crate::git_input::slug(repo))
            .join(name)
    }
}

/// `refs/heads/BRANCH` of the repository's default branch.
pub(crate) fn branch_ref(repo: &RepoSetup) -> String {
    let b = &repo.default_branch;
    if b.starts_with("refs/") {
        b.clone()
    } else {
        format!("refs/heads/{b}")
    }
}

fn load(root: &Path, prefix: &str, work_dir: PathBuf) -> Result<Project, String> {
    if !root.join(plinth_config::PROJECT_FILE).is_file() {
        return Err(format!(
            "no {} in `{}`",
            plinth_config::PROJECT_FILE,
            root.display().to_string().replace(prefix, "")
        ));
    }
    let project = Project::load(root)
        .map(|p| p.with_work_dir(work_dir))
        .map_err(|diags| plinth_diag::render_all(&diags, false).replace(prefix, ""))?;
    if project.config.state.backend == Backend::Local {
        return Err(
            "the project keeps its state with `backend = \"local\"`, which the server cannot \
             read: use `backend = \"plinth\"` or a shared backend"
                .into(),
        );
    }
    Ok(project)
}
