//! The real `terraform` binary against the real `plinth serve`, on SQLite and PostgreSQL.

mod serve_support;

use std::process::Stdio;

use serve_support::*;

const STACK: &str = "plumbing/network";

fn versions(server: &Server, token: &str) -> Vec<serde_json::Value> {
    let (status, doc) = server.api(token, "GET", &format!("/v1/versions/{PROJECT}/dev/{STACK}"));
    assert_eq!(status, 200, "{doc}");
    doc["versions"].as_array().unwrap().clone()
}

fn init_apply_plan_destroy(db: Db) {
    let admin = db.token("admin", "admin");
    let ci = db.token("ci", "write");
    let server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &ci);
    assert_ok(&stack.apply("one"), "first apply");
    assert_eq!(stack.output_value(), "one");
    let v = versions(&server, &admin);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["serial"], 1);
    assert_eq!(v[0]["created_by"], "ci");

    // No changes: plan exits 0 and nothing new is stored.
    let plan = stack.terraform(&["plan", "-detailed-exitcode", "-var=value=one"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let plan = stack.terraform(&["plan", "-detailed-exitcode", "-var=value=two"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert_eq!(versions(&server, &admin).len(), 1);

    assert_ok(&stack.apply("two"), "second apply");
    assert_eq!(stack.output_value(), "two");
    assert_ok(
        &stack.terraform(&["destroy", "-auto-approve", "-var=value=two"]),
        "destroy",
    );
    let v = versions(&server, &admin);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["current"], true);
    let (_, pulled) = server.api(&admin, "GET", &format!("/v1/pull/{PROJECT}/dev/{STACK}"));
    assert_eq!(pulled["resources"].as_array().unwrap().len(), 0);
    assert_eq!(pulled["serial"], v[0]["serial"]);

    // Every lock was released and recorded.
    let (_, locks) = server.api(&admin, "GET", "/v1/locks");
    assert_eq!(locks["locks"].as_array().unwrap().len(), 0);
    let (status, audit) = server.api(
        &admin,
        "GET",
        &format!("/v1/audit?instance={PROJECT}/dev/{STACK}&limit=1000"),
    );
    assert_eq!(status, 200);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "write").count(), 3);
    assert_eq!(
        actions.iter().filter(|a| **a == "lock").count(),
        actions.iter().filter(|a| **a == "unlock").count()
    );
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "ci")
    );
    // A read-only token cannot even read the audit log.
    let reader = db.token("viewer", "read");
    let (status, _) = server.api(&reader, "GET", "/v1/audit");
    assert_eq!(status, 403);
}

fn concurrent_applies_and_lock_timeout(db: Db) {
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let first = Stack::init(&server, "dev", STACK, &token);
    let second = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&first.apply("one"), "initial apply");

    let blocker = Blocker::new();
    let mut holder = first
        .command(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-var=value=two",
            "-var=slow=true",
        ])
        .envs(blocker.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    blocker.wait_started(&mut holder);

    // Without -lock-timeout the second apply fails at once and names the holder.
    let refused = second.apply("three");
    assert!(!refused.status.success());
    let msg = text(&refused);
    assert!(msg.contains("Error acquiring the state lock"), "{msg}");
    // Terraform prints only the holder's ID from our 409 body (its "Lock Info" block is the
    // requester's own); the holder's details are on the JSON API.
    let (_, locks) = server.api(&token, "GET", "/v1/locks");
    let lock_id = locks["locks"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        msg.contains(&format!("ID={lock_id}")),
        "the refusal names lock {lock_id}: {msg}"
    );
    assert_eq!(locks["locks"][0]["info"]["Operation"], "OperationTypeApply");
    assert_eq!(
        locks["locks"][0]["info"]["Path"],
        format!("{PROJECT}/dev/{STACK}")
    );

    // With -lock-timeout it waits: we see its refused attempts, then release the holder.
    let refused_before = server.counter("LOCK", 409);
    let waiter = second
        .command(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-lock-timeout=120s",
            "-var=value=two",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the waiting apply to be refused once", || {
        server.counter("LOCK", 409) > refused_before
    });
    blocker.release();
    let holder = holder.wait_with_output().unwrap();
    assert_ok(&holder, "the apply holding the lock");
    let waiter = waiter.wait_with_output().unwrap();
    assert_ok(&waiter, "the apply with -lock-timeout");
    assert_eq!(second.output_value(), "two");
}

