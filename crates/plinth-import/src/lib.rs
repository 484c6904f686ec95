//! Adopting plinth: what `plinth init` and `plinth import` propose to write.
//!
//! - [`scaffold`]: a new project in an empty directory, in one of the three layouts.
//! - [`discover`]: an existing Terraform repository without `stack.hcl` files: its root
//!   modules, its environments (from var files and `envs/<env>/`), and the
//!   `terraform_remote_state` reads that should become `dependency` blocks.
//! - [`terragrunt`] and [`atlantis`]: converters from those tools' configurations.
//!
//! Each returns a [`Proposal`]: files to create (formatted like `terraform fmt`, checked with
//! plinth's own parser) and notes on what could not be converted, with `file:line`. Writing a
//! proposal never replaces an existing file. Nothing here runs a process or opens a socket.

pub mod atlantis;
pub mod discover;
pub mod hcl;
mod project_file;
mod proposal;
pub mod scaffold;
mod stack_file;
pub mod terragrunt;

pub use project_file::{
    EnvSpec, ProjectSpec, PullRequestSpec, StateSpec, sanitize_name, var_file_pattern,
};
pub use proposal::{
    GITIGNORE_LINES, Location, NewFile, Note, NoteKind, Proposal, WriteReport, ensure_gitignore,
};
pub use stack_file::{DependencySpec, StackSpec};
