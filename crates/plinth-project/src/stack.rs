//! A stack: a Terraform root module with its parsed `stack.hcl`.

use std::path::PathBuf;

use plinth_config::StackConfig;

/// A discovered stack with its dependencies resolved to stack ids.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Path relative to the project root, `/`-separated (`plumbing/network`).
    pub id: String,
    /// Absolute directory.
    pub dir: PathBuf,
    /// The parsed `stack.hcl`.
    pub config: StackConfig,
    /// `(dependency name, upstream stack id)` for each `dependency` block, in order.
    pub dependencies: Vec<(String, String)>,
    /// Stack ids from `after`.
    pub after: Vec<String>,
}

impl Stack {
    /// Whether this stack has an instance in `env`.
    pub fn in_env(&self, env: &str) -> bool {
        self.config
            .settings
            .environments
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e.value == env))
    }

    /// Upstream stack ids (dependencies, then `after`), without duplicates.
    pub fn upstream(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in self
            .dependencies
            .iter()
            .map(|(_, id)| id)
            .chain(&self.after)
        {
            if !out.contains(&id.as_str()) {
                out.push(id);
            }
        }
        out
    }

    /// The tags of the `stack` block.
    pub fn tags(&self) -> &[String] {
        &self.config.settings.tags
    }
}
