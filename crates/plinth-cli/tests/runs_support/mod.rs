//! Helpers of the run tests (`runs_*.rs`): fixture projects of `terraform_data` stacks run by
//! the real `terraform` on PATH, the `--json` report, and the instances' local state files.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Fixture, code, stderr};

/// `plinth.hcl` with a `dev` environment (env `vars`) and a protected `prod`, the real
/// terraform, and per-environment var files `env/<env>.tfvars` in each stack.
pub const PROJECT: &str = r#"plinth {
  project        = "runs"
  engine         = "terraform"
  engine_version = ">= 1.6"
  var_files      = ["env/${env.name}.tfvars"]
}

environment "dev" {
  vars = { region = "dev-region", tier = "vars-dev" }
}

environment "prod" {
  vars      = { region = "prod-region", tier = "vars-prod" }
  protected = true
}
"#;

/// The foundation: declares `region` and `tier` (from env `vars` and var files) and `name`
/// (from `inputs`); its output `vpc_id` echoes all three.
pub const FOUNDATION_TF: &str = r#"variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "tier" {
  type = string
}

resource "terraform_data" "net" {
  input = "${var.name}|${var.region}|${var.tier}"
}

output "vpc_id" {
  value = terraform_data.net.output
}
"#;

/// `stack.hcl` of the foundation.
pub const FOUNDATION_HCL: &str = r#"stack {
  tags = ["foundation"]
}

inputs = {
  name = "net-${env.name}"
}
"#;

/// A dependent stack's code: variable `vpc_id` (wired from the foundation) and `size`
/// (from its own var file, default `none`), echoed by output `seen`.
pub const APP_TF: &str = r#"variable "vpc_id" {
  type = string
}

variable "size" {
  type    = string
  default = "none"
}

resource "terraform_data" "app" {
  input = "${var.vpc_id}/${var.size}"
}

output "seen" {
  value = terraform_data.app.output
}
"#;

/// `stack.hcl` of a dependent of `foundation` with mock outputs.
pub const APP_HCL: &str = r#"dependency "net" {
  stack        = "foundation"
  mock_outputs = { vpc_id = "vpc-mock" }
}

inputs = {
  vpc_id = dependency.net.outputs.vpc_id
}
"#;

/// A project with `foundation` and one dependent `app` (with a dev var file).
pub fn two_stack_project() -> Fixture {
    let fx = Fixture::new();
    fx.write("plinth.hcl", PROJECT)
        .write("foundation/stack.hcl", FOUNDATION_HCL)
        .write("foundation/main.tf", FOUNDATION_TF)
        .write("app/stack.hcl", APP_HCL)
        .write("app/main.tf", APP_TF)
        .write("app/env/dev.tfvars", "size = \"small\"\n");
    fx
}

/// A `plinth -C ROOT --color never ARGS…` command (for spawning).
pub fn plinth_cmd(fx: &Fixture, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.arg("-C")
        .arg(fx.root())
        .args(["--color", "never"])
        .args(args)
        .stdin(Stdio::null());
    cmd
}

/// Runs plinth with stdin closed (never a terminal).
pub fn run(fx: &Fixture, args: &[&str]) -> Output {
    plinth_cmd(fx, args).output().expect("run plinth")
}

/// Starts plinth in the background, stdout and stderr captured.
pub fn spawn(fx: &Fixture, args: &[&str]) -> Child {
    plinth_cmd(fx, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plinth")
}

/// The `--json` run report on stdout; panics (showing stderr) if there is none.
pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// Runs a `--json` run command, asserts its exit code, and returns the report.
pub fn run_json(fx: &Fixture, args: &[&str], expected: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(fx, &all);
    assert_eq!(
        code(&out),
        expected,
        "plinth {all:?}: unexpected exit\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let doc = report(&out);
    check_report_shape(&doc);
    doc
}

/// Asserts the DESIGN.md section 4 shape of a plan/apply/destroy report.
pub fn check_report_shape(doc: &Value) {
    for key in ["run_id", "action", "env", "status"] {
        assert!(doc[key].is_string(), "`{key}` is a string in {doc}");
    }
    for i in doc["instances"]
        .as_array()
        .expect("`instances` is an array")
    {
        assert!(i["stack"].is_string(), "{i}");
        assert!(i["status"].is_string(), "{i}");
        for n in ["add", "change", "destroy", "duration_ms"] {
            assert!(i[n].is_u64(), "`{n}` is a count in {i}");
        }
        assert!(i["preview_only"].is_boolean(), "{i}");
    }
}

/// The report line of `stack`.
pub fn instance<'a>(doc: &'a Value, stack: &str) -> &'a Value {
    doc["instances"]
        .as_array()
        .expect("`instances` is an array")
        .iter()
        .find(|i| i["stack"] == stack)
        .unwrap_or_else(|| panic!("no instance `{stack}` in {doc}"))
}

