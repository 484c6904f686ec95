//! The benchmark's phases: the burst, closing its pull requests, and smart against full
//! re-plans on one pull request that affects every stack.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plinth_forge::PullState;
use plinth_forge::fake::FakePull;
use plinth_forge::fake::webhooks::Delivery;
use serde_json::Value;

use crate::Bench;
use crate::accounting::{self, EngineCall, HeadPlan, Verdict};
use crate::burst::{self, CHATTER, PLANNER, REPO, Sample, Send};
use crate::project::{PROJECT, stack_id};

/// How long any wait may take before the harness gives up.
const DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Seconds since the epoch, as the shim's `EPOCHREALTIME`.
fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whether a pull request view is idle with exactly `n` instances, all planned at `head`.
fn planned_at(view: &Value, head: &str, n: usize) -> bool {
    let instances = view["instances"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    view["idle"] == true
        && instances.len() == n
        && instances.iter().all(|i| i["plan"]["commit"] == head)
}

/// A pull request of the burst: two stacks of its own, three heads.
struct Pull {
    number: u64,
    /// h1 changes both stacks, h2 the first again, h3 the second again.
    heads: [String; 3],
    stacks: [String; 2],
}

/// What the burst measured.
pub struct BurstResult {
    /// Every answer.
    pub samples: Vec<Sample>,
    /// From the first send to the last answer.
    pub sent_in: Duration,
    /// Per pull request: from the start of the burst until it was idle with its plans at its
    /// last head.
    pub done: Vec<(u64, Duration)>,
    /// Jobs that failed, with their results.
    pub failed_jobs: Vec<String>,
    /// Jobs the server ran for the burst.
    pub jobs: usize,
    /// Plans against the least work.
    pub verdict: Verdict,
    /// Engine processes by subcommand (empty without the shim).
    pub engine: BTreeMap<String, usize>,
    /// `(head, stack)` with more than one engine `plan` process, and how many.
    pub repeated: BTreeMap<(String, String), usize>,
    /// Seconds during which an engine process ran.
    pub engine_busy: f64,
}

fn prepare(b: &Bench) -> Vec<Pull> {
    let mut pulls = Vec::new();
    for i in 1..=b.o.prs {
        let number = i as u64;
        let (first, second) = (2 * i - 1, 2 * i);
        let branch = format!("pr-{number}");
        b.repo.git(&["checkout", "-q", "-B", &branch, &b.base]);
        b.repo.set_rev(first, &format!("pr{number}-h1"));
        b.repo.set_rev(second, &format!("pr{number}-h1"));
        let h1 = b.repo.commit("h1: both stacks");
        b.repo.set_rev(first, &format!("pr{number}-h2"));
        let h2 = b.repo.commit("h2: the first stack again");
        b.repo.set_rev(second, &format!("pr{number}-h3"));
        let h3 = b.repo.commit("h3: the second stack again");
        // The forge has every commit before it sends a webhook about one.
        b.repo.push_head(number, &h3);
        b.forge.set_pull(
            REPO,
            number,
            FakePull {
                base_sha: b.base.clone(),
                head_ref: branch,
                ..FakePull::open(&h3)
            },
        );
        pulls.push(Pull {
            number,
            heads: [h1, h2, h3],
            stacks: [stack_id(first), stack_id(second)],
        });
    }
    b.repo.git(&["checkout", "-q", "main"]);
    pulls
}

/// The ten deliveries of one pull request, in the order its sender sends them.
fn deliveries(b: &Bench, p: &Pull) -> Vec<Send> {
    let url = b.repo.dir.display().to_string();
    let n = p.number;
    let event = |action: &str, head: &str| burst::pull_event(&url, action, n, head, &b.base);
    let opened = event("opened", &p.heads[0]);
    let sync2 = event("synchronize", &p.heads[1]);
    let help = burst::comment(n, n * 100 + 1, "plinth help", CHATTER);
    let list: Vec<(&'static str, Delivery)> = vec![
        ("opened", opened.clone()),
        ("comment `plinth help`", help.clone()),
        ("synchronize", sync2.clone()),
        ("labeled", event("labeled", &p.heads[1])),
        ("redelivery", opened.redelivery()),
        (
            "comment (no command)",
            burst::comment(n, n * 100 + 2, "Looks good to me!", CHATTER),
        ),
        ("synchronize", event("synchronize", &p.heads[2])),
        (
            "comment `plinth plan`",
            burst::comment(n, n * 100 + 3, "plinth plan", PLANNER),
        ),
        ("redelivery", sync2.redelivery()),
        ("redelivery", help.redelivery()),
    ];
    list.into_iter()
        .map(|(label, delivery)| Send { label, delivery })
        .collect()
}

/// The burst: every pull request's deliveries from `clients` senders at once, then waiting
/// for every pull request's plans at its last head.
pub async fn burst(b: &Bench) -> BurstResult {
    let pulls = prepare(b);
    let per_pull: Vec<Vec<Send>> = pulls.iter().map(|p| deliveries(b, p)).collect();
    // Each sender owns some pull requests and interleaves them, one delivery of each in
    // turn, so that one pull request's deliveries arrive in the order the forge sent them.
    let mut lanes: Vec<Vec<Send>> = (0..b.o.clients).map(|_| Vec::new()).collect();
    let mut owned: Vec<Vec<std::vec::IntoIter<Send>>> =
        (0..b.o.clients).map(|_| Vec::new()).collect();
    for (i, sends) in per_pull.into_iter().enumerate() {
        owned[i % b.o.clients].push(sends.into_iter());
    }
    for (lane, mut iters) in lanes.iter_mut().zip(owned) {
        loop {
            let before = lane.len();
            for it in iters.iter_mut() {
                lane.extend(it.next());
            }
            if lane.len() == before {
                break;
            }
        }
    }
    let from = epoch();
    let (samples, started, sent_in) = burst::fire(&b.webhook_url, lanes).await;

    let mut pending: BTreeMap<u64, &Pull> = pulls.iter().map(|p| (p.number, p)).collect();
    let mut done = Vec::new();
    let mut views = BTreeMap::new();
    while !pending.is_empty() {
        assert!(
            started.elapsed() < DEADLINE,
            "pull requests {:?} not planned",
            pending.keys()
        );
        for (n, p) in pending.clone() {
            if let Ok(view) = b.api.pull(REPO, n).await
                && planned_at(&view, &p.heads[2], 2)
            {
                done.push((n, started.elapsed()));
                views.insert(n, view);
                pending.remove(&n);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let to = epoch();

    let mut failed_jobs = Vec::new();
    let mut jobs = 0;
    for (n, view) in &views {
        for job in view["jobs"].as_array().into_iter().flatten() {
            jobs += 1;
            if job["status"] == "failed" {
                let id = job["id"].as_i64().unwrap_or(0);
                let detail = b.api.job(id).await.unwrap_or_default();
                failed_jobs.push(format!(
                    "#{n} job {id} ({}): {}",
                    job["kind"], detail["result"]
                ));
            }
        }
    }
    let mut heads = Vec::new();
    for p in &pulls {
        let all: BTreeSet<String> = p.stacks.iter().cloned().collect();
        heads.push(HeadPlan {
            pr: p.number,
            sha: p.heads[0].clone(),
            changed: all.clone(),
            affected: all.clone(),
        });
        for (h, changed) in [(1, &p.stacks[0]), (2, &p.stacks[1])] {
            heads.push(HeadPlan {
                pr: p.number,
                sha: p.heads[h].clone(),
                changed: BTreeSet::from([changed.clone()]),
                affected: all.clone(),
            });
        }
    }
    let records = accounting::plan_records(&b.api, PROJECT, &b.data_dir)
        .await
        .expect("the run history");
    let verdict = accounting::judge(&records, &heads, PLANNER.0);
    let calls = accounting::within(&accounting::engine_calls(&b.engine_log), from, to);
    BurstResult {
        samples,
        sent_in,
        done,
        failed_jobs,
        jobs,
        verdict,
        engine: accounting::by_subcommand(&calls),
        repeated: accounting::repeated_engine_plans(&calls),
        engine_busy: accounting::busy(&calls),
    }
}

/// Closes every pull request of the burst (without merging): their locks are released.
pub async fn close_all(b: &Bench) {
    let client = crate::server::http_client();
    let url = b.repo.dir.display().to_string();
    for i in 1..=b.o.prs {
        let n = i as u64;
        b.forge
            .update_pull(REPO, n, |p| p.state = PullState::Closed);
        let head = b.forge.pull(REPO, n).expect("the pull request").head_sha;
        let d = burst::pull_event(&url, "closed", n, &head, &b.base);
        let (status, body, _) = burst::post(&client, &b.webhook_url, &d).await;
        assert_eq!(status, 202, "closing #{n}: {body}");
    }
    let t = Instant::now();
    for i in 1..=b.o.prs {
        loop {
            assert!(t.elapsed() < DEADLINE, "#{i} not closed");
            if let Ok(view) = b.api.pull(REPO, i as u64).await
                && view["idle"] == true
                && view["state"] == "closed"
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What one delivery on the wide pull request cost.
pub struct Step {
    /// What was sent.
    pub label: String,
    /// Which figure it belongs to.
    pub kind: StepKind,
    /// From the delivery until the pull request was idle with every plan at the head.
    pub wall: Duration,
    /// The job's own run time on the server (started to finished).
    pub job: Option<Duration>,
    /// Instances the engine planned in the step's run.
    pub engine_planned: usize,
    /// Instances kept.
    pub kept: usize,
    /// What the step should give: (engine planned, kept).
    pub expected: (usize, usize),
    /// Seconds an engine process ran during the step.
    pub engine_busy: f64,
    /// Engine processes by subcommand.
    pub engine: BTreeMap<String, usize>,
}

/// The figure a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The first plan of the pull request (every instance initialised and planned).
    First,
    /// A push touching one stack.
    Smart,
    /// `plinth plan`: every instance planned again by the engine.
    FullComment,
    /// A push touching the module every stack calls.
    FullPush,
}

/// The wide pull request's steps.
pub struct WideResult {
    /// Its number.
    pub number: u64,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One pull request whose head changes the module every stack calls (all stacks affected);
/// then rounds of: a push touching one stack, `plinth plan`, a push touching the module.
pub async fn smart_against_full(b: &Bench) -> WideResult {
    let stacks = crate::STACKS;
    let number = b.o.prs as u64 + 1;
    let url = b.repo.dir.display().to_string();
    b.repo.git(&["checkout", "-q", "-B", "wide", &b.base]);
    b.repo.set_module(2);
    let head = b.repo.commit("the shared module, v2");
    b.repo.push_head(number, &head);
    b.forge.set_pull(
        REPO,
        number,
        FakePull {
            base_sha: b.base.clone(),
            head_ref: "wide".into(),
            ..FakePull::open(&head)
        },
    );
    let mut steps = Vec::new();
    let opened = burst::pull_event(&url, "opened", number, &head, &b.base);
    steps.push(
        step(
            b,
            number,
            "opened: module v2".into(),
            StepKind::First,
            &opened,
            &head,
            (stacks, 0),
        )
        .await,
    );
    for r in 0..b.o.rounds {
        let k = (r * 13 + 3) % stacks + 1;
        b.repo.set_rev(k, &format!("wide-r{r}"));
        let head = push(b, number, &format!("stack s{k:02} again"));
        let d = burst::pull_event(&url, "synchronize", number, &head, &b.base);
        steps.push(
            step(
                b,
                number,
                format!("push touching {} only", stack_id(k)),
                StepKind::Smart,
                &d,
                &head,
                (1, stacks - 1),
            )
            .await,
        );
        let d = burst::comment(number, 9000 + r as u64, "plinth plan", PLANNER);
        steps.push(
            step(
                b,
                number,
                "comment `plinth plan`".into(),
                StepKind::FullComment,
                &d,
                &head,
                (stacks, 0),
            )
            .await,
        );
        b.repo.set_module(3 + r as u32);
        let head = push(b, number, "the shared module again");
        let d = burst::pull_event(&url, "synchronize", number, &head, &b.base);
        steps.push(
            step(
                b,
                number,
                format!("push touching the module (v{})", 3 + r),
                StepKind::FullPush,
                &d,
                &head,
                (stacks, 0),
            )
            .await,
        );
    }
    b.repo.git(&["checkout", "-q", "main"]);
    WideResult { number, steps }
}

fn push(b: &Bench, number: u64, message: &str) -> String {
    let head = b.repo.commit(message);
    b.repo.push_head(number, &head);
    let h = head.clone();
    b.forge.update_pull(REPO, number, move |p| p.head_sha = h);
    head
}

async fn step(
    b: &Bench,
    number: u64,
    label: String,
    kind: StepKind,
    delivery: &Delivery,
    head: &str,
    expected: (usize, usize),
) -> Step {
    let stacks = crate::STACKS;
    let runs_before: BTreeSet<String> = b
        .api
        .runs(PROJECT)
        .await
        .expect("the run history")
        .iter()
        .filter_map(|r| r["run_id"].as_str().map(str::to_string))
        .collect();
    let client = crate::server::http_client();
    let from = epoch();
    let t = Instant::now();
    let (status, body, _) = burst::post(&client, &b.webhook_url, delivery).await;
    assert_eq!(status, 202, "{label}: {body}");
    loop {
        assert!(t.elapsed() < DEADLINE, "{label}: not planned");
        if let Ok(view) = b.api.pull(REPO, number).await
            && planned_at(&view, head, stacks)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = t.elapsed();
    let to = epoch();
    let job = match body["job"].as_i64() {
        Some(id) => b.api.job(id).await.ok().and_then(|j| {
            let started = rfc3339(&j["started_at"])?;
            let finished = rfc3339(&j["finished_at"])?;
            (finished - started).try_into().ok()
        }),
        None => None,
    };
    let records: Vec<_> = accounting::plan_records(&b.api, PROJECT, &b.data_dir)
        .await
        .expect("the run history")
        .into_iter()
        .filter(|r| !runs_before.contains(&r.run_id) && r.commit == head)
        .collect();
    let calls: Vec<EngineCall> =
        accounting::within(&accounting::engine_calls(&b.engine_log), from, to);
    eprintln!("  {label}: {:.2} s", wall.as_secs_f64());
    Step {
        label,
        kind,
        wall,
        job,
        engine_planned: records.iter().filter(|r| r.kept == Some(false)).count(),
        kept: records.iter().filter(|r| r.kept == Some(true)).count(),
        expected,
        engine_busy: accounting::busy(&calls),
        engine: accounting::by_subcommand(&calls),
    }
}

fn rfc3339(v: &Value) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(v.as_str()?, &time::format_description::well_known::Rfc3339).ok()
}
