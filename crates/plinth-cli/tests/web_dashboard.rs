//! The dashboard in a real browser: Debian's headless Chromium, driven over the DevTools
//! protocol, against the real `plinth serve` whose state and history real `plinth apply` runs
//! (the real `terraform`, `backend = "plinth"`) populated. Each test saves screenshots under
//! `target/screenshots/` and asserts on the DOM.

mod serve_support;
mod web_support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use serve_support::{Db, PLINTH, PROJECT, Server, wait_until};
use web_support::Browser;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Two stacks (a foundation and a dependent) in dev and prod, state on `server`.
fn project(root: &Path, server: &Server) {
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
        "variable \"vpc_id\" {\n  type = string\n}\nresource \"terraform_data\" \"app\" {\n  input = var.vpc_id\n}\n",
    );
}

fn plinth(root: &Path, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(PLINTH)
        .arg("-C")
        .arg(root)
        .args(args)
        .env("PLINTH_TOKEN", token)
        .output()
        .unwrap()
}

fn apply(root: &Path, token: &str, env: &str) -> String {
    let out = plinth(root, token, &["apply", env, "--auto-approve", "--json"]);
    assert!(
        out.status.success(),
        "apply {env}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "succeeded", "{report}");
    report["run_id"].as_str().unwrap().to_owned()
}

fn post_json(server: &Server, token: &str, path: &str, body: &Value) -> (u16, String) {
    let (status, body) = server.http(
        Some(token),
        "POST",
        &format!("{}{path}", server.url),
        body.to_string().into_bytes(),
        &[("Content-Type", "application/json")],
    );
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The engine logs plinth kept for `run_id`, by stack.
fn engine_logs(root: &Path, run_id: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n == "engine.log") {
                out.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root.join(".plinth"), &mut found);
    found
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(run_id))
        .filter_map(|p| {
            let stack = p.parent()?.file_name()?.to_string_lossy().into_owned();
            Some((stack, std::fs::read_to_string(&p).ok()?))
        })
        .collect()
}

