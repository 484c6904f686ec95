//! Overview-page benchmark (bench/dashboard/run.sh): a SQLite store holding one state per
//! instance of a generated repository (`plinth ls --json`) and a history of runs recorded
//! through the store API, the dashboard served on loopback, and the overview page fetched
//! with a signed-in session: p50/p99 of the whole request and the page's weight.
//!
//!   dashboard_bench --instances LS_JSON [--runs 20000] [--requests 200] [--db-dir DIR]

use std::time::{Duration, Instant};

use plinth_state::{
    Actor, InstanceId, RunInstanceReport, RunReport, RunSource, Scope, Sealer, Store, StoreOptions,
};

struct Args {
    instances: String,
    runs: usize,
    requests: usize,
    db_dir: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        instances: String::new(),
        runs: 20_000,
        requests: 200,
        db_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--instances" => a.instances = value,
            "--runs" => a.runs = value.parse().expect("--runs N"),
            "--requests" => a.requests = value.parse().expect("--requests N"),
            "--db-dir" => a.db_dir = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!a.instances.is_empty(), "--instances LS_JSON is required");
    a
}

/// A deterministic generator, so two runs measure the same history.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let args = args();
    let listing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&args.instances).expect("read the ls JSON"))
            .expect("ls --json output");
    let project = listing["project"].as_str().unwrap_or("bench").to_owned();
    let instances: Vec<(String, String)> = listing["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| {
            (
                i["env"].as_str().unwrap().to_owned(),
                i["stack"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut envs: Vec<String> = instances.iter().map(|(e, _)| e.clone()).collect();
    envs.sort();
    envs.dedup();

    let dir = match &args.db_dir {
        Some(d) => std::path::PathBuf::from(d),
        None => tempfile::tempdir().unwrap().keep(),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("dashboard.db");
    let fresh = !db.exists();
    let url = format!("sqlite:{}", db.display());
    let store = Store::open(StoreOptions::new(&url, Sealer::insecure_plaintext()))
        .await
        .expect("open the store");
    let writer = Actor {
        name: "bench".into(),
        scope: Scope::Write,
    };

    if fresh {
        let started = Instant::now();
        for (env, stack) in &instances {
            let id = InstanceId::new(&project, env, stack).unwrap();
            let body = format!(
                "{{\"version\":4,\"terraform_version\":\"1.15.0\",\"serial\":1,\"lineage\":\"{}\",\"outputs\":{{}},\"resources\":[]}}",
                id.key().replace('/', "-")
            );
            store
                .write_state(&id, bytes::Bytes::from(body), None, None, &writer)
                .await
                .expect("write a state");
        }
        eprintln!(
            "{} states written in {:.1} s",
            instances.len(),
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let mut rng = Lcg(42);
        let by_env: Vec<Vec<&str>> = envs
            .iter()
            .map(|e| {
                instances
                    .iter()
                    .filter(|(ie, _)| ie == e)
                    .map(|(_, s)| s.as_str())
                    .collect()
            })
            .collect();
        let t0: i64 = 1_780_000_000_000;
        let log = "terraform_data.this: Refreshing state... [id=0000]\n\
                   No changes. Your infrastructure matches the configuration.\n"
            .repeat(3);
        for n in 0..args.runs {
            let e = n % envs.len();
            // The first run of each environment applies it whole; then runs touch 1-10 stacks.
            let whole = n < envs.len();
            let stacks: Vec<&str> = if whole {
                by_env[e].clone()
            } else {
                (0..1 + rng.below(10))
                    .map(|_| by_env[e][rng.below(by_env[e].len())])
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect()
            };
            let action = match (whole, rng.below(20)) {
                (true, _) => "apply",
                (_, 0..10) => "plan",
                (_, 10..17) => "apply",
                _ => "drift",
            };
            let started_ms = t0 + (n as i64) * 60_000;
            let instances: Vec<RunInstanceReport> = stacks
                .iter()
                .map(|s| {
                    let roll = rng.below(100);
                    let status = match action {
                        "drift" if roll < 15 => "drifted",
                        "drift" => "in-sync",
                        _ if roll < 6 => "failed",
                        _ if roll < 8 => "blocked",
                        _ => "succeeded",
                    };
                    RunInstanceReport {
                        stack: (*s).to_owned(),
                        status: status.into(),
                        add: (roll % 3) as i64,
                        change: (roll % 2) as i64,
                        destroy: 0,
                        preview_only: false,
                        reason: (status == "failed").then(|| "Error: boom".into()),
                        duration_ms: 1000 + roll as i64 * 37,
                        log: Some(log.clone()),
                    }
                })
                .collect();
            let report = RunReport {
                run_id: format!("bench-{n:06}"),
                project: project.clone(),
                action: action.into(),
                env: envs[e].clone(),
                status: if instances.iter().any(|i| i.status == "failed") {
                    "failed".into()
                } else {
                    "succeeded".into()
                },
                who: Some(format!("user{}@ci", n % 17)),
                commit: Some(format!("{:040x}", rng.next() as u128 * 7919)),
                source: RunSource::Cli,
                started_at: time(started_ms),
                finished_at: Some(time(started_ms + 45_000)),
                from_plan: None,
                approved_destructive: false,
                skipped_promotion: None,
                instances,
            };
            store
                .record_run(&report, &writer)
                .await
                .expect("record a run");
        }
        eprintln!(
            "{} runs recorded in {:.1} s",
            args.runs,
            started.elapsed().as_secs_f64()
        );
        // A few held state locks, as a busy day has.
        for (env, stack) in instances.iter().step_by(997).take(20) {
            let id = InstanceId::new(&project, env, stack).unwrap();
            let info = format!(
                "{{\"ID\":\"lock-{}\",\"Operation\":\"OperationTypeApply\",\"Who\":\"oncall@laptop\"}}",
                stack.len()
            );
            store
                .lock(&id, info.as_bytes(), &writer)
                .await
                .expect("lock");
        }
    }

    let secret = store
        .create_token(&format!("reader-{}", std::process::id()), Scope::Read)
        .await
        .unwrap();
    let session = store
        .create_web_session(&secret, Duration::from_secs(3600))
        .await
        .unwrap()
        .expect("a session");
    let router = plinth_web::router(store.clone(), plinth_web::WebConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = plinth_http::client(&plinth_http::ClientOptions::default()).unwrap();
    let cookie = format!("plinth_session={}", session.id);

    println!(
        "{} instances over {} environments, {} runs; {} requests per page, sequential",
        instances.len(),
        envs.len(),
        args.runs,
        args.requests
    );
    println!("| page | p50 ms | p99 ms | max ms | db p50 ms | render p50 ms | weight KiB |");
    println!("|---|---|---|---|---|---|---|");
    let mut missed = false;
    for (label, path, requests, target) in [
        ("overview (100 rows)", "/", args.requests, Some(200.0)),
        ("overview, all rows", "/?per=5000", args.requests / 10, None),
        (
            "overview, problems",
            "/?problems=1",
            args.requests / 4,
            None,
        ),
        ("runs", "/runs", args.requests / 4, None),
    ] {
        let mut walls = Vec::new();
        let (mut dbs, mut renders) = (Vec::new(), Vec::new());
        let mut weight = 0;
        for i in 0..requests.max(1) + 3 {
            let started = Instant::now();
            let response = client
                .get(format!("http://{addr}{path}"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let timing = response
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.bytes().await.unwrap();
            let wall = started.elapsed().as_secs_f64() * 1000.0;
            if i < 3 {
                continue; // warm-up
            }
            walls.push(wall);
            weight = body.len();
            if let Some(t) = timing {
                for part in t.split(',') {
                    let (name, dur) = part.trim().split_once(";dur=").unwrap();
                    let dur: f64 = dur.parse().unwrap();
                    if name == "db" {
                        dbs.push(dur)
                    } else {
                        renders.push(dur)
                    }
                }
            }
        }
        walls.sort_by(f64::total_cmp);
        dbs.sort_by(f64::total_cmp);
        renders.sort_by(f64::total_cmp);
        let p99 = percentile(&walls, 0.99);
        let opt = |v: &[f64]| {
            if v.is_empty() {
                "–".to_owned()
            } else {
                format!("{:.1}", percentile(v, 0.5))
            }
        };
        println!(
            "| {label} | {:.1} | {p99:.1} | {:.1} | {} | {} | {:.0} |",
            percentile(&walls, 0.5),
            walls.last().unwrap(),
            opt(&dbs),
            opt(&renders),
            weight as f64 / 1024.0
        );
        if let Some(t) = target
            && p99 >= t
        {
            missed = true;
            eprintln!("target missed: {label} p99 {p99:.1} ms >= {t} ms");
        }
    }
    if missed {
        std::process::exit(1);
    }
}
