//! Secrets with the real OpenBao server (`bao server -dev` on loopback) and the real
//! terraform: token and AppRole logins, one read per path per run, values that reach the
//! engine and nowhere else on disk but the binary plan, publish, rotation, and a Vault that
//! is down or refuses the token.

mod runs_support;
mod support;

use std::path::{Path, PathBuf};

use plinth_secrets::testing::{OpenBao, ROOT_TOKEN, closed_address};
use runs_support::*;
use support::{Fixture, code, stderr};

const VALUE: &str = "sk_live_7fR2pQ9zXw4K1mN8";

const PROJECT: &str = r#"plinth {
  project = "vaulted"
}

environment "dev" {}

vault {
  auth = "AUTH"
}

secret "api_key" {
  from         = "vault:secret/app/${env.name}#api_key"
  rotate_every = "90d"
  generate     = { length = 40 }
}

publish "runtime" {
  to      = "vault:secret/published/${env.name}/${stack.id}"
  outputs = ["api_url", "db_password"]
}
"#;

/// A stack reading `api_key`: the value reaches the engine (the provisioner writes its hash)
/// but no resource keeps it, so it is in no state.
const READER_TF: &str = r#"variable "api_key" {
  type      = string
  sensitive = true
}

resource "terraform_data" "r" {
  input = "uses-a-key"

  triggers_replace = [sha256(var.api_key)]

  provisioner "local-exec" {
    command     = "printf '%s' \"$KEY\" | sha256sum | cut -d' ' -f1 > ../seen-$STACK.txt"
    environment = { KEY = var.api_key, STACK = "NAME" }
  }
}

output "api_url" {
  value = "https://api.example/NAME"
}

output "db_password" {
  value     = "pw-NAME-from-terraform"
  sensitive = true
}
"#;

fn project(vault: &OpenBao, auth: &str) -> Fixture {
    let fx = Fixture::new();
    fx.write("plinth.hcl", &PROJECT.replace("AUTH", auth));
    for name in ["one", "two"] {
        fx.write(&format!("{name}/stack.hcl"), "")
            .write(&format!("{name}/main.tf"), &READER_TF.replace("NAME", name));
    }
    let _ = vault;
    fx
}

fn with_vault(cmd: &mut std::process::Command, vault: &OpenBao, token: Option<&str>) {
    cmd.env("VAULT_ADDR", vault.address())
        .env_remove("BAO_ADDR")
        .env_remove("BAO_TOKEN")
        .env_remove("VAULT_TOKEN");
    if let Some(t) = token {
        cmd.env("VAULT_TOKEN", t);
    }
}

