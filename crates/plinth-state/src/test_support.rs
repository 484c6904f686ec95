//! A private PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary directory,
//! `pg_ctl start` on a free loopback port, stopped and removed on drop. Tests must not depend
//! on a server someone started by hand, and must fail loudly when PostgreSQL is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running throwaway PostgreSQL cluster.
pub struct TempPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres_user: bool,
    _dir: tempfile::TempDir,
}

impl TempPostgres {
    /// Starts a cluster; panics with instructions when PostgreSQL is not installed.
    pub fn start() -> Self {
        Self::try_start().unwrap_or_else(|e| panic!("cannot start a test PostgreSQL: {e}"))
    }

    /// Starts a cluster with fsync on, for benchmarks that must pay for durability.
    pub fn start_durable() -> Self {
        Self::try_start_with(true).unwrap_or_else(|e| panic!("cannot start a test PostgreSQL: {e}"))
    }

    /// Starts a cluster (fsync off: tests need no durability), or explains why it could not.
    pub fn try_start() -> Result<Self, String> {
        Self::try_start_with(false)
    }

    fn try_start_with(durable: bool) -> Result<Self, String> {
        let bin = find_bindir().ok_or_else(|| {
            "PostgreSQL server binaries not found (no `pg_config --bindir` with initdb, no \
             /usr/lib/postgresql/*/bin); install them: apt-get install -y postgresql"
                .to_string()
        })?;
        let dir = tempfile::Builder::new()
            .prefix("plinth-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        // PostgreSQL refuses to run as root; run it as the `postgres` system user instead.
        let as_postgres_user = is_root();
        if as_postgres_user {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let pg = |tool: &str| {
            let mut cmd = if as_postgres_user {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
                c
            } else {
                Command::new(bin.join(tool))
            };
            cmd.env("LC_ALL", "C");
            cmd
        };
        run(pg("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]))?;
        // A port taken between our probe and the server's bind makes start fail; try again.
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=200{}",
                dir.path().display(),
                if durable {
                    ""
                } else {
                    " -c fsync=off -c synchronous_commit=off"
                }
            );
            let started = run(pg("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-w", "-t", "60", "-l"])
                .arg(dir.path().join("log"))
                .args(["-o", &opts, "start"]));
            match started {
                Ok(()) => {
                    return Ok(TempPostgres {
                        bin,
                        data,
                        port,
                        as_postgres_user,
                        _dir: dir,
                    });
                }
                Err(e) => last_err = e,
            }
        }
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        Err(format!("pg_ctl start failed: {last_err}\n{log}"))
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` (created on demand with [`TempPostgres::create_database`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let mut cmd = self.tool("createdb");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            name,
        ]);
        run(&mut cmd).unwrap_or_else(|e| panic!("createdb {name}: {e}"));
        self.url(name)
    }

    /// Runs `pg_dump` of a database (data only, as text): used to check nothing is stored in
    /// plaintext.
    pub fn dump(&self, database: &str) -> Vec<u8> {
        let mut cmd = self.tool("pg_dump");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            database,
        ]);
        let out = cmd.output().expect("run pg_dump");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let mut cmd = self.tool("pg_ctl");
        cmd.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = cmd.output();
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

// `id -u` rather than a libc binding: one process spawn per cluster is cheaper than a new
// dependency for a test helper.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn find_bindir() -> Option<PathBuf> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_initdb(&dir) {
            return Some(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_initdb(d))
        .collect();
    // Highest major version first.
    candidates.sort_by_key(|p| {
        std::cmp::Reverse(
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    candidates.into_iter().next()
}