/// Makes sure the server has the CLI's run: a CLI that reports its runs itself already sent
/// it; otherwise the test sends the CLI's own record (`plinth runs ID --json`, with its engine
/// logs) through the same `POST /v1/runs`.
fn ensure_reported(server: &Server, root: &Path, token: &str, run_id: &str) {
    let (status, _) = server.api(token, "GET", &format!("/v1/runs/{run_id}"));
    if status == 200 {
        return;
    }
    let out = plinth(root, token, &["runs", run_id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &record["run"];
    let logs = engine_logs(root, run_id);
    let instances: Vec<Value> = record["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let stack = i["stack"].as_str().unwrap();
            let log = logs
                .iter()
                .find(|(s, _)| s == stack.rsplit('/').next().unwrap())
                .map(|(_, l)| l.clone());
            json!({
                "stack": stack, "status": i["status"], "add": i["add"], "change": i["change"],
                "destroy": i["destroy"], "duration_ms": i["duration_ms"], "log": log,
            })
        })
        .collect();
    let report = json!({
        "run_id": run_id, "project": PROJECT, "action": run["action"], "env": run["env"],
        "status": run["status"], "who": run["who"], "commit": run["commit"], "source": "cli",
        "started_at": run["started_at"], "finished_at": run["finished_at"],
        "instances": instances,
    });
    let (status, body) = post_json(server, token, "/v1/runs", &report);
    assert_eq!(status, 200, "POST /v1/runs: {body}\n{report}");
}

/// Every dashboard page, for the "nothing without a session" checks.
const PAGES: &[&str] = &[
    "/",
    "/runs",
    "/runs/20260101-000000-abcdef",
    "/runs/20260101-000000-abcdef/progress",
    "/pulls",
    "/locks",
    "/copies",
    "/instances/atropos/dev/network",
];

#[test]
fn the_dashboard_shows_what_real_runs_did() {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let writer = db.token("ci", "write");
    let reader = db.token("viewer", "read");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    project(root, &server);
    // A git repository, so the runs record the commit they applied.
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "infra",
        ],
    ] {
        let out = Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    let dev_run = apply(root, &writer, "dev");
    let prod_run = apply(root, &writer, "prod");
    ensure_reported(&server, root, &writer, &dev_run);
    ensure_reported(&server, root, &writer, &prod_run);
    // A drift check just now that found prod's network changed out of band, and a held lock.
    let now = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    let now = String::from_utf8(now.stdout).unwrap().trim().to_owned();
    let drift = json!({"run_id": "20260101-000000-drift1", "project": PROJECT, "action": "drift",
        "env": "prod", "status": "succeeded", "source": "server", "who": "plinth-server",
        "started_at": now, "finished_at": now,
        "instances": [{"stack": "network", "status": "drifted", "change": 1},
                      {"stack": "app", "status": "in-sync"}]});
    let (status, body) = post_json(&server, &writer, "/v1/runs", &drift);
    assert_eq!(status, 200, "{body}");
    let lock =
        json!({"ID": "0b6f-lock", "Operation": "OperationTypeApply", "Who": "sre@oncall-laptop"});
    let (status, _) = server.http(
        Some(&writer),
        "LOCK",
        &server.state_url("prod", "app"),
        lock.to_string().into_bytes(),
        &[],
    );
    assert_eq!(status, 200);

    let mut browser = Browser::launch();
    let base = server.url.clone();

    // Nothing but the sign-in page without a session: pages redirect, posts get 401.
    for page in PAGES {
        browser.goto(&format!("{base}{page}"));
        let at = browser.location();
        assert!(at.starts_with("/login?next="), "{page} showed {at}");
        let seen = browser.eval(
            "[document.querySelectorAll('form.signin').length, document.querySelectorAll('table').length]",
        );
        assert_eq!(seen, json!([1, 0]), "{page}");
        assert!(!browser.text().contains("network"), "{page} leaked data");
    }
    for (path, form) in [
        (
            "/locks/release",
            vec![
                ("kind", "state"),
                ("project", PROJECT),
                ("env", "dev"),
                ("stack", "network"),
            ],
        ),
        ("/logout", vec![]),
    ] {
        let (status, _) = browser.fetch("POST", path, &form);
        assert_eq!(status, 401, "POST {path} without a session");
    }

    // A wrong token stays on the sign-in page with a reason.
    let landed = browser.sign_in(
        &base,
        "plinth_0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert!(landed.starts_with("/login"), "{landed}");
    assert!(
        browser.text().contains("No such token"),
        "{}",
        browser.text()
    );
    assert!(
        browser
            .cookies()
            .iter()
            .all(|c| c["name"] != "plinth_session")
    );

    // Sign-in through the form, back to the page first asked for.
    browser.goto(&format!("{base}/runs?env=prod&action=apply"));
    let script = format!(
        "document.querySelector('input[name=token]').value = {}; \
         document.querySelector('form.signin').requestSubmit(); true",
        serde_json::to_string(&reader).unwrap()
    );
    browser.eval_and_wait(&script);
    assert_eq!(browser.location(), "/runs?env=prod&action=apply");
    let cookies = browser.cookies();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "plinth_session")
        .expect("a session cookie");
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Strict", "{session}");
    let value = session["value"].as_str().unwrap();
    assert_eq!(value.len(), 64);
    assert!(!value.contains(&reader[7..]), "the token is not the cookie");
    assert_eq!(
        browser.eval("document.cookie"),
        json!(""),
        "HttpOnly: no script sees it"
    );
    let html = browser.eval("document.documentElement.outerHTML");
    assert!(
        !html.as_str().unwrap().contains(&reader),
        "the token is not in the page"
    );

    // The runs list, filtered by environment.
    let rows =
        browser.eval("[...document.querySelectorAll('tr[data-run]')].map(r => r.dataset.run)");
    assert_eq!(rows, json!([prod_run]), "only prod's run");

    // The matrix: every instance with its last apply, from real runs.
    browser.goto(&format!("{base}/"));
    let cells = browser.eval(
        "[...document.querySelectorAll('td.cell')].map(td => [td.dataset.env, td.dataset.stack, td.innerText])",
    );
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 4, "{cells:?}");
    for cell in cells {
        let text = cell[2].as_str().unwrap();
        assert!(text.contains("apply succeeded"), "{cell}");
        assert!(text.contains(&head[..7]), "the applied commit: {cell}");
        assert!(text.contains("ago"), "{cell}");
    }
    let cell = |env: &str, stack: &str| {
        cells
            .iter()
            .find(|c| c[0] == env && c[1] == stack)
            .map(|c| c[2].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(
        cell("prod", "network").contains("drifted +0 ~1 -0"),
        "{}",
        cell("prod", "network")
    );
    assert!(
        cell("prod", "app").contains("in-sync"),
        "{}",
        cell("prod", "app")
    );
    assert!(
        cell("prod", "app").contains("locked: sre@oncall-laptop"),
        "{}",
        cell("prod", "app")
    );
    assert!(
        !cell("dev", "app").contains("locked"),
        "{}",
        cell("dev", "app")
    );
    let headers = browser
        .eval("[...document.querySelectorAll('table.matrix thead th')].map(t => t.innerText)");
    assert_eq!(headers, json!(["stack", "dev", "prod"]));
    let totals = browser.eval("document.querySelector('.total[data-env=dev]').innerText");
    assert!(totals.as_str().unwrap().contains("2 instances"), "{totals}");
    assert!(totals.as_str().unwrap().contains("2 applied"), "{totals}");
    let totals = browser.eval("document.querySelector('.total[data-env=prod]').innerText");
    assert!(totals.as_str().unwrap().contains("1 drifted"), "{totals}");
    assert!(totals.as_str().unwrap().contains("1 locked"), "{totals}");
    browser.screenshot("dashboard-overview");
    // On a phone the page itself never scrolls sideways (the matrix scrolls in its box).
    browser.viewport(390, 844, true);
    browser.goto(&format!("{base}/"));
    let overflow = browser.eval("document.documentElement.scrollWidth <= window.innerWidth + 1");
    assert_eq!(overflow, json!(true), "the page is wider than a phone");
    browser.screenshot("dashboard-overview-phone");
    browser.viewport(1280, 900, false);

    // The instance page: its state version and the run that wrote it.
    browser.goto(&format!("{base}/"));
    browser.eval_and_wait(
        "document.querySelector('td.cell[data-env=dev][data-stack=network] a').click(); true",
    );
    assert_eq!(browser.location(), "/instances/atropos/dev/network");
    let text = browser.text();
    assert!(text.contains("1 (current)"), "{text}");
    assert!(text.contains(&dev_run), "{text}");
    browser.screenshot("dashboard-instance");

    // The run page: per-instance results and the masked logs.
    browser.goto(&format!("{base}/runs/{dev_run}"));
    let rows = browser.eval(
        "[...document.querySelectorAll('#instances tr[data-stack]')].map(r => [r.dataset.stack, r.querySelector('.badge').innerText])",
    );
    assert_eq!(
        rows,
        json!([["app", "succeeded"], ["network", "succeeded"]])
    );
    let logs = browser.eval(
        "[...document.querySelectorAll('details.log pre')].map(p => p.textContent).join('\\n')",
    );
    assert!(
        logs.as_str().unwrap().contains("terraform_data"),
        "the engine's log is shown: {logs}"
    );
    browser.screenshot("dashboard-run");

    // A running run updates itself as the reporter re-posts it.
    let live_id = "20260101-000000-live01";
    let running = |status: &str, instance: &str| {
        json!({"run_id": live_id, "project": PROJECT, "action": "plan", "env": "dev",
               "status": status, "source": "cli", "started_at": "2026-01-01T00:00:00Z",
               "instances": [{"stack": "network", "status": instance, "duration_ms": 1200}]})
    };
    let (status, body) = post_json(&server, &writer, "/v1/runs", &running("running", "running"));
    assert_eq!(status, 200, "{body}");
    browser.goto(&format!("{base}/runs/{live_id}"));
    assert_eq!(
        browser.eval("[!!document.getElementById('live'), document.querySelectorAll('script[src=\"/assets/live.js\"]').length]"),
        json!([true, 1])
    );
    let (status, body) = post_json(
        &server,
        &writer,
        "/v1/runs",
        &running("succeeded", "succeeded"),
    );
    assert_eq!(status, 200, "{body}");
    wait_until("the running run's page to show it finished", || {
        browser.try_eval("document.querySelector('#run-status').dataset.status")
            == Some(json!("succeeded"))
    });
    assert!(
        browser
            .eval("!document.getElementById('live')")
            .as_bool()
            .unwrap()
    );

    // Signing out ends the session: the pages are closed again.
    browser.goto(&format!("{base}/"));
    browser
        .eval_and_wait("document.querySelector('form[action=\"/logout\"]').requestSubmit(); true");
    assert!(browser.location().starts_with("/login"));
    browser.goto(&format!("{base}/locks"));
    assert!(browser.location().starts_with("/login?next="));
}

#[test]
fn only_an_admin_session_with_its_csrf_token_releases_locks() {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let writer = db.token("ci", "write");
    let reader = db.token("viewer", "read");
    let admin = db.token("oncall", "admin");
    let base = server.url.clone();

    // A Terraform lock taken over the real wire protocol, as `terraform apply` takes it.
    let lock = json!({"ID": "6f1c2a4e-lock", "Operation": "OperationTypeApply", "Who": "alice@laptop",
                      "Version": "1.15.0", "Created": "2026-01-01T00:00:00Z", "Info": "", "Path": ""});
    let (status, _) = server.http(
        Some(&writer),
        "LOCK",
        &server.state_url("prod", "network"),
        lock.to_string().into_bytes(),
        &[],
    );
    assert_eq!(status, 200);
    let held = |server: &Server| {
        let (status, body) = server.api(&admin, "GET", "/v1/locks");
        assert_eq!(status, 200, "{body}");
        body["locks"].as_array().map(Vec::len).unwrap_or(0)
    };
    assert_eq!(held(&server), 1);

    // A read session sees the lock but gets no button, and its post is refused.
    let mut browser = Browser::launch();
    assert_eq!(browser.sign_in(&base, &reader), "/");
    browser.goto(&format!("{base}/locks"));
    assert!(browser.text().contains("alice@laptop"));
    assert_eq!(
        browser.eval("document.querySelectorAll('form.release').length"),
        json!(0)
    );
    let csrf = browser.eval("document.querySelector('input[name=csrf]').value");
    let csrf = csrf.as_str().unwrap().to_owned();
    let release = |csrf: Option<&str>| {
        let mut form = vec![
            ("kind", "state"),
            ("project", PROJECT),
            ("env", "prod"),
            ("stack", "network"),
            ("lock_id", "6f1c2a4e-lock"),
        ];
        if let Some(c) = csrf {
            form.push(("csrf", c));
        }
        form.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let post = |browser: &mut Browser, form: Vec<(String, String)>| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        browser.fetch("POST", "/locks/release", &form)
    };
    let (status, body) = post(&mut browser, release(Some(&csrf)));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("admin"), "{body}");
    assert_eq!(held(&server), 1);
    browser.screenshot("dashboard-locks-read");

    // An admin session: refused without its CSRF token or with another session's.
    browser.clear_cookies();
    assert_eq!(browser.sign_in(&base, &admin), "/");
    browser.goto(&format!("{base}/locks"));
    assert_eq!(
        browser.eval("document.querySelectorAll('form.release').length"),
        json!(1)
    );
    let (status, body) = post(&mut browser, release(None));
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(&mut browser, release(Some(&csrf)));
    assert_eq!(
        status, 403,
        "the read session's token is not this session's: {body}"
    );
    assert_eq!(held(&server), 1);
    browser.screenshot("dashboard-locks-admin");

    // The button releases it.
    browser.eval_and_wait("document.querySelector('form.release').requestSubmit(); true");
    assert_eq!(browser.location(), "/locks");
    assert!(
        browser.text().contains("No state is locked."),
        "{}",
        browser.text()
    );
    assert_eq!(held(&server), 0);
    let (_, audit) = server.api(&admin, "GET", "/v1/audit");
    let forced = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "force-unlock" && e["actor"] == "oncall");
    assert!(
        forced,
        "the release is audited under the admin's token: {audit}"
    );
}

