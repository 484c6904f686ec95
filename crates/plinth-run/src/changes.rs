//! What changed since a base revision, for `--changed` and the pull-request flow.

use plinth_config::{PROJECT_FILE, ProjectConfig};
use plinth_project::{ChangeSet, Project};
use plinth_vcs::{Repo, VcsError};

/// Why the changes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    /// The project is not in git, or `base` names no revision.
    #[error("{0}")]
    Usage(VcsError),
    /// Git failed reading a revision.
    #[error("{0}")]
    Git(VcsError),
}

/// Changed files since `base` ("" = the merge-base with the default branch) and the base
/// revision's `plinth.hcl` (what an environment block's change is compared with).
pub fn changes_since(project: &Project, base: &str) -> Result<ChangeSet, ChangesError> {
    let repo = Repo::discover(&project.root).map_err(ChangesError::Usage)?;
    let changes = repo.changes(Some(base)).map_err(ChangesError::Usage)?;
    change_set(project, &repo, changes)
}

/// Changed files from commit `from` to commit `to` (nothing of the work tree), and `from`'s
/// `plinth.hcl`: what a pull request changes.
pub fn changes_between(project: &Project, from: &str, to: &str) -> Result<ChangeSet, ChangesError> {
    let repo = Repo::discover(&project.root).map_err(ChangesError::Usage)?;
    let changes = repo
        .changes_between(from, to)
        .map_err(ChangesError::Usage)?;
    change_set(project, &repo, changes)
}

fn change_set(
    project: &Project,
    repo: &Repo,
    changes: plinth_vcs::Changes,
) -> Result<ChangeSet, ChangesError> {
    let project_file = project.root.join(PROJECT_FILE);
    let base_config = repo
        .file_at(&changes.base, &project_file)
        .map_err(ChangesError::Git)?
        .and_then(|text| ProjectConfig::parse(PROJECT_FILE, &text, project.config.project()).ok());
    Ok(ChangeSet {
        files: changes.files,
        base_config,
    })
}
