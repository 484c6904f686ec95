//! HTTP server: the Terraform http state backend, the JSON API, and the serve loop.
//!
//! Handlers only translate HTTP to `plinth-state` calls and back; every rule (locks, lineage,
//! serials, scopes, job leases, pull-request lock queues) lives in the store so that the CLI's
//! direct-database paths and the server's own workers obey it too.
//!
//! - [`router`] / [`router_with`]: the routes (README.md lists them with their JSON shapes).
//! - [`serve_with`]: the accept loop with header and body read timeouts, a connection bound,
//!   optional TLS ([`load_tls`]) and graceful shutdown on a [`Shutdown`] signal, which the
//!   job workers share: on the trigger they stop claiming and hand back their jobs.
//! - [`webhook_router`]: `POST /webhooks/github|gitlab|gitea`, bounded bodies handed to a
//!   [`WebhookIntake`] (plinth-pulls verifies, decodes and stores them).

mod api;
mod app;
mod auth;
mod backend;
mod body;
mod copies_api;
mod error;
mod extract;
mod health;
mod listen;
mod metrics;
mod promotions_api;
mod pulls_api;
mod runs_api;
mod shutdown;
mod timed_body;
mod tls;
mod webhooks;

pub use app::{HandOver, ServerConfig, router, router_with};
pub use listen::{ServeOptions, serve, serve_with};
pub use shutdown::Shutdown;
pub use tls::{TlsError, load_tls};
pub use webhooks::{IntakeFuture, MAX_WEBHOOK_BYTES, WebhookAnswer, WebhookIntake, webhook_router};
