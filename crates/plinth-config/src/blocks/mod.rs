//! One module per block of `plinth.hcl` (and the `hooks` block `stack.hcl` shares).

pub mod check;
pub mod endpoints;
pub mod environment;
pub mod hooks;
pub mod plinth;
pub mod policy;
pub mod publish;
pub mod secret;
pub mod state;
pub mod vault;

/// References allowed where only the environment is known (`var_files`, secret `from`).
pub(crate) const ENV_REFS: &[&str] = &["env.name", "env.template"];
/// References allowed in per-instance templates (state `key`, `config`, publish `to`).
pub(crate) const KEY_REFS: &[&str] = &["project", "env.name", "env.template", "stack.id"];
