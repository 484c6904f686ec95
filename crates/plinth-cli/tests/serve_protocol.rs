//! The http backend protocol at the wire level, bad input, and several replicas on one
//! PostgreSQL: every refusal is a clear 4xx and leaves the stored state untouched.

mod serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;

use serve_support::*;

const STACK: &str = "apps/web";

fn state(lineage: &str, serial: u64, value: &str) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": serial,
        "lineage": lineage,
        "outputs": { "value": { "value": value, "type": "string" } },
        "resources": [],
        "check_results": null
    }))
    .unwrap()
}

fn lock_info(id: &str) -> Vec<u8> {
    format!(
        r#"{{"ID":"{id}","Operation":"OperationTypeApply","Info":"","Who":"me@host","Version":"1.11.4","Created":"2026-11-21T23:35:50.209971242Z","Path":""}}"#
    )
    .into_bytes()
}

/// Sends a request whose body stops short of its Content-Length, then closes.
fn truncated_post(server: &Server, token: &str, body: &[u8]) -> String {
    let addr = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = base64_basic(token);
    write!(
        stream,
        "POST /v1/state/{PROJECT}/dev/{STACK} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len() + 1000
    )
    .unwrap();
    stream.write_all(body).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn raw_request(server: &Server, request: &str) -> String {
    let mut stream = TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn base64_basic(token: &str) -> String {
    // A tiny standard base64 encoder keeps this test free of another dev-dependency.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("plinth:{token}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What, token, method, URL, body, headers, expected status.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    String,
    Vec<u8>,
    Vec<(&'a str, &'a str)>,
    u16,
);

fn bad_input_gets_a_clear_4xx_and_loses_nothing(db: Db) {
    let admin = db.token("admin", "admin");
    let writer = db.token("ci", "write");
    let reader = db.token("viewer", "read");
    let server = Server::start_with(&db, &["--max-state-mib", "1"]);
    let url = server.state_url("dev", STACK);
    let good = state("L", 1, "kept");
    let (status, _) = server.http(Some(&writer), "POST", &url, good.clone(), &[]);
    assert_eq!(status, 200);

    let json = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let cases: Vec<Case> = vec![
        (
            "no credentials",
            None,
            "GET",
            url.clone(),
            vec![],
            vec![],
            401,
        ),
        (
            "unknown token",
            Some("plinth_0000"),
            "GET",
            url.clone(),
            vec![],
            vec![],
            403,
        ),
        (
            "read token writes",
            Some(&reader),
            "POST",
            url.clone(),
            state("L", 2, "x"),
            vec![],
            403,
        ),
        (
            "read token locks",
            Some(&reader),
            "LOCK",
            url.clone(),
            lock_info("R"),
            vec![],
            403,
        ),
        (
            "malformed JSON",
            Some(&writer),
            "POST",
            url.clone(),
            b"{\"version\": 4,".to_vec(),
            vec![],
            400,
        ),
        (
            "not a state",
            Some(&writer),
            "POST",
            url.clone(),
            b"[1,2,3]".to_vec(),
            vec![],
            400,
        ),
        (
            "state format 3",
            Some(&writer),
            "POST",
            url.clone(),
            b"{\"version\":3,\"serial\":9,\"lineage\":\"L\"}".to_vec(),
            vec![],
            400,
        ),
        (
            "empty body",
            Some(&writer),
            "POST",
            url.clone(),
            vec![],
            vec![],
            400,
        ),
        (
            "Content-MD5 mismatch",
            Some(&writer),
            "POST",
            url.clone(),
            state("L", 2, "x"),
            vec![("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
            400,
        ),
        (
            "oversized",
            Some(&writer),
            "POST",
            url.clone(),
            vec![b' '; 2 * 1024 * 1024],
            vec![],
            413,
        ),
        (
            "lock without ID",
            Some(&writer),
            "LOCK",
            url.clone(),
            b"{\"Who\":\"x\"}".to_vec(),
            vec![],
            400,
        ),
        (
            "lock not JSON",
            Some(&writer),
            "LOCK",
            url.clone(),
            b"lock please".to_vec(),
            vec![],
            400,
        ),
        (
            "unlock when unlocked",
            Some(&writer),
            "UNLOCK",
            url.clone(),
            lock_info("X"),
            vec![],
            409,
        ),
        (
            "bad env name",
            Some(&writer),
            "GET",
            format!("{}/v1/state/{PROJECT}/d%20v/x", server.url),
            vec![],
            vec![],
            400,
        ),
        (
            "unknown method",
            Some(&writer),
            "PATCH",
            url.clone(),
            vec![],
            vec![],
            405,
        ),
        (
            "unknown endpoint",
            Some(&writer),
            "GET",
            format!("{}/v2/nothing", server.url),
            vec![],
            vec![],
            404,
        ),
        (
            "rollback of a missing version",
            Some(&admin),
            "POST",
            format!("{}/v1/rollback/{PROJECT}/dev/{STACK}", server.url),
            b"{\"version\": 42}".to_vec(),
            vec![],
            404,
        ),
        (
            "rollback with bad JSON",
            Some(&admin),
            "POST",
            format!("{}/v1/rollback/{PROJECT}/dev/{STACK}", server.url),
            b"{\"version\": \"one\"}".to_vec(),
            vec![],
            400,
        ),
        (
            "NUL byte in a lock ID",
            Some(&writer),
            "LOCK",
            url.clone(),
            lock_info("a\\u0000b"),
            vec![],
            400,
        ),
        (
            "lock ID over 200 characters",
            Some(&writer),
            "LOCK",
            url.clone(),
            lock_info(&"i".repeat(201)),
            vec![],
            400,
        ),
        (
            "NUL byte in a lineage",
            Some(&writer),
            "POST",
            url.clone(),
            state("L\u{0}x", 2, "x"),
            vec![],
            400,
        ),
        (
            "NUL byte in a query",
            Some(&reader),
            "GET",
            format!("{}/v1/locks?project=a%00b", server.url),
            vec![],
            vec![],
            400,
        ),
        (
            "a state nested deeper than Terraform reads",
            Some(&writer),
            "POST",
            url.clone(),
            format!(
                "{{\"version\":4,\"serial\":2,\"lineage\":\"L\",\"outputs\":{}1{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
            vec![],
            400,
        ),
        (
            "a state that is not UTF-8",
            Some(&writer),
            "POST",
            url.clone(),
            b"{\"version\":4,\"serial\":2,\"lineage\":\"L\",\"outputs\":{\"a\":\"\xff\"}}".to_vec(),
            vec![],
            400,
        ),
        (
            "versions of an unknown instance",
            Some(&reader),
            "GET",
            format!("{}/v1/versions/{PROJECT}/dev/nowhere", server.url),
            vec![],
            vec![],
            404,
        ),
    ];
    for (what, token, method, url, body, headers, expected) in cases {
        let (status, answer) = server.http(token, method, &url, body, &headers);
        assert_eq!(status, expected, "{what}: {}", json(&answer));
        if what.starts_with("lock ID over") {
            assert!(
                json(&answer).contains("201 characters; at most 200"),
                "{what}: {}",
                json(&answer)
            );
        }
        if status != 405 {
            let doc: serde_json::Value = serde_json::from_slice(&answer)
                .unwrap_or_else(|_| panic!("{what}: the refusal is JSON: {}", json(&answer)));
            assert!(
                !doc["error"].as_str().unwrap_or("").is_empty(),
                "{what}: {doc}"
            );
        }
    }
    let answer = truncated_post(&server, &writer, &state("L", 2, "truncated"));
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "truncated body: {answer}"
    );
    // HTTP clients normalise `..` away, so the traversal goes over a raw socket.
    let answer = raw_request(
        &server,
        &format!(
            "GET /v1/state/{PROJECT}/dev/a/%2E%2E/b HTTP/1.1\r\nHost: x\r\n\
             Authorization: Basic {}\r\nConnection: close\r\n\r\n",
            base64_basic(&writer)
        ),
    );
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "path traversal: {answer}"
    );

    // After all that, the one good version is still the only one, byte for byte.
    let (status, body) = server.http(
        Some(&reader),
        "GET",
        &server.state_url("dev", STACK),
        vec![],
        &[],
    );
    assert_eq!(status, 200);
    assert_eq!(body, good);
    let (_, versions) = server.api(
        &reader,
        "GET",
        &format!("/v1/versions/{PROJECT}/dev/{STACK}"),
    );
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);
    let (_, locks) = server.api(&reader, "GET", "/v1/locks");
    assert_eq!(locks["locks"].as_array().unwrap().len(), 0);
}

fn protocol_codes_match_the_http_backend(db: Db) {
    let writer = db.token("ci", "write");
    let other = db.token("other", "write");
    let admin = db.token("admin", "admin");
    let server = Server::start(&db);
    let url = server.state_url("dev", STACK);
    // No state yet: 204.
    assert_eq!(server.http(Some(&writer), "GET", &url, vec![], &[]).0, 204);
    assert_eq!(
        server
            .http(Some(&writer), "LOCK", &url, lock_info("A"), &[])
            .0,
        200
    );
    // Conflict: 409 with the holder's LockInfo, Path filled in.
    let (status, body) = server.http(Some(&other), "LOCK", &url, lock_info("B"), &[]);
    assert_eq!(status, 409);
    let holder: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(holder["ID"], "A");
    assert_eq!(holder["Who"], "me@host");
    assert_eq!(holder["Path"], format!("{PROJECT}/dev/{STACK}"));
    // Writes while locked need ?ID= of the holder: 423 otherwise, with the holder.
    let (status, body) = server.http(Some(&other), "POST", &url, state("L", 1, "x"), &[]);
    assert_eq!(status, 423);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["ID"],
        "A"
    );
    let (status, _) = server.http(
        Some(&writer),
        "POST",
        &format!("{url}?ID=A"),
        state("L", 1, "x"),
        &[],
    );
    assert_eq!(status, 200);
    // An identical retry is accepted.
    let (status, _) = server.http(
        Some(&writer),
        "POST",
        &format!("{url}?ID=A"),
        state("L", 1, "x"),
        &[],
    );
    assert_eq!(status, 200);
    // Terraform's empty-body force-unlock from another write token is refused (403); the
    // holder's own token or an admin may.
    assert_eq!(
        server.http(Some(&other), "UNLOCK", &url, vec![], &[]).0,
        403
    );
    assert_eq!(
        server.http(Some(&admin), "UNLOCK", &url, vec![], &[]).0,
        200
    );
    // OpenTofu's force-unlock carries the ID only.
    assert_eq!(
        server
            .http(Some(&writer), "LOCK", &url, lock_info("C"), &[])
            .0,
        200
    );
    assert_eq!(
        server
            .http(Some(&other), "UNLOCK", &url, br#"{"ID":"C"}"#.to_vec(), &[])
            .0,
        200
    );
    // OpenTofu client-side encrypted state: stored opaque, versioned by time.
    let envelope = br#"{"meta":{"key_provider.pbkdf2.k":"e30="},"encrypted_data":"AAEC","encryption_version":"v0"}"#;
    assert_eq!(
        server
            .http(Some(&writer), "POST", &url, envelope.to_vec(), &[])
            .0,
        200
    );
    let (_, got) = server.http(Some(&writer), "GET", &url, vec![], &[]);
    assert_eq!(got, envelope);
    let (_, versions) = server.api(
        &writer,
        "GET",
        &format!("/v1/versions/{PROJECT}/dev/{STACK}"),
    );
    assert_eq!(versions["versions"][0]["opaque"], true);
    // DELETE: 200, then no state (GET 204); versions are kept for rollback.
    assert_eq!(
        server.http(Some(&writer), "DELETE", &url, vec![], &[]).0,
        200
    );
    assert_eq!(server.http(Some(&writer), "GET", &url, vec![], &[]).0, 204);
    let (_, versions) = server.api(
        &writer,
        "GET",
        &format!("/v1/versions/{PROJECT}/dev/{STACK}"),
    );
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
    // /healthz and /metrics need no token.
    let (status, body) = server.http(None, "GET", &format!("{}/healthz", server.url), vec![], &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(server.counter("LOCK", 409) >= 1);
    assert_eq!(
        server
            .http(Some(&writer), "LOCK", &url, lock_info("D"), &[])
            .0,
        200
    );
    let (_, metrics) = server.http(None, "GET", &format!("{}/metrics", server.url), vec![], &[]);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.lines().any(|l| l == "plinth_locks_held 1"),
        "{metrics}"
    );
}

fn large_states_round_trip(db: Db) {
    let writer = db.token("ci", "write");
    let server = Server::start(&db);
    let url = server.state_url("dev", STACK);
    // 100 MB of Terraform-shaped state: many resources with varied ids and values.
    let mut big = String::with_capacity(101 * 1024 * 1024);
    big.push_str(
        "{\n  \"version\": 4,\n  \"terraform_version\": \"1.11.4\",\n  \"serial\": 1,\n  \
         \"lineage\": \"L\",\n  \"outputs\": {},\n  \"resources\": [",
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut n = 0u64;
    while big.len() < 100 * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if n > 0 {
            big.push(',');
        }
        use std::fmt::Write as _;
        write!(
            big,
            "\n    {{\"mode\": \"managed\", \"type\": \"terraform_data\", \"name\": \"r{n}\", \
             \"instances\": [{{\"schema_version\": 0, \"attributes\": {{\"id\": \"{x:016x}\", \
             \"input\": {{\"value\": \"value-{}\", \"type\": \"string\"}}}}}}]}}",
            x % 100_000
        )
        .unwrap();
        n += 1;
    }
    big.push_str("\n  ]\n}\n");
    let big = big.into_bytes();
    // What the server holds before any body: its code, runtime and pools.
    let before_kb = peak_rss_kb(server.pid());
    let (status, answer) = server.http(Some(&writer), "POST", &url, big.clone(), &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let (status, got) = server.http(Some(&writer), "GET", &url, vec![], &[]);
    assert_eq!(status, 200);
    assert!(got == big, "the 100 MB state comes back byte for byte");
    // The server never held the body twice: its peak memory grew by less than two copies.
    let peak_kb = peak_rss_kb(server.pid());
    let body_kb = big.len() as u64 / 1024;
    assert!(
        peak_kb - before_kb < body_kb * 2,
        "server peak RSS {peak_kb} kB ({before_kb} kB before) for a {body_kb} kB state"
    );
}

/// The process's peak resident set (`VmHWM`), in kB.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn retention_flags_never_drop_the_current_version(db: Db) {
    let token = db.token("ci", "write");
    let admin = db.token("admin", "admin");
    let server = Server::start_with(&db, &["--keep-versions", "2"]);
    let url = server.state_url("dev", STACK);
    for serial in 1..=5 {
        let (status, _) = server.http(Some(&token), "POST", &url, state("L", serial, "v"), &[]);
        assert_eq!(status, 200);
    }
    let (_, doc) = server.api(
        &token,
        "GET",
        &format!("/v1/versions/{PROJECT}/dev/{STACK}"),
    );
    let kept: Vec<i64> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(kept, [5, 4]);
    assert_eq!(doc["versions"][0]["current"], true);
    // A pruned version cannot be rolled back to; a kept one can, and becomes current.
    let rollback = format!("{}/v1/rollback/{PROJECT}/dev/{STACK}", server.url);
    let (status, _) = server.http(
        Some(&admin),
        "POST",
        &rollback,
        br#"{"version":1}"#.to_vec(),
        &[],
    );
    assert_eq!(status, 404);
    let (status, _) = server.http(
        Some(&admin),
        "POST",
        &rollback,
        br#"{"version":4}"#.to_vec(),
        &[],
    );
    assert_eq!(status, 200);
    let (_, body) = server.http(Some(&token), "GET", &url, vec![], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        doc["serial"], 6,
        "the rolled-back state gets the next serial"
    );
}

on_sqlite_and_postgres!(
    retention_flags_never_drop_the_current_version,
    bad_input_gets_a_clear_4xx_and_loses_nothing,
    protocol_codes_match_the_http_backend,
    large_states_round_trip,
);

/// Two `plinth serve` processes on one PostgreSQL behave as one server.
#[test]
fn two_replicas_on_one_postgres_share_locks_and_versions() {
    let db = Db::postgres();
    let token = db.token("ci", "write");
    let other = db.token("other", "write");
    let one = Server::start(&db);
    let two = Server::start(&db);
    let (url1, url2) = (one.state_url("dev", STACK), two.state_url("dev", STACK));
    assert_eq!(
        one.http(Some(&token), "LOCK", &url1, lock_info("R1"), &[])
            .0,
        200
    );
    let (status, body) = two.http(Some(&other), "LOCK", &url2, lock_info("R2"), &[]);
    assert_eq!(status, 409);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["ID"],
        "R1"
    );

    // Terraform through replica two is refused and told the holder.
    let stack = Stack::init(&two, "dev", STACK, &other);
    let refused = stack.apply("x");
    assert!(!refused.status.success());
    assert!(text(&refused).contains("ID=R1"), "{}", text(&refused));

    // A write through one is visible through two; the unlock through two releases it.
    assert_eq!(
        one.http(
            Some(&token),
            "POST",
            &format!("{url1}?ID=R1"),
            state("L", 1, "one"),
            &[]
        )
        .0,
        200
    );
    assert_eq!(
        two.http(Some(&token), "GET", &url2, vec![], &[]).1,
        state("L", 1, "one")
    );
    assert_eq!(
        two.http(Some(&token), "UNLOCK", &url2, lock_info("R1"), &[])
            .0,
        200
    );
    assert_eq!(
        one.http(Some(&other), "LOCK", &url1, lock_info("R3"), &[])
            .0,
        200
    );
    assert_eq!(
        one.http(Some(&other), "UNLOCK", &url1, lock_info("R3"), &[])
            .0,
        200
    );

    // Concurrent writes of the next serial through both replicas: exactly one wins.
    let a = std::thread::scope(|s| {
        let h1 = s.spawn(|| {
            one.http(Some(&token), "POST", &url1, state("L", 2, "via-one"), &[])
                .0
        });
        let h2 = s.spawn(|| {
            two.http(Some(&token), "POST", &url2, state("L", 2, "via-two"), &[])
                .0
        });
        [h1.join().unwrap(), h2.join().unwrap()]
    });
    let mut sorted = a;
    sorted.sort();
    assert_eq!(sorted, [200, 409], "one write wins, the other is refused");
    // Terraform through two now applies normally.
    assert_ok(&stack.apply("x"), "apply through replica two");
}

/// Logs written to a pipe (a file, a journal) carry no terminal escape codes.
#[test]
fn server_logs_off_a_terminal_have_no_escape_codes() {
    let db = Db::sqlite();
    let token = db.token("ci", "write");
    let server = Server::start_with(&db, &["-v"]);
    let url = server.state_url("dev", STACK);
    let (status, _) = server.http(Some(&token), "POST", &url, state("L", 1, "v"), &[]);
    assert_eq!(status, 200);
    let log = poll_log(&server, "state stored");
    assert!(!log.contains('\u{1b}'), "no ANSI codes: {log:?}");
}

fn poll_log(server: &Server, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let log = server.log();
        if log.contains(needle) || std::time::Instant::now() > deadline {
            assert!(log.contains(needle), "no {needle:?} in the log: {log}");
            return log;
        }
        std::thread::yield_now();
    }
}
