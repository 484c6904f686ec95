//! Exit statuses and the error type every command returns (DESIGN.md section 4).

use std::fmt;

/// The documented, distinct exit codes of plinth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything succeeded.
    Success,
    /// Something failed (an engine error, a failed instance, a server refusal).
    Failure,
    /// Changes are present (only with `--detailed-exitcode`).
    Changes,
    /// Blocked: a lock is held, a gate is missing, a plan is stale or preview-only.
    Blocked,
    /// Usage or configuration error.
    Usage,
    /// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted,
    /// The engine's own exit code (`plinth exec`).
    Code(u8),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Changes => 2,
            Exit::Blocked => 3,
            Exit::Usage => 64,
            Exit::Interrupted => 130,
            Exit::Code(c) => c,
        }
    }
}

/// A command's failure: the exit status and what to tell the user on stderr.
#[derive(Debug)]
pub struct Failure {
    /// Exit status to end the process with.
    pub exit: Exit,
    /// Message printed after `error: `; may span several lines.
    pub message: String,
    /// Pre-rendered text (diagnostics) printed as is instead of `error: message`.
    pub rendered: Option<String>,
}

impl Failure {
    /// A failure with the given exit status and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            rendered: None,
        }
    }

    /// A usage or configuration error (exit 64).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// A blocked action (exit 3).
    pub fn blocked(message: impl Into<String>) -> Self {
        Self::new(Exit::Blocked, message)
    }

    /// A general failure (exit 1); named after the exit status like its siblings.
    #[allow(clippy::self_named_constructors)]
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }

    /// A failure whose text was already rendered (diagnostics with source snippets).
    pub fn rendered(exit: Exit, summary: impl Into<String>, rendered: String) -> Self {
        Failure {
            exit,
            message: summary.into(),
            rendered: Some(rendered),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::failure(format!("{err:#}"))
    }
}

/// What every command returns.
pub type CmdResult = Result<Exit, Failure>;
