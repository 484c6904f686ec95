//! Vault or OpenBao: reachable and unsealed, the token (or AppRole) accepted, and each
//! secret path of each environment readable — by its metadata and key names, never a value.

use std::sync::Arc;

use plinth_secrets::{ProcessEnv, VaultClient, VaultSettings};

use super::{Doctor, Finding};

pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let (Some(config), Some(root)) = (&d.config, &d.root) else {
        return Vec::new();
    };
    let uses_vault = config
        .secrets
        .iter()
        .any(|s| s.from.value.to_string().contains("vault:"))
        || !config.publishes.is_empty();
    if !uses_vault {
        return vec![Finding::skipped(
            "vault",
            "no secret or publish block uses Vault",
        )];
    }
    let client = VaultSettings::from_config(config.vault.as_ref(), root, &ProcessEnv)
        .and_then(VaultClient::new);
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            return vec![Finding::fail(
                "vault",
                e.to_string(),
                "set VAULT_ADDR (or BAO_ADDR) and VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for `auth = \"approle\"`",
            )];
        }
    };
    let mut out = Vec::new();
    match d.block_on(client.health()) {
        Ok(Ok(h)) if !h.sealed => out.push(Finding::ok(
            "vault",
            format!("version {} at {}, unsealed", h.version, client.address()),
        )),
        Ok(Ok(h)) => out.push(Finding::fail(
            "vault",
            format!("{} is sealed (version {})", client.address(), h.version),
            "unseal it",
        )),
        Ok(Err(e)) => {
            out.push(Finding::fail(
                "vault",
                e.to_string(),
                "check VAULT_ADDR, the network and VAULT_CACERT",
            ));
            return out;
        }
        Err(e) => {
            out.push(Finding::fail("vault", e, "retry"));
            return out;
        }
    }
    let Ok(project) = plinth_project::Project::load(root) else {
        return out;
    };
    let project = Arc::new(project);
    for env in config.environment_names() {
        let Ok(Ok(infos)) = d.block_on(plinth_run::secrets_ls(&project, env)) else {
            continue;
        };
        for info in infos.into_iter().filter(|i| i.source == "vault") {
            let what = format!("secret {} in {env}", info.name);
            match info.status.as_str() {
                "missing" => out.push(Finding::fail(
                    &what,
                    format!("{}: {}", info.location, info.detail.unwrap_or_default()),
                    "write it in Vault, or give the token read access to the path",
                )),
                status => out.push(Finding::ok(
                    &what,
                    format!(
                        "{} readable, version {}{}",
                        info.location,
                        info.version.map_or("?".into(), |v| v.to_string()),
                        if status == "due" {
                            " (due for rotation)"
                        } else {
                            ""
                        }
                    ),
                )),
            }
        }
    }
    out
}
