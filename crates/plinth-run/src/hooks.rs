//! Deploy steps around the engine: `hooks` blocks of `stack.hcl` (run in the stack directory)
//! and of `environment` blocks (run from the project root after the environment's
//! instances), with the outputs in hand.
//!
//! Each command runs with `sh -c`, `PLINTH_ENV`, `PLINTH_STACK`, `PLINTH_OUTPUTS` (a JSON file of
//! the outputs) and `PLINTH_OUTPUT_<NAME>` for each non-sensitive output (sensitive ones too
//! with `reveal = true`, masked in the log). Its output goes, masked, to the instance's log; a
//! command that fails or passes its `timeout` fails the instance.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use plinth_config::Hooks;
use plinth_engine::OutputValue;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::context::RunContext;

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPhase {
    /// Before an instance is planned.
    BeforePlan,
    /// After a successful apply.
    AfterApply,
    /// After a successful destroy.
    AfterDestroy,
}

impl HookPhase {
    /// `before_plan`, `after_apply`, `after_destroy`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::BeforePlan => "before_plan",
            HookPhase::AfterApply => "after_apply",
            HookPhase::AfterDestroy => "after_destroy",
        }
    }

    fn commands(self, hooks: &Hooks) -> &[plinth_config::Spanned<String>] {
        match self {
            HookPhase::BeforePlan => &hooks.before_plan,
            HookPhase::AfterApply => &hooks.after_apply,
            HookPhase::AfterDestroy => &hooks.after_destroy,
        }
    }
}

/// One hook command's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookReport {
    /// The instance's stack, or `None` for an environment hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// When it ran.
    pub phase: HookPhase,
    /// The command as written.
    pub command: String,
    /// Its exit code; `None` when it was killed at its timeout or could not start.
    pub exit_code: Option<i32>,
    /// Whether it was killed at its timeout.
    pub timed_out: bool,
    /// Wall time.
    pub duration_ms: u64,
    /// Its last lines of output (masked), when it failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<String>,
}

impl HookReport {
    /// Whether it succeeded.
    pub fn ok(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `after_apply hook `scripts/deploy.sh` failed (exit 3): last lines…`.
    pub fn failure(&self) -> String {
        let how = if self.timed_out {
            "passed its timeout and was killed".to_string()
        } else {
            match self.exit_code {
                Some(c) => format!("failed (exit {c})"),
                None => "could not run".to_string(),
            }
        };
        let tail = if self.tail.is_empty() {
            String::new()
        } else {
            format!(": {}", self.tail.join(" | "))
        };
        format!(
            "{} hook `{}` {how}{tail}",
            self.phase.as_str(),
            self.command
        )
    }
}

/// Where and with what a set of hooks runs.
pub(crate) struct HookRun<'a> {
    pub hooks: &'a Hooks,
    pub phase: HookPhase,
    /// `Some(stack)` for a stack's hooks (run in its directory), `None` for the environment's.
    pub stack: Option<&'a str>,
    pub dir: PathBuf,
    /// The outputs given to the hook: one instance's, or `{stack: outputs}` for the
    /// environment.
    pub outputs: serde_json::Value,
    /// Flat `NAME → (value, sensitive)` for `PLINTH_OUTPUT_<NAME>`.
    pub flat: BTreeMap<String, (String, bool)>,
    /// The log the output goes to.
    pub log: PathBuf,
    /// Where `PLINTH_OUTPUTS` is written.
    pub outputs_file: PathBuf,
}

/// `NAME → (text, sensitive)` of one instance's outputs: strings as they are, other values
/// as JSON.
pub(crate) fn flat_outputs(
    outputs: &BTreeMap<String, OutputValue>,
) -> BTreeMap<String, (String, bool)> {
    outputs
        .iter()
        .map(|(k, o)| {
            let text = match &o.value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), (text, o.sensitive))
        })
        .collect()
}

/// `vpc-id` → `PLINTH_OUTPUT_VPC_ID`.
fn variable(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("PLINTH_OUTPUT_{name}")
}

