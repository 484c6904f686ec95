//! The system under test: the real `plinth serve --config` on SQLite, its tokens, and the
//! read API the harness polls.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A fixed state key (base64 of 32 bytes): the benchmark's database is thrown away.
const STATE_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A loopback address nobody listens on now (the project's `state` URL needs it before the
/// server starts).
pub fn free_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("an address").to_string()
}

/// A token made directly on the database with `plinth token create`.
pub fn token(plinth: &Path, db: &str, name: &str, scope: &str) -> String {
    let out = Command::new(plinth)
        .args(["token", "create", name, "--scope", scope, "--db", db])
        .output()
        .expect("plinth runs");
    assert!(
        out.status.success(),
        "plinth token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("a UTF-8 token")
        .trim()
        .to_string()
}

/// A running `plinth serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where its stderr goes.
    pub log: PathBuf,
}

impl Server {
    /// Starts `plinth serve --listen LISTEN --db DB --config FILE` with `env` and waits for
    /// its "listening on" line; its stderr is copied to `log`.
    pub fn start(
        plinth: &Path,
        listen: &str,
        db: &str,
        config: &Path,
        env: &[(String, String)],
        log: &Path,
    ) -> Server {
        let mut child = Command::new(plinth)
            .args(["serve", "--listen", listen, "--db", db, "--config"])
            .arg(config)
            .env("PLINTH_STATE_KEY", STATE_KEY)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("plinth serve starts");
        let stderr = child.stderr.take().expect("a stderr pipe");
        let mut file = std::fs::File::create(log).expect("the server log");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
                let _ = writeln!(file, "{line}");
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "plinth serve did not start; its log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            url,
            log: log.to_path_buf(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client like plinth's own (rustls on ring).
pub fn http_client() -> reqwest::Client {
    plinth_http::client(&plinth_http::ClientOptions {
        timeout: Duration::from_secs(60),
        ..plinth_http::ClientOptions::default()
    })
    .expect("an HTTP client")
}

/// The server's read API, with a read token.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// A client of the server at `base` reading with `token`.
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            http: http_client(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    /// `GET path`: the JSON answer, or why not.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {e}"))
    }

    /// `GET /v1/pulls/REPO/N`.
    pub async fn pull(&self, repo: &str, number: u64) -> Result<Value, String> {
        self.get(&format!("/v1/pulls/{repo}/{number}")).await
    }

    /// `GET /v1/jobs/ID`.
    pub async fn job(&self, id: i64) -> Result<Value, String> {
        self.get(&format!("/v1/jobs/{id}")).await
    }

    /// Every plan and apply run of `project` the server recorded, newest first.
    pub async fn runs(&self, project: &str) -> Result<Vec<Value>, String> {
        let all = self
            .get(&format!("/v1/runs?project={project}&limit=1000"))
            .await?;
        Ok(all["runs"].as_array().cloned().unwrap_or_default())
    }
}
