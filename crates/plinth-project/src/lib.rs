//! The project model: stacks discovered in a repository, their instances per environment, the
//! dependency graph of each environment, selections and change mapping.
//!
//! Pure domain: it reads files, but knows nothing of processes, git, HTTP or SQL.

mod changes;
mod code;
mod discovery;
mod graph;
mod load;
mod modules;
mod root;
mod selection;
mod stack;
mod var_files;

pub use changes::{Affected, ChangeSet};
pub use code::{GENERATED_OVERRIDE, StackCode};
pub use graph::{EnvGraph, Node};
pub use load::Project;
pub use root::find_root;
pub use selection::Selection;
pub use stack::Stack;

pub use plinth_config as config;
