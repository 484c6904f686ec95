//! HTTP server: the Terraform http state backend and the JSON API.
//!
//! Handlers only translate HTTP to `plinth-state` calls and back; every rule (locks, lineage,
//! serials, scopes) lives in the store so that the CLI's direct-database paths obey it too.

mod api;
mod app;
mod auth;
mod backend;
mod body;
mod error;
mod health;
mod metrics;

pub use app::{ServerConfig, router, serve};