/// `(stack, status)` of every instance, in report order.
pub fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["instances"]
        .as_array()
        .expect("`instances` is an array")
        .iter()
        .map(|i| {
            (
                i["stack"].as_str().unwrap().to_string(),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The local state file of an instance.
pub fn state_path(fx: &Fixture, env: &str, stack: &str) -> PathBuf {
    fx.root()
        .join(".plinth/state")
        .join(env)
        .join(stack)
        .join("terraform.tfstate")
}

/// The parsed local state of an instance.
pub fn state(fx: &Fixture, env: &str, stack: &str) -> Value {
    let path = state_path(fx, env, stack);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("state is JSON")
}

/// The value of output `name` in an instance's state.
pub fn output(fx: &Fixture, env: &str, stack: &str, name: &str) -> Value {
    state(fx, env, stack)["outputs"][name]["value"].clone()
}

/// How many resource instances an instance's state holds.
pub fn resource_count(fx: &Fixture, env: &str, stack: &str) -> usize {
    state(fx, env, stack)["resources"]
        .as_array()
        .map_or(0, |r| {
            r.iter()
                .map(|r| r["instances"].as_array().unwrap().len())
                .sum()
        })
}

/// Every file under `.plinth/state/` with its bytes, sorted by path (empty if none).
pub fn state_snapshot(fx: &Fixture) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    collect(&fx.root().join(".plinth/state"), &mut files);
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("readable directory").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            let bytes = std::fs::read(&path).expect("readable state file");
            files.push((path, bytes));
        }
    }
}

/// Polls `check` until it returns `Some` or `limit` passes. The fixture's engine run is what
/// the test waits for; this only bounds how long it may take.
pub fn poll<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a spawned plinth and returns its output.
pub fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait for plinth")
}

/// Puts a wrapper of the real terraform at `bin/terraform` in the fixture and makes
/// `plinth.hcl` (which must be `PROJECT`-based) use it: each engine process appends
/// `START END SUBCOMMAND` (seconds) to `bin/calls.log`.
pub fn wrap_engine(fx: &Fixture, project: &str) {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::split_paths(&std::env::var_os("PATH").expect("PATH is set"))
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
        .expect("terraform on PATH");
    fx.write(
        "bin/terraform",
        &format!(
            "#!/usr/bin/env bash\nstart=$EPOCHREALTIME\n'{}' \"$@\"\nrc=$?\n\
             echo \"$start $EPOCHREALTIME ${{1:-}}\" >> \"$(dirname \"$0\")/calls.log\"\nexit $rc\n",
            real.display()
        ),
    );
    let shim = fx.root().join("bin/terraform");
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))
        .expect("make the wrapper executable");
    fx.write(
        "plinth.hcl",
        &project.replace(
            "engine         = \"terraform\"",
            "engine         = \"bin/terraform\"",
        ),
    );
}

/// The engine processes the wrapper saw: `(start, end, subcommand)`.
pub fn engine_calls(fx: &Fixture) -> Vec<(f64, f64, String)> {
    std::fs::read_to_string(fx.root().join("bin/calls.log"))
        .expect("the engine wrapper ran")
        .lines()
        .map(|l| {
            let mut f = l.split_whitespace();
            let mut time = || f.next().expect("a time").parse::<f64>().expect("seconds");
            let (s, e) = (time(), time());
            (s, e, f.next().unwrap_or_default().to_string())
        })
        .collect()
}

/// The most engine processes that were running at the same moment.
pub fn max_overlap(calls: &[(f64, f64, String)]) -> usize {
    let mut edges: Vec<(f64, i32)> = calls
        .iter()
        .flat_map(|(s, e, _)| [(*s, 1), (*e, -1)])
        .collect();
    // Ends sort before starts at the same instant: back-to-back processes do not overlap.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        max = max.max(now);
    }
    max as usize
}
