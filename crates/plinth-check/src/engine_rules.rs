//! FMT001/FMT002: engine results (`fmt -check`, `validate -json`) turned into hits. The
//! processes run in plinth-engine; this crate only maps what they reported.

use std::path::PathBuf;

/// What the engine reported for one stack.
#[derive(Debug, Clone, Default)]
pub struct EngineOutcome {
    /// Stack id.
    pub stack: String,
    /// Files `fmt -check` lists, relative to the stack directory.
    pub unformatted: Vec<PathBuf>,
    /// `validate -json` diagnostics.
    pub diagnostics: Vec<EngineDiagnostic>,
    /// `init` or the engine itself failed; the message says why.
    pub failure: Option<String>,
}

/// One diagnostic of `validate -json`.
#[derive(Debug, Clone)]
pub struct EngineDiagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// The summary line.
    pub summary: String,
    /// The detail paragraph (may be empty).
    pub detail: String,
    /// File relative to the stack directory, when the diagnostic has a range.
    pub file: Option<PathBuf>,
    /// 1-based start line and column.
    pub start: (usize, usize),
    /// 1-based end line and column.
    pub end: (usize, usize),
}
