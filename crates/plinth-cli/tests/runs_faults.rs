//! Fault injection with the real terraform: plinth killed with SIGKILL at several moments of
//! an apply, and interrupted with SIGINT. The engines it started finish on their own (their
//! output goes to a file, not a pipe that dies with plinth), no state is ever left empty, the
//! environment lock lasts until the last engine exits, and a re-run converges.
//!
//! Each stack's provisioner announces itself with a marker file and waits (bounded) for a go
//! file the test writes, so the test knows exactly where the apply is without sleeping.

mod runs_support;
mod support;

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use runs_support::*;
use support::{Fixture, code, stderr};

/// A stack whose apply waits inside a provisioner for `go-NAME` after writing `started-NAME`.
fn gated_tf(name: &str, extra_vars: &str, input: &str) -> String {
    format!(
        r#"{extra_vars}
resource "terraform_data" "r" {{
  input = {input}

  provisioner "local-exec" {{
    command = "touch ../started-{name}; i=0; while [ ! -f ../go-{name} ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done"
  }}
}}

output "value" {{
  value = terraform_data.r.output
}}
"#
    )
}

fn gated_project() -> Fixture {
    let fx = Fixture::new();
    fx.write("plinth.hcl", "environment \"dev\" {}\n")
        .write("net/stack.hcl", "")
        .write("net/main.tf", &gated_tf("net", "", "\"net\""))
        .write(
            "app/stack.hcl",
            "dependency \"net\" {\n  stack = \"net\"\n}\n\ninputs = {\n  upstream = dependency.net.outputs.value\n}\n",
        )
        .write(
            "app/main.tf",
            &gated_tf(
                "app",
                "variable \"upstream\" {\n  type = string\n}\n",
                "\"${var.upstream}/app\"",
            ),
        );
    fx
}

fn lock_is_held(fx: &Fixture) -> bool {
    let Ok(file) = File::open(fx.root().join(".plinth/locks/dev.lock")) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

fn no_empty_state(fx: &Fixture) {
    let dir = fx.root().join(".plinth/state");
    for (path, bytes) in state_snapshot(fx) {
        assert!(
            !bytes.is_empty(),
            "{} is empty after the kill",
            path.display()
        );
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("{} is not a state: {e}", path.display()));
        assert!(path.starts_with(&dir) || path.is_relative());
    }
}

fn wait_for(path: &Path) {
    poll(
        &format!("{} to appear", path.display()),
        Duration::from_secs(60),
        || path.exists().then_some(()),
    );
}

/// SIGKILL of plinth while the foundation applies, and again while its dependent applies.
#[test]
fn sigkill_leaves_engines_finishing_under_the_lock_and_a_rerun_converges() {
    for victim in ["net", "app"] {
        let fx = gated_project();
        if victim == "app" {
            fx.write("go-net", "");
        }
        let mut child = spawn(&fx, &["apply", "dev", "--auto-approve"]);
        wait_for(&fx.root().join(format!("started-{victim}")));
        child.kill().expect("SIGKILL plinth");
        let _ = child.wait();

        // The orphaned engine still runs and still holds the environment lock.
        assert!(lock_is_held(&fx), "{victim}: the engine holds the lock");
        let out = run(&fx, &["apply", "dev", "--auto-approve"]);
        assert_eq!(code(&out), 3, "{victim}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("is locked") && err.contains("engines it started still run"),
            "{victim}: {err}"
        );

        // Let it finish: it completes its apply and writes a whole state, then the lock goes.
        fx.write(&format!("go-{victim}"), "");
        poll("the lock to be released", Duration::from_secs(60), || {
            (!lock_is_held(&fx)).then_some(())
        });
        no_empty_state(&fx);
        assert_eq!(
            resource_count(&fx, "dev", victim),
            1,
            "{victim}: the orphan finished its apply"
        );

        fx.write("go-net", "").write("go-app", "");
        let out = run(&fx, &["apply", "dev", "--auto-approve", "--json"]);
        assert_eq!(code(&out), 0, "{victim}: {}", stderr(&out));
        assert_eq!(output(&fx, "dev", "app", "value"), "net/app");
        let leftovers: Vec<_> = walk(&fx.root().join(".plinth"))
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "engine-output.raw"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{victim}: raw output left: {leftovers:?}"
        );
    }
}

/// SIGINT: one interrupt reaches the running engine, nothing new starts, the run is recorded
/// as interrupted and plinth exits 130.
#[test]
fn sigint_stops_the_run_once_and_records_it_interrupted() {
    let fx = gated_project();
    let child = spawn(&fx, &["apply", "dev", "--auto-approve", "--json"]);
    wait_for(&fx.root().join("started-net"));
    // SAFETY: signalling a child process this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = finish(child);
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    let doc = report(&out);
    assert_eq!(doc["status"], "interrupted");
    assert_eq!(instance(&doc, "app")["status"], "skipped");
    assert!(
        !fx.root().join("started-app").exists(),
        "nothing started after the interrupt"
    );
    let log = std::fs::read_to_string(
        fx.root()
            .join(".plinth/runs")
            .join(doc["run_id"].as_str().unwrap())
            .join("net/engine.log"),
    )
    .unwrap();
    assert_eq!(
        log.matches("Interrupt received").count(),
        1,
        "the engine got exactly one interrupt: {log}"
    );
    no_empty_state(&fx);
    let runs = run(&fx, &["runs", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs["runs"][0]["status"], "interrupted", "{runs}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
