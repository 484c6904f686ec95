//! The `SELECT` options shared by run commands.

use plinth_project::Selection;

/// `--stack GLOB… --tag TAG… --with-deps --with-dependents`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectArgs {
    /// Only stacks whose id matches GLOB (repeatable; `infra/**`).
    #[arg(long = "stack", value_name = "GLOB")]
    pub stacks: Vec<String>,
    /// Only stacks with TAG (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Add everything the selected stacks depend on.
    #[arg(long)]
    pub with_deps: bool,
    /// Add everything that depends on the selected stacks.
    #[arg(long)]
    pub with_dependents: bool,
}

impl SelectArgs {
    /// The selection.
    pub fn selection(&self) -> Selection {
        Selection {
            stacks: self.stacks.clone(),
            tags: self.tags.clone(),
            with_deps: self.with_deps,
            with_dependents: self.with_dependents,
        }
    }
}
