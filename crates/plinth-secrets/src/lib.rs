//! Where secret values come from and go to, and nothing about runs.
//!
//! - [`SecretStore`] is the seam the runner reads through: [`EnvStore`] (`env:VAR`, plinth's
//!   own environment) and [`VaultClient`] (`vault:MOUNT/PATH#KEY`, Vault or OpenBao KV v2 over
//!   the HTTP API). A [`VersionedStore`] also keeps versions and is written by `publish`
//!   ([`write_if_changed`]) and rotation ([`set_key`]).
//! - [`Stores`] holds a process's stores by scheme ([`Stores::for_project`] builds them from
//!   the `vault` block and the environment); a [`Resolver`] per run reads each distinct path
//!   once, concurrent callers waiting for the one request, and keeps values in memory only.
//! - Values are [`Secret`]s, whose `Debug`/`Display` print `***`; no [`SecretError`] holds a
//!   value or a token.
//! - [`generate`] makes rotation values from the OS RNG; [`mask_forms`] lists the shapes of a
//!   value the masker must hide.
//! - With the `test-support` feature, [`testing`] runs a real OpenBao dev server.

mod env_store;
mod error;
mod generate;
mod masks;
mod resolver;
mod secret;
mod store;
mod stores;
mod vault;

#[cfg(feature = "test-support")]
pub mod testing;

pub use env_store::{EnvLookup, EnvStore, ProcessEnv};
pub use error::SecretError;
pub use generate::generate;
pub use masks::mask_forms;
pub use resolver::Resolver;
pub use secret::Secret;
pub use store::{
    Latest, Metadata, SecretDoc, SecretStore, StoreFuture, VersionInfo, VersionedStore,
    WriteOutcome, set_key, write_if_changed,
};
pub use stores::{SecretRef, Stores};
pub use vault::{Health, Login, TokenInfo, VaultClient, VaultSettings};
