//! Per-instance engine set-up: backend configuration, process environment, init.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use plinth_config::{Backend, Scope};
use plinth_engine::{
    BackendSetup, EngineError, InitInputs, InitOutcome, Invocation, ResolvedState, ensure_init,
};
use plinth_project::StackCode;
use serde_json::{Value, json};

use crate::context::RunContext;

/// Scope of the `state` block's templates: `project`, `env.name`, `env.template`,
/// `stack.id`.
pub struct InstanceScope<'a> {
    /// Project name.
    pub project: &'a str,
    /// Environment name (a copy's own name).
    pub env: &'a str,
    /// The environment block (a copy's template; the environment itself otherwise).
    pub template: &'a str,
    /// Stack id.
    pub stack: &'a str,
}

impl Scope for InstanceScope<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        match name {
            "project" => Some(json!(self.project)),
            "env" => Some(json!({ "name": self.env, "template": self.template })),
            "stack" => Some(json!({ "id": self.stack })),
            _ => None,
        }
    }
}

impl RunContext {
    /// The stack's code facts (computed now for stacks outside the selection).
    pub fn code_of(&self, stack: &str) -> Cow<'_, StackCode> {
        match self.code.get(stack) {
            Some(c) => Cow::Borrowed(c),
            None => {
                let dir = &self.project.stack(stack).expect("graph stacks exist").dir;
                Cow::Owned(StackCode::read(dir, &[]))
            }
        }
    }

    /// The backend set-up of an instance, from the `state` block.
    pub fn backend(&self, stack: &str) -> Result<BackendSetup, String> {
        self.backend_in(self.env(), stack)
    }

    /// The backend set-up `stack` would have in environment `env`.
    pub fn backend_in(&self, env: &str, stack: &str) -> Result<BackendSetup, String> {
        let state = &self.project.config.state;
        let scope = InstanceScope {
            project: self.project.config.project(),
            env,
            template: self.block(),
            stack,
        };
        let text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let key = state
            .key
            .value
            .evaluate(&scope)
            .map(text)
            .map_err(|e| format!("state key: {}", e.message))?;
        let mut config = Vec::new();
        for (k, v) in &state.config {
            let value = v
                .value
                .evaluate(&scope)
                .map_err(|e| format!("state config `{k}`: {}", e.message))?;
            if value.is_object() || value.is_array() {
                return Err(format!(
                    "state config `{k}` must be a string, number or bool"
                ));
            }
            config.push((k.clone(), text(value)));
        }
        let url = match &state.url {
            Some(u) => Some(
                u.value
                    .evaluate(&scope)
                    .map(text)
                    .map_err(|e| format!("state url: {}", e.message))?,
            ),
            None => None,
        };
        let local_path = self.layout.local_state(env, stack);
        Ok(BackendSetup::new(&ResolvedState {
            backend: state.backend,
            key,
            config,
            url,
            project: self.project.config.project(),
            env,
            stack,
            local_path: &local_path,
        }))
    }

    /// How to run the engine for an instance; `extra` adds secrets (`TF_VAR_*`) and `masks`
    /// their values.
    pub fn invocation(
        &self,
        stack: &str,
        backend: &BackendSetup,
        extra: Vec<(String, String)>,
        masks: Vec<String>,
    ) -> Invocation {
        // The stack directory, or the instance's mirror with its endpoints override.
        let dir = self.engine_dir(stack);
        let mut env: Vec<(String, String)> = self
            .environment
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.extend(backend.env.iter().cloned());
        // Tier-1 credentials come after the block's `env` so that they win; they were
        // resolved (and their absence reported) by `secrets()`.
        env.extend(extra);
        Invocation {
            engine: self.engine.clone(),
            dir,
            data_dir: self.layout.data_dir(self.env(), stack),
            plugin_cache: self.layout.plugin_cache(),
            env,
            masks,
            processes: Some(Arc::clone(&self.processes)),
            inherit_fds: self.lock_fd.get().copied().into_iter().collect(),
        }
    }

    /// Runs `init` for an instance unless nothing it depends on changed.
    pub async fn init(
        &self,
        stack: &str,
        inv: &Invocation,
        backend: &BackendSetup,
        log: &Path,
    ) -> Result<InitOutcome, EngineError> {
        self.prepare_engine_dir(stack, inv)?;
        let code = self.code_of(stack);
        // Moving an instance into (or out of) its mirror changes where `init` must have run.
        let code_key = if inv.dir == self.stack_dir(stack) {
            Cow::Borrowed(code.init_key.as_str())
        } else {
            Cow::Owned(format!("{}\0mirror:{}", code.init_key, inv.dir.display()))
        };
        let inputs = InitInputs {
            code_key: &code_key,
            needs_providers: code.needs_providers,
        };
        let lock = self.layout.plugin_cache().join(".plinth-init.lock");
        ensure_init(inv, backend, &inputs, &lock, log).await
    }

    /// Whether state lives in a local file plinth can read itself.
    pub fn local_state(&self) -> bool {
        self.project.config.state.backend == Backend::Local
    }
}
