//! Parsing and validation of `plinth.hcl` and `stack.hcl` (DESIGN.md section 2).
//!
//! Files are parsed with hcl-edit, which keeps byte spans, so every error points at
//! `file:line:col`. The result is a typed model that knows nothing of processes or I/O beyond
//! the text it was given: discovery and evaluation live elsewhere.

// Diagnostics are built once per error, on the cold path; boxing them buys nothing.
#![allow(clippy::result_large_err)]

mod body;
mod expr;
mod parse;
mod project_file;
mod refs;
mod spanned;
mod stack_file;
mod suggest;

pub use expr::{EvalError, Expr, Part, Reference, Scope, Step};
pub use parse::parse_hcl;
pub use project_file::{
    Backend, CheckBlock, Environment, Lifecycle, PROJECT_FILE, PlinthSettings, ProjectConfig,
    SecretDecl, SecretSource, StateConfig, parse_duration,
};
pub use spanned::Spanned;
pub use stack_file::{Dependency, Input, STACK_FILE, StackConfig, StackSettings};
pub use suggest::did_you_mean;

use plinth_diag::Diagnostic;

/// Parsing either succeeds or yields every error found in the file.
pub type ParseResult<T> = Result<T, Vec<Diagnostic>>;
