//! State server benchmark: N concurrent clients each doing LOCK → GET → POST → UNLOCK cycles
//! with ~200 KB states, against `plinth serve` on SQLite and on PostgreSQL, and against the
//! SQL that Terraform's own `pg` backend issues per cycle on the same PostgreSQL.
//!
//! Usage: state_bench --plinth PATH [--clients 16] [--cycles 100] [--state-kb 200]
//!        [--targets sqlite,postgres,tf-pg]
//! See bench/state-server/README.md.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use plinth_state::test_support::TempPostgres;
use sqlx::Connection;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct Options {
    plinth: PathBuf,
    clients: usize,
    cycles: usize,
    state_kb: usize,
    targets: Vec<String>,
}

fn options() -> Options {
    let mut o = Options {
        plinth: PathBuf::new(),
        clients: 16,
        cycles: 100,
        state_kb: 200,
        targets: vec!["sqlite".into(), "postgres".into(), "tf-pg".into()],
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--plinth" => o.plinth = value.into(),
            "--clients" => o.clients = value.parse().expect("--clients N"),
            "--cycles" => o.cycles = value.parse().expect("--cycles N"),
            "--state-kb" => o.state_kb = value.parse().expect("--state-kb N"),
            "--targets" => o.targets = value.split(',').map(str::to_owned).collect(),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!(o.plinth.is_file(), "--plinth PATH: the plinth binary");
    o
}

/// A state body for one client with the serial spliced in, so building a body per cycle costs
/// a copy, not a JSON encoding.
struct StateTemplate {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl StateTemplate {
    fn new(kb: usize, lineage: &str, salt: u64) -> Self {
        const MARK: u64 = 987_654_321_987_654_321;
        let full = make_state(kb, lineage, MARK, salt);
        let mark = MARK.to_string().into_bytes();
        let at = full
            .windows(mark.len())
            .position(|w| w == mark.as_slice())
            .unwrap();
        StateTemplate {
            head: full[..at].to_vec(),
            tail: full[at + mark.len()..].to_vec(),
        }
    }

    fn body(&self, serial: u64) -> Vec<u8> {
        [
            self.head.as_slice(),
            serial.to_string().as_bytes(),
            self.tail.as_slice(),
        ]
        .concat()
    }
}

/// A Terraform-shaped state of about `kb` KB: many resources with varied attribute values
/// (so compression sees realistic JSON, not one repeated string).
fn make_state(kb: usize, lineage: &str, serial: u64, salt: u64) -> Vec<u8> {
    let mut resources = Vec::new();
    let mut x = 0x2545_F491_4F6C_DD1D_u64 ^ salt;
    let mut size = 0;
    let mut n = 0;
    while size < kb * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = serde_json::json!({
            "mode": "managed", "type": "terraform_data", "name": format!("r{n}"),
            "provider": "provider[\"terraform.io/builtin/terraform\"]",
            "instances": [{ "schema_version": 0, "attributes": {
                "id": format!("{x:016x}-{n}"), "input": { "value": format!("value-{}", x % 100_000), "type": "string" },
                "output": { "value": format!("arn:aws:iam::{}:role/app-{n}", x % 1_000_000_000_000), "type": "string" },
                "triggers_replace": null },
                "sensitive_attributes": [], "dependencies": [] }]
        });
        size += serde_json::to_vec_pretty(&r).map(|v| v.len()).unwrap_or(0) + 8 * 6;
        resources.push(r);
        n += 1;
    }
    serde_json::to_vec_pretty(&serde_json::json!({
        "version": 4, "terraform_version": "1.11.4", "serial": serial, "lineage": lineage,
        "outputs": {}, "resources": resources, "check_results": null
    }))
    .unwrap()
}

struct Spawned {
    child: Child,
    url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(plinth: &PathBuf, db: &str) -> (Spawned, String) {
    let token = Command::new(plinth)
        .args(["token", "create", "bench", "--scope", "write", "--db", db])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let mut child = Command::new(plinth)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .env("PLINTH_STATE_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("plinth serve exited").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Spawned { child, url }, token)
}

struct Stats {
    cycles: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn report(&mut self, name: &str) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "| {name:<26} | {:>8.1} | {:>8.2} | {:>8.2} | {:>8.2} | {:>6} |",
            self.cycles as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0),
            self.cycles
        );
    }
}

