//! Writing HCL files the way `terraform fmt` formats them.

mod align;
mod body;
mod expr;

pub use body::{Block, Body};
pub use expr::{HclExpr, escape_template_text, is_identifier, quote};
