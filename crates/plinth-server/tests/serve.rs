//! The hardened serve loop: HTTPS with a private CA, slow clients dropped (headers and bodies),
//! the connection bound, and graceful shutdown that finishes in-flight requests and lets
//! workers hand their jobs back.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use plinth_server::{ServeOptions, ServerConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

use support::Server;

/// A CA and a certificate for localhost and 127.0.0.1 signed by it, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "plinth test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(path("cert.pem"), leaf_cert.pem() + &ca_cert.pem()).unwrap();
    std::fs::write(path("key.pem"), leaf_key.serialize_pem()).unwrap();
    Pki {
        ca: path("ca.pem"),
        cert: path("cert.pem"),
        key: path("key.pem"),
        dir,
    }
}

fn client(ca: Option<PathBuf>) -> reqwest::Client {
    plinth_http::client(&plinth_http::ClientOptions {
        ca_file: ca,
        timeout: Duration::from_secs(10),
        ..plinth_http::ClientOptions::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_private_ca() {
    let pki = pki();
    let db = support::sqlite();
    let options = ServeOptions {
        tls: Some(plinth_server::load_tls(&pki.cert, &pki.key).unwrap()),
        ..ServeOptions::default()
    };
    let server = Server::start_with(&db, ServerConfig::default(), options).await;
    assert!(server.url.starts_with("https://"));
    let trusted = client(Some(pki.ca.clone()));
    let whoami = trusted
        .get(format!("{}/v1/whoami", server.url))
        .bearer_auth(&server.write)
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), 200);
    let doc: serde_json::Value = whoami.json().await.unwrap();
    assert_eq!(doc["name"], "ci");
    // By name too: the certificate covers localhost.
    let by_name = format!("https://localhost:{}/healthz", server.addr.port());
    assert_eq!(trusted.get(by_name).send().await.unwrap().status(), 200);
    // Without the CA the certificate is not trusted; plain HTTP gets no answer.
    let err = client(None)
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").to_lowercase().contains("certificate"),
        "{err:?}"
    );
    let plain = format!("http://{}/healthz", server.addr);
    assert!(client(None).get(plain).send().await.is_err());
}