async fn bench_http(url: &str, token: &str, o: &Options, name: &str) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..o.clients {
        let client = client.clone();
        let token = token.to_owned();
        let base = format!("{url}/v1/state/bench/{name}/stack-{c}");
        let (cycles, kb) = (o.cycles, o.state_kb);
        tasks.push(tokio::spawn(async move {
            let template = StateTemplate::new(kb, &format!("lineage-{c}"), c as u64);
            let mut latencies = Vec::with_capacity(cycles);
            for serial in 1..=cycles as u64 {
                let body = template.body(serial);
                let lock_id = format!("lock-{c}-{serial}");
                let info = serde_json::json!({"ID": lock_id, "Operation": "OperationTypeApply",
                    "Info": "", "Who": "bench", "Version": "1.11.4",
                    "Created": "2026-11-22T00:00:00Z", "Path": ""})
                .to_string();
                let t = Instant::now();
                let send = |method: &str, u: String, b: Vec<u8>| {
                    client
                        .request(method.parse().unwrap(), u)
                        .basic_auth("plinth", Some(&token))
                        .body(b)
                        .send()
                };
                let r = send("LOCK", base.clone(), info.clone().into_bytes())
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "LOCK");
                let r = send("GET", base.clone(), vec![]).await.unwrap();
                assert!(r.status().is_success(), "GET");
                r.bytes().await.unwrap();
                let r = send("POST", format!("{base}?ID={lock_id}"), body)
                    .await
                    .unwrap();
                assert_eq!(
                    r.status(),
                    200,
                    "POST: {}",
                    r.text().await.unwrap_or_default()
                );
                let r = send("UNLOCK", base.clone(), info.into_bytes())
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "UNLOCK");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Stats {
        cycles: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

/// The statements Terraform's `pg` backend runs for one lock/get/put/unlock cycle
/// (internal/backend/remote-state/pg/client.go): a session advisory lock on the row id,
/// SELECT data, INSERT … ON CONFLICT DO UPDATE, advisory unlock. One connection per client,
/// as each Terraform process has its own.
async fn bench_tf_pg(url: &str, o: &Options) -> Stats {
    let mut setup = sqlx::PgConnection::connect(url).await.unwrap();
    for stmt in [
        "CREATE SCHEMA IF NOT EXISTS terraform_remote_state",
        "CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint",
        "CREATE TABLE IF NOT EXISTS terraform_remote_state.states (id bigint NOT NULL DEFAULT nextval('public.global_states_id_seq') PRIMARY KEY, name text, data text)",
        "CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON terraform_remote_state.states (name)",
    ] {
        sqlx::query(stmt).execute(&mut setup).await.unwrap();
    }
    for c in 0..o.clients {
        sqlx::query("INSERT INTO terraform_remote_state.states (name, data) VALUES ($1, '') ON CONFLICT DO NOTHING")
            .bind(format!("stack-{c}"))
            .execute(&mut setup)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..o.clients {
        let url = url.to_owned();
        let (cycles, kb) = (o.cycles, o.state_kb);
        tasks.push(tokio::spawn(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let name = format!("stack-{c}");
            let template = StateTemplate::new(kb, &format!("lineage-{c}"), c as u64);
            let mut latencies = Vec::with_capacity(cycles);
            for serial in 1..=cycles as u64 {
                let body = String::from_utf8(template.body(serial)).unwrap();
                let t = Instant::now();
                let (_id, locked): (i64, bool) = sqlx::query_as(
                    "SELECT states.id, pg_try_advisory_lock(states.id) FROM terraform_remote_state.states WHERE states.name = $1",
                )
                .bind(&name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
                assert!(locked);
                let _: (String,) = sqlx::query_as("SELECT data FROM terraform_remote_state.states WHERE name = $1")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                sqlx::query(
                    "INSERT INTO terraform_remote_state.states (name, data) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET data = $2 WHERE states.name = $1",
                )
                .bind(&name)
                .bind(&body)
                .execute(&mut conn)
                .await
                .unwrap();
                let _: (bool,) = sqlx::query_as(
                    "SELECT pg_advisory_unlock(states.id) FROM terraform_remote_state.states WHERE states.name = $1",
                )
                .bind(&name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Stats {
        cycles: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let sample = make_state(o.state_kb, "l", 1, 1);
    println!(
        "{} clients x {} cycles (LOCK, GET, POST, UNLOCK), state {} KB, {} cores",
        o.clients,
        o.cycles,
        sample.len() / 1024,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("| target                     | cycles/s | p50 ms   | p99 ms   | max ms   | cycles |");
    println!("|----------------------------|----------|----------|----------|----------|--------|");
    let needs_pg = o.targets.iter().any(|t| t != "sqlite");
    let pg = needs_pg.then(TempPostgres::start_durable);
    for target in &o.targets {
        match target.as_str() {
            "sqlite" => {
                let dir = tempfile::tempdir().unwrap();
                let db = format!("sqlite:{}", dir.path().join("state.db").display());
                let (server, token) = start_server(&o.plinth, &db);
                bench_http(&server.url, &token, &o, "sqlite")
                    .await
                    .report("plinth serve (SQLite)");
            }
            "postgres" => {
                let db = pg.as_ref().unwrap().create_database("plinth_bench");
                let (server, token) = start_server(&o.plinth, &db);
                bench_http(&server.url, &token, &o, "postgres")
                    .await
                    .report("plinth serve (PostgreSQL)");
            }
            "tf-pg" => {
                let db = pg.as_ref().unwrap().create_database("tf_pg_bench");
                bench_tf_pg(&db, &o)
                    .await
                    .report("terraform pg backend SQL");
            }
            other => panic!("unknown target {other}: use sqlite, postgres, tf-pg"),
        }
    }
}
