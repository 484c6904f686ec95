//! The figures against their targets, as Markdown (printed, and written to
//! `bench/pr/results.md`), with the machine they were measured on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::Bench;
use crate::burst::Sample;
use crate::phases::{BurstResult, Step, StepKind, WideResult};

/// Target: the webhook answer that stores a delivery, p99 during the burst.
const ACCEPT_P99_MS: f64 = 50.0;
/// Target: a push touching one stack re-planned at least this many times faster than
/// planning every stack.
const SMART_RATIO: f64 = 10.0;

/// Where and when it ran.
pub struct Machine {
    cores: usize,
    load_before: String,
    load_after: String,
    date: String,
    engine: String,
    commit: String,
}

impl Machine {
    /// The machine now (load before the run).
    pub fn now() -> Machine {
        let engine = std::process::Command::new("terraform")
            .arg("version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_else(|| "terraform (version unknown)".into());
        let commit = std::process::Command::new("git")
            .args(["log", "-1", "--format=%h %s"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().chars().take(72).collect())
            .unwrap_or_default();
        Machine {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            load_before: load(),
            load_after: String::new(),
            date: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            engine,
            commit,
        }
    }

    /// The same, with the load after the run.
    pub fn finish(mut self) -> Machine {
        self.load_after = load();
        self
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// The report.
pub struct Rendered {
    /// For the terminal.
    pub table: String,
    /// For `results.md`.
    pub markdown: String,
    /// Targets missed and bugs seen.
    pub missed: Vec<String>,
}

/// Nearest-rank percentile of `values` (sorted here), in milliseconds.
fn percentile(values: &[Duration], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v: Vec<f64> = values.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn median(values: &[Duration]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v: Vec<f64> = values.iter().map(Duration::as_secs_f64).collect();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

fn latency_row(out: &mut String, name: &str, samples: &[&Sample]) {
    let lat: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for s in samples {
        *statuses.entry(s.status).or_insert(0) += 1;
    }
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} × {n}")).collect();
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {:.1} | {:.1} | {:.1} |",
        samples.len(),
        statuses.join(", "),
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        percentile(&lat, 100.0)
    );
}

fn processes(engine: &BTreeMap<String, usize>) -> String {
    if engine.is_empty() {
        return "(no shim)".into();
    }
    engine
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders everything; `missed` lists each target missed and each bug seen.
pub fn render(b: &Bench, m: &Machine, burst: &BurstResult, wide: &WideResult) -> Rendered {
    let mut missed = Vec::new();
    let mut s = String::new();
    let deliveries = burst.samples.len();
    let _ = writeln!(
        s,
        "# Pull-request benchmark\n\n{} stacks (`terraform_data`, chains of five, one shared local module), {} pull requests, \
         {deliveries} deliveries from {} concurrent senders, `server.workers = {}`, SQLite.\n",
        crate::STACKS,
        b.o.prs,
        b.o.clients,
        b.o.workers
    );
    let _ = writeln!(
        s,
        "Measured {} on {} cores, load average {} before and {} after; {}; plinth at `{}`.\n",
        m.date, m.cores, m.load_before, m.load_after, m.engine, m.commit
    );

    // Webhook answers.
    let _ = writeln!(
        s,
        "## Webhook answers during the burst\n\nAll {deliveries} sent in {:.2} s (client-side round trip on loopback, from the request's first byte to the answer's last).\n",
        burst.sent_in.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "| deliveries | n | answers | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|"
    );
    let mut labels: Vec<&str> = burst.samples.iter().map(|x| x.label).collect();
    labels.sort();
    labels.dedup();
    for label in labels {
        let of: Vec<&Sample> = burst.samples.iter().filter(|x| x.label == label).collect();
        latency_row(&mut s, label, &of);
    }
    let stored: Vec<&Sample> = burst.samples.iter().filter(|x| x.status == 202).collect();
    latency_row(&mut s, "**every 202 (stored with a job)**", &stored);
    let all: Vec<&Sample> = burst.samples.iter().collect();
    latency_row(&mut s, "every answer", &all);
    let p99 = percentile(&stored.iter().map(|x| x.latency).collect::<Vec<_>>(), 99.0);
    let met = p99 < ACCEPT_P99_MS;
    let _ = writeln!(
        s,
        "\nTarget 202 p99 < {ACCEPT_P99_MS} ms: **{}** ({p99:.1} ms).\n",
        if met { "met" } else { "missed" }
    );
    if !met {
        missed.push(format!("202 p99 {p99:.1} ms ≥ {ACCEPT_P99_MS} ms"));
    }
    let unanswered = burst
        .samples
        .iter()
        .filter(|x| x.status == 0 || x.status >= 400)
        .count();
    if unanswered > 0 {
        missed.push(format!("{unanswered} deliveries refused or unanswered"));
    }

    // Plans.
    let mut done: Vec<Duration> = burst.done.iter().map(|(_, d)| *d).collect();
    done.sort();
    let v = &burst.verdict;
    let _ = writeln!(
        s,
        "## Plans after the burst\n\nEvery pull request idle with its plans at its last head: **{:.1} s** after the burst began \
         (first {:.1} s, median {:.1} s); {} jobs, {} failed.\n",
        done.last().map_or(0.0, Duration::as_secs_f64),
        done.first().map_or(0.0, Duration::as_secs_f64),
        median(&done),
        burst.jobs,
        burst.failed_jobs.len()
    );
    let _ = writeln!(
        s,
        "| | instances |\n|---|---|\n\
         | planned by the engine | {} |\n\
         | least possible: each head's changed stacks + fresh plans asked by `plinth plan` | {} ({} + {}) |\n\
         | kept (nothing they consumed moved) | {} (expected {}) |\n\
         | planned twice for one head without being asked | {} |\n\
         | unchanged, planned again | {} |\n\
         | changed, old plan kept (wrong plan) | {} |\n\
         | no plan record / not planned | {} |\n",
        v.engine,
        v.minimum,
        v.minimum - v.asked,
        v.asked,
        v.kept,
        v.expected_kept,
        v.twice.len(),
        v.redundant.len(),
        v.stale_kept.len(),
        v.unaccounted.len()
    );
    let plans = burst.engine.get("plan").copied().unwrap_or(0);
    let _ = writeln!(
        s,
        "Engine processes (shim): {}; engine busy {:.1} s of the {:.1} s. `plan` processes repeated for one (head, stack): {}.\n",
        processes(&burst.engine),
        burst.engine_busy,
        done.last().map_or(0.0, Duration::as_secs_f64),
        burst.repeated.len()
    );
    for (what, list) in [
        ("planned twice for one head", &v.twice),
        ("unchanged but planned again", &v.redundant),
        ("changed but an old plan kept", &v.stale_kept),
        ("not accounted for", &v.unaccounted),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "- {what}: {}", list.join(", "));
        }
    }
    for f in &burst.failed_jobs {
        let _ = writeln!(s, "- failed: {f}");
    }
    if !v.twice.is_empty() || !v.stale_kept.is_empty() {
        missed.push("an instance planned twice for one head, or a stale plan kept".into());
    }
    if v.engine > v.minimum {
        missed.push(format!(
            "{} engine plans for a minimum of {}",
            v.engine, v.minimum
        ));
    }
    if !burst.failed_jobs.is_empty() || !v.unaccounted.is_empty() {
        missed.push("jobs failed or instances not planned".into());
    }
    if !burst.engine.is_empty() && plans != v.engine {
        let _ = writeln!(
            s,
            "- the shim saw {plans} `plan` processes for {} engine plans recorded",
            v.engine
        );
    }

    // Smart against full.
    let _ = writeln!(
        s,
        "\n## Smart against full re-plan\n\nPull request #{} changes the module all {} stacks call, so every instance is affected. \
         Each step is timed from the delivery until the pull request is idle with every plan at the head (polled every 20 ms); \
         \"job\" is the server's own start-to-finish of the job.\n",
        wide.number,
        crate::STACKS
    );
    let _ = writeln!(
        s,
        "| step | wall s | job s | engine planned | kept | engine busy s | engine processes |\n|---|---|---|---|---|---|---|"
    );
    for st in &wide.steps {
        let ok = (st.engine_planned, st.kept) == st.expected;
        let _ = writeln!(
            s,
            "| {} | {:.2} | {} | {}{} | {} | {:.2} | {} |",
            st.label,
            st.wall.as_secs_f64(),
            st.job
                .map_or("?".into(), |j| format!("{:.2}", j.as_secs_f64())),
            st.engine_planned,
            if ok { "" } else { " (unexpected)" },
            st.kept,
            st.engine_busy,
            processes(&st.engine)
        );
        if !ok {
            missed.push(format!(
                "{}: {} planned, {} kept; expected {} and {}",
                st.label, st.engine_planned, st.kept, st.expected.0, st.expected.1
            ));
        }
    }
    let of = |kind: StepKind| -> Vec<Duration> {
        wide.steps
            .iter()
            .filter(|x: &&Step| x.kind == kind)
            .map(|x| x.wall)
            .collect()
    };
    let (smart, full, full_push) = (
        median(&of(StepKind::Smart)),
        median(&of(StepKind::FullComment)),
        median(&of(StepKind::FullPush)),
    );
    let ratio = if smart > 0.0 { full / smart } else { 0.0 };
    let met = ratio >= SMART_RATIO;
    let _ = writeln!(
        s,
        "\nMedians: push touching one stack **{smart:.2} s**; `plinth plan` of all {} **{full:.2} s**; push touching all {} {full_push:.2} s.\n\n\
         Target smart ≥ {SMART_RATIO}× faster than full (`plinth plan` on the same head): **{}** ({ratio:.1}×; against the push touching all: {:.1}×).",
        crate::STACKS,
        crate::STACKS,
        if met { "met" } else { "missed" },
        if smart > 0.0 { full_push / smart } else { 0.0 }
    );
    if !met {
        missed.push(format!("smart re-plan only {ratio:.1}× faster than full"));
    }
    Rendered {
        table: s.clone(),
        markdown: s,
        missed,
    }
}