#[test]
fn unusable_tls_files_are_named() {
    let pki = pki();
    let missing = pki.dir.path().join("missing.pem");
    let err = plinth_server::load_tls(&missing, &pki.key).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    // A key file that holds no key, and a key of another certificate.
    let err = plinth_server::load_tls(&pki.cert, &pki.ca).unwrap_err();
    assert!(err.to_string().contains("ca.pem"), "{err}");
    let other = pki.dir.path().join("other.pem");
    std::fs::write(&other, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = plinth_server::load_tls(&pki.cert, &other).unwrap_err();
    assert!(err.to_string().contains("cannot be used together"), "{err}");
    let key_text = std::fs::read_to_string(&other).unwrap();
    let body = key_text.lines().nth(1).unwrap();
    assert!(!err.to_string().contains(body), "no key material in errors");
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; returns what it sent.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_dropped() {
    let db = support::sqlite();
    let options = ServeOptions {
        header_read_timeout: Duration::from_millis(500),
        body_idle_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    };
    let server = Server::start_with(&db, ServerConfig::default(), options).await;
    let (addr, write) = (server.addr, server.write.clone());
    let measured = tokio::task::spawn_blocking(move || {
        let server_addr = addr;
        let open = || {
            let s = TcpStream::connect(server_addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        };
        // Half a header, then silence (slow loris).
        let mut loris = open();
        let started = Instant::now();
        loris
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: plinth\r\nX-Slow: ")
            .unwrap();
        let answer = read_to_close(&mut loris);
        let header_drop = started.elapsed();
        assert!(!answer.contains("200 OK"), "{answer}");
        // A connection that never says anything.
        let mut silent = open();
        let started = Instant::now();
        read_to_close(&mut silent);
        let idle_drop = started.elapsed();
        // Headers on time, then a body that stalls: 408 with a JSON error, connection closed.
        let mut stall = open();
        let started = Instant::now();
        write!(
            stall,
            "POST /v1/runs HTTP/1.1\r\nHost: plinth\r\nAuthorization: Bearer {write}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"run_id\""
        )
        .unwrap();
        let answer = read_to_close(&mut stall);
        let body_drop = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"error\""), "{answer}");
        assert!(
            answer.to_lowercase().contains("connection: close"),
            "{answer}"
        );
        (header_drop, idle_drop, body_drop)
    })
    .await
    .unwrap();
    for (what, took) in [
        ("half a header", measured.0),
        ("silence", measured.1),
        ("a stalled body", measured.2),
    ] {
        eprintln!("{what}: dropped after {} ms", took.as_millis());
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(5),
            "{what}: {took:?}"
        );
    }
    // The server still serves everyone else.
    let (status, _) = server.call(None, "GET", "/healthz", None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_are_bounded() {
    let db = support::sqlite();
    let options = ServeOptions {
        max_connections: 2,
        ..ServeOptions::default()
    };
    let server = Server::start_with(&db, ServerConfig::default(), options).await;
    // Two clients hold both slots (keep-alive connections that sent one request each).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect(&server);
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: plinth\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    // A third client is not served while they stay.
    let quick = plinth_http::client(&plinth_http::ClientOptions {
        timeout: Duration::from_millis(500),
        ..plinth_http::ClientOptions::default()
    })
    .unwrap();
    let url = format!("{}/healthz", server.url);
    let err = quick.get(&url).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // One leaves: the next client is served.
    drop(held.pop());
    let (status, _) = server.call(None, "GET", "/healthz", None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_finishes_requests_and_hands_jobs_back() {
    let db = support::sqlite();
    let store = plinth_state::Store::open(plinth_state::StoreOptions::new(
        db.url.clone(),
        plinth_state::Sealer::from_key(&[7u8; 32]).unwrap(),
    ))
    .await
    .unwrap();
    // An extra route (as the lead's webhooks use `router_with`) that says when it started and
    // answers once it has read its whole body.
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let extra = {
        let started = started.clone();
        axum::Router::new().route(
            "/slow",
            axum::routing::post(move |body: axum::body::Body| async move {
                started.notify_one();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                format!("read {} bytes", bytes.len())
            }),
        )
    };
    let router = plinth_server::router_with(store.clone(), ServerConfig::default(), extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = plinth_server::Shutdown::new();
    let done = tokio::spawn(plinth_server::serve_with(
        listener,
        router,
        ServeOptions::default(),
        shutdown.clone(),
    ));
    // A worker holding a job, waiting on the shared shutdown signal.
    let id = store
        .enqueue("plan", "pull:acme/infra#1", &serde_json::json!({}), None)
        .await
        .unwrap()
        .id();
    let job = store
        .claim("replica/1", Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
    let worker = {
        let (store, shutdown) = (store.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.triggered().await;
            store.release_job(&job.lease).await.unwrap();
        })
    };
    // A request in flight: the handler runs, half its body has arrived.
    let mut inflight = TcpStream::connect(addr).unwrap();
    inflight
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    inflight
        .write_all(b"POST /slow HTTP/1.1\r\nHost: plinth\r\nContent-Length: 10\r\n\r\n12345")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the handler started");
    shutdown.trigger();
    // New clients are refused once the listener is closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "the listener stayed open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The in-flight request still completes, then its connection closes.
    inflight.write_all(b"67890").unwrap();
    let answer = tokio::task::spawn_blocking(move || read_to_close(&mut inflight))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("read 10 bytes"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .expect("serve_with returns after draining")
        .unwrap()
        .unwrap();
    worker.await.unwrap();
    let details = store.job(id).await.unwrap().unwrap();
    assert_eq!(details.status, plinth_state::JobStatus::Queued);
    assert!(details.worker.is_none());
}
