//! The project model: stacks discovered in a repository, their instances per environment, the
//! dependency graph of each environment, selections and change mapping.
//!
//! Pure domain: it reads files, but knows nothing of processes, git, HTTP or SQL.

mod changes;
mod code;
mod discovery;
mod facts;
mod graph;
mod interface;
mod load;
mod modules;
mod promoted;
mod remote_state;
mod root;
mod root_modules;
mod selection;
mod stack;
mod tree_digest;
mod var_files;

pub use changes::{Affected, ChangeSet};
pub use code::{GENERATED_OVERRIDE, StackCode};
pub use facts::{CodeFacts, InstanceCount, ModuleFact, ResourceFact};
pub use graph::{EnvGraph, Node};
pub use interface::{ModuleInterface, OutputDecl, VariableDecl};
pub use load::Project;
pub use promoted::PromotedCode;
pub use remote_state::{DeclaredBackend, RemoteStateRead, declared_backend, remote_state_reads};
pub use root::find_root;
pub use root_modules::{TerraformTree, terraform_tree};
pub use selection::Selection;
pub use stack::Stack;

pub use plinth_config as config;
