//! Running the engine as a child process with the instance's environment, its output
//! written (with secrets masked) to the instance's log.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::{Engine, EngineError};

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
    /// Extra environment: the environment block's `env`, backend credentials, `TF_VAR_*` secrets.
    pub env: Vec<(String, String)>,
    /// Strings replaced by `***` in every log line.
    pub masks: Vec<String>,
}

/// A finished engine command.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
}

impl Invocation {
    fn command(&self, args: &[&str]) -> Command {
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
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `args`, appending stdout and stderr to `log`.
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
        let mut cmd = self.command(args);
        match stdout_file {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .map_err(|e| EngineError::Io(path.display().to_string(), e))?;
                cmd.stdout(Stdio::from(file));
            }
            None => {
                cmd.stdout(Stdio::piped());
            }
        }
        cmd.stderr(Stdio::piped());
        let sink = Arc::new(Mutex::new(open_log(log, args)?));
        let spawn_error = |e| EngineError::Spawn(self.engine.binary.display().to_string(), e);
        let mut child = cmd.spawn().map_err(spawn_error)?;
        let mut copies = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            copies.push(tokio::spawn(copy_lines(
                stdout,
                Arc::clone(&sink),
                self.masks.clone(),
            )));
        }
        let stderr = child.stderr.take().expect("piped");
        copies.push(tokio::spawn(copy_lines(stderr, sink, self.masks.clone())));
        let status = child.wait().await.map_err(spawn_error)?;
        for copy in copies {
            let _ = copy.await;
        }
        Ok(Exit {
            code: status.code().unwrap_or(-1),
        })
    }
}

fn open_log(log: &Path, args: &[&str]) -> Result<std::fs::File, EngineError> {
    use std::io::Write;
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

async fn copy_lines(
    stream: impl AsyncRead + Unpin,
    sink: Arc<Mutex<std::fs::File>>,
    masks: Vec<String>,
) {
    use std::io::Write;
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = mask(&String::from_utf8_lossy(&buf), &masks);
                let mut f = sink.lock().expect("log writers do not panic");
                let _ = f.write_all(line.as_bytes());
            }
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
