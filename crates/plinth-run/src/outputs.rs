//! Every stack's outputs for an environment, read straight from state.

use std::collections::BTreeMap;
use std::sync::Arc;

use plinth_engine::OutputValue;
use plinth_project::{Project, Selection};

use crate::RunError;
use crate::context::{RunContext, RunOptions};

/// Outputs of each stack (stacks without state are absent).
pub type StackOutputs = BTreeMap<String, BTreeMap<String, OutputValue>>;

/// What `plinth output --format json` shows: `{stack: {output: value}}`, sensitive values
/// replaced by `(sensitive)` unless `reveal`.
pub fn outputs_json(
    outputs: &StackOutputs,
    reveal: bool,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    outputs
        .iter()
        .map(|(stack, outs)| {
            let values = outs
                .iter()
                .map(|(k, o)| {
                    let v = if o.sensitive && !reveal {
                        Value::String(REDACTED.into())
                    } else {
                        o.value.clone()
                    };
                    (k.clone(), v)
                })
                .collect();
            (stack.clone(), Value::Object(values))
        })
        .collect()
}

/// What a sensitive output shows instead of its value.
pub const REDACTED: &str = "(sensitive)";

/// Reads the outputs of the selected instances of `env` (a copy of `template`, if given).
pub async fn env_outputs(
    project: Arc<Project>,
    env: &str,
    template: Option<&str>,
    selection: Selection,
) -> Result<StackOutputs, RunError> {
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    let opts = RunOptions {
        env: env.to_string(),
        template: template.map(str::to_string),
        via_server: false,
        skip_promotion: None,
        selection,
        changed: None,
        only: None,
        parallelism: None,
        approve_destructive: false,
        lock_wait: std::time::Duration::ZERO,
        reuse_plans: Vec::new(),
        replan: Default::default(),
    };
    let ctx = RunContext::prepare(
        project,
        &opts,
        events,
        format!("output-{}", std::process::id()),
    )?;
    let mut out = BTreeMap::new();
    for stack in &ctx.selected {
        if let Some(state) = ctx.state(stack).await.map_err(RunError::Other)? {
            out.insert(stack.clone(), state.outputs.clone());
        }
    }
    Ok(out)
}
