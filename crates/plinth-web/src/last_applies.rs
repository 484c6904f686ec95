//! A per-replica cache of each instance's last apply: computing it reads the project's whole
//! apply history, which is what makes the overview slow on a long history. Each render asks the
//! database for the project's [`RunsStamp`] (one aggregate over its runs) and recomputes only
//! when a run was recorded, replaced or removed since, so the cache is never stale and a
//! restart only costs one recomputation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plinth_state::{ApplyBrief, RunsStamp, StateError, Store};

/// Last applies by `(env, stack)`.
pub(crate) type Applies = Arc<HashMap<(String, String), ApplyBrief>>;

/// The cache, by project.
#[derive(Default)]
pub(crate) struct LastApplies {
    by_project: Mutex<HashMap<String, (RunsStamp, Applies)>>,
}

impl LastApplies {
    /// The project's last applies, current as of this call.
    pub async fn get(&self, store: &Store, project: &str) -> Result<Applies, StateError> {
        let stamp = store.runs_stamp(project).await?;
        if let Some((cached, applies)) = self.lock().get(project)
            && *cached == stamp
        {
            return Ok(applies.clone());
        }
        let applies: Applies = Arc::new(store.last_applies(project).await?);
        self.lock()
            .insert(project.to_owned(), (stamp, applies.clone()));
        Ok(applies)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (RunsStamp, Applies)>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.by_project.lock().unwrap_or_else(|p| p.into_inner())
    }
}
