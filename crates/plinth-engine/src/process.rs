//! Running the engine as a child process with the instance's environment, its output
//! written (with secrets masked) to the instance's log.
//!
//! Two rules keep a run safe when plinth itself dies (kill -9, a closed terminal):
//! - The engine never writes into a pipe: its output goes to a private file that plinth
//!   copies, masked, into the log as it grows. A pipe whose reader died would kill the engine
//!   with SIGPIPE on its next line, mid-apply, leaving a truncated state.
//! - The engine runs in its own process group and inherits the environment lock's file
//!   descriptor, so the lock lasts until the last engine exits; Ctrl-C reaches only plinth,
//!   which asks each engine once to stop (a second SIGINT would make Terraform quit at once).

use std::collections::HashSet;
use std::io::{Read, Seek, Write};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::Command;

use crate::{Engine, EngineError};

/// Engine processes running now, so that an interrupt can reach each of them once.
#[derive(Debug, Default)]
pub struct ProcessRegistry {
    pids: Mutex<HashSet<u32>>,
    interrupted: std::sync::atomic::AtomicBool,
}

impl ProcessRegistry {
    /// Sends SIGINT (the engine's graceful stop) to every engine running now, and to every one
    /// started later in this run.
    pub fn interrupt(&self) {
        self.interrupted
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let pids: Vec<u32> = self.lock().iter().copied().collect();
        for pid in pids {
            send_sigint(pid);
        }
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.pids.lock().expect("no panics under this lock")
    }

    fn add(&self, pid: u32) {
        self.lock().insert(pid);
        if self.is_interrupted() {
            send_sigint(pid);
        }
    }

    fn remove(&self, pid: u32) {
        self.lock().remove(&pid);
    }
}

fn send_sigint(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) has no memory effects; a pid that exited meanwhile only yields ESRCH.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
}

/// How to run the engine for one instance.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The engine.
    pub engine: Engine,
    /// The stack directory (working directory of the child).
    pub dir: PathBuf,
    /// The instance's `TF_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The shared plugin cache.
    pub plugin_cache: PathBuf,
    /// Extra environment: the environment block's `env`, credentials, backend credentials,
    /// `TF_VAR_*` secrets.
    pub env: Vec<(String, String)>,
    /// Strings replaced by `***` in every log line.
    pub masks: Vec<String>,
    /// Where running engines are registered for interrupts.
    pub processes: Option<Arc<ProcessRegistry>>,
    /// File descriptors the engine inherits (the environment lock), so that they stay open
    /// as long as it runs.
    pub inherit_fds: Vec<RawFd>,
}

/// How much lower than plinth's own the engines' CPU priority is (nice increment; 0 = the
/// same). Process-wide: set once by `plinth serve`, whose webhook answers and API must not
/// wait behind the plans it runs on the same cores.
static ENGINE_NICENESS: AtomicI32 = AtomicI32::new(0);

/// Runs every engine started from now on `increment` nice levels below this process
/// (clamped to 0..=19).
pub fn lower_engine_priority(increment: i32) {
    ENGINE_NICENESS.store(increment.clamp(0, 19), Ordering::Relaxed);
}

/// A finished engine command.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
}

/// Name of the file in the data dir that holds an engine's raw output while it runs.
const RAW_OUTPUT: &str = "engine-output.raw";
/// Beside it: the log it is being copied to, for a run that died before finishing the copy.
const RAW_TARGET: &str = "engine-output.target";