#[test]
fn hostile_names_and_text_render_inert() {
    let db = Db::sqlite();
    let server = Server::start(&db);
    let writer = db.token("ci", "write");
    let reader = db.token("viewer", "read");
    let base = server.url.clone();
    let script_stack = "<script>alert(1)</script>";

    // The store refuses such a stack on every API...
    let (status, _) = server.http(
        Some(&writer),
        "POST",
        &format!(
            "{}/v1/state/{PROJECT}/dev/%3Cscript%3Ealert(1)%3C/script%3E",
            server.url
        ),
        b"{}".to_vec(),
        &[],
    );
    assert_eq!(status, 400, "a state for a stack named like markup");
    let report = |stack: &str| {
        json!({"run_id": "20260101-000000-evil01", "project": PROJECT, "action": "apply",
               "env": "dev", "status": "failed", "source": "cli", "who": "<b>mallory</b>",
               "commit": "<img src=x onerror=alert(3)>", "started_at": "2026-01-01T00:00:00Z",
               "finished_at": "2026-01-01T00:01:00Z",
               "instances": [{"stack": stack, "status": "failed", "add": 1,
                              "reason": "</td><script>alert(4)</script>",
                              "log": "Error: <script>alert(5)</script></pre><img src=x onerror=alert(6)>"}]})
    };
    let (status, _) = post_json(&server, &writer, "/v1/runs", &report(script_stack));
    assert_eq!(status, 400, "a run of a stack named like markup");
    // ...so, as a row an older or buggy writer might have left, it goes in by SQL.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", db.url.trim_start_matches("sqlite:"));
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO instances (id, project, env, stack, head, current_version, created_ms, updated_ms) \
             VALUES ($1, $2, 'dev', $3, 0, 0, 0, 0)",
        )
        .bind(format!("{PROJECT}/dev/{script_stack}"))
        .bind(PROJECT)
        .bind(script_stack)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO drift (project, env, stack, status, add_count, change_count, destroy_count, checked_ms) \
             VALUES ($1, 'dev', $2, 'drifted', 1, 2, 0, 0)",
        )
        .bind(PROJECT)
        .bind(script_stack)
        .execute(&pool)
        .await
        .unwrap();
        // The overview reads the summary the store keeps beside them (as its migration builds it).
        sqlx::query(
            "INSERT INTO instance_summary (project, stack, env, drift_status, drift_add, drift_change, drift_destroy, drift_checked_ms) \
             VALUES ($1, $2, 'dev', 'drifted', 1, 2, 0, 0)",
        )
        .bind(PROJECT)
        .bind(script_stack)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
    // Text from users and clients through the real APIs: a lock holder, a run's fields and log.
    let lock = json!({"ID": "evil-lock", "Operation": "<i>apply</i>", "Who": "<img src=x onerror=alert(2)>"});
    let (status, _) = server.http(
        Some(&writer),
        "LOCK",
        &server.state_url("dev", "network"),
        lock.to_string().into_bytes(),
        &[],
    );
    assert_eq!(status, 200);
    let (status, body) = post_json(&server, &writer, "/v1/runs", &report("network"));
    assert_eq!(status, 200, "{body}");

    let mut browser = Browser::launch();
    browser.record_dialogs();
    assert_eq!(browser.sign_in(&base, &reader), "/");
    // No element made from the data (script, img, i; b only around mallory), no dialog shown.
    let inert = "JSON.stringify([document.querySelectorAll('script').length, \
                 document.querySelectorAll('img, i').length, \
                 [...document.querySelectorAll('b')].filter(b => b.textContent.includes('mallory')).length, \
                 window.__dialogs])";
    browser.goto(&format!("{base}/"));
    assert_eq!(browser.eval(inert), json!("[0,0,0,[]]"));
    let rows = browser.eval(
        "[...document.querySelectorAll('table.matrix th[scope=row]')].map(t => t.textContent)",
    );
    assert_eq!(rows, json!(["<script>alert(1)</script>", "network"]));
    let text = browser.text();
    assert!(
        text.contains("locked: <img src=x onerror=alert(2)>"),
        "{text}"
    );
    let commit =
        browser.eval("document.querySelector('td.cell[data-stack=network] code').textContent");
    assert_eq!(
        commit,
        json!("<img sr"),
        "the commit's first 7 characters, as text"
    );
    browser.screenshot("dashboard-hostile");

    browser.eval_and_wait("document.querySelector('td.cell[data-env=dev] a').click(); true");
    assert_eq!(browser.eval(inert), json!("[0,0,0,[]]"));
    assert_eq!(
        browser.eval("document.querySelector('h1').textContent"),
        json!(script_stack)
    );

    for page in [
        "/runs",
        "/runs/20260101-000000-evil01",
        "/locks",
        "/instances/atropos/dev/network",
    ] {
        browser.goto(&format!("{base}{page}"));
        assert_eq!(browser.eval(inert), json!("[0,0,0,[]]"), "{page}");
    }
    browser.goto(&format!("{base}/runs/20260101-000000-evil01"));
    let text = browser.text();
    for shown in [
        "<b>mallory</b>",
        "<img src=x onerror=alert(3)>",
        "</td><script>alert(4)</script>",
    ] {
        assert!(text.contains(shown), "{shown} is shown as text: {text}");
    }
    let log = browser.eval("document.querySelector('details.log pre').textContent");
    assert_eq!(
        log,
        json!("Error: <script>alert(5)</script></pre><img src=x onerror=alert(6)>")
    );
    browser.screenshot("dashboard-hostile-run");
}
