//! `publish` blocks: after a successful apply, the listed outputs of an instance (sensitive
//! ones included) are written to Vault/OpenBao KV v2 at the block's path — one secret per
//! instance, a new version only when a value changed — where applications read them (an
//! agent injector, a CSI driver). A successful destroy soft-deletes the secret.

use std::collections::BTreeMap;

use globset::Glob;
use plinth_engine::OutputValue;
use plinth_secrets::{Secret, WriteOutcome};

use crate::context::RunContext;
use crate::setup::InstanceScope;

/// What was published for one instance.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// `vault:PATH` per block, with the outcome (`version N`, `unchanged`, `deleted`).
    pub lines: Vec<String>,
}

impl RunContext {
    /// The `publish` blocks that apply to `stack` here, with their evaluated paths.
    fn publish_targets(&self, stack: &str) -> Result<Vec<(String, String, Vec<String>)>, String> {
        let scope = InstanceScope {
            project: self.project.config.project(),
            env: self.env(),
            template: self.block(),
            stack,
        };
        let mut out = Vec::new();
        for decl in &self.project.config.publishes {
            if decl
                .environments
                .as_ref()
                .is_some_and(|envs| !envs.iter().any(|e| e.value == self.block()))
            {
                continue;
            }
            if let Some(globs) = &decl.stacks {
                let matches = globs.iter().any(|g| {
                    Glob::new(g.value.trim_end_matches('/'))
                        .map(|g| g.compile_matcher().is_match(stack))
                        .unwrap_or(false)
                });
                if !matches {
                    continue;
                }
            }
            let to = decl
                .to
                .evaluate_here(&scope)
                .map_err(|e| format!("publish `{}`: {}", decl.name.value, e.message))?;
            let to = to.as_str().unwrap_or_default().to_string();
            let Some(path) = to.strip_prefix("vault:") else {
                return Err(format!(
                    "publish `{}`: `{to}` is not a vault: path",
                    decl.name.value
                ));
            };
            out.push((
                decl.name.value.clone(),
                path.trim_matches('/').to_string(),
                decl.outputs.iter().map(|o| o.value.clone()).collect(),
            ));
        }
        Ok(out)
    }

    /// Writes the listed outputs of `stack` (those it has) after a successful apply.
    pub(crate) async fn publish_outputs(
        &self,
        stack: &str,
        outputs: &BTreeMap<String, OutputValue>,
    ) -> Result<Published, String> {
        let mut lines = Vec::new();
        let targets = self.publish_targets(stack)?;
        if targets.is_empty() {
            return Ok(Published { lines });
        }
        let store = self
            .secret_values
            .stores()
            .versioned("vault")
            .map_err(|e| format!("publish: {e}"))?;
        for (name, path, wanted) in targets {
            let values: BTreeMap<String, Secret> = wanted
                .iter()
                .filter_map(|o| outputs.get(o).map(|v| (o.clone(), Secret::json(&v.value))))
                .collect();
            if values.is_empty() {
                continue;
            }
            let outcome = plinth_secrets::write_if_changed(store.as_ref(), &path, &values)
                .await
                .map_err(|e| format!("publish `{name}` to vault:{path}: {e}"))?;
            lines.push(match outcome {
                WriteOutcome::Written { version } => {
                    format!(
                        "published {} to vault:{path} (version {version})",
                        values.len()
                    )
                }
                WriteOutcome::Unchanged { version } => {
                    format!("vault:{path} unchanged (version {version})")
                }
            });
        }
        Ok(Published { lines })
    }

    /// Soft-deletes what `stack` published, after a successful destroy.
    pub(crate) async fn unpublish(&self, stack: &str) -> Result<Published, String> {
        let mut lines = Vec::new();
        let targets = self.publish_targets(stack)?;
        if targets.is_empty() {
            return Ok(Published { lines });
        }
        let store = self
            .secret_values
            .stores()
            .versioned("vault")
            .map_err(|e| format!("unpublish: {e}"))?;
        for (name, path, _) in targets {
            match store.delete_latest(&path).await {
                Ok(()) => lines.push(format!("vault:{path} deleted (soft)")),
                Err(e) if e.is_missing() => {}
                Err(e) => return Err(format!("unpublish `{name}` at vault:{path}: {e}")),
            }
        }
        Ok(Published { lines })
    }
}
