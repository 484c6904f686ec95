//! The `vault` store: Vault or OpenBao, KV version 2, over the HTTP API.

mod client;
mod kv;
mod settings;

pub use client::{Health, TokenInfo, VaultClient};
pub use settings::{Login, VaultSettings};
