//! Runs with `state { backend = "plinth" }`: plinth generates the http backend configuration
//! for each instance, the real `terraform` keeps state in a real `plinth serve`, and upstream
//! outputs are read back from the server for the dependent's inputs.

mod serve_support;

use std::process::Command;

use serde_json::Value;
use serve_support::{Db, PLINTH, PROJECT, Server};

fn write(root: &std::path::Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn project(root: &std::path::Path, server: &Server) {
    write(
        root,
        "plinth.hcl",
        &format!(
            "plinth {{\n  project = \"{PROJECT}\"\n}}\nstate {{\n  backend = \"plinth\"\n  url     = \"{}\"\n}}\nenvironment \"dev\" {{}}\nenvironment \"prod\" {{}}\n",
            server.url
        ),
    );
    write(
        root,
        "network/stack.hcl",
        "stack {\n  description = \"foundation\"\n}\ninputs = {\n  env_name = env.name\n}\n",
    );
    write(
        root,
        "network/main.tf",
        "variable \"env_name\" {\n  type = string\n}\nresource \"terraform_data\" \"vpc\" {\n  input = \"vpc-${var.env_name}\"\n}\noutput \"vpc_id\" {\n  value = terraform_data.vpc.output\n}\n",
    );
    write(
        root,
        "app/stack.hcl",
        "dependency \"network\" {\n  stack = \"../network\"\n}\ninputs = {\n  vpc_id = dependency.network.outputs.vpc_id\n}\n",
    );
    write(
        root,
        "app/main.tf",
        "variable \"vpc_id\" {\n  type = string\n}\nresource \"terraform_data\" \"app\" {\n  input = var.vpc_id\n}\noutput \"placed_in\" {\n  value = terraform_data.app.output\n}\n",
    );
}

fn plinth(root: &std::path::Path, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(PLINTH)
        .arg("-C")
        .arg(root)
        .args(args)
        .env("PLINTH_TOKEN", token)
        .output()
        .unwrap()
}

#[test]
fn apply_keeps_state_on_the_server_and_wires_outputs_through_it() {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let token = db.token("ci", "write");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    project(root, &server);

    for env in ["dev", "prod"] {
        let out = plinth(root, &token, &["apply", env, "--auto-approve", "--json"]);
        assert!(
            out.status.success(),
            "apply {env}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["status"], "succeeded", "{report}");
    }

    // No local state: everything went to the server, one state per instance.
    assert!(!root.join(".plinth/state").exists());
    for env in ["dev", "prod"] {
        for stack in ["network", "app"] {
            let (status, body) = server.api(
                &token,
                "GET",
                &format!("/v1/versions/{PROJECT}/{env}/{stack}"),
            );
            assert_eq!(status, 200, "{env}/{stack}: {body}");
            assert_eq!(
                body["versions"].as_array().map(Vec::len),
                Some(1),
                "{env}/{stack}: {body}"
            );
        }
    }

    // The dependent received the foundation's output of its own environment.
    let out = plinth(root, &token, &["output", "prod", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs["network"]["vpc_id"], "vpc-prod");
    assert_eq!(outputs["app"]["placed_in"], "vpc-prod");

    // A re-plan reads the same states back and finds nothing to do.
    let out = plinth(
        root,
        &token,
        &["plan", "dev", "--json", "--detailed-exitcode"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
