//! Engine-backed code checks: `fmt -check` and `validate` per stack.
//!
//! Each stack gets its own `TF_DATA_DIR` under `<root>/.plinth/check/<stack id>` so that the
//! check never touches a stack's `.terraform` or another instance's state; providers come
//! from the shared `<root>/.plinth/plugin-cache`. Stacks run in parallel on a bounded number
//! of threads; `init` is serialised because the plugin cache is not safe for concurrent
//! writers (DESIGN.md section 3).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use plinth_check::{EngineDiagnostic, EngineOutcome};
use serde::Deserialize;

/// How to run the checks.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Engine binary: a name looked up on PATH (`terraform`, `tofu`) or a path.
    pub engine: PathBuf,
    /// Project root (for `.plinth/check` and `.plinth/plugin-cache`).
    pub root: PathBuf,
    /// Stacks checked at the same time (at least 1).
    pub parallelism: usize,
    /// Run `fmt -check`.
    pub fmt: bool,
    /// Run `init -backend=false` + `validate -json`.
    pub validate: bool,
}

/// One stack to check.
#[derive(Debug, Clone)]
pub struct StackDir {
    /// Stack id (relative path, `/`-separated).
    pub id: String,
    /// Absolute stack directory.
    pub dir: PathBuf,
}

#[derive(Deserialize)]
struct ValidateJson {
    #[serde(default)]
    diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Deserialize)]
struct JsonDiagnostic {
    severity: String,
    summary: String,
    #[serde(default)]
    detail: String,
    range: Option<JsonRange>,
}

#[derive(Deserialize)]
struct JsonRange {
    filename: String,
    start: JsonPos,
    end: JsonPos,
}

#[derive(Deserialize)]
struct JsonPos {
    line: usize,
    column: usize,
}

