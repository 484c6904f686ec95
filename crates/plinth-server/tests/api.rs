//! The JSON API of pull requests, jobs, pull-request locks, promotions, copies, runs and drift,
//! over real HTTP on both databases: shapes, scopes, and a JSON 4xx for every bad input.

mod support;

use std::time::Duration;

use plinth_state::{Acquisition, JobOutcome, PlanSummary, PullInstance, PullRef, PullState};
use serde_json::json;

use support::{Db, Server};

async fn pulls_jobs_and_their_locks(db: Db) {
    let server = Server::start(&db).await;
    let store = &server.store;
    let (seven, eight) = (
        PullRef::new("acme/infra", 7).unwrap(),
        PullRef::new("acme/infra", 8).unwrap(),
    );
    for pull in [&seven, &eight] {
        store
            .upsert_pull(pull, "a1b2c3", "main", PullState::Open, "alice")
            .await
            .unwrap();
    }
    store
        .upsert_pull_instance(
            &seven,
            &PullInstance {
                env: "prod".into(),
                stack: "plumbing/network".into(),
                plan: Some(PlanSummary {
                    run_id: "20261122-001502-7f3a9c".into(),
                    commit: "a1b2c3".into(),
                    add: 1,
                    change: 2,
                    destroy: 3,
                    preview_only: true,
                }),
                fingerprint: Some("f00d".into()),
                applied: false,
            },
        )
        .await
        .unwrap();
    let net = [("prod", "plumbing/network")];
    assert_eq!(
        store.acquire_all("atropos", &seven, net).await.unwrap(),
        Acquisition::Acquired
    );
    assert!(matches!(
        store.acquire_all("atropos", &eight, net).await.unwrap(),
        Acquisition::Queued { .. }
    ));
    let job = store
        .enqueue(
            "plan",
            &eight.serial_key(),
            &json!({"head": "a1b2c3"}),
            None,
        )
        .await
        .unwrap()
        .id();

    // The shape of DESIGN §5.1, by path segments and percent-encoded.
    for path in ["/v1/pulls/acme/infra/7", "/v1/pulls/acme%2Finfra/7"] {
        let (status, doc) = server.call(Some(&server.read), "GET", path, None).await;
        assert_eq!(status, 200, "{path}: {doc}");
        assert_eq!(doc["repo"], "acme/infra");
        assert_eq!(doc["number"], 7);
        assert_eq!(doc["head"], "a1b2c3");
        assert_eq!(doc["state"], "open");
        assert_eq!(doc["idle"], true);
        assert_eq!(
            doc["instances"][0],
            json!({
                "env": "prod", "stack": "plumbing/network",
                "plan": {"add": 1, "change": 2, "destroy": 3, "preview_only": true,
                         "commit": "a1b2c3", "run_id": "20261122-001502-7f3a9c"},
                "applied": false, "lock": "held", "waiting_for": null, "position": null,
                "fingerprint": "f00d"
            })
        );
    }
    let (_, doc) = server
        .call(Some(&server.read), "GET", "/v1/pulls/acme/infra/8", None)
        .await;
    assert_eq!(doc["idle"], false);
    assert_eq!(doc["instances"][0]["lock"], "queued");
    assert_eq!(doc["instances"][0]["waiting_for"], 7);
    assert_eq!(doc["instances"][0]["position"], 1);
    assert_eq!(doc["jobs"][0]["id"], job);
    assert_eq!(doc["jobs"][0]["status"], "queued");
    let (_, list) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/pulls?repo=acme/infra&state=open",
            None,
        )
        .await;
    assert_eq!(list["pulls"].as_array().unwrap().len(), 2);

    // A job with its log.
    let claimed = store
        .claim("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    store
        .append_log(&claimed.lease, "plan: 1 to add\n")
        .await
        .unwrap();
    store
        .finish(&claimed.lease, JobOutcome::Succeeded, &json!({"plans": 1}))
        .await
        .unwrap();
    let (status, doc) = server
        .call(Some(&server.read), "GET", &format!("/v1/jobs/{job}"), None)
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["log"], "plan: 1 to add\n");
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(doc["result"]["plans"], 1);

    // Locks: listed for readers, released by admins only, handed to the queue.
    let (_, locks) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/pull-locks?project=atropos",
            None,
        )
        .await;
    assert_eq!(
        locks["locks"][0]["holder"],
        json!({"repo": "acme/infra", "number": 7})
    );
    assert_eq!(locks["locks"][0]["queue"][0]["number"], 8);
    let release = "/v1/pull-locks/atropos/prod/plumbing/network";
    server
        .refused(Some(&server.write), "DELETE", release, None, 403, "admin")
        .await;
    let (status, doc) = server
        .call(Some(&server.admin), "DELETE", release, None)
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["released"]["number"], 7);
    assert_eq!(doc["handed_over"][0]["number"], 8);
    let metrics = server.metrics().await;
    assert!(metrics.contains("plinth_pull_locks_held 1"), "{metrics}");
    assert!(metrics.contains("plinth_jobs_queued 0"), "{metrics}");

    // Refusals, all JSON.
    let r = Some(server.read.as_str());
    server
        .refused(None, "GET", "/v1/pulls", None, 401, "authentication")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/pulls/acme/infra/x",
            None,
            400,
            "OWNER/NAME/NUMBER",
        )
        .await;
    server
        .refused(r, "GET", "/v1/pulls/infra/7", None, 400, "repository")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/pulls/acme/infra/99",
            None,
            404,
            "has not seen",
        )
        .await;
    server
        .refused(r, "GET", "/v1/pulls?state=draft", None, 400, "state")
        .await;
    server
        .refused(r, "GET", "/v1/pulls?limit=0", None, 400, "limit")
        .await;
    server
        .refused(r, "GET", "/v1/pulls?repo=..%2Fx", None, 400, "repository")
        .await;
    server
        .refused(r, "GET", "/v1/jobs/abc", None, 400, "job id")
        .await;
    server
        .refused(r, "GET", "/v1/jobs/123456", None, 404, "no job")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/pull-locks?project=a%00b",
            None,
            400,
            "project",
        )
        .await;
}