fn stale_serial_and_foreign_lineage_rejected(db: Db) {
    let admin = db.token("admin", "admin");
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&stack.apply("one"), "apply one");
    let old = stack.terraform(&["state", "pull"]);
    assert_ok(&old, "state pull");
    std::fs::write(stack.path().join("old.tfstate"), &old.stdout).unwrap();
    assert_ok(&stack.apply("two"), "apply two");

    // `-force` skips Terraform's own check, so only the server stands in the way.
    let pushed = stack.terraform(&["state", "push", "-force", "old.tfstate"]);
    assert!(
        !pushed.status.success(),
        "a stale push must fail: {}",
        text(&pushed)
    );
    let mut foreign: serde_json::Value = serde_json::from_slice(&old.stdout).unwrap();
    foreign["lineage"] = "00000000-1111-2222-3333-444444444444".into();
    foreign["serial"] = 99.into();
    std::fs::write(stack.path().join("foreign.tfstate"), foreign.to_string()).unwrap();
    let pushed = stack.terraform(&["state", "push", "-force", "foreign.tfstate"]);
    assert!(
        !pushed.status.success(),
        "a foreign lineage must fail: {}",
        text(&pushed)
    );

    // The server's messages name both sides (Terraform only shows the status code).
    let (status, body) = server.http(
        Some(&token),
        "POST",
        &server.state_url("dev", STACK),
        old.stdout.clone(),
        &[],
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("serial 1") && body.contains("serial 2"),
        "{body}"
    );
    let (status, body) = server.http(
        Some(&token),
        "POST",
        &server.state_url("dev", STACK),
        foreign.to_string().into_bytes(),
        &[],
    );
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("00000000-1111-2222-3333-444444444444"),
        "{body}"
    );

    // Nothing refused was stored: still two versions, the current one is "two".
    assert_eq!(versions(&server, &admin).len(), 2);
    assert_eq!(stack.output_value(), "two");
}

fn rollback_then_apply(db: Db) {
    let admin = db.token("admin", "admin");
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&stack.apply("one"), "apply one");
    assert_ok(&stack.apply("two"), "apply two");

    let plinth_state = |token: &str, args: &[&str]| {
        std::process::Command::new(PLINTH)
            .args(["state"])
            .args(args)
            .args(["--project", PROJECT, "--server", &server.url])
            .env("PLINTH_TOKEN", token)
            .output()
            .unwrap()
    };
    // Write tokens cannot roll back.
    let refused = plinth_state(&token, &["rollback", &format!("dev/{STACK}"), "1"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("admin"), "{}", text(&refused));
    assert_ok(
        &plinth_state(&admin, &["rollback", &format!("dev/{STACK}"), "1"]),
        "rollback",
    );
    assert_eq!(stack.output_value(), "one");

    let listed = plinth_state(&admin, &["versions", &format!("dev/{STACK}")]);
    assert_ok(&listed, "state versions");
    assert!(
        text(&listed).contains("rollback to version 1"),
        "{}",
        text(&listed)
    );
    let pulled = plinth_state(&admin, &["pull", &format!("dev/{STACK}"), "--at", "2"]);
    assert_ok(&pulled, "state pull");
    let doc: serde_json::Value = serde_json::from_slice(&pulled.stdout).unwrap();
    assert_eq!(doc["outputs"]["value"]["value"], "two");

    // Terraform carries on from the rolled-back state: the plan replaces "one" by "three".
    assert_ok(&stack.apply("three"), "apply after rollback");
    assert_eq!(stack.output_value(), "three");
    let v = versions(&server, &admin);
    assert_eq!(v.len(), 4);
    let serials: Vec<i64> = v.iter().map(|v| v["serial"].as_i64().unwrap()).collect();
    assert!(
        serials.windows(2).all(|w| w[0] > w[1]),
        "serials keep increasing: {serials:?}"
    );
}

