//! Runs on a remote state backend: `state { backend = "pg" }` on a private PostgreSQL, with
//! the real terraform. Each instance gets its own state (a workspace named after its key),
//! and dependents read upstream outputs with one `state pull` per upstream.

mod runs_support;
mod serve_support;
mod support;

use plinth_state::test_support::TempPostgres;
use runs_support::*;
use support::{Fixture, code, stderr};

fn pg_project(conn: &str) -> Fixture {
    let fx = two_stack_project();
    let project = format!(
        "{PROJECT}\nstate {{\n  backend = \"pg\"\n  config  = {{ conn_str = \"{conn}?sslmode=disable\" }}\n}}\n"
    );
    wrap_engine(&fx, &project);
    fx
}

#[test]
fn pg_backend_keeps_one_state_per_instance_and_wires_outputs() {
    let pg = TempPostgres::start();
    let conn = pg.create_database("tfstate");
    let fx = pg_project(&conn);

    let dev = run_json(&fx, &["apply", "dev", "--auto-approve"], 0);
    assert_eq!(dev["status"], "succeeded");
    run_json(&fx, &["apply", "prod", "--auto-approve"], 0);
    assert!(
        state_snapshot(&fx).is_empty(),
        "no local state with a remote backend"
    );

    // One workspace per instance in the database.
    let dump = String::from_utf8_lossy(&pg.dump("tfstate")).into_owned();
    for ws in [
        "runs__dev__foundation",
        "runs__dev__app",
        "runs__prod__foundation",
        "runs__prod__app",
    ] {
        assert!(dump.contains(ws), "workspace {ws} in:\n{dump}");
    }

    // A re-plan: nothing to change, init skipped, and each state pulled once in the run
    // (the foundation's serves both its own plan and app's inputs); never `output`.
    let before = engine_calls(&fx).len();
    let again = run_json(&fx, &["plan", "dev"], 0);
    assert!(
        statuses(&again).iter().all(|(_, s)| s == "unchanged"),
        "{again}"
    );
    let mut calls: Vec<String> = engine_calls(&fx)[before..]
        .iter()
        .map(|c| c.2.clone())
        .collect();
    calls.sort();
    assert_eq!(calls, ["plan", "plan", "state", "state", "version"]);

    // A saved plan whose upstream moved on is refused against the remote state too.
    fx.write("app/env/dev.tfvars", "size = \"medium\"\n");
    let plan = run_json(&fx, &["plan", "dev", "--stack", "app"], 0);
    fx.write("foundation/env/dev.tfvars", "tier = \"file-dev\"\n");
    run_json(
        &fx,
        &["apply", "dev", "--stack", "foundation", "--auto-approve"],
        0,
    );
    let out = run(
        &fx,
        &["apply", "dev", "--plan", plan["run_id"].as_str().unwrap()],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stale: upstream output foundation.vpc_id"),
        "{}",
        stderr(&out)
    );

    let out = run(&fx, &["output", "prod", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        outputs["app"]["seen"], "net-prod|prod-region|vars-prod/none",
        "{outputs}"
    );
}

/// A `key` that does not tell instances apart is refused before any engine runs.
#[test]
fn a_state_key_shared_by_instances_is_a_configuration_error() {
    let fx = two_stack_project();
    let with_key = |key: &str| {
        format!(
            "{PROJECT}\nstate {{\n  backend = \"pg\"\n  key     = \"{key}\"\n  config  = {{ conn_str = \"postgres://127.0.0.1:9/none\" }}\n}}\n"
        )
    };
    for (key, needs, who) in [
        (
            "${project}/${env.name}",
            "`${stack.id}`",
            "the stacks of an environment",
        ),
        (
            "${project}/${stack.id}",
            "`${env.name}`",
            "the environments of a stack",
        ),
        (
            "${project}",
            "`${env.name}` and `${stack.id}`",
            "every instance of every environment",
        ),
    ] {
        fx.write("plinth.hcl", &with_key(key));
        let out = run(&fx, &["apply", "dev", "--auto-approve"]);
        assert_eq!(code(&out), 64, "{key}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("gives {who} one shared state"))
                && err.contains(&format!("use {needs}"))
                && err.contains("plinth.hcl:"),
            "{key}: {err}"
        );
    }
    assert!(!fx.root().join(".plinth/work").exists(), "no engine ran");

    // Distinct per instance through the backend config instead of the key: accepted (the
    // run then fails on the unreachable database, not on the preflight).
    fx.write(
        "plinth.hcl",
        &format!(
            "{PROJECT}\nstate {{\n  backend = \"pg\"\n  key     = \"all\"\n  config  = {{ conn_str = \"postgres://127.0.0.1:9/${{env.name}}\", schema_name = \"s_${{stack.id}}\" }}\n}}\n"
        ),
    );
    let out = run(&fx, &["plan", "dev", "--stack", "foundation", "--json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(report(&out)["instances"][0]["status"], "failed");
}

/// Independent stacks initialise their workspaces at the same time on a fresh database.
#[test]
fn pg_backend_independent_stacks_start_together_on_a_fresh_database() {
    let pg = TempPostgres::start();
    let conn = pg.create_database("fresh");
    let fx = Fixture::new();
    for name in ["a", "b", "c", "d"] {
        fx.write(&format!("{name}/stack.hcl"), "stack {}\n").write(
            &format!("{name}/main.tf"),
            &format!("resource \"terraform_data\" \"r\" {{\n  input = \"{name}\"\n}}\n"),
        );
    }
    fx.write(
        "plinth.hcl",
        &format!(
            "{PROJECT}\nstate {{\n  backend = \"pg\"\n  config  = {{ conn_str = \"{conn}?sslmode=disable\" }}\n}}\n"
        ),
    );
    let doc = run_json(&fx, &["apply", "dev", "--auto-approve", "-j", "4"], 0);
    assert_eq!(doc["status"], "succeeded", "{doc}");
    let dump = String::from_utf8_lossy(&pg.dump("fresh")).into_owned();
    for name in ["a", "b", "c", "d"] {
        assert!(dump.contains(&format!("runs__dev__{name}")), "{dump}");
    }
}

/// `backend = "plinth"`: every instance's state on a real `plinth serve` (SQLite), with the
/// token from `PLINTH_TOKEN`; dependents get upstream outputs through `state pull`.
#[test]
fn plinth_backend_stores_each_instance_on_the_server() {
    let db = serve_support::Db::sqlite();
    let server = serve_support::Server::start(&db);
    let token = db.token("ci", "write");
    let fx = two_stack_project();
    fx.write(
        "plinth.hcl",
        &format!(
            "{PROJECT}\nstate {{\n  backend = \"plinth\"\n  url     = \"{}\"\n}}\n",
            server.url
        ),
    );

    let out = plinth_cmd(&fx, &["apply", "dev", "--auto-approve", "--json"])
        .env("PLINTH_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}\n{}", stderr(&out), server.log());
    assert_eq!(report(&out)["status"], "succeeded");
    assert!(state_snapshot(&fx).is_empty(), "no local state");

    let out = plinth_cmd(&fx, &["output", "dev", "--format", "json"])
        .env("PLINTH_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs["app"]["seen"], "net-dev|dev-region|vars-dev/small");

    // Without the token the server refuses, and the run says so.
    let out = run(&fx, &["plan", "prod", "--json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc = report(&out);
    assert_eq!(instance(&doc, "foundation")["status"], "failed");
    assert_eq!(instance(&doc, "app")["status"], "skipped");
}