impl RunContext {
    /// Runs the commands of `run.phase` one after another, stopping at the first failure.
    pub(crate) async fn run_hooks(&self, run: HookRun<'_>) -> Vec<HookReport> {
        let commands = run.phase.commands(run.hooks);
        if commands.is_empty() {
            return Vec::new();
        }
        let mut masks = self.log_masks();
        let mut env: Vec<(String, String)> = vec![
            ("PLINTH_ENV".into(), self.env().to_string()),
            ("PLINTH_TEMPLATE".into(), self.block().to_string()),
            (
                "PLINTH_OUTPUTS".into(),
                run.outputs_file.display().to_string(),
            ),
        ];
        if let Some(stack) = run.stack {
            env.push(("PLINTH_STACK".into(), stack.to_string()));
        }
        for (name, (value, sensitive)) in &run.flat {
            if *sensitive && !run.hooks.reveal {
                continue;
            }
            if *sensitive {
                masks.extend(plinth_secrets::mask_forms(value));
            }
            env.push((variable(name), value.clone()));
        }
        let file_outputs = if run.hooks.reveal {
            run.outputs.clone()
        } else {
            redact_sensitive(&run.outputs, &run.flat)
        };
        if let Err(e) = crate::saved::write_json(&run.outputs_file, &file_outputs) {
            return vec![HookReport {
                stack: run.stack.map(str::to_string),
                phase: run.phase,
                command: commands[0].value.clone(),
                exit_code: None,
                timed_out: false,
                duration_ms: 0,
                tail: vec![format!("cannot write {}: {e}", run.outputs_file.display())],
            }];
        }
        let mut reports = Vec::new();
        for command in commands {
            let report = run_one(
                &command.value,
                &run,
                &env,
                &masks,
                Duration::from_secs(run.hooks.timeout_secs),
            )
            .await;
            let ok = report.ok();
            reports.push(report);
            if !ok {
                break;
            }
        }
        reports
    }

    /// Runs the environment block's hooks of `phase` once, from the project root, with every
    /// instance's outputs (`PLINTH_OUTPUT_<STACK>_<NAME>`).
    pub(crate) async fn environment_hooks(&self, phase: HookPhase) -> Vec<HookReport> {
        let Some(hooks) = self.environment.hooks.as_ref() else {
            return Vec::new();
        };
        let mut all = BTreeMap::new();
        let mut flat = BTreeMap::new();
        if phase != HookPhase::AfterDestroy {
            for node in &self.graph.nodes {
                if let Ok(Some(state)) = self.state(&node.stack).await {
                    for (name, v) in flat_outputs(&state.outputs) {
                        flat.insert(format!("{}_{name}", node.stack), v);
                    }
                    all.insert(node.stack.clone(), state.outputs);
                }
            }
        }
        let dir = self.layout.run_dir(&self.run_id).join("_environment");
        self.run_hooks(HookRun {
            hooks,
            phase,
            stack: None,
            dir: self.project.root.clone(),
            outputs: serde_json::Value::Object(crate::outputs_json(&all, hooks.reveal)),
            flat,
            log: dir.join("hooks.log"),
            outputs_file: dir.join(format!("{}-outputs.json", phase.as_str())),
        })
        .await
    }

    /// Everything this run must never print: credential and secret values already read.
    fn log_masks(&self) -> Vec<String> {
        self.secret_values
            .values_read()
            .iter()
            .flat_map(|s| plinth_secrets::mask_forms(s.expose()))
            .collect()
    }
}

/// The outputs with sensitive values replaced (a one-instance map, or `{stack: map}`).
fn redact_sensitive(
    outputs: &serde_json::Value,
    flat: &BTreeMap<String, (String, bool)>,
) -> serde_json::Value {
    let mut out = outputs.clone();
    if let Some(map) = out.as_object_mut() {
        for (name, (_, sensitive)) in flat {
            if *sensitive && let Some(v) = map.get_mut(name) {
                *v = serde_json::Value::String(crate::REDACTED.into());
            }
        }
    }
    out
}

async fn run_one(
    command: &str,
    run: &HookRun<'_>,
    env: &[(String, String)],
    masks: &[String],
    timeout: Duration,
) -> HookReport {
    let started = Instant::now();
    let mut report = HookReport {
        stack: run.stack.map(str::to_string),
        phase: run.phase,
        command: command.to_string(),
        exit_code: None,
        timed_out: false,
        duration_ms: 0,
        tail: Vec::new(),
    };
    let mut log = match open_log(&run.log) {
        Ok(f) => f,
        Err(e) => {
            report.tail = vec![format!("cannot open {}: {e}", run.log.display())];
            return report;
        }
    };
    let _ = writeln!(log, "$ hook {} {command}", run.phase.as_str());
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(&run.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so that a timeout kills what it started too.
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            report.tail = vec![format!("cannot run sh: {e}")];
            return report;
        }
    };
    let pid = child.id();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let wait = async {
        let mut status = None;
        loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Some(line) => {
                        let line = plinth_engine::process::mask(&line, masks);
                        let _ = writeln!(log, "{line}");
                        tail.push_back(line);
                        if tail.len() > 5 {
                            tail.pop_front();
                        }
                    }
                    None => break,
                },
                s = child.wait(), if status.is_none() => status = Some(s),
            }
        }
        match status {
            Some(s) => s,
            None => child.wait().await,
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(Ok(status)) => report.exit_code = status.code(),
        Ok(Err(e)) => report.tail = vec![format!("waiting for the hook: {e}")],
        Err(_) => {
            report.timed_out = true;
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                // SAFETY: signals the hook's own process group, which it leads.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.wait().await;
            let _ = writeln!(log, "# plinth: killed after {}s", timeout.as_secs());
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    if !report.ok() && report.tail.is_empty() {
        report.tail = tail.into_iter().collect();
    }
    report
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}
