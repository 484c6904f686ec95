//! The server's own clock (DESIGN §5.2, §3): at start and then every minute, for each served
//! repository, the default branch is fetched and its project read; each persistent
//! environment with `drift { every }` whose last scheduled check ended longer than `every`
//! ago gets a `drift` job, and a repository with copies past their `ttl` gets a `reap` job.
//!
//! Replicas sharing a database each run this loop; a job's dedupe key names its time slot
//! (`drift:REPO:ENV:SLOT`, `reap:REPO:SLOT`), so that however many replicas look in one
//! slot, one job is stored; and none is stored while one of the same kind is still queued or
//! running for that environment or repository. When the last check ended lives in the
//! database (`drift_watch`), so a restart or another replica keeps the rhythm.
//!
//! `PLINTH_SCHEDULE_TICK_MS` is a knob for tests only: the tick in milliseconds, and what the
//! schedule counts as a minute (`every = "5m"` lasts five ticks), so that a test sees several
//! checks in seconds. The copies' expiry stays on the real clock.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use plinth_config::Lifecycle;
use plinth_server::Shutdown;
use plinth_state::PullState;
use serde::{Deserialize, Serialize};

use crate::automation::Automation;
use crate::branch::{Loaded, branch_ref};
use crate::error::FlowError;
use crate::setup::RepoSetup;

/// The environment variable of the test knob (see the module's doc).
pub const TICK_ENV: &str = "PLINTH_SCHEDULE_TICK_MS";

/// A scheduled drift check of one environment.
pub const DRIFT_JOB_KIND: &str = "drift";

/// A reaper pass over one repository's expired copies.
pub const REAP_JOB_KIND: &str = "reap";

/// The reaper looks at most once per this many minutes per repository.
const REAP_EVERY_MINUTES: u64 = 5;

/// The payload of a drift job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DriftJob {
    pub repo: String,
    pub env: String,
}

/// The payload of a reap job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReapJob {
    pub repo: String,
}

/// How often the scheduler looks, and how long its minute lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    tick_ms: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { tick_ms: 60_000 }
    }
}

impl Clock {
    /// A minute, unless [`TICK_ENV`] holds a number of milliseconds (tests).
    pub fn from_env() -> Clock {
        match std::env::var(TICK_ENV) {
            Err(_) => Clock::default(),
            Ok(text) => match text.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => {
                    tracing::warn!(
                        tick_ms = ms,
                        "{TICK_ENV} is set: the schedule runs fast (tests only)"
                    );
                    Clock { tick_ms: ms }
                }
                _ => {
                    tracing::warn!(
                        "{TICK_ENV}={text:?} is not a positive number of milliseconds; ignored"
                    );
                    Clock::default()
                }
            },
        }
    }

    /// The time between two looks.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    /// A period of the schedule given in seconds (`every`), in milliseconds of this clock.
    pub fn period_ms(&self, secs: u64) -> i64 {
        let ms = u128::from(secs) * u128::from(self.tick_ms) / 60;
        i64::try_from(ms).unwrap_or(i64::MAX).max(1)
    }
}

/// Starts the scheduler of this replica; it ends when `shutdown` triggers.
pub fn start(auto: Arc<Automation>, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
    let clock = Clock::from_env();
    tokio::spawn(async move {
        let mut scheduler = Scheduler {
            auto,
            clock,
            known: HashMap::new(),
            last_problem: HashMap::new(),
        };
        loop {
            if shutdown.is_triggered() {
                return;
            }
            scheduler.look().await;
            tokio::select! {
                _ = tokio::time::sleep(clock.tick()) => {}
                _ = shutdown.triggered() => return,
            }
        }
    })
}

/// What the scheduler read at a repository's default head.
struct Known {
    sha: String,
    project: String,
    /// Persistent environments with a drift schedule: name and `every` in seconds.
    drift: Vec<(String, u64)>,
}

struct Scheduler {
    auto: Arc<Automation>,
    clock: Clock,
    known: HashMap<String, Known>,
    /// The last problem reported per repository, so that one that lasts is logged once.
    last_problem: HashMap<String, String>,
}

impl Scheduler {
    async fn look(&mut self) {
        let repos: Vec<RepoSetup> = self.auto.setup.repos().to_vec();
        for repo in repos {
            match self.look_at(&repo).await {
                Ok(()) => {
                    self.last_problem.remove(&repo.name);
                }
                Err(e) => {
                    let text = self.auto.redact(&e.to_string());
                    if self.last_problem.get(&repo.name) != Some(&text) {
                        tracing::warn!(repo = %repo.name, problem = %text, "no scheduled work for this repository");
                        self.last_problem.insert(repo.name.clone(), text);
                    }
                }
            }
        }
    }

