//! Gathering what changed since a base revision, for `--changed`.

use plinth_project::{ChangeSet, Project};
use plinth_run::ChangesError;

use crate::exit::Failure;

/// Changed files since `base` ("" = merge-base with the default branch) and the base
/// revision's `plinth.hcl`.
pub fn since(project: &Project, base: &str) -> Result<ChangeSet, Failure> {
    plinth_run::changes_since(project, base).map_err(|e| match e {
        ChangesError::Usage(e) => Failure::usage(e.to_string()),
        ChangesError::Git(e) => Failure::failure(e.to_string()),
    })
}
