//! One attempt at a job: its log and its checkpoints, so that a resumed attempt skips the
//! side effects an earlier one already caused (the resume contract of `plinth_state`).

use plinth_state::{Job, Lease, Store};
use serde_json::{Map, Value};

use crate::error::FlowError;

/// A job's attempt, as the flow sees it.
pub(crate) struct JobRun {
    store: Store,
    lease: Lease,
    /// Steps recorded as done, by this attempt or an earlier one.
    progress: Map<String, Value>,
}

impl JobRun {
    pub(crate) fn new(store: Store, job: &Job) -> JobRun {
        JobRun {
            store,
            lease: job.lease.clone(),
            progress: job
                .progress
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// What step `name` recorded, if it is done.
    pub(crate) fn done(&self, name: &str) -> Option<&Value> {
        self.progress.get(name)
    }

    /// Records step `name` as done with `value`, before the next side effect.
    pub(crate) async fn mark(&mut self, name: &str, value: Value) -> Result<(), FlowError> {
        self.progress.insert(name.to_string(), value);
        self.store
            .checkpoint(&self.lease, &Value::Object(self.progress.clone()))
            .await?;
        Ok(())
    }

    /// Appends a line to the job's log (already masked by the caller).
    pub(crate) async fn log(&self, line: &str) -> Result<(), FlowError> {
        self.store
            .append_log(&self.lease, &format!("{line}\n"))
            .await?;
        Ok(())
    }
}