async fn promotions_over_http(db: Db) {
    let server = Server::start(&db).await;
    let record = json!({
        "project": "atropos", "env": "staging", "kind": "stack", "subject": "plumbing/network",
        "fingerprint": "f1", "run_id": "20261122-001502-7f3a9c", "commit": "a1b2c3",
        "who": "alice@laptop", "applied_at": "2026-11-22T00:16:00Z"
    })
    .to_string();
    let (status, stored) = server
        .call(Some(&server.write), "POST", "/v1/promotions", Some(&record))
        .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["recorded_by"], "ci");
    assert_eq!(stored["applied_at"], "2026-11-22T00:16:00Z");
    let gate = "/v1/promotions?project=atropos&env=staging&kind=stack\
                &subject=plumbing%2Fnetwork&fingerprint=f1";
    let (status, found) = server.call(Some(&server.read), "GET", gate, None).await;
    assert_eq!(status, 200);
    assert_eq!(found["promotions"][0]["run_id"], "20261122-001502-7f3a9c");
    let (_, none) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/promotions?project=atropos&env=staging&fingerprint=f2",
            None,
        )
        .await;
    assert_eq!(none["promotions"], json!([]));
    let (_, latest) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/promotions/latest?project=atropos&env=staging",
            None,
        )
        .await;
    assert_eq!(latest["promotions"][0]["subject"], "plumbing/network");

    let (r, w) = (Some(server.read.as_str()), Some(server.write.as_str()));
    server
        .refused(r, "POST", "/v1/promotions", Some(&record), 403, "write")
        .await;
    server
        .refused(
            w,
            "POST",
            "/v1/promotions",
            Some("{"),
            400,
            "promotion record",
        )
        .await;
    let unknown = record.replace("\"who\"", "\"whom\"");
    server
        .refused(
            w,
            "POST",
            "/v1/promotions",
            Some(&unknown),
            400,
            "unknown field",
        )
        .await;
    let kind = record.replace("\"stack\"", "\"planet\"");
    server
        .refused(
            w,
            "POST",
            "/v1/promotions",
            Some(&kind),
            400,
            "unknown variant",
        )
        .await;
    let nul = record.replace("f1", "f\\u0000");
    server
        .refused(
            w,
            "POST",
            "/v1/promotions",
            Some(&nul),
            400,
            "control character",
        )
        .await;
    let big = format!("{{\"subject\": \"{}\"}}", "x".repeat(70_000));
    server
        .refused(w, "POST", "/v1/promotions", Some(&big), 413, "limit")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/promotions?project=atropos",
            None,
            400,
            "`env`",
        )
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/promotions?project=atropos&env=staging&kind=x",
            None,
            400,
            "kind",
        )
        .await;
}

