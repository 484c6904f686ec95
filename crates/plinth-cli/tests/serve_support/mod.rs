//! Helpers for the `plinth serve` integration tests: a database (SQLite file or a private
//! PostgreSQL), the real `plinth serve` process, tokens, and stack directories driven by the
//! real `terraform` binary through the http backend.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plinth_state::test_support::TempPostgres;

pub const PLINTH: &str = env!("CARGO_BIN_EXE_plinth");
/// A fixed test key (base64 of 32 bytes).
pub const STATE_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
pub const PROJECT: &str = "atropos";

/// Where the server keeps its data.
pub struct Db {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub pg: Option<TempPostgres>,
}

impl Db {
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            url: format!("sqlite:{}", dir.path().join("state.db").display()),
            dir,
            pg: None,
        }
    }

    pub fn postgres() -> Db {
        let pg = TempPostgres::start();
        let url = pg.create_database("plinth");
        Db {
            url,
            dir: tempfile::tempdir().unwrap(),
            pg: Some(pg),
        }
    }

    /// Every byte the database holds at rest: the SQLite files, or a PostgreSQL dump.
    pub fn raw_bytes(&self) -> Vec<u8> {
        match &self.pg {
            Some(pg) => pg.dump("plinth"),
            None => {
                let mut all = Vec::new();
                for entry in std::fs::read_dir(self.dir.path()).unwrap() {
                    all.extend(std::fs::read(entry.unwrap().path()).unwrap());
                }
                all
            }
        }
    }

    /// Creates a token directly on the database with `plinth token create`.
    pub fn token(&self, name: &str, scope: &str) -> String {
        let out = Command::new(PLINTH)
            .args(["token", "create", name, "--scope", scope, "--db", &self.url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "token create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

/// A running `plinth serve`.
pub struct Server {
    child: Child,
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(db: &Db) -> Server {
        Self::start_with(db, &[])
    }

    /// Starts a server without encryption at rest (`--insecure-no-encryption`, no key).
    pub fn start_plaintext(db: &Db) -> Server {
        Self::spawn(db, &["--insecure-no-encryption"], None)
    }

    /// Starts the real binary on a free port and waits for its "listening on" line.
    pub fn start_with(db: &Db, extra: &[&str]) -> Server {
        Self::spawn(db, extra, Some(STATE_KEY))
    }

    /// Like [`Server::start_with`], with extra environment variables (webhook secrets, tokens).
    pub fn start_with_env(db: &Db, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_env(db, extra, Some(STATE_KEY), env)
    }

    fn spawn(db: &Db, extra: &[&str], key: Option<&str>) -> Server {
        Self::spawn_env(db, extra, key, &[])
    }

    fn spawn_env(db: &Db, extra: &[&str], key: Option<&str>, env: &[(&str, &str)]) -> Server {
        Self::spawn_at(db, "127.0.0.1:0", extra, key, env)
    }

    /// [`Server::start_with_env`] on a given address (a server restarted on its port).
    pub fn start_at(db: &Db, listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_at(db, listen, extra, Some(STATE_KEY), env)
    }

    fn spawn_at(
        db: &Db,
        listen: &str,
        extra: &[&str],
        key: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        let mut cmd = Command::new(PLINTH);
        cmd.env_remove("PLINTH_STATE_KEY");
        cmd.envs(env.iter().copied());
        if let Some(key) = key {
            cmd.env("PLINTH_STATE_KEY", key);
        }
        let mut child = cmd
            .args(["serve", "--listen", listen, "--db", &db.url])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log_writer = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(url);
                }
                let mut log = log_writer.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("plinth serve did not start:\n{}", log.lock().unwrap());
            }
        };
        Server { child, url, log }
    }

    /// SIGKILL: no chance to clean up anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn state_url(&self, env: &str, stack: &str) -> String {
        format!("{}/v1/state/{PROJECT}/{env}/{stack}", self.url)
    }

    /// A blocking JSON API call with a Bearer token.
    pub fn api(&self, token: &str, method: &str, path: &str) -> (u16, serde_json::Value) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let response = http_client()
                .request(method.parse().unwrap(), format!("{}{path}", self.url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            (
                status,
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            )
        })
    }

    /// Raw HTTP, for protocol-level checks.
    pub fn http(
        &self,
        token: Option<&str>,
        method: &str,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<u8>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut request = http_client()
                .request(method.parse().unwrap(), url)
                .body(body);
            if let Some(token) = token {
                request = request.basic_auth("plinth", Some(token));
            }
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap().to_vec())
        })
    }

    /// The value of one `/metrics` counter series (0 when absent).
    pub fn counter(&self, method: &str, status: u16) -> u64 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let text = rt.block_on(async {
            http_client()
                .get(format!("{}/metrics", self.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let needle = format!(
            "plinth_http_requests_total{{method=\"{method}\",route=\"/v1/state/{{project}}/{{env}}/{{*stack}}\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&needle))
            .map(|n| n.trim().parse().unwrap())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Terraform root module using the http backend against a plinth server.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

/// Two `terraform_data` resources and an optional blocker whose provisioner waits for a file
/// the test creates: a way to be in the middle of an apply without sleeping.
pub const MAIN_TF: &str = r#"
terraform {
  backend "http" {}
}

variable "value" {
  type    = string
  default = "one"
}

variable "slow" {
  type    = bool
  default = false
}

resource "terraform_data" "a" {
  input = var.value
}

resource "terraform_data" "b" {
  input = "${var.value}-b"
}

resource "terraform_data" "slow" {
  count = var.slow ? 1 : 0
  input = var.value
  provisioner "local-exec" {
    command = "touch \"$PLINTH_TEST_STARTED\"; while [ ! -f \"$PLINTH_TEST_RELEASE\" ]; do sleep 0.05; done"
  }
}

output "value" {
  value = terraform_data.a.output
}
"#;

impl Stack {
    /// Writes the module and runs `terraform init` against `server` for `env/stack`.
    pub fn init(server: &Server, env: &str, stack: &str, token: &str) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), MAIN_TF).unwrap();
        let s = Stack {
            dir,
            env: Vec::new(),
        };
        s.reinit(server, env, stack, token);
        s
    }

    /// (Re)points the backend at `server` (used after a restart on another port).
    pub fn reinit(&self, server: &Server, env: &str, stack: &str, token: &str) {
        let url = server.state_url(env, stack);
        let out = self.terraform(&[
            "init",
            "-reconfigure",
            &format!("-backend-config=address={url}"),
            &format!("-backend-config=lock_address={url}"),
            &format!("-backend-config=unlock_address={url}"),
            "-backend-config=lock_method=LOCK",
            "-backend-config=unlock_method=UNLOCK",
            "-backend-config=username=plinth",
            &format!("-backend-config=password={token}"),
        ]);
        assert_ok(&out, "terraform init");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("terraform");
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1")
            .env_remove("TF_HTTP_PASSWORD")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    pub fn terraform(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        if args.first().is_some_and(|a| {
            *a != "init" && *a != "output" && *a != "state" && *a != "force-unlock"
        }) {
            cmd.arg("-no-color");
        }
        cmd.output().unwrap()
    }

    pub fn apply(&self, value: &str) -> Output {
        self.terraform(&["apply", "-auto-approve", &format!("-var=value={value}")])
    }

    pub fn output_value(&self) -> String {
        let out = self.terraform(&["output", "-raw", "value"]);
        assert_ok(&out, "terraform output");
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Marker files for the blocking provisioner.
pub struct Blocker {
    pub started: PathBuf,
    pub release: PathBuf,
    _dir: tempfile::TempDir,
}

impl Blocker {
    pub fn new() -> Blocker {
        let dir = tempfile::tempdir().unwrap();
        Blocker {
            started: dir.path().join("started"),
            release: dir.path().join("release"),
            _dir: dir,
        }
    }

    pub fn env(&self) -> [(String, String); 2] {
        [
            (
                "PLINTH_TEST_STARTED".into(),
                self.started.display().to_string(),
            ),
            (
                "PLINTH_TEST_RELEASE".into(),
                self.release.display().to_string(),
            ),
        ]
    }

    /// Waits (bounded) until the provisioner signalled it is running.
    pub fn wait_started(&self, child: &mut Child) {
        wait_until("the blocking provisioner to start", || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("terraform exited early with {status}");
            }
            self.started.exists()
        });
    }

    pub fn release(&self) {
        std::fs::write(&self.release, b"go").unwrap();
    }
}

/// Polls `condition` every 50 ms for up to 120 s: waiting for an observable event, never for a
/// guessed duration.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the same scenario on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_sqlite_and_postgres {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::serve_support::Db::sqlite()) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::serve_support::Db::postgres()) } )*
        }
    };
}

/// A client like plinth's own (rustls on ring), for talking to the test server; 100 MB
/// states take a while on a loaded machine, so its timeout is generous.
pub fn http_client() -> reqwest::Client {
    plinth_http::client(&plinth_http::ClientOptions {
        timeout: std::time::Duration::from_secs(600),
        ..plinth_http::ClientOptions::default()
    })
    .expect("an HTTP client")
}