impl Invocation {
    /// A command for `args` with the instance's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.engine.binary);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_DATA_DIR", &self.data_dir)
            .env("TF_PLUGIN_CACHE_DIR", &self.plugin_cache)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            // A workspace selected in the user's shell would point every instance at it.
            .env_remove("TF_WORKSPACE")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let nice = ENGINE_NICENESS.load(Ordering::Relaxed);
        if nice > 0 {
            // SAFETY: runs in the forked child before exec; nice(2) is a plain system call
            // that changes only the child's own priority.
            unsafe {
                cmd.pre_exec(move || {
                    // -1 is also a valid new niceness: only errno tells failure, and a
                    // priority that could not be lowered is no reason not to run the engine.
                    libc::nice(nice);
                    Ok(())
                });
            }
        }
        let fds = self.inherit_fds.clone();
        if !fds.is_empty() {
            // SAFETY: runs in the forked child before exec; fcntl(2) is async-signal-safe and
            // touches only the child's descriptor table.
            unsafe {
                cmd.pre_exec(move || {
                    for fd in &fds {
                        if libc::fcntl(*fd, libc::F_SETFD, 0) == -1 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// Runs `args`, appending its output (masked) to `log`.
    pub async fn run(&self, args: &[&str], log: &Path) -> Result<Exit, EngineError> {
        self.run_with(args, None, log).await
    }

    /// Runs `args` with stdout written to `stdout_file` (unmasked: it is machine output such
    /// as plan JSON) and stderr appended to `log`.
    pub async fn run_to_file(
        &self,
        args: &[&str],
        stdout_file: &Path,
        log: &Path,
    ) -> Result<Exit, EngineError> {
        self.run_with(args, Some(stdout_file), log).await
    }

    async fn run_with(
        &self,
        args: &[&str],
        stdout_file: Option<&Path>,
        log: &Path,
    ) -> Result<Exit, EngineError> {
        let io = |p: &Path, e| EngineError::Io(p.display().to_string(), e);
        std::fs::create_dir_all(&self.data_dir).map_err(|e| io(&self.data_dir, e))?;
        self.recover_raw_output();
        let mut sink = open_log(log, args)?;
        let raw_path = self.data_dir.join(RAW_OUTPUT);
        let raw = private_file(&raw_path).map_err(|e| io(&raw_path, e))?;
        let target = self.data_dir.join(RAW_TARGET);
        std::fs::write(&target, log.as_os_str().as_encoded_bytes()).map_err(|e| io(&target, e))?;
        let mut cmd = self.command(args);
        // Its own process group: a Ctrl-C on the terminal reaches plinth only, which passes
        // exactly one interrupt on.
        cmd.process_group(0);
        match stdout_file {
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| io(path, e))?;
                cmd.stdout(Stdio::from(file));
            }
            None => {
                cmd.stdout(Stdio::from(raw.try_clone().map_err(|e| io(&raw_path, e))?));
            }
        }
        cmd.stderr(Stdio::from(raw));
        let spawn_error = |e| EngineError::Spawn(self.engine.binary.display().to_string(), e);
        let mut child = cmd.spawn().map_err(spawn_error)?;
        let pid = child.id().unwrap_or(0);
        if let Some(registry) = &self.processes {
            registry.add(pid);
        }
        let mut tail = Tail::open(&raw_path, self.masks.clone()).map_err(|e| io(&raw_path, e))?;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    tail.pump(&mut sink);
                }
            }
        };
        if let Some(registry) = &self.processes {
            registry.remove(pid);
        }
        tail.pump(&mut sink);
        tail.finish(&mut sink);
        let _ = std::fs::remove_file(&raw_path);
        let _ = std::fs::remove_file(&target);
        let status = status.map_err(spawn_error)?;
        Ok(Exit {
            code: status.code().unwrap_or(-1),
        })
    }

    /// Runs `args` attached to plinth's own terminal (stdin, stdout, stderr), in the
    /// foreground: `plinth exec` of `console`, `state list`, `import`… The user sees the
    /// engine's output unmasked, as running it by hand would show it.
    pub async fn run_attached(&self, args: &[&str]) -> Result<Exit, EngineError> {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let spawn_error = |e| EngineError::Spawn(self.engine.binary.display().to_string(), e);
        let status = cmd
            .spawn()
            .map_err(spawn_error)?
            .wait()
            .await
            .map_err(spawn_error)?;
        Ok(Exit {
            code: status.code().unwrap_or(-1),
        })
    }

    /// Copies, masked, the output an engine left when the plinth that ran it died, into the
    /// log that run was writing; the masks are this instance's secrets now.
    fn recover_raw_output(&self) {
        let raw = self.data_dir.join(RAW_OUTPUT);
        if !raw.is_file() {
            return;
        }
        let target = std::fs::read(self.data_dir.join(RAW_TARGET))
            .ok()
            .map(|b| PathBuf::from(String::from_utf8_lossy(&b).into_owned()));
        if let Some(log) = target
            && let Ok(mut sink) = std::fs::OpenOptions::new().append(true).open(&log)
            && let Ok(mut tail) = Tail::open(&raw, self.masks.clone())
        {
            let _ = writeln!(
                sink,
                "# plinth: output of an engine whose plinth process ended before copying it:"
            );
            tail.pump(&mut sink);
            tail.finish(&mut sink);
        }
        let _ = std::fs::remove_file(&raw);
        let _ = std::fs::remove_file(self.data_dir.join(RAW_TARGET));
    }
}

/// A file readable and writable by its owner only: engine output can carry what masks hide.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

fn open_log(log: &Path, args: &[&str]) -> Result<std::fs::File, EngineError> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::Io(dir.display().to_string(), e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| EngineError::Io(log.display().to_string(), e))?;
    let _ = writeln!(f, "$ engine {}", args.join(" "));
    Ok(f)
}

/// Follows a growing file and copies its complete lines, masked, to a log.
struct Tail {
    file: std::fs::File,
    masks: Vec<String>,
    pending: Vec<u8>,
}

impl Tail {
    fn open(path: &Path, masks: Vec<String>) -> std::io::Result<Tail> {
        let mut file = std::fs::File::open(path)?;
        file.rewind()?;
        Ok(Tail {
            file,
            masks,
            pending: Vec::new(),
        })
    }

    /// Copies every complete line written so far.
    fn pump(&mut self, sink: &mut std::fs::File) {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.file.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            }
        }
        // Masks apply to whole lines: a secret split across two reads would slip through.
        if let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = self.pending.drain(..=end).collect();
            let _ = sink.write_all(mask(&String::from_utf8_lossy(&lines), &self.masks).as_bytes());
        }
    }

    /// Copies a last line without a newline.
    fn finish(&mut self, sink: &mut std::fs::File) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            let _ = sink.write_all(mask(&String::from_utf8_lossy(&rest), &self.masks).as_bytes());
            let _ = sink.write_all(b"\n");
        }
    }
}

/// Replaces every mask string in `line` with `***`.
pub fn mask(line: &str, masks: &[String]) -> String {
    masks
        .iter()
        .filter(|m| !m.is_empty())
        .fold(line.to_string(), |acc, m| acc.replace(m.as_str(), "***"))
}