/// Runs the checks over every stack; results come back in the order of `stacks`.
pub fn run(options: &ValidateOptions, stacks: &[StackDir]) -> Vec<EngineOutcome> {
    let next = AtomicUsize::new(0);
    let init_lock = Mutex::new(());
    let results: Mutex<Vec<Option<EngineOutcome>>> = Mutex::new(vec![None; stacks.len()]);
    let workers = options.parallelism.clamp(1, stacks.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(stack) = stacks.get(i) else { break };
                    let result = check_stack(options, stack, &init_lock);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

fn engine_command(options: &ValidateOptions, stack: &StackDir) -> Command {
    let mut cmd = Command::new(&options.engine);
    cmd.current_dir(&stack.dir)
        .env("TF_DATA_DIR", data_dir(&options.root, &stack.id))
        .env(
            "TF_PLUGIN_CACHE_DIR",
            options.root.join(".plinth/plugin-cache"),
        )
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .stdin(Stdio::null());
    cmd
}

/// The data directory the check uses for a stack.
pub fn data_dir(root: &Path, stack_id: &str) -> PathBuf {
    root.join(".plinth/check").join(stack_id)
}

fn output(mut cmd: Command, what: &str) -> Result<Output, String> {
    cmd.output().map_err(|e| format!("cannot run {what}: {e}"))
}

fn check_stack(
    options: &ValidateOptions,
    stack: &StackDir,
    init_lock: &Mutex<()>,
) -> EngineOutcome {
    let mut result = EngineOutcome {
        stack: stack.id.clone(),
        ..EngineOutcome::default()
    };
    if options.fmt {
        let mut cmd = engine_command(options, stack);
        cmd.args(["fmt", "-check", "-list=true", "-no-color"]);
        match output(cmd, "fmt") {
            // Exit 3 lists unformatted files; exit 2 is a syntax error, which the HCL rules
            // report with a better location, so it is not repeated here.
            Ok(out) => {
                if out.status.code() == Some(3) {
                    result.unformatted = String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| PathBuf::from(l.trim()))
                        .collect();
                }
            }
            Err(e) => {
                result.failure = Some(e);
                return result;
            }
        }
    }
    if !options.validate {
        return result;
    }
    let data = data_dir(&options.root, &stack.id);
    let cache = options.root.join(".plinth/plugin-cache");
    if let Err(e) = std::fs::create_dir_all(&data).and_then(|()| std::fs::create_dir_all(&cache)) {
        result.failure = Some(format!("cannot create {}: {e}", data.display()));
        return result;
    }
    {
        let _serialised = init_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut cmd = engine_command(options, stack);
        cmd.args(["init", "-backend=false", "-input=false", "-no-color"]);
        match output(cmd, "init") {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let mut message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
                if message.is_empty() {
                    message = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                }
                result.failure = Some(format!("init failed: {message}"));
                return result;
            }
            Err(e) => {
                result.failure = Some(e);
                return result;
            }
        }
    }
    let mut cmd = engine_command(options, stack);
    cmd.args(["validate", "-json", "-no-color"]);
    match output(cmd, "validate") {
        Ok(out) => match parse_validate_json(&out.stdout) {
            Ok(diagnostics) => result.diagnostics = diagnostics,
            Err(e) => {
                result.failure = Some(format!(
                    "validate printed no JSON ({e}): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        },
        Err(e) => result.failure = Some(e),
    }
    result
}

/// Parses the output of `validate -json`.
pub fn parse_validate_json(stdout: &[u8]) -> Result<Vec<EngineDiagnostic>, serde_json::Error> {
    let parsed: ValidateJson = serde_json::from_slice(stdout)?;
    Ok(parsed
        .diagnostics
        .into_iter()
        .map(|d| {
            let (file, start, end) = match d.range {
                Some(r) => (
                    Some(PathBuf::from(r.filename)),
                    (r.start.line, r.start.column),
                    (r.end.line, r.end.column),
                ),
                None => (None, (1, 1), (1, 1)),
            };
            EngineDiagnostic {
                severity: d.severity,
                summary: d.summary,
                detail: d.detail,
                file,
                start,
                end,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terraform_on_path() -> bool {
        Command::new("terraform")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn fmt_and_validate_report_what_the_engine_finds() {
        assert!(
            terraform_on_path(),
            "terraform must be on PATH for this test"
        );
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("stacks/good");
        let bad = root.path().join("stacks/bad");
        std::fs::create_dir_all(&good).unwrap();
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(
            good.join("main.tf"),
            "resource \"terraform_data\" \"x\" {\n  input = \"a\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            bad.join("main.tf"),
            "resource \"terraform_data\" \"x\" {\n    input = var.missing\n}\n",
        )
        .unwrap();
        let options = ValidateOptions {
            engine: "terraform".into(),
            root: root.path().to_path_buf(),
            parallelism: 2,
            fmt: true,
            validate: true,
        };
        let stacks = [
            StackDir {
                id: "stacks/good".into(),
                dir: good.clone(),
            },
            StackDir {
                id: "stacks/bad".into(),
                dir: bad.clone(),
            },
        ];
        let results = run(&options, &stacks);
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].stack, "stacks/good");
        assert!(results[0].unformatted.is_empty() && results[0].diagnostics.is_empty());
        assert_eq!(results[0].failure, None);
        assert_eq!(results[1].unformatted, vec![PathBuf::from("main.tf")]);
        let d = &results[1].diagnostics;
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, "error");
        assert_eq!(d[0].file.as_deref(), Some(Path::new("main.tf")));
        assert_eq!(d[0].start.0, 2);
        // The stack directories stay clean: engine state lives under .plinth/check.
        assert!(!bad.join(".terraform").exists());
        assert!(data_dir(root.path(), "stacks/bad").is_dir());
    }

    #[test]
    fn a_missing_engine_is_a_failure_not_a_panic() {
        let root = tempfile::tempdir().unwrap();
        let options = ValidateOptions {
            engine: "/nonexistent/terraform".into(),
            root: root.path().to_path_buf(),
            parallelism: 1,
            fmt: true,
            validate: true,
        };
        let stacks = [StackDir {
            id: "s".into(),
            dir: root.path().to_path_buf(),
        }];
        let results = run(&options, &stacks);
        assert!(
            results[0]
                .failure
                .as_deref()
                .unwrap()
                .contains("cannot run fmt")
        );
    }
}
