//! Secrets for an instance: passed only as `TF_VAR_*` in the engine's environment, never
//! written to disk, and masked in every log line.

use plinth_config::{Scope, SecretSource};
use serde_json::{Value, json};

use crate::context::RunContext;

/// Resolved secrets of one instance.
#[derive(Debug, Default)]
pub struct Secrets {
    /// `TF_VAR_<name>=value` pairs.
    pub env: Vec<(String, String)>,
    /// Values to mask.
    pub masks: Vec<String>,
    /// Names (never values) for the plan fingerprint.
    pub names: Vec<String>,
}

struct EnvOnly<'a>(&'a str);

impl Scope for EnvOnly<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        (name == "env").then(|| json!({ "name": self.0 }))
    }
}

impl RunContext {
    /// The secrets that apply to this environment and that `stack` declares as variables.
    /// `Err` says why one cannot be had (the instance is then blocked).
    pub fn secrets(&self, stack: &str) -> Result<Secrets, String> {
        let code = self.code_of(stack);
        let mut out = Secrets::default();
        for decl in &self.project.config.secrets {
            let applies = decl
                .environments
                .as_ref()
                .is_none_or(|envs| envs.iter().any(|e| e.value == self.env()));
            let declared = code
                .variables
                .as_ref()
                .is_some_and(|v| v.contains(&decl.name.value));
            if !applies || !declared {
                continue;
            }
            let from = decl
                .from
                .value
                .evaluate(&EnvOnly(self.env()))
                .map_err(|e| format!("secret `{}`: {}", decl.name.value, e.message))?;
            let source = SecretSource::parse(from.as_str().unwrap_or_default())
                .map_err(|e| format!("secret `{}`: {e}", decl.name.value))?;
            let value = match source {
                SecretSource::Env(var) => std::env::var(&var).map_err(|_| {
                    format!(
                        "secret `{}` comes from environment variable {var}, which is not set",
                        decl.name.value
                    )
                })?,
                SecretSource::Vault { path, key } => {
                    return Err(format!(
                        "secret `{}` comes from vault:{path}#{key}; reading Vault/OpenBao is not part of this build yet",
                        decl.name.value
                    ));
                }
            };
            out.env
                .push((format!("TF_VAR_{}", decl.name.value), value.clone()));
            out.masks.push(value);
            out.names.push(decl.name.value.clone());
        }
        Ok(out)
    }
}
