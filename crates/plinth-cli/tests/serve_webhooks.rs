//! `plinth serve --config plinth-server.hcl`: the real binary taking webhooks from GitHub
//! (its real payloads, `@octokit/webhooks-examples`), GitLab and Gitea. Refusals store
//! nothing; accepted deliveries are stored with one job each, once; configuration errors
//! stop the server at file:line:col with exit 64.

mod serve_support;

use std::path::Path;
use std::process::Command;

use plinth_forge::ForgeKind;
use plinth_forge::fake::payloads::github::OctokitExamples;
use plinth_forge::fake::payloads::{gitea, gitlab};
use plinth_forge::fake::webhooks::{Delivery, delivery};
use serve_support::*;

const GH_SECRET: &str = "gh-hook-secret-3f9a";
const LAB_SECRET: &str = "lab-hook-token-77c1";
const TEA_SECRET: &str = "tea-hook-secret-0d2e";
const TOKEN: &str = "forge-api-token-5b8e";
const HEAD: &str = "1111111111111111111111111111111111111111";

/// Forge APIs on a closed port: this file tests intake, and nothing may reach the internet.
const CONFIG: &str = r#"server {
  workers = 1
}

forge "gh" {
  type               = "github"
  api_url            = "http://127.0.0.1:9"
  token_env          = "TEST_GH_TOKEN"
  webhook_secret_env = "TEST_GH_SECRET"
}

forge "lab" {
  type               = "gitlab"
  api_url            = "http://127.0.0.1:9/api/v4"
  token_env          = "TEST_GH_TOKEN"
  webhook_secret_env = "TEST_LAB_SECRET"
}

forge "tea" {
  type               = "gitea"
  api_url            = "http://127.0.0.1:9/api/v1"
  token_env          = "TEST_GH_TOKEN"
  webhook_secret_env = "TEST_TEA_SECRET"
}

repo "acme/infra" {
  forge = "gh"
}

repo "group/sub/infra" {
  forge = "lab"
}

repo "acme/gitea-infra" {
  forge = "tea"
}
"#;

const ENV: [(&str, &str); 4] = [
    ("TEST_GH_TOKEN", TOKEN),
    ("TEST_GH_SECRET", GH_SECRET),
    ("TEST_LAB_SECRET", LAB_SECRET),
    ("TEST_TEA_SECRET", TEA_SECRET),
];

fn write_config(db: &Db, text: &str) -> String {
    let path = db.dir.path().join("plinth-server.hcl");
    std::fs::write(&path, text).unwrap();
    let data = db.dir.path().join("data");
    assert!(!data.exists());
    path.display().to_string()
}

fn start(db: &Db) -> Server {
    let config = write_config(db, CONFIG);
    let server = Server::start_with_env(db, &["--config", &config], &ENV);
    // The data directory defaults to `server/` beside the SQLite file.
    assert!(db.dir.path().join("server").is_dir(), "{}", server.log());
    server
}

fn post(server: &Server, kind: ForgeKind, d: &Delivery) -> (u16, serde_json::Value) {
    let headers: Vec<(String, String)> = d
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let url = format!("{}/webhooks/{}", server.url, kind.as_str());
    let (status, body) = server.http(None, "POST", &url, d.body.clone(), &pairs);
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// Sends only the headers of a delivery declaring `length` bytes, and reads the answer.
fn declared_only(server: &Server, length: usize) -> String {
    use std::io::{Read, Write};
    let addr = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: pull_request\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Rows of the server's database, read beside it (whatever job workers do with them).
fn count(db: &Db, sql: &'static str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    })
}

fn opened(repo: &str, number: u64) -> Delivery {
    OctokitExamples::get()
        .example("pull_request", Some("opened"))
        .repo(repo)
        .number(number)
        .head(HEAD)
        .delivery(GH_SECRET)
}

#[test]
fn refused_deliveries_store_nothing() {
    let db = Db::sqlite();
    let server = start(&db);
    let wrong = OctokitExamples::get()
        .example("pull_request", Some("opened"))
        .repo("acme/infra")
        .delivery("not-the-secret");
    let (status, body) = post(&server, ForgeKind::GitHub, &wrong);
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("does not match"),
        "{body}"
    );
    let missing = opened("acme/infra", 7).with_header("x-hub-signature-256", None);
    assert_eq!(post(&server, ForgeKind::GitHub, &missing).0, 401);
    let lab = gitlab::GitLabMergeRequest::new("group/sub/infra", 3, HEAD)
        .event("open")
        .delivery("wrong-token");
    assert_eq!(post(&server, ForgeKind::GitLab, &lab).0, 401);

    let (status, body) = post(&server, ForgeKind::GitHub, &opened("acme/other", 1));
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("acme/other"),
        "{body}"
    );

    let broken = delivery(
        ForgeKind::GitHub,
        "pull_request",
        b"{\"action\": ".to_vec(),
        GH_SECRET,
    );
    let (status, body) = post(&server, ForgeKind::GitHub, &broken);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not JSON"),
        "{body}"
    );
    let no_id = opened("acme/infra", 7).with_header("x-github-delivery", None);
    assert_eq!(post(&server, ForgeKind::GitHub, &no_id).0, 400);

    // 26 MiB declared: over GitHub's own 25 MB cap, refused before a byte of it is read
    // (sent by hand: a client still writing the body would see the connection close).
    let answer = declared_only(&server, 26 * 1024 * 1024);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("limit of 26214400 bytes"), "{answer}");

    let read = db.token("reader", "read");
    assert_eq!(server.api(&read, "GET", "/v1/jobs/1").0, 404);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM deliveries"), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM jobs"), 0);
    for secret in [GH_SECRET, LAB_SECRET, TEA_SECRET, TOKEN] {
        assert!(!server.log().contains(secret), "{}", server.log());
    }
}

