//! Gathering what changed since a base revision, for `--changed`.

use plinth_config::{PROJECT_FILE, ProjectConfig};
use plinth_project::{ChangeSet, Project};
use plinth_vcs::Repo;

use crate::exit::Failure;

/// Changed files since `base` ("" = merge-base with the default branch) and the base
/// revision's `plinth.hcl`.
pub fn since(project: &Project, base: &str) -> Result<ChangeSet, Failure> {
    let repo = Repo::discover(&project.root).map_err(|e| Failure::usage(e.to_string()))?;
    let changes = repo
        .changes(Some(base))
        .map_err(|e| Failure::usage(e.to_string()))?;
    let project_file = project.root.join(PROJECT_FILE);
    let base_config = repo
        .file_at(&changes.base, &project_file)
        .map_err(|e| Failure::failure(e.to_string()))?
        .and_then(|text| ProjectConfig::parse(PROJECT_FILE, &text, project.config.project()).ok());
    Ok(ChangeSet {
        files: changes.files,
        base_config,
    })
}
