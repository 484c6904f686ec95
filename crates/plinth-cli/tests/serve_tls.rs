//! `plinth serve --tls-cert --tls-key`: the real binary over HTTPS with a private CA, for
//! Terraform's http backend and for plinth's own client (`PLINTH_CA_FILE`), and the refusals of
//! unusable TLS flags.

mod serve_support;

use std::path::PathBuf;
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use serve_support::{Db, MAIN_TF, PLINTH, PROJECT, Server, Stack, assert_ok, text};

struct Pki {
    dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(path("key.pem"), leaf_key.serialize_pem()).unwrap();
    Pki {
        ca: path("ca.pem"),
        cert: path("cert.pem"),
        key: path("key.pem"),
        dir,
    }
}

fn plinth_state(
    server: &Server,
    token: &str,
    ca: Option<&PathBuf>,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(PLINTH);
    cmd.arg("state")
        .args(args)
        .args(["--project", PROJECT, "--server", &server.url])
        .env("PLINTH_TOKEN", token)
        .env_remove("PLINTH_CA_FILE");
    if let Some(ca) = ca {
        cmd.env("PLINTH_CA_FILE", ca);
    }
    cmd.output().unwrap()
}

#[test]
fn terraform_and_plinth_over_https() {
    let pki = pki();
    let db = Db::sqlite();
    let token = db.token("ci", "write");
    let server = Server::start_with(
        &db,
        &[
            "--tls-cert",
            pki.cert.to_str().unwrap(),
            "--tls-key",
            pki.key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    // Terraform trusts the CA through the backend's own setting and stores its state.
    let stack = Stack {
        dir: tempfile::tempdir().unwrap(),
        env: Vec::new(),
    };
    std::fs::write(stack.path().join("main.tf"), MAIN_TF).unwrap();
    let url = server.state_url("dev", "net");
    let ca_pem = std::fs::read_to_string(&pki.ca).unwrap();
    let init = stack.terraform(&[
        "init",
        &format!("-backend-config=address={url}"),
        &format!("-backend-config=lock_address={url}"),
        &format!("-backend-config=unlock_address={url}"),
        "-backend-config=lock_method=LOCK",
        "-backend-config=unlock_method=UNLOCK",
        "-backend-config=username=plinth",
        &format!("-backend-config=password={token}"),
        &format!("-backend-config=client_ca_certificate_pem={ca_pem}"),
    ]);
    assert_ok(&init, "terraform init over https");
    assert_ok(&stack.apply("tls"), "terraform apply over https");
    assert_eq!(stack.output_value(), "tls");

    // plinth's client trusts it through PLINTH_CA_FILE.
    let versions = plinth_state(
        &server,
        &token,
        Some(&pki.ca),
        &["versions", "dev/net", "--json"],
    );
    assert_ok(&versions, "plinth state versions over https");
    let doc: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    assert_eq!(doc["versions"][0]["created_by"], "ci");
    // Without it the server's certificate is refused, and the token is never printed.
    let untrusted = plinth_state(&server, &token, None, &["versions", "dev/net"]);
    assert_eq!(untrusted.status.code(), Some(1), "{}", text(&untrusted));
    assert!(
        text(&untrusted).contains("certificate"),
        "{}",
        text(&untrusted)
    );
    assert!(!text(&untrusted).contains(&token));
    // A CA file that does not exist is named.
    let missing = pki.dir.path().join("nope.pem");
    let out = plinth_state(&server, &token, Some(&missing), &["locks"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("nope.pem"), "{}", text(&out));
}

#[test]
fn unusable_tls_flags_are_usage_errors() {
    let pki = pki();
    let db = Db::sqlite();
    let serve = |args: &[&str]| {
        Command::new(PLINTH)
            .args(["serve", "--listen", "127.0.0.1:0", "--db", &db.url])
            .arg("--insecure-no-encryption")
            .args(args)
            .output()
            .unwrap()
    };
    let cert = pki.cert.to_str().unwrap();
    let out = serve(&["--tls-cert", cert]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("--tls-key"), "{}", text(&out));
    let wrong = pki.ca.to_str().unwrap();
    let out = serve(&["--tls-cert", cert, "--tls-key", wrong]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("ca.pem"), "{}", text(&out));
    let out = serve(&["--max-connections", "0"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
}
