//! Promotion gates: an environment with `promote_from = X` applies an instance only when X
//! holds a record that the same promoted code was applied there successfully. A stack in both
//! environments compares its own promoted code; a stack bound to one environment
//! (`envs/prod` calling `components/*`) compares each local module it calls.
//!
//! Records are written after every successful apply, in the local history and, with
//! `backend = "plinth"`, on the server (where every machine and the pull-request flow see
//! them).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use plinth_project::{Project, PromotedCode, Selection};
use rayon::prelude::*;

use serde::Serialize;
use sqlx::Row;

use crate::RunError;
use crate::context::RunContext;
use crate::history::{History, now};
use crate::server_link::ServerLink;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS promotions (
    env TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    run_id TEXT NOT NULL,
    commit_sha TEXT,
    who TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS promotions_by_subject ON promotions(env, kind, subject, applied_at);
";

/// "Subject S at fingerprint F was applied successfully in environment E by run R at
/// commit C."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PromotionRecord {
    /// Environment.
    pub env: String,
    /// `stack` or `module`.
    pub kind: String,
    /// Stack id, or module path relative to the project root.
    pub subject: String,
    /// Promoted-code fingerprint (module digest for modules).
    pub fingerprint: String,
    /// The run that applied it.
    pub run_id: String,
    /// The commit applied (`+dirty` when the work tree had changes).
    pub commit: Option<String>,
    /// `user@host`.
    pub who: String,
    /// RFC 3339.
    pub applied_at: String,
}

impl History {
    /// Stores a record.
    pub async fn record_promotion(&self, r: &PromotionRecord) -> Result<(), String> {
        sqlx::query(
            "INSERT INTO promotions (env, kind, subject, fingerprint, run_id, commit_sha, who, applied_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.env)
        .bind(&r.kind)
        .bind(&r.subject)
        .bind(&r.fingerprint)
        .bind(&r.run_id)
        .bind(&r.commit)
        .bind(&r.who)
        .bind(&r.applied_at)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(|e| format!("run history: {e}"))
    }

    /// Every record of environment `env`, oldest first.
    pub async fn promotions(&self, env: &str) -> Result<Vec<PromotionRecord>, String> {
        let rows = sqlx::query(
            "SELECT env, kind, subject, fingerprint, run_id, commit_sha, who, applied_at
             FROM promotions WHERE env = ? ORDER BY applied_at, rowid",
        )
        .bind(env)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| format!("run history: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| PromotionRecord {
                env: r.get("env"),
                kind: r.get("kind"),
                subject: r.get("subject"),
                fingerprint: r.get("fingerprint"),
                run_id: r.get("run_id"),
                commit: r.get("commit_sha"),
                who: r.get("who"),
                applied_at: r.get("applied_at"),
            })
            .collect())
    }
}

/// The records of one environment, for lookups.
pub struct Records {
    env: String,
    all: Vec<PromotionRecord>,
    keys: HashSet<(String, String, String)>,
}

impl Records {
    /// Indexes `all`, the records of `env`.
    pub fn new(env: &str, all: Vec<PromotionRecord>) -> Records {
        let keys = all
            .iter()
            .map(|r| (r.kind.clone(), r.subject.clone(), r.fingerprint.clone()))
            .collect();
        Records {
            env: env.to_string(),
            all,
            keys,
        }
    }

    /// Whether `kind`/`subject` was applied at `fingerprint`.
    pub fn has(&self, kind: &str, subject: &str, fingerprint: &str) -> bool {
        self.keys.contains(&(
            kind.to_string(),
            subject.to_string(),
            fingerprint.to_string(),
        ))
    }

    /// The latest record of `kind`/`subject`.
    pub fn latest(&self, kind: &str, subject: &str) -> Option<&PromotionRecord> {
        self.all
            .iter()
            .rev()
            .find(|r| r.kind == kind && r.subject == subject)
    }

    /// "X last applied 1a2b3c4 (run R, commit C, at T)" or "X never applied it".
    fn last(&self, kind: &str, subject: &str) -> String {
        match self.latest(kind, subject) {
            Some(r) => format!(
                "{} last applied {} (run {}, commit {}, at {})",
                self.env,
                short(&r.fingerprint),
                r.run_id,
                r.commit.as_deref().map_or("unknown", short),
                r.applied_at
            ),
            None => format!("{} never applied it", self.env),
        }
    }
}

/// The first seven characters, as people read digests and commits.
pub fn short(s: &str) -> &str {
    s.get(..7).unwrap_or(s)
}

