//! Reading instance states once per run: directly from the file for the local backend, over
//! the server's API for the plinth backend, and with one `state pull` per instance for other
//! remote backends. Never through `output`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plinth_engine::StateSnapshot;
use tokio::sync::OnceCell;

use crate::context::RunContext;

type Cell = Arc<OnceCell<Result<Option<StateSnapshot>, String>>>;

/// States read during a run, keyed by stack id.
#[derive(Default)]
pub struct StateCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl StateCache {
    fn cell(&self, stack: &str) -> Cell {
        Arc::clone(
            self.cells
                .lock()
                .expect("no panics under this lock")
                .entry(stack.to_string())
                .or_default(),
        )
    }

    /// Replaces the cached state of `stack` (after it was applied in this run).
    pub fn refresh(&self, stack: &str, state: Result<Option<StateSnapshot>, String>) {
        let cell = Arc::new(OnceCell::new_with(Some(state)));
        self.cells
            .lock()
            .expect("no panics under this lock")
            .insert(stack.to_string(), cell);
    }
}

impl RunContext {
    /// The state of `stack` in this environment, read at most once per run.
    pub async fn state(&self, stack: &str) -> Result<Option<StateSnapshot>, String> {
        let cell = self.states.cell(stack);
        cell.get_or_init(|| self.read_state(stack)).await.clone()
    }

    /// Reads the state of `stack` now, bypassing the cache.
    pub async fn read_state(&self, stack: &str) -> Result<Option<StateSnapshot>, String> {
        if self.local_state() {
            let path = self.layout.local_state(self.env(), stack);
            return StateSnapshot::read_file(&path).map_err(|e| e.to_string());
        }
        if let Some(state) = self.read_from_server(stack).await {
            return state;
        }
        let backend = self.backend(stack)?;
        let inv = self.invocation(stack, &backend, Vec::new(), Vec::new());
        let dir = self.layout.run_instance_dir(&self.run_id, stack);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = dir.join("state.log");
        self.init(stack, &inv, &backend, &log)
            .await
            .map_err(|e| e.to_string())?;
        let out = dir.join("state.json");
        let exit = inv
            .run_to_file(&["state", "pull"], &out, &log)
            .await
            .map_err(|e| e.to_string())?;
        if exit.code != 0 {
            return Err(format!(
                "`state pull` of {stack} failed; see {}",
                log.display()
            ));
        }
        let bytes = std::fs::read(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let _ = std::fs::remove_file(&out);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        StateSnapshot::parse(&bytes, stack)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The state of `stack` read from the plinth server's API, without an engine process: an
    /// `init` and a `state pull` per instance cost more than the plan a pull request's push
    /// needs. `None` when it must go through the engine instead: another backend, no token,
    /// the server unreachable or refusing (the engine then reports it in its own words), or a
    /// state only the engine can read (OpenTofu's encrypted envelope).
    async fn read_from_server(&self, stack: &str) -> Option<Result<Option<StateSnapshot>, String>> {
        let link = self.server_link().ok().flatten()?;
        let instance = format!("{}/{}/{stack}", link.project(), self.env());
        match link.client().pull_state(&instance, None).await {
            Ok(bytes) => StateSnapshot::parse(&bytes, stack)
                .ok()
                .map(|s| Ok(Some(s))),
            Err(e) if e.is_not_found() => Some(Ok(None)),
            Err(_) => None,
        }
    }
}
