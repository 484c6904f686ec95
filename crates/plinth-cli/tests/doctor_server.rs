//! `plinth doctor --server-config FILE` against a stand-in forge over HTTP (real REST wire
//! format): each forge block's variables, then each repository reached with its token. Every
//! failure mode is produced for real: unset variables, a refused token, a read-only token, a
//! repository the token cannot see, a forge that does not answer; no value is ever printed.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use plinth_forge::fake::FakeForge;
use plinth_forge::{ForgeKind, Permission};
use support::{Fixture, code, stdout};

const PLINTH: &str = env!("CARGO_BIN_EXE_plinth");
const TOKEN_ENV: &str = "DOCTOR_FORGE_TOKEN";
const SECRET_ENV: &str = "DOCTOR_WEBHOOK_SECRET";
const SECRET: &str = "webhook-secret-never-printed";

/// A project and a server file with one forge at `api_url` and the three repositories.
fn fixture(kind: ForgeKind, api_url: &str) -> Fixture {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  project = \"acme\"\n}\nenvironment \"dev\" {}\n",
    )
    .write("app/stack.hcl", "stack {}\n")
    .write("app/main.tf", "resource \"terraform_data\" \"x\" {}\n")
    .write(
        "plinth-server.hcl",
        &format!(
            "server {{\n  public_url = \"http://plinth.test\"\n  data_dir   = \"data\"\n}}\n\
             forge \"f\" {{\n  type               = \"{}\"\n  api_url            = \"{api_url}\"\n  token_env          = \"{TOKEN_ENV}\"\n  webhook_secret_env = \"{SECRET_ENV}\"\n}}\n\
             repo \"acme/infra\" {{\n  forge = \"f\"\n}}\n\
             repo \"acme/readonly\" {{\n  forge = \"f\"\n}}\n\
             repo \"acme/missing\" {{\n  forge = \"f\"\n}}\n",
            kind.as_str()
        ),
    );
    f
}

fn doctor(root: &Path, token: Option<&str>, secret: Option<&str>) -> Output {
    let mut cmd = Command::new(PLINTH);
    cmd.arg("-C")
        .arg(root)
        .args(["--color", "never", "doctor", "--server-config"])
        .arg(root.join("plinth-server.hcl"))
        .env_remove(TOKEN_ENV)
        .env_remove(SECRET_ENV);
    if let Some(t) = token {
        cmd.env(TOKEN_ENV, t);
    }
    if let Some(s) = secret {
        cmd.env(SECRET_ENV, s);
    }
    cmd.output().unwrap()
}

/// The report's line about `needle` on the forge `f`.
fn forge_line<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains("forge f:") && l.contains(needle))
        .unwrap_or_else(|| panic!("no forge line with `{needle}` in:\n{text}"))
}

fn all_output(out: &Output) -> String {
    format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr))
}

fn start(kind: ForgeKind) -> (tokio::runtime::Runtime, FakeForge) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let forge = rt.block_on(FakeForge::start(kind));
    forge.create_repo("acme/infra", Permission::Write);
    forge.create_repo("acme/readonly", Permission::Read);
    (rt, forge)
}

#[test]
fn each_repository_is_reached_with_the_token_and_each_failure_has_its_fix() {
    for kind in [ForgeKind::GitHub, ForgeKind::GitLab] {
        let (_rt, forge) = start(kind);
        let f = fixture(kind, &forge.api_url());
        let out = doctor(f.root(), Some(forge.token()), Some(SECRET));
        let text = stdout(&out);
        assert_eq!(
            code(&out),
            1,
            "a read-only and a missing repository: {text}"
        );
        let forge_ok = forge_line(&text, "webhook secret");
        assert!(forge_ok.starts_with('✓'), "{text}");
        assert!(
            forge_ok.contains(&format!("token from {TOKEN_ENV}"))
                && forge_ok.contains(&format!("webhook secret {SECRET_ENV} set")),
            "{text}"
        );
        let infra = forge_line(&text, "acme/infra");
        assert!(infra.starts_with('✓'), "{text}");
        assert!(infra.contains("push: yes"), "{text}");
        assert!(infra.contains("default branch main"), "{text}");
        let readonly = forge_line(&text, "acme/readonly");
        assert!(readonly.starts_with('✗'), "{text}");
        assert!(
            readonly.contains(&format!("{TOKEN_ENV} cannot push (read access only)")),
            "{text}"
        );
        assert!(text.contains("commit statuses"), "the fix says why: {text}");
        let missing = forge_line(&text, "acme/missing");
        assert!(missing.starts_with('✗'), "{text}");
        assert!(
            missing.contains("not found or not visible to the token"),
            "{text}"
        );
        let everything = all_output(&out);
        assert!(!everything.contains(forge.token()), "{everything}");
        assert!(!everything.contains(SECRET), "{everything}");

        // A refused token: its variable is named, with the forge's own way to make one.
        let out = doctor(f.root(), Some("not-the-token"), Some(SECRET));
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{text}");
        let refused = forge_line(&text, "acme/infra");
        assert!(refused.starts_with('✗'), "{text}");
        assert!(
            refused.contains(&format!("{TOKEN_ENV} was refused (401")),
            "{text}"
        );
        let hint = match kind {
            ForgeKind::GitLab => "api scope",
            _ => "repo scope",
        };
        assert!(text.contains(hint), "{text}");
        assert!(!all_output(&out).contains("not-the-token"));
    }
}

#[test]
fn unset_variables_are_named_and_nothing_is_asked_without_them() {
    let (_rt, forge) = start(ForgeKind::Gitea);
    let f = fixture(ForgeKind::Gitea, &forge.api_url());
    let out = doctor(f.root(), None, None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    let line = forge_line(&text, "unset");
    assert!(line.starts_with('✗'), "{text}");
    assert!(
        line.contains(&format!("{TOKEN_ENV} and {SECRET_ENV} are unset or empty")),
        "{text}"
    );
    assert!(
        forge_line(&text, "acme/infra")
            .contains("not checked: the forge's credentials are missing"),
        "{text}"
    );
    assert!(
        forge.calls().is_empty(),
        "no request without credentials: {:?}",
        forge.calls()
    );

    // The secret alone missing: the token works, the secret is still named.
    let out = doctor(f.root(), Some(forge.token()), None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(
        forge_line(&text, "unset").contains(&format!("{SECRET_ENV} is unset or empty")),
        "{text}"
    );
    assert!(forge_line(&text, "acme/infra").starts_with('✓'), "{text}");
}

#[test]
fn a_forge_that_cannot_be_reached_fails_with_its_address() {
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let f = fixture(ForgeKind::GitHub, &closed);
    let out = doctor(f.root(), Some("some-token-value"), Some(SECRET));
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    let line = forge_line(&text, "acme/infra");
    assert!(line.starts_with('✗'), "{text}");
    assert!(line.contains(&format!("cannot reach {closed}")), "{text}");
    assert!(!all_output(&out).contains("some-token-value"));
}
