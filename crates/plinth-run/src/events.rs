//! Progress events sent while a run executes, for the live view.

use crate::report::InstanceReport;

/// What an instance is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolving inputs and upstream outputs.
    Inputs,
    /// `init`.
    Init,
    /// `plan`.
    Plan,
    /// `apply`.
    Apply,
}

impl Phase {
    /// Short name shown in the progress view.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Inputs => "inputs",
            Phase::Init => "init",
            Phase::Plan => "plan",
            Phase::Apply => "apply",
        }
    }
}

/// A progress event.
#[derive(Debug, Clone)]
pub enum Event {
    /// An instance entered a phase.
    Phase {
        /// Stack id.
        stack: String,
        /// The phase.
        phase: Phase,
    },
    /// An instance finished (also sent for skipped instances).
    Finished(InstanceReport),
    /// Something the user should know that does not change the run's outcome (the plinth
    /// server could not be told about it); one line.
    Warning(String),
}
