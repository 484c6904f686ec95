//! Every stack's outputs for an environment, read straight from state.

use std::collections::BTreeMap;
use std::sync::Arc;

use plinth_engine::OutputValue;
use plinth_project::{Project, Selection};

use crate::RunError;
use crate::context::{RunContext, RunOptions};

/// Outputs of each stack (stacks without state are absent).
pub type StackOutputs = BTreeMap<String, BTreeMap<String, OutputValue>>;

/// Reads the outputs of the selected instances of `env`.
pub async fn env_outputs(
    project: Arc<Project>,
    env: &str,
    selection: Selection,
) -> Result<StackOutputs, RunError> {
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    let opts = RunOptions {
        env: env.to_string(),
        selection,
        changed: None,
        only: None,
        parallelism: None,
        approve_destructive: false,
        lock_wait: std::time::Duration::ZERO,
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