/// Where one instance stands against its upstream environment.
#[derive(Debug, Clone, Serialize)]
pub struct PromotionStatus {
    /// Stack id.
    pub stack: String,
    /// `current` (applied here at this code), `promotable` (applied upstream, not here),
    /// `blocked` (not applied upstream), or `open` (nothing to promote: no upstream
    /// environment, or a stack of its own calling no local module).
    pub status: String,
    /// Its promoted-code fingerprint now.
    pub fingerprint: String,
    /// Why it is blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `(kind, subject, fingerprint)`: a record the gate looks for.
type Wanted = (String, String, String);

/// The promoted code of each of `selected`, computed once (digests of whole trees).
fn promoted_codes(
    project: &Project,
    selected: &[String],
    modules: &HashMap<String, Vec<PathBuf>>,
) -> HashMap<String, PromotedCode> {
    selected
        .par_iter()
        .filter_map(|stack| {
            let mods = modules.get(stack).map_or(&[][..], Vec::as_slice);
            Some((stack.clone(), project.promoted_code(stack, mods)?))
        })
        .collect()
}

/// The records `from` must hold for each stack of `codes`: its own code for a stack that
/// is in `from` too, else each local module it calls.
fn wanted_in(project: &Project, codes: &HashMap<String, PromotedCode>, from: &str) -> Vec<Wanted> {
    let mut wanted = Vec::new();
    for (stack, code) in codes {
        if project.stack(stack).is_some_and(|s| s.in_env(from)) {
            wanted.push(("stack".into(), stack.clone(), code.fingerprint.clone()));
        } else {
            wanted.extend(
                code.modules
                    .iter()
                    .map(|(m, d)| ("module".to_string(), m.clone(), d.clone())),
            );
        }
    }
    wanted.sort();
    wanted.dedup();
    wanted
}

/// The records each stack of `codes` would leave in `env` at its code now.
fn wanted_here(codes: &HashMap<String, PromotedCode>) -> Vec<Wanted> {
    codes
        .iter()
        .map(|(stack, code)| ("stack".into(), stack.clone(), code.fingerprint.clone()))
        .collect()
}

/// The records of `env` in the local history (at `db`, when it exists) and, with
/// `backend = "plinth"`, on the server: so a checkout sees what CI or the server applied.
/// A server that cannot be asked is an error: the gate must not open on half the records.
async fn records_of(
    project: &Project,
    db: &std::path::Path,
    env: &str,
    wanted: &[Wanted],
) -> Result<Records, String> {
    let local = if db.is_file() {
        History::open(db).await?.promotions(env).await?
    } else {
        Vec::new()
    };
    let template = project
        .config
        .environment(env)
        .map_or(env, |e| e.name.value.as_str());
    let remote = match ServerLink::of(project, Some((env, template))) {
        Ok(None) => Vec::new(),
        Ok(Some(link)) => link.promotions(env, wanted).await?,
        Err(e) => {
            return Err(format!(
                "cannot read promotion records from the plinth server: {e}"
            ));
        }
    };
    Ok(Records::new(env, merged(local, remote)))
}

/// Local and server records as one list, oldest first, each record once (one posted from
/// here is in both).
fn merged(local: Vec<PromotionRecord>, remote: Vec<PromotionRecord>) -> Vec<PromotionRecord> {
    if remote.is_empty() {
        return local;
    }
    let mut seen = HashSet::new();
    let mut all: Vec<PromotionRecord> = local
        .into_iter()
        .chain(remote)
        .filter(|r| {
            seen.insert((
                r.kind.clone(),
                r.subject.clone(),
                r.fingerprint.clone(),
                r.run_id.clone(),
            ))
        })
        .collect();
    // Parsed, not compared as text: the two sides write fractions of seconds differently.
    let at = |r: &PromotionRecord| {
        time::OffsetDateTime::parse(
            &r.applied_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
    };
    all.sort_by_key(|r| at(r));
    all
}

impl RunContext {
    /// The records of `env` (local history, and the server with `backend = "plinth"`) that
    /// answer for `wanted`. A server that cannot be asked refuses (exit 3): the gate stays
    /// closed rather than open on half the records.
    pub async fn promotion_records(
        &self,
        env: &str,
        wanted: &[Wanted],
    ) -> Result<Records, RunError> {
        records_of(&self.project, &self.layout.database(), env, wanted)
            .await
            .map_err(|e| {
                RunError::Blocked(format!(
                    "{e}\nthe promotion gate cannot be checked, so nothing was applied; retry \
                     when the server answers"
                ))
            })
    }

    /// Every selected instance that the promotion gate refuses, with why; empty when the
    /// environment promotes from nowhere.
    pub async fn promotion_refusals(&self) -> Result<Vec<String>, RunError> {
        let Some(from) = self
            .environment
            .promote_from
            .as_ref()
            .map(|f| f.value.clone())
        else {
            return Ok(Vec::new());
        };
        let codes = promoted_codes(&self.project, &self.selected, &self.modules);
        let upstream = self
            .promotion_records(&from, &wanted_in(&self.project, &codes, &from))
            .await?;
        let here = Records::new(self.env(), Vec::new());
        Ok(statuses(
            &self.project,
            &self.selected,
            &codes,
            &from,
            &upstream,
            &here,
        )
        .into_iter()
        .filter(|s| s.status == "blocked")
        .map(|s| {
            format!(
                "{}/{}: {}",
                self.env(),
                s.stack,
                s.reason.unwrap_or_default()
            )
        })
        .collect())
    }

    /// Records in the local history that `stacks` were applied successfully in this run (with
    /// each local module they call), and returns the records for the server. Copies keep no
    /// records: nothing promotes from an ephemeral environment.
    pub(crate) async fn record_applied(
        &self,
        stacks: &[String],
        who: &str,
    ) -> Result<Vec<PromotionRecord>, String> {
        let mut recorded = Vec::new();
        if self.is_copy || stacks.is_empty() {
            return Ok(recorded);
        }
        let history = History::open(&self.layout.database()).await?;
        let at = now();
        let mut seen_modules = HashSet::new();
        for stack in stacks {
            let mods = self.modules.get(stack).map_or(&[][..], Vec::as_slice);
            let Some(code) = self.project.promoted_code(stack, mods) else {
                continue;
            };
            let record = |kind: &str, subject: &str, fingerprint: &str| PromotionRecord {
                env: self.env().to_string(),
                kind: kind.to_string(),
                subject: subject.to_string(),
                fingerprint: fingerprint.to_string(),
                run_id: self.run_id.clone(),
                commit: self.commit.clone(),
                who: who.to_string(),
                applied_at: at.clone(),
            };
            let own = record("stack", stack, &code.fingerprint);
            history.record_promotion(&own).await?;
            recorded.push(own);
            for (module, digest) in &code.modules {
                if seen_modules.insert((module.clone(), digest.clone())) {
                    let called = record("module", module, digest);
                    history.record_promotion(&called).await?;
                    recorded.push(called);
                }
            }
        }
        Ok(recorded)
    }
}

/// Where each of `selected` stands against environment `from`.
fn statuses(
    project: &Project,
    selected: &[String],
    codes: &HashMap<String, PromotedCode>,
    from: &str,
    upstream: &Records,
    here: &Records,
) -> Vec<PromotionStatus> {
    selected
        .par_iter()
        .map(|stack| {
            let code = codes.get(stack).expect("selected stacks exist");
            let in_upstream = project.stack(stack).is_some_and(|s| s.in_env(from));
            let mut reasons = Vec::new();
            if in_upstream {
                if !upstream.has("stack", stack, &code.fingerprint) {
                    reasons.push(format!(
                        "its code {} has not been applied in {from}; {}",
                        short(&code.fingerprint),
                        upstream.last("stack", stack)
                    ));
                }
            } else {
                for (module, digest) in &code.modules {
                    if !upstream.has("module", module, digest) {
                        reasons.push(format!(
                            "module {module} at {} has not been applied in {from}; {}",
                            short(digest),
                            upstream.last("module", module)
                        ));
                    }
                }
            }
            let status = if !reasons.is_empty() {
                "blocked"
            } else if here.has("stack", stack, &code.fingerprint) {
                "current"
            } else if in_upstream || !code.modules.is_empty() {
                "promotable"
            } else {
                "open"
            };
            PromotionStatus {
                stack: stack.clone(),
                status: status.to_string(),
                fingerprint: code.fingerprint.clone(),
                reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            }
        })
        .collect()
}

/// `plinth promote FROM TO [SELECT]`: where each selected instance of `to` stands against
/// `from`, from the records of both.
pub async fn promotion_report(
    project: Arc<Project>,
    from: &str,
    to: &str,
    selection: &Selection,
) -> Result<Vec<PromotionStatus>, RunError> {
    for env in [from, to] {
        if project.config.environment(env).is_none() {
            project.graph(env).map_err(RunError::Config)?;
        }
    }
    let graph = project.graph(to).map_err(RunError::Config)?;
    let picked = selection.apply(&project, &graph).map_err(RunError::Usage)?;
    let selected: Vec<String> = graph
        .layers
        .iter()
        .flatten()
        .filter(|s| picked.contains(*s))
        .cloned()
        .collect();
    let modules = project.local_modules();
    let codes = promoted_codes(&project, &selected, &modules);
    let db = plinth_engine::Layout::at(&project.work_dir).database();
    let upstream = records_of(&project, &db, from, &wanted_in(&project, &codes, from))
        .await
        .map_err(RunError::Other)?;
    let here = records_of(&project, &db, to, &wanted_here(&codes))
        .await
        .map_err(RunError::Other)?;
    Ok(statuses(
        &project, &selected, &codes, from, &upstream, &here,
    ))
}
