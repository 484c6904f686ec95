//! Parsing and validation of `plinth.hcl` and `stack.hcl` (DESIGN.md section 2).
//!
//! Files are parsed with hcl-edit, which keeps byte spans, so every error points at
//! `file:line:col`. The result is a typed model that knows nothing of processes or I/O beyond
//! the text it was given: discovery and evaluation live elsewhere.

// Diagnostics are built once per error, on the cold path; boxing them buys nothing.
#![allow(clippy::result_large_err)]

mod blocks;
mod body;
mod brackets;
mod expr;
mod names;
mod parse;
mod project_file;
mod refs;
mod server_file;
mod spanned;
mod stack_file;
mod suggest;

pub use blocks::check::CheckBlock;
pub use blocks::endpoints::{ENDPOINTS_OVERRIDE_FILE, override_file as endpoints_override_file};
pub use blocks::environment::{
    ApplyOn, ApplyVia, DriftSettings, Environment, Lifecycle, PullRequestSettings,
};
pub use blocks::hooks::{DEFAULT_HOOK_TIMEOUT_SECS, Hooks};
pub use blocks::plinth::PlinthSettings;
pub use blocks::policy::PolicyDecl;
pub use blocks::publish::PublishDecl;
pub use blocks::secret::{Generate, SecretDecl, SecretSource};
pub use blocks::state::{Backend, StateConfig};
pub use blocks::vault::{VaultAuth, VaultConfig};
pub use expr::{EvalError, Expr, Part, Reference, Scope, Step};
pub use names::{copy_name_problem, parse_duration};
pub use parse::{decode_utf8, parse_hcl};
pub use project_file::{PROJECT_FILE, ProjectConfig};
pub use server_file::{
    ForgeAuth, ForgeDecl, ForgeKind, RepoDecl, SERVER_FILE, ServerFile, ServerSettings,
};
pub use spanned::Spanned;
pub use stack_file::{Dependency, Input, STACK_FILE, StackConfig, StackSettings};
pub use suggest::did_you_mean;

use plinth_diag::Diagnostic;

/// Parsing either succeeds or yields every error found in the file.
pub type ParseResult<T> = Result<T, Vec<Diagnostic>>;
