//! Driving the terraform/tofu binary: locating and version-checking it, per-instance working
//! areas and backends, `init` with skipping, and reading state and plan JSON.

pub mod backend;
pub mod constraint;
pub mod init;
pub mod layout;
pub mod locate;
pub mod plan_json;
pub mod process;
pub mod render;
pub mod state;
pub mod validate;

pub use backend::{BackendSetup, OVERRIDE_FILE, ResolvedState};
pub use init::{InitInputs, InitOutcome, ensure_init};
pub use layout::Layout;
pub use locate::{Engine, Flavor};
pub use plan_json::{PlanSummary, summarize};
pub use process::{Exit, Invocation, ProcessRegistry, lower_engine_priority};
pub use render::{EngineMessage, messages, plan_rendering};
pub use state::{OutputValue, StateSnapshot};

/// What can go wrong driving the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine binary is missing or not an engine.
    #[error("engine `{spec}` cannot be used: {detail}")]
    NotFound {
        /// What plinth.hcl asked for.
        spec: String,
        /// Why it failed.
        detail: String,
    },
    /// The engine's version does not satisfy `engine_version`.
    #[error("{binary} is version {found}, but plinth.hcl requires engine_version \"{wanted}\"")]
    WrongVersion {
        /// Path of the binary.
        binary: String,
        /// Its version.
        found: String,
        /// The constraint.
        wanted: String,
    },
    /// `engine_version` does not parse.
    #[error("engine_version: {0}")]
    Constraint(String),
    /// The child process could not start.
    #[error("cannot run {0}: {1}")]
    Spawn(String, std::io::Error),
    /// A file operation failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// An engine command exited non-zero.
    #[error("`{command}` failed with exit code {code}; see {log}")]
    Failed {
        /// The engine subcommand.
        command: String,
        /// Its exit code.
        code: i32,
        /// The log holding its output.
        log: String,
    },
    /// A state could not be read.
    #[error("cannot read state {0}: {1}")]
    State(String, String),
}
