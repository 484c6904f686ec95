//! What every job of the pull-request flow shares: the store, the forges and repositories of
//! `plinth-server.hcl`, the working copies, and where each pull request keeps its work.

use std::path::PathBuf;
use std::sync::Arc;

use plinth_forge::Forge;
use plinth_state::{PullRef, Store};
use tokio::sync::Notify;

use crate::error::FlowError;
use crate::setup::{PullsSetup, RepoSetup};
use crate::workspace::Workspaces;

/// The shared context of the server's jobs.
#[derive(Debug, Clone)]
pub struct Automation {
    pub(crate) store: Store,
    pub(crate) setup: Arc<PullsSetup>,
    pub(crate) workspaces: Workspaces,
    pub(crate) wake: Arc<Notify>,
    pub(crate) replica: String,
    masks: Arc<Vec<String>>,
}

impl Automation {
    /// The flow over `store` for the forges and repositories of `setup`. `replica` names this
    /// server process's workers in job leases: stable across restarts of one replica (so it
    /// takes its own unfinished jobs back at once), distinct between replicas. `masks` are
    /// the server's own secrets (forge tokens, webhook secrets, its service token): never
    /// written into a comment, a status or a job's log, whatever a run printed.
    pub fn new(
        store: Store,
        setup: Arc<PullsSetup>,
        replica: &str,
        masks: Vec<String>,
    ) -> Automation {
        Automation {
            masks: Arc::new(masks.into_iter().filter(|m| m.len() >= 4).collect()),
            workspaces: Workspaces::new(setup.data_dir()),
            store,
            setup,
            wake: Arc::new(Notify::new()),
            replica: replica.to_string(),
        }
    }

    /// Poked when a job is stored, so an idle worker of this replica starts at once.
    pub fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// `text` with every one of the server's own secrets replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for m in self.masks.iter() {
            if out.contains(m.as_str()) {
                out = out.replace(m.as_str(), "***");
            }
        }
        out
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn repo(&self, repo: &str) -> Result<&RepoSetup, FlowError> {
        self.setup
            .repo(repo)
            .ok_or_else(|| FlowError::Refused(format!("repository {repo} is not served")))
    }

    pub(crate) fn forge(&self, repo: &str) -> Result<Arc<dyn Forge>, FlowError> {
        self.setup
            .forge_of(repo)
            .ok_or_else(|| FlowError::Refused(format!("repository {repo} has no forge")))
    }

    /// Where a pull request keeps its work: plans, history and engine data of its runs (its
    /// project's `work_dir`), and the state of its summary. It outlives the worktrees.
    pub(crate) fn pull_dir(&self, pull: &PullRef) -> PathBuf {
        self.setup
            .data_dir()
            .join("pulls")
            .join(crate::git_input::slug(&pull.repo))
            .join(pull.number.to_string())
    }

    /// The link put on statuses and the summary: the pull request on this server.
    pub(crate) fn link(&self, pull: &PullRef) -> Option<String> {
        self.setup.public_url().map(|base| {
            format!(
                "{}/v1/pulls/{}/{}",
                base.trim_end_matches('/'),
                pull.repo,
                pull.number
            )
        })
    }
}
