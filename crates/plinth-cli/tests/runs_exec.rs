//! `plinth exec ENV -- ARGS`: engine commands in each instance's context, with the real
//! terraform: the instance's backend (its own state), its generated variables, and the worst
//! exit code.

mod runs_support;
mod support;

use runs_support::*;
use support::{code, stderr, stdout};

#[test]
fn state_commands_run_against_each_instances_own_state() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let out = run(&fx, &["exec", "dev", "--", "state", "list"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let listed = stdout(&out);
    assert!(
        err.contains("── dev/foundation ──") && err.contains("── dev/app ──"),
        "a header per instance: {err}"
    );
    assert!(
        err.find("dev/foundation").unwrap() < err.find("dev/app").unwrap(),
        "graph order: {err}"
    );
    assert_eq!(listed.matches("terraform_data.net").count(), 1, "{listed}");
    assert_eq!(listed.matches("terraform_data.app").count(), 1, "{listed}");

    // `state rm` in one instance's context touches only its state.
    let out = run(
        &fx,
        &[
            "exec",
            "dev",
            "--stack",
            "app",
            "--",
            "state",
            "rm",
            "terraform_data.app",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(resource_count(&fx, "dev", "app"), 0);
    assert_eq!(resource_count(&fx, "dev", "foundation"), 1);
}

#[test]
fn commands_that_take_variables_get_the_instances_inputs_and_the_worst_exit_wins() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    // `console` reads the generated var file: the wired input and the stack's var file.
    let out = with_stdin(
        plinth_cmd(&fx, &["exec", "dev", "--stack", "app", "--", "console"]),
        "\"${var.vpc_id}/${var.size}\"\n",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("net-dev|dev-region|vars-dev/small"),
        "{}",
        stdout(&out)
    );
    // An engine command that fails in one instance: its exit code is plinth's.
    let out = run(
        &fx,
        &["exec", "dev", "--", "state", "show", "terraform_data.app"],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dev/foundation: exit 1"),
        "{}",
        stderr(&out)
    );
}

/// Runs `cmd` with `input` on its stdin.
fn with_stdin(mut cmd: std::process::Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plinth");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
