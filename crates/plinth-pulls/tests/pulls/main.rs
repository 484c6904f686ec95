//! plinth-pulls against real components: server files parsed by plinth-config, deliveries
//! signed like each forge signs them (GitHub's real payloads from `@octokit/webhooks-examples`),
//! a real SQLite store, and real git repositories for the working copies.

mod intake;
mod setup;
mod workspace;

use std::path::Path;

use plinth_config::ServerFile;
use plinth_pulls::{PullsSetup, SetupOptions};

/// Loads `text` as `plinth-server.hcl` in `base`, with `env` as the whole environment.
pub fn load(text: &str, base: &Path, env: &[(&str, &str)]) -> Result<PullsSetup, Vec<String>> {
    let file = ServerFile::parse("plinth-server.hcl", text)
        .map_err(|d| d.iter().map(|d| d.one_line()).collect::<Vec<_>>())?;
    let options = SetupOptions::new(base, "sqlite:/nonexistent/state.db", base);
    PullsSetup::load_with_env(&file, &options, |name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .map_err(|e| e.diagnostics.iter().map(|d| d.one_line()).collect())
}