    async fn look_at(&mut self, repo: &RepoSetup) -> Result<(), FlowError> {
        let head = self.auto.default_head(repo).await?;
        if self.known.get(&repo.name).is_none_or(|k| k.sha != head) {
            let known = self.read(repo, &head).await?;
            self.known.insert(repo.name.clone(), known);
            self.prune(repo, &head).await;
        }
        let known = &self.known[&repo.name];
        let now = now_ms();
        let mut enqueued = false;
        let watches: HashMap<String, i64> = self
            .auto
            .store
            .drift_watches(&repo.name)
            .await?
            .into_iter()
            .map(|w| (w.env, w.checked_ms))
            .collect();
        for (env, every) in &known.drift {
            let period = self.clock.period_ms(*every);
            if watches.get(env).is_some_and(|last| now - last < period) {
                continue;
            }
            let serial = format!("drift:{}:{env}", repo.name);
            let slot = format!("{serial}:{}", now / period);
            let payload = serde_json::to_value(DriftJob {
                repo: repo.name.clone(),
                env: env.clone(),
            })
            .expect("drift jobs serialise");
            enqueued |= self
                .enqueue(DRIFT_JOB_KIND, &serial, &payload, &slot)
                .await?;
        }
        if !self
            .auto
            .store
            .expired_copies(Some(&known.project), now)
            .await?
            .is_empty()
        {
            let serial = format!("reap:{}", repo.name);
            let slot = format!(
                "{serial}:{}",
                now / self.clock.period_ms(REAP_EVERY_MINUTES * 60)
            );
            let payload = serde_json::to_value(ReapJob {
                repo: repo.name.clone(),
            })
            .expect("reap jobs serialise");
            enqueued |= self
                .enqueue(REAP_JOB_KIND, &serial, &payload, &slot)
                .await?;
        }
        if enqueued {
            self.auto.wake.notify_one();
        }
        Ok(())
    }

    /// Stores a job unless one of its serial key is open; whether one was stored.
    async fn enqueue(
        &self,
        kind: &str,
        serial: &str,
        payload: &serde_json::Value,
        slot: &str,
    ) -> Result<bool, FlowError> {
        if self.auto.store.has_open_jobs(serial).await? {
            return Ok(false);
        }
        let stored = self
            .auto
            .store
            .enqueue(kind, serial, payload, Some(slot))
            .await?;
        let new = matches!(stored, plinth_state::Enqueued::New(_));
        if new {
            tracing::info!(job = stored.id(), kind, key = serial, "scheduled");
        }
        Ok(new)
    }

    /// The project's name and drift schedules at `head`.
    async fn read(&self, repo: &RepoSetup, head: &str) -> Result<Known, FlowError> {
        let work_dir = self.auto.repo_work_dir("schedule", &repo.name, "work");
        let loaded = self
            .auto
            .load_at(repo, head, &[branch_ref(repo)], work_dir)
            .await?
            .ok_or_else(|| FlowError::Other(format!("commit {head} vanished from the mirror")))?;
        let project = match loaded {
            Loaded::Ready(at) => at.project,
            Loaded::Unusable(why) => {
                return Err(FlowError::Refused(format!(
                    "{} at {}: {why}",
                    repo.default_branch,
                    crate::summary::short(head)
                )));
            }
        };
        Ok(Known {
            sha: head.to_string(),
            project: project.config.project().to_string(),
            drift: project
                .config
                .environments
                .iter()
                .filter(|e| e.lifecycle == Lifecycle::Persistent)
                .filter_map(|e| Some((e.name.value.clone(), e.drift.as_ref()?.every.value)))
                .collect(),
        })
    }

    /// Removes the worktrees that neither the default head nor an open pull request needs
    /// (those a job holds stay).
    async fn prune(&self, repo: &RepoSetup, head: &str) {
        let mut keep: HashSet<String> = match self
            .auto
            .store
            .pull_records(Some(&repo.name), Some(PullState::Open), 1000)
            .await
        {
            Ok(open) => open.into_iter().map(|p| p.head).collect(),
            Err(e) => {
                tracing::warn!(repo = %repo.name, error = %e, "cannot list open pull requests to prune");
                return;
            }
        };
        keep.insert(head.to_string());
        if let Err(e) = self.auto.workspaces.prune(&repo.name, &keep).await {
            tracing::warn!(repo = %repo.name, error = %e, "cannot prune worktrees");
        }
    }
}

/// Now, Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_the_schedule_is_one_tick() {
        let real = Clock::default();
        assert_eq!(real.tick(), Duration::from_secs(60));
        assert_eq!(real.period_ms(6 * 3600), 6 * 3600 * 1000);
        let fast = Clock { tick_ms: 200 };
        assert_eq!(fast.period_ms(300), 1000, "5m is five ticks");
        assert_eq!(fast.period_ms(1), 3, "never zero");
        assert_eq!(Clock { tick_ms: 1 }.period_ms(1), 1);
    }
}
