//! Human-facing output: the live progress view and the closing summary table.

pub mod progress;
pub mod summary;
