//! Report formatters: rustc-style text, JSON (DESIGN.md section 4) and SARIF 2.1.0.

pub mod json;
pub mod sarif;
pub mod text;