#[test]
fn each_forge_delivery_gets_one_job_and_redeliveries_none() {
    let db = Db::sqlite();
    let server = start(&db);
    let read = db.token("reader", "read");
    let github = opened("acme/infra", 7);
    let mr = gitlab::GitLabMergeRequest::new("group/sub/infra", 3, HEAD);
    let pr = gitea::GiteaPull::new("acme/gitea-infra", 5, HEAD);
    let deliveries = [
        (ForgeKind::GitHub, github.clone(), "pull:acme/infra#7"),
        (
            ForgeKind::GitLab,
            mr.event("open").delivery(LAB_SECRET),
            "pull:group/sub/infra#3",
        ),
        (
            ForgeKind::GitLab,
            mr.note(1244, "plinth plan", ("sre", 77))
                .delivery(LAB_SECRET),
            "pull:group/sub/infra#3",
        ),
        (
            ForgeKind::Gitea,
            pr.event("opened").delivery(TEA_SECRET),
            "pull:acme/gitea-infra#5",
        ),
    ];
    let mut jobs = Vec::new();
    for (kind, d, key) in &deliveries {
        let (status, body) = post(&server, *kind, d);
        assert_eq!(status, 202, "{kind:?}: {body}");
        let job = body["job"].as_i64().expect("a job id");
        let (status, details) = server.api(&read, "GET", &format!("/v1/jobs/{job}"));
        assert_eq!(status, 200, "{details}");
        assert_eq!(details["kind"], "webhook", "{details}");
        assert_eq!(details["serial_key"], *key, "{details}");
        assert_eq!(
            details["payload"]["delivery_id"],
            d.id.as_str(),
            "{details}"
        );
        jobs.push(job);
    }
    jobs.dedup();
    assert_eq!(jobs.len(), 4);
    // The forge redelivers (same id): accepted, nothing new.
    let (status, body) = post(&server, ForgeKind::GitHub, &github.redelivery());
    assert_eq!(
        (status, body),
        (200, serde_json::json!({ "duplicate": true }))
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM deliveries"), 4);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook'"),
        4
    );
    // A push is verified and answered, but there is nothing to do.
    let push = OctokitExamples::get()
        .example("push", None)
        .repo("acme/infra")
        .delivery(GH_SECRET);
    let (status, body) = post(&server, ForgeKind::GitHub, &push);
    assert_eq!(status, 200, "{body}");
    assert!(body["ignored"].is_string(), "{body}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM deliveries"), 4);
}

fn refuse(db: &Db, config: &str, env: &[(&str, &str)]) -> (i32, String) {
    let path = write_config(db, config);
    let out = Command::new(PLINTH)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db.url,
            "--config",
            &path,
        ])
        .env("PLINTH_STATE_KEY", STATE_KEY)
        .env_remove("TEST_GH_TOKEN")
        .env_remove("TEST_GH_SECRET")
        .env_remove("TEST_LAB_SECRET")
        .env_remove("TEST_TEA_SECRET")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("listening on"), "{stderr}");
    assert!(!Path::new(&db.dir.path().join("server")).exists());
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn an_unset_token_variable_refuses_to_start_naming_it() {
    let db = Db::sqlite();
    let env: Vec<(&str, &str)> = ENV
        .iter()
        .copied()
        .filter(|(k, _)| *k != "TEST_GH_TOKEN" && *k != "TEST_TEA_SECRET")
        .collect();
    let (code, stderr) = refuse(&db, CONFIG, &env);
    assert_eq!(code, 64, "{stderr}");
    for at in [
        "plinth-server.hcl:8:24",
        "plinth-server.hcl:15:24",
        "plinth-server.hcl:22:24",
        "plinth-server.hcl:23:24",
    ] {
        assert!(stderr.contains(at), "{at} in {stderr}");
    }
    assert!(
        stderr.contains("forge `gh`: the environment variable TEST_GH_TOKEN is unset or empty"),
        "{stderr}"
    );
    assert!(stderr.contains("TEST_TEA_SECRET"), "{stderr}");
    assert!(stderr.contains("4 configuration errors"), "{stderr}");
    for (_, value) in env {
        assert!(!stderr.contains(value), "{stderr}");
    }
    // Nothing was created: the database is opened only after the configuration holds.
    assert!(!db.dir.path().join("state.db").exists());
}

#[test]
fn a_config_error_is_reported_at_file_line_col() {
    let db = Db::sqlite();
    let text = CONFIG.replace("  workers = 1\n", "  workers = 1\n  wokers = 2\n");
    let (code, stderr) = refuse(&db, &text, &ENV);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("plinth-server.hcl:3:3"), "{stderr}");
    assert!(stderr.contains("wokers"), "{stderr}");
}

#[test]
fn without_config_there_are_no_webhook_routes() {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let (status, _) = post(&server, ForgeKind::GitHub, &opened("acme/infra", 7));
    assert_eq!(status, 404);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM deliveries"), 0);
}
