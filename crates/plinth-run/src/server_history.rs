//! The team's one history: each run of a `backend = "plinth"` project is reported to its
//! server (`POST /v1/runs`) when it starts, every instance pending, and again when it ends,
//! with each instance's result and log. The log files plinth writes are masked already; what
//! is sent is their end, within the server's bound. Reporting never fails a run: a server
//! that cannot be told gets one warning line, and the local history keeps the run.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use plinth_client::{RunInstanceReport, RunReport as ServerRun};

use crate::context::RunContext;
use crate::history::{RunStart, drift_status};
use crate::promotion::PromotionRecord;
use crate::report::{InstanceReport, RunReport};
use crate::server_link::{LinkWarning, RunOrigin, ServerLink, bounded_line};

/// Bytes of logs one report carries at most, across its instances: the server accepts
/// report bodies of 64 MiB, and JSON escaping makes text longer.
const REPORT_LOG_BUDGET: usize = 32 * 1024 * 1024;

/// Longest reason the server accepts.
const MAX_REASON_CHARS: usize = 4000;

/// Reports one run to the server, and the promotion records it made.
pub(crate) struct RunReporter {
    link: ServerLink,
    history: LinkWarning,
    records: LinkWarning,
    run: ServerRun,
}

impl RunReporter {
    /// The reporter of a run of `ctx`; `None` without a plinth backend. A plinth backend that
    /// cannot be used (no token, a bad URL) is warned about and the run goes on unreported.
    pub(crate) fn open(
        ctx: &RunContext,
        start: &RunStart<'_>,
        started_at: &str,
        origin: &RunOrigin,
    ) -> Option<RunReporter> {
        let history = LinkWarning::new(ctx.events.clone());
        let link = match ctx.server_link() {
            Ok(link) => link?.clone(),
            Err(e) => {
                history.warn(format!(
                    "this run is not in the plinth server's history ({e}); it is kept in the \
                     local history only"
                ));
                return None;
            }
        };
        let run = ServerRun {
            run_id: start.run_id.to_string(),
            project: link.project().to_string(),
            action: start.action.to_string(),
            env: start.env.to_string(),
            status: "running".into(),
            who: Some(bounded_line(
                origin.who.as_deref().unwrap_or(start.who),
                255,
            )),
            commit: start.commit.map(|c| bounded_line(c, 100)),
            source: origin.source,
            started_at: started_at.to_string(),
            finished_at: None,
            from_plan: start.from_plan.map(str::to_string),
            approved_destructive: start.approved_destructive,
            skipped_promotion: start.skipped_promotion.map(|r| bounded_text(r, 2000)),
            instances: Vec::new(),
        };
        Some(RunReporter {
            link,
            history,
            records: LinkWarning::new(ctx.events.clone()),
            run,
        })
    }

    /// The run has started: `stacks` are pending.
    pub(crate) async fn started(&self, stacks: &[String]) {
        let mut run = self.run.clone();
        run.instances = stacks
            .iter()
            .map(|stack| RunInstanceReport {
                stack: stack.clone(),
                status: "pending".into(),
                add: 0,
                change: 0,
                destroy: 0,
                preview_only: false,
                reason: None,
                duration_ms: 0,
                log: None,
            })
            .collect();
        self.send(&run).await;
    }

    /// Stores the promotion records the run made; one that cannot be stored is warned about
    /// (the gates of other machines will not see it).
    pub(crate) async fn promotions_applied(&self, records: &[PromotionRecord]) {
        if records.is_empty() {
            return;
        }
        if let Err(e) = self.link.record_promotions(records).await {
            self.records.warn(format!(
                "{e}; the promotion records of this apply are in the local history only, so \
                 gates on other machines do not see them yet"
            ));
        }
    }

    /// The run has ended as `report` says.
    pub(crate) async fn finished(&self, report: &RunReport) {
        let mut run = self.run.clone();
        run.status = report.status.as_str().to_string();
        run.finished_at = Some(crate::history::now());
        let per_log = (REPORT_LOG_BUDGET / report.instances.len().max(1))
            .min(plinth_state::MAX_RUN_LOG_BYTES);
        let drift = report.action == "drift";
        run.instances = report
            .instances
            .iter()
            .map(|i| instance(i, drift, per_log))
            .collect();
        self.send(&run).await;
    }

    async fn send(&self, run: &ServerRun) {
        if let Err(e) = self.link.client().report_run(run).await {
            let e = self.link.failure("cannot report the run to", &e);
            self.history.warn(format!(
                "{e}; the run goes on and is kept in the local history only"
            ));
        }
    }
}

fn instance(i: &InstanceReport, drift: bool, max_log: usize) -> RunInstanceReport {
    let status = i.status.as_str();
    RunInstanceReport {
        stack: i.stack.clone(),
        // The server records drift from a drift run's own words.
        status: if drift && matches!(status, "unchanged" | "succeeded" | "failed") {
            drift_status(status).to_string()
        } else {
            status.to_string()
        },
        add: i64::from(i.add),
        change: i64::from(i.change),
        destroy: i64::from(i.destroy),
        preview_only: i.preview_only,
        reason: i
            .reason
            .as_deref()
            .map(|r| bounded_text(r, MAX_REASON_CHARS)),
        duration_ms: i64::try_from(i.duration_ms).unwrap_or(i64::MAX),
        log: i.log.as_deref().and_then(|p| log_tail(p, max_log)),
    }
}

/// The last `max` bytes of a log file, starting on a whole character.
fn log_tail(path: &Path, max: usize) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let skip = len.saturating_sub(max as u64);
    file.seek(SeekFrom::Start(skip)).ok()?;
    let mut bytes = Vec::with_capacity((len - skip) as usize);
    file.take(max as u64).read_to_end(&mut bytes).ok()?;
    let start = if skip > 0 {
        // A cut through a multi-byte character leaves its continuation bytes first.
        bytes
            .iter()
            .position(|b| b & 0xC0 != 0x80)
            .unwrap_or(bytes.len())
    } else {
        0
    };
    Some(String::from_utf8_lossy(&bytes[start..]).into_owned())
}

/// `text` without control characters other than line breaks and tabs, at most `max`
/// characters (what the server accepts for reasons).
fn bounded_text(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                '?'
            } else {
                c
            }
        })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_log_keeps_its_end_on_a_character_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.log");
        std::fs::write(&path, format!("{}ééé END", "x".repeat(1000))).unwrap();
        let tail = log_tail(&path, 8).unwrap();
        assert!(tail.len() <= 8, "{tail:?}");
        assert!(tail.ends_with("é END"), "{tail:?}");
        assert!(!tail.contains('\u{FFFD}'), "{tail:?}");
        let whole = log_tail(&path, 1 << 20).unwrap();
        assert!(whole.starts_with("xxx") && whole.ends_with("END"));
        assert_eq!(log_tail(&dir.path().join("none.log"), 8), None);
    }

    #[test]
    fn reasons_fit_what_the_server_accepts() {
        assert_eq!(bounded_text("a\nb\tc\u{1b}[31m", 100), "a\nb\tc?[31m");
        assert_eq!(bounded_text(&"é".repeat(5000), 4000).chars().count(), 4000);
    }
}
