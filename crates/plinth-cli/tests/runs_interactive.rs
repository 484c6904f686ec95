//! `plinth apply ENV` without `--plan` or `--auto-approve` on a terminal: it plans, shows the
//! summary and asks. The terminal is a real pseudo-terminal from util-linux `script`.

mod runs_support;
mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use runs_support::*;
use support::{Fixture, code};

/// Runs `plinth -C ROOT --color never ARGS…` on a pseudo-terminal, typing `answer`.
fn on_terminal(fx: &Fixture, args: &str, answer: &str) -> (Output, String) {
    let line = format!(
        "'{}' -C '{}' --color never {args}",
        env!("CARGO_BIN_EXE_plinth"),
        fx.root().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

/// An SGR (colour or bold) escape sequence, which `--color never` must not print.
fn has_sgr(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|seq| {
        seq.strip_prefix('[').is_some_and(|rest| {
            let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'));
            end.is_some_and(|i| rest[i..].starts_with('m'))
        })
    })
}

#[test]
fn apply_on_a_terminal_asks_and_applies_only_on_yes() {
    let fx = two_stack_project();
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );

    let (out, text) = on_terminal(&fx, "apply dev", "no\n");
    assert_eq!(code(&out), 3, "{text}");
    assert!(text.contains("Only 'yes' will be accepted"), "{text}");
    assert!(
        text.contains("Apply cancelled; the plans are kept as run"),
        "{text}"
    );
    assert!(!state_path(&fx, "dev", "app").exists(), "nothing applied");
    assert!(has_sgr("\u{1b}[1mdev\u{1b}[0m") && !has_sgr("\u{1b}[2K\u{1b}[1A"));
    assert!(
        text.contains("\u{1b}[2K"),
        "the live view ran on the terminal"
    );
    assert!(!has_sgr(&text), "--color never: {text:?}");

    let (out, text) = on_terminal(&fx, "apply dev", "yes\n");
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("apply dev: "), "{text}");
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net-dev|dev-region|vars-dev/small"
    );
}

/// With preview-only plans a yes could only be refused, so plinth does not ask.
#[test]
fn apply_on_a_terminal_does_not_ask_about_preview_only_plans() {
    let fx = two_stack_project();
    let (out, text) = on_terminal(&fx, "apply dev", "yes\n");
    assert_eq!(code(&out), 3, "{text}");
    assert!(!text.contains("Only 'yes'"), "{text}");
    assert!(
        text.contains("dev/app: preview only (made with mock outputs)")
            && text.contains("--auto-approve")
            && text.contains("not asking"),
        "{text}"
    );
    assert!(state_snapshot(&fx).is_empty());
}

/// On a terminal, an apply whose upstream changed what a dependent read plans the rest again,
/// shows it and asks once more: a foundation change lands in one command.
#[test]
fn apply_on_a_terminal_plans_the_rest_again_and_asks() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    fx.write(
        "foundation/stack.hcl",
        &FOUNDATION_HCL.replace("net-${env.name}", "net2-${env.name}"),
    );
    let (out, text) = on_terminal(&fx, "apply dev", "yes\nyes\n");
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("planning dev/app again"),
        "it says why it plans again: {text}"
    );
    assert_eq!(
        text.matches("Only 'yes' will be accepted").count(),
        2,
        "asked once per plan: {text}"
    );
    assert_eq!(
        output(&fx, "dev", "app", "seen"),
        "net2-dev|dev-region|vars-dev/small"
    );
}
