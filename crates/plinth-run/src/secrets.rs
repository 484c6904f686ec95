//! What an instance's engine receives besides its variables: the environment's tier-1
//! `credentials` (from plinth's own environment: CI or the server) and tier-2 `secret`s
//! (Vault/OpenBao or plinth's environment), passed only in the engine's process environment
//! (`TF_VAR_*` for secrets), never written to disk, and masked in every log line.
//!
//! Stores are reached through `plinth-secrets`: each distinct Vault path is read once per run,
//! however many instances need it.

use plinth_config::{Scope, SecretSource};
use serde_json::{Value, json};

use crate::context::RunContext;

/// Resolved credentials and secrets of one instance.
#[derive(Debug, Default)]
pub struct Secrets {
    /// Environment pairs for the engine: credentials and `TF_VAR_<name>`.
    pub env: Vec<(String, String)>,
    /// Values to mask (each in every form a log could show it).
    pub masks: Vec<String>,
    /// Names (never values) for the plan fingerprint.
    pub names: Vec<String>,
}

/// `from` and `var_files` belong to the environment block: a copy reads its template's.
struct BlockScope<'a>(&'a str);

impl Scope for BlockScope<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        (name == "env").then(|| json!({ "name": self.0, "template": self.0 }))
    }
}

impl RunContext {
    /// The credentials of this environment and the secrets that apply to it and that `stack`
    /// declares as variables. `Err` says why one cannot be had — naming the variable or the
    /// path and the reason, never a value — and the instance is then blocked.
    pub async fn secrets(&self, stack: &str) -> Result<Secrets, String> {
        let mut out = Secrets::default();
        for (engine_var, source_var) in self.environment.credential_sources() {
            let value = std::env::var(source_var)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    format!(
                        "credential {engine_var} of environment `{}` comes from {source_var}, \
                         which is not set in plinth's environment",
                        self.block()
                    )
                })?;
            out.masks.extend(plinth_secrets::mask_forms(&value));
            out.env.push((engine_var.to_string(), value));
            out.names.push(format!("credential {engine_var}"));
        }
        let code = self.code_of(stack);
        for decl in &self.project.config.secrets {
            let declared = code
                .variables
                .as_ref()
                .is_some_and(|v| v.contains(&decl.name.value));
            if !decl.applies_to(self.block()) || !declared {
                continue;
            }
            let name = &decl.name.value;
            let from = decl
                .from
                .value
                .evaluate(&BlockScope(self.block()))
                .map_err(|e| format!("secret `{name}`: {}", e.message))?;
            let source = SecretSource::parse(from.as_str().unwrap_or_default())
                .map_err(|e| format!("secret `{name}`: {e}"))?;
            let value = self
                .secret_values
                .get(&source)
                .await
                .map_err(|e| format!("secret `{name}`: {e}"))?;
            let value = value.expose().to_string();
            out.masks.extend(plinth_secrets::mask_forms(&value));
            out.env.push((format!("TF_VAR_{name}"), value));
            out.names.push(name.clone());
        }
        Ok(out)
    }
}
