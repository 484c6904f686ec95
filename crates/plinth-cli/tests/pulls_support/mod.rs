//! Helpers for the pull-request tests: a stand-in forge (plinth-forge's `FakeForge`, speaking
//! the real REST dialect and recording every call), the repository it hosts (a real git
//! repository on disk, its pull-request heads under `refs/pull/N/head` as on the forges), a
//! real `plinth serve --config` whose state backend is itself, and waiting on the pull
//! request's jobs through `GET /v1/pulls/…`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use plinth_forge::ForgeKind;
use plinth_forge::fake::webhooks::Delivery;
use plinth_forge::fake::{FakeComment, FakeForge};
use serde_json::Value;

use crate::serve_support::{Db, Server};

/// The repository every test serves.
pub const REPO: &str = "acme/infra";
/// A secret the server's environment holds for projects (`from = "env:APP_TOKEN"`).
pub const APP_SECRET: &str = "s3cr3t-app-token-value";
/// The webhook secret of the forge block.
pub const SECRET: &str = "webhook-secret-for-tests-0123456789";

/// A server with a stand-in forge and a hosted repository.
pub struct PullsEnv {
    pub rt: tokio::runtime::Runtime,
    pub forge: FakeForge,
    pub db: Db,
    pub server: Server,
    pub origin: PathBuf,
    pub read: String,
    pub service: String,
    pub data_dir: PathBuf,
    server_file: PathBuf,
    listen: String,
    server_env: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl PullsEnv {
    /// Starts everything; `project(url)` gives `plinth.hcl` for a server at `url`, and
    /// `files` the rest of the first commit on `main`.
    pub fn start(
        kind: ForgeKind,
        project: impl Fn(&str) -> String,
        files: &[(&str, &str)],
    ) -> Self {
        Self::start_on(kind, Db::sqlite(), project, files)
    }

    /// [`PullsEnv::start`] on a given database.
    pub fn start_on(
        kind: ForgeKind,
        db: Db,
        project: impl Fn(&str) -> String,
        files: &[(&str, &str)],
    ) -> Self {
        Self::start_with(kind, db, &[], project, files)
    }

    /// [`PullsEnv::start_on`] with more variables in the server's environment (such as the
    /// scheduler's test tick, `PLINTH_SCHEDULE_TICK_MS`), kept across restarts and replicas.
    pub fn start_with(
        kind: ForgeKind,
        db: Db,
        server_env: &[(&str, &str)],
        project: impl Fn(&str) -> String,
        files: &[(&str, &str)],
    ) -> Self {
        let server_env: Vec<(String, String)> = server_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let forge = rt.block_on(FakeForge::start(kind));
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin");
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "-b", "main"]);
        git(&origin, &["config", "user.email", "dev@example.com"]);
        git(&origin, &["config", "user.name", "Dev"]);
        let data_dir = dir.path().join("data");
        let server_file = dir.path().join("plinth-server.hcl");
        std::fs::write(&server_file, server_hcl(kind, &forge, &origin, &data_dir)).unwrap();
        let read = db.token("reader", "read");
        let service = db.token("plinth-server", "write");
        let listen = free_address();
        let server = start_server(&db, &listen, &server_file, &forge, &service, &server_env);
        let env = PullsEnv {
            rt,
            forge,
            db,
            server,
            origin,
            read,
            service,
            data_dir,
            server_file,
            listen,
            server_env,
            dir,
        };
        env.write("plinth.hcl", &project(&env.server.url));
        for (path, text) in files {
            env.write(path, text);
        }
        env.commit("initial");
        env
    }

    /// Kills the server with SIGKILL and starts it again on the same address, database and
    /// data directory.
    pub fn restart_after_kill(&mut self) {
        self.server.kill();
        self.server = start_server(
            &self.db,
            &self.listen,
            &self.server_file,
            &self.forge,
            &self.service,
            &self.server_env,
        );
    }

    /// A second replica on the same database, with its own data directory and address.
    pub fn second_replica(&self) -> Server {
        let data_dir = self.dir.path().join("data-2");
        let file = self.dir.path().join("plinth-server-2.hcl");
        std::fs::write(
            &file,
            server_hcl(self.forge.kind(), &self.forge, &self.origin, &data_dir),
        )
        .unwrap();
        start_server(
            &self.db,
            &free_address(),
            &file,
            &self.forge,
            &self.service,
            &self.server_env,
        )
    }

    /// Writes a file of the hosted repository's work tree.
    pub fn write(&self, path: &str, text: &str) {
        let p = self.origin.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Commits everything on the current branch; returns the commit.
    pub fn commit(&self, message: &str) -> String {
        git(&self.origin, &["add", "-A"]);
        git(&self.origin, &["commit", "-q", "-m", message]);
        self.sha("HEAD")
    }

    /// The commit `rev` names.
    pub fn sha(&self, rev: &str) -> String {
        git(&self.origin, &["rev-parse", rev]).trim().to_string()
    }

    /// Runs git in the hosted repository.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.origin, args)
    }

    /// Points the forge's head ref of pull request `number` at `sha`, as a push does.
    pub fn push_head(&self, number: u64, sha: &str) {
        let head_ref = plinth_forge::pull_head_ref(self.forge.kind(), number);
        git(&self.origin, &["update-ref", &head_ref, sha]);
    }

    /// POSTs a delivery to the server's webhook route; the status and JSON answer.
    pub fn send(&self, delivery: &Delivery) -> (u16, Value) {
        let headers: Vec<(String, String)> = delivery
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = format!(
            "{}/webhooks/{}",
            self.server.url,
            self.forge.kind().as_str()
        );
        let (status, body) = self
            .server
            .http(None, "POST", &url, delivery.body.clone(), &refs);
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Sends a delivery that must be accepted with a new job.
    pub fn deliver(&self, delivery: &Delivery) {
        let (status, body) = self.send(delivery);
        assert_eq!(
            status,
            202,
            "delivery refused: {body}\n{}",
            self.server.log()
        );
    }

    /// `GET /v1/pulls/acme/infra/N`.
    pub fn pull(&self, number: u64) -> Value {
        let (status, body) =
            self.server
                .api(&self.read, "GET", &format!("/v1/pulls/{REPO}/{number}"));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until pull request `number` has no queued or running job and `ready` holds of
    /// its view; returns the view. Fails with the server's log after `within`.
    pub fn wait(&self, number: u64, within: Duration, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, view) =
                self.server
                    .api(&self.read, "GET", &format!("/v1/pulls/{REPO}/{number}"));
            if status == 200 && view["idle"] == true && ready(&view) {
                return view;
            }
            if Instant::now() > deadline {
                let jobs = self.job_logs(&view);
                panic!(
                    "pull request {number} not ready after {within:?}: {view:#}\njobs:\n{jobs}\nserver log:\n{}",
                    self.server.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the pull request's jobs to end.
    pub fn settle(&self, number: u64) -> Value {
        self.wait(number, Duration::from_secs(180), |_| true)
    }

    /// Every job's log of a pull request view, for failure messages.
    pub fn job_logs(&self, view: &Value) -> String {
        let mut out = String::new();
        for job in view["jobs"].as_array().into_iter().flatten() {
            let id = job["id"].as_i64().unwrap_or(0);
            let (_, detail) = self
                .server
                .api(&self.read, "GET", &format!("/v1/jobs/{id}"));
            out.push_str(&format!(
                "job {id} {} {}: {}\n{}\n",
                detail["kind"],
                detail["status"],
                detail["result"],
                detail["log"].as_str().unwrap_or("")
            ));
        }
        out
    }

    /// The jobs of a pull request that failed, with their results.
    pub fn failed_jobs(&self, view: &Value) -> Vec<Value> {
        view["jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| j["status"] == "failed")
            .cloned()
            .collect()
    }

    /// The comments on pull request `number`, oldest first.
    pub fn comments(&self, number: u64) -> Vec<FakeComment> {
        self.forge.comments(REPO, number)
    }

    /// The summary comment (exactly one must exist).
    pub fn summary(&self, number: u64) -> FakeComment {
        let summaries: Vec<FakeComment> = self
            .comments(number)
            .into_iter()
            .filter(|c| c.body.starts_with("<!-- plinth:summary -->"))
            .collect();
        assert_eq!(summaries.len(), 1, "one summary comment: {summaries:#?}");
        summaries.into_iter().next().unwrap()
    }

    /// Comments that are not the summary, oldest first.
    pub fn replies(&self, number: u64) -> Vec<String> {
        self.comments(number)
            .into_iter()
            .filter(|c| !c.body.starts_with("<!-- plinth:summary -->"))
            .map(|c| c.body)
            .collect()
    }

    /// The instance entries of a view, as `env/stack`.
    pub fn instances(view: &Value) -> Vec<String> {
        let mut out: Vec<String> = view["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{}/{}",
                    i["env"].as_str().unwrap(),
                    i["stack"].as_str().unwrap()
                )
            })
            .collect();
        out.sort();
        out
    }

    /// One instance of a view.
    pub fn instance<'v>(view: &'v Value, env: &str, stack: &str) -> &'v Value {
        view["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["env"] == env && i["stack"] == stack)
            .unwrap_or_else(|| panic!("no {env}/{stack} in {view:#}"))
    }

    /// The data directory of the server.
    pub fn data(&self) -> &Path {
        &self.data_dir
    }

    /// The test's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The issues of the hosted repository, by number.
    pub fn issues(&self) -> Vec<plinth_forge::fake::FakeIssue> {
        let mut issues = self.forge.issues(REPO);
        issues.sort_by_key(|i| i.number);
        issues
    }

    /// The server's `/metrics` text.
    pub fn metrics(&self) -> String {
        let url = format!("{}/metrics", self.server.url);
        let (status, body) = self.server.http(None, "GET", &url, Vec::new(), &[]);
        assert_eq!(status, 200);
        String::from_utf8(body).unwrap()
    }

    /// The logs of the jobs of one kind (`drift`, `reap`) among ids 1 to `max`, for failure
    /// messages.
    pub fn jobs_log(&self, kind: &str, max: i64) -> String {
        let mut out = String::new();
        for id in 1..=max {
            let (status, detail) = self
                .server
                .api(&self.read, "GET", &format!("/v1/jobs/{id}"));
            if status == 200 && detail["kind"] == kind {
                out.push_str(&format!(
                    "job {id} {} {}: {}\n{}\n",
                    detail["kind"],
                    detail["status"],
                    detail["result"],
                    detail["log"].as_str().unwrap_or("")
                ));
            }
        }
        out
    }
}

/// A loopback address no one listens on now (the server keeps it across restarts, so that
/// the project's state URL stays valid).
fn free_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn start_server(
    db: &Db,
    listen: &str,
    server_file: &Path,
    forge: &FakeForge,
    service: &str,
    extra: &[(String, String)],
) -> Server {
    let mut env = vec![
        ("FORGE_TOKEN", forge.token()),
        ("PLINTH_WEBHOOK_SECRET", SECRET),
        ("PLINTH_TOKEN", service),
        ("APP_TOKEN", APP_SECRET),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Server::start_at(
        db,
        listen,
        &["--config", server_file.to_str().unwrap()],
        &env,
    )
}

fn server_hcl(kind: ForgeKind, forge: &FakeForge, origin: &Path, data_dir: &Path) -> String {
    format!(
        "server {{\n  public_url = \"http://plinth.test\"\n  data_dir   = \"{}\"\n  workers    = 2\n}}\n\
         forge \"f\" {{\n  type               = \"{}\"\n  api_url            = \"{}\"\n  token_env          = \"FORGE_TOKEN\"\n  webhook_secret_env = \"PLINTH_WEBHOOK_SECRET\"\n}}\n\
         repo \"{REPO}\" {{\n  forge     = \"f\"\n  clone_url = \"{}\"\n}}\n",
        data_dir.display(),
        kind.as_str(),
        forge.api_url(),
        origin.display()
    )
}

/// Runs git in `dir`; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A two-stack project (`network`, `app` reading its output) with staging (autoplan),
/// prod (promoted from staging, one approval, autoplan) and an ephemeral `test` whose
/// copies are tested.
pub fn two_stacks(url: &str) -> String {
    format!(
        "plinth {{\n  project = \"acme\"\n}}\n\
         state {{\n  backend = \"plinth\"\n  url     = \"{url}\"\n}}\n\
         environment \"staging\" {{\n  pull_request {{\n    autoplan = true\n  }}\n}}\n\
         environment \"prod\" {{\n  promote_from = \"staging\"\n  approvals    = 1\n  pull_request {{\n    autoplan = true\n  }}\n}}\n"
    )
}

/// The stack files of [`two_stacks`].
pub const STACKS: &[(&str, &str)] = &[
    (
        "network/stack.hcl",
        "inputs = {\n  env_name = env.name\n}\n",
    ),
    (
        "network/main.tf",
        "variable \"env_name\" {\n  type = string\n}\nresource \"terraform_data\" \"vpc\" {\n  input = \"vpc-${var.env_name}\"\n}\noutput \"vpc_id\" {\n  value = terraform_data.vpc.output\n}\n",
    ),
    (
        "app/stack.hcl",
        "dependency \"network\" {\n  stack = \"../network\"\n}\ninputs = {\n  vpc_id = dependency.network.outputs.vpc_id\n}\n",
    ),
    (
        "app/main.tf",
        "variable \"vpc_id\" {\n  type = string\n}\nresource \"terraform_data\" \"app\" {\n  input = \"app in ${var.vpc_id}\"\n}\noutput \"placed_in\" {\n  value = terraform_data.app.output\n}\n",
    ),
];
