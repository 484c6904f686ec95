//! `plinth drift` with the real terraform: in sync after an apply; a state changed out of
//! band shows as drifted with its counts (exit 2); a failing instance is failed; results
//! are recorded and `ls` shows them.

mod runs_support;
mod support;

use runs_support::*;
use support::{code, stderr};

fn drift(fx: &support::Fixture, expected: i32) -> serde_json::Value {
    let out = run(fx, &["drift", "dev", "--json"]);
    assert_eq!(code(&out), expected, "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn status<'a>(doc: &'a serde_json::Value, stack: &str) -> &'a serde_json::Value {
    doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["stack"] == stack)
        .unwrap()
}

#[test]
fn in_sync_then_drifted_then_failed_and_recorded() {
    let fx = two_stack_project();
    run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    let doc = drift(&fx, 0);
    assert_eq!(status(&doc, "foundation")["status"], "in-sync");
    assert_eq!(status(&doc, "app")["status"], "in-sync");
    let runs_dir = fx
        .root()
        .join(".plinth/runs")
        .join(doc["run_id"].as_str().unwrap());
    assert!(
        !runs_dir.join("foundation/plan.tfplan").exists(),
        "a drift check saves no plan"
    );

    // Out of band: the app's resource disappears from its state (as if deleted by hand).
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
    let doc = drift(&fx, 2);
    let app = status(&doc, "app");
    assert_eq!(app["status"], "drifted");
    assert_eq!(app["add"], 1);
    assert_eq!(status(&doc, "foundation")["status"], "in-sync");

    // ls shows each instance's last drift result.
    let out = run(&fx, &["ls", "dev", "--json"]);
    let ls: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let app = ls["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["stack"] == "app")
        .unwrap();
    assert_eq!(app["drift"]["status"], "drifted");
    assert_eq!(app["drift"]["add"], 1);
    let text = support::stdout(&run(&fx, &["ls", "dev"]));
    assert!(text.contains("drifted"), "{text}");

    // A failing instance is failed, not in sync.
    fx.write(
        "foundation/broken.tf",
        "resource \"terraform_data\" \"b\" {\n  input = var.nope\n}\n",
    );
    let doc = drift(&fx, 2);
    assert_eq!(status(&doc, "foundation")["status"], "failed");
    let out = run(&fx, &["runs", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs["runs"][0]["action"], "drift");
}
