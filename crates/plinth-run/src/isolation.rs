//! Preflight: the `state` block must give every instance a state of its own. A `key` without
//! `stack.id` or `env.name` would make instances share one state, and each apply would then
//! plan to destroy what the others created.

use plinth_diag::Diagnostic;

use crate::RunError;
use crate::context::RunContext;

impl RunContext {
    /// Refuses a `state` block under which two stacks, or one stack in two environments,
    /// resolve to the same backend location.
    pub(crate) fn check_state_isolation(&self) -> Result<(), RunError> {
        // Any two distinct names tell whether the location depends on the environment and
        // on the stack; the template language has nothing that could map them together.
        let location = |env: &str, stack: &str| {
            self.backend_in(env, stack)
                .ok()
                .map(|b| (b.kind, b.init_args(), b.workspace))
        };
        let (Some(base), Some(other_env), Some(other_stack)) = (
            location("plinth-env-a", "plinth/stack-a"),
            location("plinth-env-b", "plinth/stack-a"),
            location("plinth-env-a", "plinth/stack-b"),
        ) else {
            // An evaluation error is reported, with its instance, when the instance runs.
            return Ok(());
        };
        let missing = match (base == other_env, base == other_stack) {
            (false, false) => return Ok(()),
            (true, true) => "every instance of every environment",
            (true, false) => "the environments of a stack",
            (false, true) => "the stacks of an environment",
        };
        let state = &self.project.config.state;
        let mut d = Diagnostic::error(format!(
            "the `state` block gives {missing} one shared state"
        ));
        if !state.key.span.is_empty() {
            d = d.at(
                &self.project.config.source,
                state.key.span.clone(),
                "this key is the same for several instances",
            );
        }
        let needs: Vec<&str> = [
            (base == other_env).then_some("`${env.name}`"),
            (base == other_stack).then_some("`${stack.id}`"),
        ]
        .into_iter()
        .flatten()
        .collect();
        Err(RunError::Config(vec![d.with_help(format!(
            "make `key` (or the backend `config`) use {}",
            needs.join(" and ")
        ))]))
    }
}
