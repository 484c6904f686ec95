//! One `bao server -dev` on a free loopback port: in-memory storage, root token `ROOT`, KV v2
//! at `secret/`, a file audit device declared in a config file (OpenBao refuses to enable
//! audit devices through the API), optionally TLS with its generated CA.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::secret::Secret;
use crate::vault::{Login, VaultClient, VaultSettings};

use super::audit::{self, AuditRequest};

/// The dev server's root token.
pub const ROOT_TOKEN: &str = "ROOT";

const START_DEADLINE: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(10);

/// The `bao` binary: `PLINTH_BAO`, else the first `bao` on `PATH`. Panics, saying how to get
/// one, when there is none.
pub fn bao_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLINTH_BAO") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "PLINTH_BAO={} is not a file; point it at OpenBao's `bao` binary",
            p.display()
        );
        return p;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("bao"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no OpenBao `bao` binary: set PLINTH_BAO or put bao on PATH \
                 (scripts/setup.sh installs it into .tools/bin: eval \"$(scripts/setup.sh)\")"
            )
        })
}

/// An `http://` address where nothing listens (connections are refused): "Vault down".
pub fn closed_address() -> String {
    let port = free_port();
    format!("http://127.0.0.1:{port}")
}

/// A listener that accepts connections (the kernel does) and never answers: a hung Vault,
/// for timeouts. Keep the listener alive while it is used.
pub fn silent_address() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = format!("http://{}", listener.local_addr().expect("local address"));
    (listener, addr)
}

/// AppRole credentials made by [`OpenBao::enable_approle`].
#[derive(Debug, Clone)]
pub struct AppRole {
    /// Mount path of the auth method.
    pub mount: String,
    /// The role id.
    pub role_id: String,
    /// A secret id.
    pub secret_id: String,
}