fn sha256(text: &str) -> String {
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_vault_secret_reaches_the_engine_once_per_path_and_nowhere_else() {
    let rt = rt();
    let vault = rt.block_on(OpenBao::start());
    rt.block_on(vault.write_secret("secret/app/dev", serde_json::json!({ "api_key": VALUE })));
    let fx = project(&vault, "token");
    for args in [
        &["plan", "dev", "--json"][..],
        &["apply", "dev", "--auto-approve", "--json"][..],
    ] {
        let before = vault.reads_of("secret/data/app/dev");
        let mut cmd = plinth_cmd(&fx, args);
        with_vault(&mut cmd, &vault, Some(ROOT_TOKEN));
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(
            vault.reads_of("secret/data/app/dev") - before,
            1,
            "two instances, one read of the path per run"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(VALUE));
        assert!(!stderr(&out).contains(VALUE));
    }
    for name in ["one", "two"] {
        let seen = std::fs::read_to_string(fx.root().join(format!("seen-{name}.txt"))).unwrap();
        assert_eq!(
            seen.trim(),
            sha256(VALUE),
            "the value reached the engine of {name}"
        );
    }
    // The only files that may hold the value are the engine's binary plans.
    for file in files_under(fx.root()) {
        let bytes = std::fs::read(&file).unwrap();
        let holds = bytes.windows(VALUE.len()).any(|w| w == VALUE.as_bytes());
        if holds {
            assert!(
                file.extension().is_some_and(|e| e == "tfplan"),
                "{} holds the secret value",
                file.display()
            );
        }
    }
    // Published outputs, sensitive ones included, read back through the API.
    let doc = rt.block_on(vault.api("GET", "secret/data/published/dev/one", None));
    assert_eq!(doc["data"]["data"]["api_url"], "https://api.example/one");
    assert_eq!(doc["data"]["data"]["db_password"], "pw-one-from-terraform");
    assert_eq!(doc["data"]["metadata"]["version"], 1);
    // Applying again with nothing changed writes no new version.
    let mut cmd = plinth_cmd(&fx, &["apply", "dev", "--auto-approve"]);
    with_vault(&mut cmd, &vault, Some(ROOT_TOKEN));
    assert_eq!(code(&cmd.output().unwrap()), 0);
    let doc = rt.block_on(vault.api("GET", "secret/data/published/dev/one", None));
    assert_eq!(
        doc["data"]["metadata"]["version"], 1,
        "unchanged values, no new version"
    );
    // A destroy soft-deletes what the instance published.
    let mut cmd = plinth_cmd(&fx, &["destroy", "dev", "--auto-approve"]);
    with_vault(&mut cmd, &vault, Some(ROOT_TOKEN));
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let meta = rt.block_on(vault.api("GET", "secret/metadata/published/dev/one", None));
    assert!(
        !meta["data"]["versions"]["1"]["deletion_time"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "soft-deleted: {meta}"
    );
}

#[test]
fn approle_login_and_rotation_with_apply() {
    let rt = rt();
    let vault = rt.block_on(OpenBao::start());
    rt.block_on(vault.put_policy(
        "app",
        "path \"secret/data/*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\"] }\npath \"secret/metadata/*\" { capabilities = [\"read\", \"list\"] }\n",
    ));
    let approle = rt.block_on(vault.enable_approle("ci", &["app"]));
    rt.block_on(vault.write_secret("secret/app/dev", serde_json::json!({ "api_key": VALUE })));
    let fx = project(&vault, "approle");
    let plinth = |args: &[&str]| {
        let mut cmd = plinth_cmd(&fx, args);
        with_vault(&mut cmd, &vault, None);
        cmd.env("VAULT_ROLE_ID", &approle.role_id)
            .env("VAULT_SECRET_ID", &approle.secret_id);
        cmd.output().unwrap()
    };
    let out = plinth(&["apply", "dev", "--auto-approve"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = plinth(&["secrets", "ls", "dev", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ls: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &ls["secrets"][0];
    assert_eq!(s["name"], "api_key");
    assert_eq!(s["source"], "vault");
    assert_eq!(s["version"], 1);
    assert_eq!(s["age_days"], 0);
    assert_eq!(s["status"], "ok");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(VALUE));

    let out = plinth(&[
        "secrets",
        "rotate",
        "api_key",
        "--env",
        "dev",
        "--apply",
        "--auto-approve",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is now version 2"),
        "{}",
        stderr(&out)
    );
    let doc = rt.block_on(vault.api("GET", "secret/data/app/dev", None));
    let new_value = doc["data"]["data"]["api_key"].as_str().unwrap().to_string();
    assert_eq!(new_value.len(), 40);
    assert_ne!(new_value, VALUE);
    for name in ["one", "two"] {
        let seen = std::fs::read_to_string(fx.root().join(format!("seen-{name}.txt"))).unwrap();
        assert_eq!(
            seen.trim(),
            sha256(&new_value),
            "the re-apply used the new value"
        );
    }
    let out = plinth(&["secrets", "ls", "dev", "--json"]);
    let ls: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ls["secrets"][0]["version"], 2);
}

#[test]
fn vault_down_or_a_refused_token_blocks_naming_the_path() {
    let rt = rt();
    let vault = rt.block_on(OpenBao::start());
    rt.block_on(vault.write_secret("secret/app/dev", serde_json::json!({ "api_key": VALUE })));
    let fx = project(&vault, "token");
    let token = rt.block_on(vault.create_token(&[]));
    rt.block_on(vault.revoke_token(&token));
    let mut cmd = plinth_cmd(&fx, &["plan", "dev", "--json"]);
    with_vault(&mut cmd, &vault, Some(&token));
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let doc = report(&out);
    let reason = instance(&doc, "one")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("secret `api_key`") && reason.contains("vault:secret/app/dev"),
        "{reason}"
    );

    let mut cmd = plinth_cmd(&fx, &["plan", "dev", "--json"]);
    cmd.env("VAULT_ADDR", closed_address())
        .env("VAULT_TOKEN", ROOT_TOKEN);
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let reason = instance(&report(&out), "two")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("vault:secret/app/dev"), "{reason}");
    assert!(!reason.contains(VALUE));
}

#[test]
fn check_reports_a_non_sensitive_secret_variable_and_a_rotation_due() {
    let rt = rt();
    let vault = rt.block_on(OpenBao::start());
    rt.block_on(vault.write_secret("secret/app/dev", serde_json::json!({ "api_key": VALUE })));
    let fx = project(&vault, "token");
    fx.write(
        "plinth.hcl",
        &PROJECT
            .replace("AUTH", "token")
            .replace("\"90d\"", "\"1s\""),
    )
    .write(
        "one/main.tf",
        &READER_TF
            .replace("NAME", "one")
            .replace("  sensitive = true\n}\n\nresource", "}\n\nresource"),
    );
    let check = || {
        let mut cmd = plinth_cmd(
            &fx,
            &["check", "--env", "dev", "--no-engine", "--format", "json"],
        );
        with_vault(&mut cmd, &vault, Some(ROOT_TOKEN));
        let out = cmd.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let rules = |doc: &serde_json::Value| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["rule"].as_str().unwrap(),
                    f["stack"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let doc = check();
    assert!(rules(&doc).contains(&"SCR005 one".to_string()), "{doc}");
    assert!(
        !rules(&doc).contains(&"SCR005 two".to_string()),
        "two declares it sensitive: {doc}"
    );
    // rotate_every is one second: poll until the version is older than that.
    poll(
        "the rotation to be due",
        std::time::Duration::from_secs(30),
        || {
            let doc = check();
            rules(&doc)
                .iter()
                .any(|r| r.starts_with("SCR006"))
                .then_some(())
        },
    );
}

#[test]
fn doctor_checks_vault_and_each_secret_path_without_reading_values() {
    let rt = rt();
    let vault = rt.block_on(OpenBao::start());
    let fx = project(&vault, "token");
    let doctor = |vault_addr: &str| {
        let mut cmd = plinth_cmd(&fx, &["doctor"]);
        cmd.env("VAULT_ADDR", vault_addr)
            .env("VAULT_TOKEN", ROOT_TOKEN)
            .env_remove("BAO_ADDR");
        cmd.output().unwrap()
    };
    // The path does not exist yet.
    let out = doctor(vault.address());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("✓ vault: version"), "{text}");
    assert!(
        text.contains("✗ secret api_key in dev: vault:secret/app/dev#api_key"),
        "{text}"
    );
    rt.block_on(vault.write_secret("secret/app/dev", serde_json::json!({ "api_key": VALUE })));
    let out = doctor(vault.address());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("✓ secret api_key in dev: vault:secret/app/dev#api_key readable, version 1"),
        "{text}"
    );
    assert!(!text.contains(VALUE));
    let out = doctor(&closed_address());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(code(&out), 1);
    assert!(text.contains("✗ vault:"), "{text}");
}