async fn copies_over_http(db: Db) {
    let server = Server::start(&db).await;
    let copy = json!({
        "template": "test", "creator": "alice", "pull_request": 42,
        "expires_at": "2026-01-01T00:00:00Z", "status": "applying", "instances": 3
    })
    .to_string();
    let path = "/v1/copies/atropos/test-pr-42";
    let (status, stored) = server
        .call(Some(&server.write), "PUT", path, Some(&copy))
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["status"], "applying");
    // Create-only: a second `env up` of the name is refused.
    let create_only = server
        .http
        .put(format!("{}{path}", server.url))
        .bearer_auth(&server.write)
        .header("if-none-match", "*")
        .body(copy.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(create_only.status(), 412);
    let up = copy.replace("applying", "up");
    let (_, stored) = server
        .call(Some(&server.write), "PUT", path, Some(&up))
        .await;
    assert_eq!(stored["status"], "up");
    let (_, listed) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/copies?project=atropos",
            None,
        )
        .await;
    assert_eq!(listed["copies"][0]["name"], "test-pr-42");
    assert_eq!(listed["copies"][0]["pull_request"], 42);
    let (_, expired) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/copies?project=atropos&expired=true",
            None,
        )
        .await;
    assert_eq!(expired["copies"].as_array().unwrap().len(), 1);
    let (status, gone) = server.call(Some(&server.write), "DELETE", path, None).await;
    assert_eq!(status, 200);
    assert_eq!(gone["deleted"]["name"], "test-pr-42");

    let (r, w) = (Some(server.read.as_str()), Some(server.write.as_str()));
    server
        .refused(w, "DELETE", path, None, 404, "no copy")
        .await;
    server
        .refused(r, "PUT", path, Some(&copy), 403, "write")
        .await;
    server.refused(r, "DELETE", path, None, 403, "write").await;
    server
        .refused(
            w,
            "PUT",
            "/v1/copies/atropos/Test_PR",
            Some(&copy),
            400,
            "copy name",
        )
        .await;
    let bad_status = copy.replace("applying", "exploded");
    server
        .refused(w, "PUT", path, Some(&bad_status), 400, "copy record")
        .await;
    let bad_time = copy.replace("2026-01-01T00:00:00Z", "tomorrow");
    server
        .refused(w, "PUT", path, Some(&bad_time), 400, "RFC 3339")
        .await;
    server
        .refused(r, "GET", "/v1/copies", None, 400, "`project`")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/copies?project=atropos&expired=maybe",
            None,
            400,
            "expired",
        )
        .await;
}

async fn runs_and_drift_over_http(db: Db) {
    let server = Server::start(&db).await;
    let secret_log = "Apply complete! db_password = (masked)\n";
    let run = json!({
        "run_id": "20261122-001502-7f3a9c", "project": "atropos", "action": "drift",
        "env": "prod", "status": "succeeded", "who": "ci@runner", "commit": "a1b2c3",
        "source": "cli", "started_at": "2026-11-22T00:15:02Z",
        "finished_at": "2026-11-22T00:16:00Z",
        "instances": [
            {"stack": "plumbing/network", "status": "drifted", "add": 0, "change": 2,
             "destroy": 0, "duration_ms": 900, "log": secret_log},
            {"stack": "services/api", "status": "in-sync", "duration_ms": 400}
        ]
    })
    .to_string();
    let (status, doc) = server
        .call(Some(&server.write), "POST", "/v1/runs", Some(&run))
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["instances"], 2);
    // An idempotent re-post replaces the run.
    let (status, _) = server
        .call(Some(&server.write), "POST", "/v1/runs", Some(&run))
        .await;
    assert_eq!(status, 200);
    let (_, listed) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/runs?project=atropos&env=prod",
            None,
        )
        .await;
    assert_eq!(listed["runs"].as_array().unwrap().len(), 1);
    assert!(listed["runs"][0]["instances"][0].get("log").is_none());
    let (_, one) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/runs/20261122-001502-7f3a9c",
            None,
        )
        .await;
    assert_eq!(one["instances"][0]["log"], secret_log);
    assert_eq!(one["who"], "ci@runner");
    assert_eq!(one["recorded_by"], "ci");
    let (_, drift) = server
        .call(
            Some(&server.read),
            "GET",
            "/v1/drift?project=atropos&env=prod",
            None,
        )
        .await;
    assert_eq!(drift["instances"][0]["stack"], "plumbing/network");
    assert_eq!(drift["instances"][0]["status"], "drifted");
    assert_eq!(drift["instances"][0]["change"], 2);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("plinth_drifted_instances{project=\"atropos\",env=\"prod\"} 1"),
        "{metrics}"
    );

    let (r, w) = (Some(server.read.as_str()), Some(server.write.as_str()));
    server
        .refused(r, "POST", "/v1/runs", Some(&run), 403, "write")
        .await;
    server
        .refused(w, "POST", "/v1/runs", Some("[]"), 400, "run report")
        .await;
    let action = run.replace("\"drift\"", "\"deploy\"");
    server
        .refused(w, "POST", "/v1/runs", Some(&action), 400, "action")
        .await;
    let foreign = run.replace("\"atropos\"", "\"other\"");
    server
        .refused(
            w,
            "POST",
            "/v1/runs",
            Some(&foreign),
            409,
            "belongs to project",
        )
        .await;
    let negative = run
        .replace("\"change\": 2", "\"change\": -2")
        .replace("\"change\":2", "\"change\":-2");
    server
        .refused(w, "POST", "/v1/runs", Some(&negative), 400, "negative")
        .await;
    server
        .refused(r, "GET", "/v1/runs/a_b", None, 400, "run id")
        .await;
    server
        .refused(
            r,
            "GET",
            "/v1/runs/20991231-000000-ffffff",
            None,
            404,
            "no run",
        )
        .await;
    server
        .refused(r, "GET", "/v1/runs", None, 400, "`project`")
        .await;
    server
        .refused(r, "GET", "/v1/drift?project=atropos", None, 400, "`env`")
        .await;
}

on_both!(
    pulls_jobs_and_their_locks,
    promotions_over_http,
    copies_over_http,
    runs_and_drift_over_http,
);