/// A running OpenBao dev server, killed (its whole process group) on drop.
pub struct OpenBao {
    child: Option<Child>,
    address: String,
    ca_file: Option<PathBuf>,
    audit_log: PathBuf,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl OpenBao {
    /// Starts a plain-HTTP server and waits until it serves `secret/`.
    pub async fn start() -> OpenBao {
        OpenBao::launch(false).await
    }

    /// Starts a server with TLS (a CA generated for it, see [`ca_file`](Self::ca_file)).
    pub async fn start_tls() -> OpenBao {
        OpenBao::launch(true).await
    }

    async fn launch(tls: bool) -> OpenBao {
        let bao = bao_binary();
        let dir = tempfile::Builder::new()
            .prefix("plinth-openbao-")
            .tempdir()
            .expect("temp dir for OpenBao");
        let audit_log = dir.path().join("audit.log");
        let config = dir.path().join("audit.hcl");
        std::fs::write(
            &config,
            format!(
                "audit \"file\" \"plinth-count\" {{\n  options {{\n    file_path = {}\n  }}\n}}\n",
                json!(audit_log.display().to_string())
            ),
        )
        .expect("write the OpenBao config");
        // The dev server also takes port+1 for its cluster listener; a port another process
        // grabs between our check and its bind is retried.
        for _attempt in 0..5 {
            let port = free_port_pair();
            let scheme = if tls { "https" } else { "http" };
            let address = format!("{scheme}://127.0.0.1:{port}");
            let server_log = dir.path().join(format!("server-{port}.log"));
            let tls_dir = dir.path().join("tls");
            let mut cmd = Command::new(&bao);
            cmd.args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={ROOT_TOKEN}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                "-dev-no-store-token",
                &format!("-config={}", config.display()),
            ]);
            if tls {
                std::fs::create_dir_all(&tls_dir).expect("TLS dir");
                cmd.args([
                    "-dev-tls",
                    &format!("-dev-tls-cert-dir={}", tls_dir.display()),
                ]);
            }
            for (k, _) in std::env::vars_os() {
                let k = k.to_string_lossy();
                if k.starts_with("VAULT_") || k.starts_with("BAO_") {
                    cmd.env_remove(&*k);
                }
            }
            let log = std::fs::File::create(&server_log).expect("server log file");
            // Its own process group, so that Drop kills all of it; and killed by the kernel
            // should the test process die without dropping it (a test runner's timeout
            // kills the test's group, which the server has left).
            // SAFETY: prctl(2) is async-signal-safe and touches no memory of the parent.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let mut child = cmd
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bao.display()));
            let ca_file = tls.then(|| tls_dir.join("vault-ca.pem"));
            match wait_ready(
                &mut child,
                &address,
                ca_file.as_deref(),
                &audit_log,
                &server_log,
            )
            .await
            {
                Ok(http) => {
                    return OpenBao {
                        child: Some(child),
                        address,
                        ca_file,
                        audit_log,
                        http,
                        dir,
                    };
                }
                Err(log) if log.contains("address already in use") => kill_group(&mut child),
                Err(log) => {
                    kill_group(&mut child);
                    panic!("OpenBao did not start:\n{log}");
                }
            }
        }
        panic!("OpenBao found no free port in 5 attempts");
    }

    /// `http://127.0.0.1:PORT` (or `https://` for [`start_tls`](Self::start_tls)).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The CA that signed a TLS server's certificate.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// A directory that lives as long as the server (for CA files and the like).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Client settings with `token` (and the CA, for TLS).
    pub fn settings_with_token(&self, token: &str) -> VaultSettings {
        let mut s = VaultSettings::token(self.address.clone(), Secret::new(token));
        s.ca_file = self.ca_file.clone();
        s
    }

    /// Client settings logging in with `approle`.
    pub fn settings_with_approle(&self, approle: &AppRole) -> VaultSettings {
        let mut s = self.settings_with_token("");
        s.login = Login::AppRole {
            mount: approle.mount.clone(),
            role_id: Secret::new(approle.role_id.as_str()),
            secret_id: Secret::new(approle.secret_id.as_str()),
        };
        s
    }

    /// A client with the root token.
    pub fn root_client(&self) -> VaultClient {
        VaultClient::new(self.settings_with_token(ROOT_TOKEN)).expect("root client")
    }

    /// Calls `/v1/{path}` with the root token (in `namespace`, if given) and returns the
    /// JSON answer (`Null` for 204). Panics on any other status, with the server's words.
    pub async fn api_in(
        &self,
        namespace: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let method = Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self
            .http
            .request(method.clone(), format!("{}/v1/{path}", self.address))
            .header("X-Vault-Token", ROOT_TOKEN);
        if let Some(ns) = namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
        }
    }

    /// [`api_in`](Self::api_in) in the root namespace.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.api_in(None, method, path, body).await
    }

    /// Writes `data` (a JSON object) at KV v2 `path` (`MOUNT/PATH`); returns the version.
    pub async fn write_secret(&self, path: &str, data: Value) -> u64 {
        let (mount, rest) = path.split_once('/').expect("MOUNT/PATH");
        let answer = self
            .api(
                "POST",
                &format!("{mount}/data/{rest}"),
                Some(json!({ "data": data })),
            )
            .await;
        answer["data"]["version"].as_u64().expect("version")
    }

    /// Creates ACL policy `name` from HCL text.
    pub async fn put_policy(&self, name: &str, hcl: &str) {
        self.api(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": hcl })),
        )
        .await;
    }

    /// A new token with `policies` (and `default`, which allows lookup-self); returns it.
    pub async fn create_token(&self, policies: &[&str]) -> String {
        let answer = self
            .api(
                "POST",
                "auth/token/create",
                Some(json!({ "policies": policies, "ttl": "1h" })),
            )
            .await;
        answer["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_string()
    }

    /// Revokes `token`: afterwards the server refuses it (403).
    pub async fn revoke_token(&self, token: &str) {
        self.api("POST", "auth/token/revoke", Some(json!({ "token": token })))
            .await;
    }

    /// Enables AppRole at `approle/` (once) and creates role `role` with `policies`.
    pub async fn enable_approle(&self, role: &str, policies: &[&str]) -> AppRole {
        let auths = self.api("GET", "sys/auth", None).await;
        if auths["data"]["approle/"].is_null() {
            self.api(
                "POST",
                "sys/auth/approle",
                Some(json!({ "type": "approle" })),
            )
            .await;
        }
        self.api(
            "POST",
            &format!("auth/approle/role/{role}"),
            Some(json!({ "token_policies": policies, "token_ttl": "1h" })),
        )
        .await;
        let role_id = self
            .api("GET", &format!("auth/approle/role/{role}/role-id"), None)
            .await["data"]["role_id"]
            .as_str()
            .expect("role_id")
            .to_string();
        let secret_id = self
            .api("POST", &format!("auth/approle/role/{role}/secret-id"), None)
            .await["data"]["secret_id"]
            .as_str()
            .expect("secret_id")
            .to_string();
        AppRole {
            mount: "approle".into(),
            role_id,
            secret_id,
        }
    }

    /// Creates namespace `name` with a KV v2 mount at `secret/` inside it.
    pub async fn create_namespace(&self, name: &str) {
        self.api("POST", &format!("sys/namespaces/{name}"), None)
            .await;
        self.api_in(
            Some(name),
            "POST",
            "sys/mounts/secret",
            Some(json!({ "type": "kv", "options": { "version": "2" } })),
        )
        .await;
    }

    /// Every request the server logged, in order.
    pub fn requests(&self) -> Vec<AuditRequest> {
        audit::read(&self.audit_log)
    }

    /// How many reads (`GET`s: operation `read`) reached API path `path`
    /// (`secret/data/app/prod`) in the root namespace: what a resolver costs the server.
    pub fn reads_of(&self, path: &str) -> usize {
        self.reads_of_in("", path)
    }

    /// How many reads reached `path` in namespace `namespace` (`team/`; "" for root).
    pub fn reads_of_in(&self, namespace: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path == path && r.namespace == namespace && r.operation == "read")
            .count()
    }

    /// How many requests of any kind reached API path `path` (`secret/data/app/prod`) in
    /// the root namespace.
    pub fn requests_to(&self, path: &str) -> usize {
        self.requests_to_in("", path)
    }

    /// How many requests reached `path` in namespace `namespace` (`team/`; "" for root).
    pub fn requests_to_in(&self, namespace: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path == path && r.namespace == namespace)
            .count()
    }

    /// Kills the server (its whole process group) and waits for it: "Vault down".
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls until the server is unsealed, its audit device writes and `secret/` is mounted
/// (the dev server mounts it just after it starts answering); returns the admin client.
async fn wait_ready(
    child: &mut Child,
    address: &str,
    ca_file: Option<&Path>,
    audit_log: &Path,
    server_log: &Path,
) -> Result<reqwest::Client, String> {
    let deadline = Instant::now() + START_DEADLINE;
    let mut client = None;
    loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            return Err(format!(
                "exited with {status}; its log:\n{}",
                log_tail(server_log)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not ready within {} s; its log:\n{}",
                START_DEADLINE.as_secs(),
                log_tail(server_log)
            ));
        }
        // With TLS the CA file appears once the server generated it.
        if client.is_none() && ca_file.is_none_or(Path::is_file) {
            client = Some(
                plinth_http::client(&plinth_http::ClientOptions {
                    timeout: Duration::from_secs(5),
                    connect_timeout: Duration::from_secs(1),
                    ca_file: ca_file.map(Path::to_path_buf),
                })
                .map_err(|e| e.to_string())?,
            );
        }
        if let Some(http) = &client {
            let ready = http
                .get(format!("{address}/v1/sys/mounts/secret"))
                .header("X-Vault-Token", ROOT_TOKEN)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready && audit_log.is_file() {
                return Ok(http.clone());
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn log_tail(server_log: &Path) -> String {
    let text = std::fs::read_to_string(server_log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Kills the server's whole process group (the one `spawn` made with `process_group(0)`).
fn kill_group(child: &mut Child) {
    if let Ok(pgid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) has no memory effects; an exited group only yields ESRCH.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A free port whose successor is free too (the dev server's cluster listener).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = first.local_addr().expect("local address").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}
