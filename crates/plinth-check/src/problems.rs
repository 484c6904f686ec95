//! Environment problems: what kept a check from running (no engine, an offline `init`, a
//! file that cannot be opened), told once with the fix instead of as findings in the code.

use crate::scan::Problem;

/// The kinds of environment problem, each reported once per scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The engine binary could not be started.
    EngineMissing,
    /// `init` could not reach the provider registry or a module source.
    InitOffline,
    /// A file could not be opened (a dangling symlink, permissions).
    Unreadable,
}

/// Signs in `terraform init` output that it could not download what it needs.
const OFFLINE_SIGNS: &[&str] = &[
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
    "Failed to download module",
    "error downloading",
    "dial tcp",
    "no such host",
    "connection refused",
    "i/o timeout",
    "TLS handshake timeout",
    "Could not retrieve the list of available versions",
    "registry.terraform.io",
    "registry.opentofu.org",
];

impl ProblemKind {
    /// The environment problem an engine failure message describes, if it is one (other
    /// failures, such as a configuration `init` rejects, stay findings in the code).
    pub fn of_engine_failure(failure: &str) -> Option<ProblemKind> {
        if failure.starts_with("cannot run ") {
            return Some(ProblemKind::EngineMissing);
        }
        if failure.starts_with("init failed")
            && OFFLINE_SIGNS.iter().any(|sign| failure.contains(sign))
        {
            return Some(ProblemKind::InitOffline);
        }
        None
    }

    /// The problem's text; `detail` is the first occurrence's message.
    pub fn problem(self, detail: &str, affected: String) -> Problem {
        let (what, fix) = match self {
            ProblemKind::EngineMissing => (
                format!(
                    "the engine could not be run ({detail}); `fmt` and `validate` were skipped"
                ),
                "install terraform or tofu on PATH (or set `engine` in plinth.hcl), or pass \
--no-engine",
            ),
            ProblemKind::InitOffline => (
                format!(
                    "`init` could not download providers or modules ({detail}); `validate` was skipped"
                ),
                "give this machine access to the registry, or a provider mirror \
(`provider_installation` in the CLI configuration, TF_PLUGIN_CACHE_DIR), or pass --no-engine",
            ),
            ProblemKind::Unreadable => (
                format!("files could not be opened ({detail}) and were not checked"),
                "fix or remove the files (a symlink whose target is missing, or permissions)",
            ),
        };
        Problem {
            what,
            fix: fix.to_owned(),
            affected: vec![affected],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_engine_failures() {
        assert_eq!(
            ProblemKind::of_engine_failure("cannot run fmt: No such file or directory"),
            Some(ProblemKind::EngineMissing)
        );
        assert_eq!(
            ProblemKind::of_engine_failure(
                "init failed: Error: Failed to query available provider packages"
            ),
            Some(ProblemKind::InitOffline)
        );
        assert_eq!(
            ProblemKind::of_engine_failure("init failed: Error: Unsupported block type"),
            None
        );
    }
}
