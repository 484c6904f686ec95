//! Secret resolution at scale against a local OpenBao: INSTANCES instances × 3 secrets each
//! over a set of distinct KV v2 paths, every instance asking at the same moment (the worst
//! case for the runner). Reports requests made per path (from the server's audit log) and
//! the wall time to resolve everything, per run and over RUNS runs (a new resolver each).
//!
//! Usage: secrets_bench [INSTANCES=200] [RUNS=5]; `bench/secrets/run.sh` builds and runs it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use plinth_config::SecretSource;
use plinth_secrets::testing::OpenBao;
use plinth_secrets::{Resolver, Stores, VaultClient};
use serde_json::json;

/// The three secrets of instance `i`: one shared by all, one per team of 20, one per
/// service of 4 instances.
fn sources(i: usize) -> [SecretSource; 3] {
    [
        "vault:secret/bench/prod/shared#db_password".to_string(),
        format!("vault:secret/bench/prod/team-{}#api_key", i % 10),
        format!("vault:secret/bench/prod/svc-{}#token", i % 50),
    ]
    .map(|s| SecretSource::parse(&s).expect("source"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let instances: usize = args.next().map_or(200, |a| a.parse().expect("INSTANCES"));
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("RUNS"));

    let started = Instant::now();
    let bao = OpenBao::start().await;
    let startup = started.elapsed();
    let mut paths = std::collections::BTreeSet::new();
    for i in 0..instances {
        for s in sources(i) {
            if let SecretSource::Vault { path, .. } = s {
                paths.insert(path);
            }
        }
    }
    for path in &paths {
        let rest = path.strip_prefix("secret/").expect("mount secret");
        bao.api(
            "POST",
            &format!("secret/data/{rest}"),
            Some(json!({ "data": { "db_password": format!("pw-{rest}"), "api_key": format!("ak-{rest}"), "token": format!("tk-{rest}") } })),
        )
        .await;
    }
    bao.put_policy(
        "bench",
        r#"path "secret/data/bench/*" { capabilities = ["read"] }"#,
    )
    .await;
    let token = bao.create_token(&["bench"]).await;
    // One client per process, as the CLI and the server hold it; one resolver per run.
    let stores = Arc::new(Stores::new().with_versioned(Arc::new(
        VaultClient::new(bao.settings_with_token(&token)).expect("client"),
    )));

    let mut times = Vec::new();
    for run in 0..runs {
        let before: usize = paths.iter().map(|p| bao.reads_of(&data_path(p))).sum();
        let resolver = Resolver::new(stores.clone());
        let t0 = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..instances {
            let resolver = resolver.clone();
            tasks.spawn(async move {
                let mut n = 0;
                for s in sources(i) {
                    let v = resolver.get(&s).await.expect("secret");
                    n += v.expose().len();
                }
                n
            });
        }
        let mut resolved = 0;
        while let Some(t) = tasks.join_next().await {
            t.expect("task");
            resolved += 3;
        }
        let elapsed = t0.elapsed();
        let per_path: Vec<usize> = paths.iter().map(|p| bao.reads_of(&data_path(p))).collect();
        let made = per_path.iter().sum::<usize>() - before;
        let max_per_path = paths
            .iter()
            .zip(&per_path)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0);
        println!(
            "run {}: {resolved} secrets for {instances} instances, {} distinct paths, {made} requests, {:.1} ms",
            run + 1,
            paths.len(),
            ms(elapsed)
        );
        assert_eq!(made, paths.len(), "one request per distinct path");
        assert_eq!(max_per_path, run + 1, "each path read once per run");
        times.push(elapsed);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{}",
        json!({
            "instances": instances,
            "secrets": instances * 3,
            "distinct_paths": paths.len(),
            "requests_per_run": paths.len(),
            "runs": runs,
            "resolve_ms_min": round(ms(times[0])),
            "resolve_ms_median": round(ms(median)),
            "resolve_ms_max": round(ms(times[times.len() - 1])),
            "openbao_startup_ms": round(ms(startup)),
        })
    );
    if median > TARGET {
        eprintln!(
            "target missed: median resolution {:.1} ms > {} ms",
            ms(median),
            TARGET.as_millis()
        );
        std::process::exit(1);
    }
}

const TARGET: Duration = Duration::from_millis(100);

fn data_path(path: &str) -> String {
    let (mount, rest) = path.split_once('/').expect("MOUNT/PATH");
    format!("{mount}/data/{rest}")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