fn server_killed_mid_apply(db: Db) {
    let admin = db.token("admin", "admin");
    let token = db.token("ci", "write");
    let mut server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&stack.apply("one"), "apply one");
    let (_, before) = server.api(&admin, "GET", &format!("/v1/pull/{PROJECT}/dev/{STACK}"));

    let blocker = Blocker::new();
    let mut apply = stack
        .command(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-var=value=two",
            "-var=slow=true",
        ])
        .envs(blocker.env())
        // Fail fast once the server is gone instead of backing off for half a minute.
        .env("TF_HTTP_RETRY_MAX", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    blocker.wait_started(&mut apply);
    server.kill();
    blocker.release();
    let apply = apply.wait_with_output().unwrap();
    assert!(
        !apply.status.success(),
        "the apply cannot persist without a server"
    );

    let server = Server::start(&db);
    // The last complete version is intact.
    let (status, after) = server.api(&admin, "GET", &format!("/v1/pull/{PROJECT}/dev/{STACK}"));
    assert_eq!(status, 200);
    assert_eq!(after, before);
    assert_eq!(versions(&server, &admin).len(), 1);
    // The lock survived the crash, with its holder, and can be released.
    let (_, locks) = server.api(&admin, "GET", "/v1/locks");
    let locks = locks["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["info"]["Operation"], "OperationTypeApply");
    let lock_id = locks[0]["id"].as_str().unwrap().to_owned();
    stack.reinit(&server, "dev", STACK, &token);
    let blocked = stack.apply("two");
    assert!(!blocked.status.success());
    assert!(text(&blocked).contains(&lock_id), "{}", text(&blocked));
    // Terraform's force-unlock sends an empty body; the token that took the lock may do that.
    let unlocked = stack.terraform(&["force-unlock", "-force", &lock_id]);
    assert_ok(&unlocked, "terraform force-unlock");
    let (_, audit) = server.api(&admin, "GET", "/v1/audit?limit=1");
    assert_eq!(audit["entries"][0]["action"], "force-unlock");
    assert_eq!(audit["entries"][0]["actor"], "ci");
    assert_ok(&stack.apply("two"), "apply after the restart");
    assert_eq!(stack.output_value(), "two");
}

/// The zstd frame magic as it appears at rest: raw bytes in SQLite, hex in a PostgreSQL dump.
/// Bodies that were only compressed would show it; sealed bodies start with a random nonce.
fn zstd_magic_at_rest(db: &Db) -> Vec<u8> {
    match db.pg {
        Some(_) => b"28b52ffd".to_vec(),
        None => vec![0x28, 0xB5, 0x2F, 0xFD],
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn state_is_encrypted_at_rest(db: Db) {
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    let needle = "needle-7c1d5e0f3a";
    assert_ok(&stack.apply(needle), "apply");
    assert_eq!(stack.output_value(), needle);
    drop(server);
    let raw = db.raw_bytes();
    assert!(raw.len() > 1000, "the database dump has content");
    for secret in [needle.as_bytes(), b"terraform_data", b"\"lineage\""] {
        assert!(
            !contains(&raw, secret),
            "{} found in the database",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(
        !contains(&raw, &zstd_magic_at_rest(&db)),
        "an unsealed body is stored"
    );
}

/// The control for the test above: without a key the same check does find bodies.
fn plaintext_mode_is_detectable(db: Db) {
    let token = db.token("ci", "write");
    let mut server = Server::start_plaintext(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&stack.apply("visible"), "apply");
    server.kill();
    assert!(contains(&db.raw_bytes(), &zstd_magic_at_rest(&db)));
    // A database holding plaintext versions can later be given a key; old versions stay
    // readable and new ones are sealed.
    let server = Server::start(&db);
    stack.reinit(&server, "dev", STACK, &token);
    assert_eq!(stack.output_value(), "visible");
    assert_ok(&stack.apply("sealed"), "apply with a key");
    assert_eq!(stack.output_value(), "sealed");
}

fn state_commands_report_locks_with_exit_codes(db: Db) {
    let admin = db.token("admin", "admin");
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let stack = Stack::init(&server, "dev", STACK, &token);
    assert_ok(&stack.apply("one"), "apply one");
    assert_ok(&stack.apply("two"), "apply two");
    let lock = br#"{"ID":"held-by-test","Operation":"OperationTypeApply","Who":"ops@host","Created":"2026-11-22T00:00:00Z"}"#;
    let (status, _) = server.http(
        Some(&token),
        "LOCK",
        &server.state_url("dev", STACK),
        lock.to_vec(),
        &[],
    );
    assert_eq!(status, 200);
    let plinth_state = |token: &str, args: &[&str]| {
        std::process::Command::new(PLINTH)
            .arg("state")
            .args(args)
            .args(["--project", PROJECT, "--server", &server.url])
            .env("PLINTH_TOKEN", token)
            .output()
            .unwrap()
    };
    // Rolling back a locked instance is blocked (exit 3) and says who holds it.
    let blocked = plinth_state(&admin, &["rollback", &format!("dev/{STACK}"), "1"]);
    assert_eq!(blocked.status.code(), Some(3), "{}", text(&blocked));
    assert!(text(&blocked).contains("ops@host"), "{}", text(&blocked));
    let locks = plinth_state(&token, &["locks", "--json"]);
    assert_ok(&locks, "state locks");
    let doc: serde_json::Value = serde_json::from_slice(&locks.stdout).unwrap();
    assert_eq!(doc["locks"][0]["id"], "held-by-test");
    assert_eq!(doc["locks"][0]["token"], "ci");
    // Force-unlock through the API needs admin scope.
    let refused = plinth_state(&token, &["unlock", &format!("dev/{STACK}")]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let stale = plinth_state(
        &admin,
        &["unlock", &format!("dev/{STACK}"), "--id", "other"],
    );
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale));
    assert_ok(
        &plinth_state(
            &admin,
            &["unlock", &format!("dev/{STACK}"), "--id", "held-by-test"],
        ),
        "unlock",
    );
    assert_ok(
        &plinth_state(&admin, &["rollback", &format!("dev/{STACK}"), "1"]),
        "rollback",
    );
    assert_eq!(stack.output_value(), "one");
    // An unknown instance is a clear failure, not an empty table.
    let missing = plinth_state(&token, &["versions", "dev/nowhere"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("no state is stored"),
        "{}",
        text(&missing)
    );
}

/// The whole loop: `state { backend = "plinth" }` in the example project makes `plinth apply`
/// keep every instance's state on the server, dependencies reading their upstream through it.
fn plinth_apply_keeps_every_instance_on_the_server(db: Db) {
    let token = db.token("ci", "write");
    let server = Server::start(&db);
    let project = tempfile::tempdir().unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(format!("{examples}/."))
        .arg(project.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let _ = std::fs::remove_dir_all(project.path().join(".plinth"));
    let hcl = project.path().join("plinth.hcl");
    let config = std::fs::read_to_string(&hcl).unwrap();
    let local = "state {\n  backend = \"local\"\n}";
    assert!(
        config.contains(local),
        "the example's state block changed; update this test"
    );
    let remote = format!(
        "state {{\n  backend = \"plinth\"\n  url     = \"{}\"\n}}",
        server.url
    );
    std::fs::write(&hcl, config.replace(local, &remote)).unwrap();

    let plinth = |args: &[&str]| {
        std::process::Command::new(PLINTH)
            .arg("-C")
            .arg(project.path())
            .args(args)
            .env("PLINTH_TOKEN", &token)
            .env("PLINTH_SERVER", &server.url)
            .output()
            .unwrap()
    };
    assert_ok(
        &plinth(&["apply", "dev", "--auto-approve"]),
        "plinth apply dev",
    );
    let (_, listed) = server.api(&token, "GET", "/v1/locks");
    assert_eq!(
        listed["locks"].as_array().unwrap().len(),
        0,
        "every lock released"
    );
    for stack in ["infra/plumbing/network", "services/edge-api", "envs/dev"] {
        let (status, doc) = server.api(
            &token,
            "GET",
            &format!("/v1/versions/{PROJECT}/dev/{stack}"),
        );
        assert_eq!(status, 200, "{stack}: {doc}");
        assert_eq!(doc["versions"].as_array().unwrap().len(), 1, "{stack}");
        assert_eq!(doc["versions"][0]["created_by"], "ci");
    }
    // Nothing left locally: the state lives on the server only.
    assert!(!project.path().join(".plinth/state").exists());
    // The project name comes from plinth.hcl when --project is not given.
    let versions = plinth(&["state", "versions", "dev/infra/plumbing/network"]);
    assert_ok(&versions, "plinth state versions");
    assert!(text(&versions).contains(" ci "), "{}", text(&versions));
    let plan = plinth(&["plan", "dev", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "no changes after apply: {}",
        text(&plan)
    );
}

on_sqlite_and_postgres!(
    plinth_apply_keeps_every_instance_on_the_server,
    state_commands_report_locks_with_exit_codes,
    init_apply_plan_destroy,
    concurrent_applies_and_lock_timeout,
    stale_serial_and_foreign_lineage_rejected,
    rollback_then_apply,
    server_killed_mid_apply,
    state_is_encrypted_at_rest,
    plaintext_mode_is_detectable,
);
