//! The settings of a Vault/OpenBao client: the `vault` block, completed from the environment
//! the Vault and OpenBao CLIs read (`VAULT_*`, then `BAO_*`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_config::{VaultAuth, VaultConfig};

use crate::env_store::EnvLookup;
use crate::error::SecretError;
use crate::secret::Secret;

/// How the client gets its token.
#[derive(Debug, Clone)]
pub enum Login {
    /// A token given as is.
    Token(Secret),
    /// AppRole login (once per client; the token is kept in memory only).
    AppRole {
        /// Mount path of the AppRole auth method, e.g. `approle`.
        mount: String,
        /// The role id.
        role_id: Secret,
        /// The secret id.
        secret_id: Secret,
    },
}

/// Everything a [`VaultClient`](super::VaultClient) needs.
#[derive(Debug, Clone)]
pub struct VaultSettings {
    /// Base address, e.g. `https://vault.internal:8200` (no trailing slash).
    pub address: String,
    /// How to get a token.
    pub login: Login,
    /// `X-Vault-Namespace`, if any.
    pub namespace: Option<String>,
    /// PEM file of extra CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Whole-request timeout (connecting included).
    pub timeout: Duration,
}

impl VaultSettings {
    /// Settings for token auth against `address`, with the default 10 s timeout.
    pub fn token(address: impl Into<String>, token: Secret) -> VaultSettings {
        VaultSettings {
            address: address.into().trim_end_matches('/').to_string(),
            login: Login::Token(token),
            namespace: None,
            ca_file: None,
            timeout: Duration::from_secs(VaultConfig::default().timeout_secs),
        }
    }

    /// The `vault` block (absent: all defaults) completed from `env`: address from
    /// `VAULT_ADDR`/`BAO_ADDR`, token from `VAULT_TOKEN`/`BAO_TOKEN`, AppRole credentials from
    /// `VAULT_ROLE_ID`/`VAULT_SECRET_ID`, namespace from `VAULT_NAMESPACE`/`BAO_NAMESPACE`, CA
    /// file from `VAULT_CACERT`/`BAO_CACERT`. A relative `ca_file` of the block is relative to
    /// `project_root`. The error says which setting is missing and where it may come from.
    pub fn from_config(
        config: Option<&VaultConfig>,
        project_root: &Path,
        env: &dyn EnvLookup,
    ) -> Result<VaultSettings, SecretError> {
        let defaults = VaultConfig::default();
        let config = config.unwrap_or(&defaults);
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| env.var(n).filter(|v| !v.is_empty()))
        };
        let address = config
            .address
            .as_ref()
            .map(|a| a.value.clone())
            .or_else(|| first(&["VAULT_ADDR", "BAO_ADDR"]))
            .ok_or_else(|| {
                SecretError::NotConfigured(
                    "Vault has no address: set `address` in the `vault` block, VAULT_ADDR or BAO_ADDR"
                        .into(),
                )
            })?;
        if !(address.starts_with("http://") || address.starts_with("https://")) {
            return Err(SecretError::NotConfigured(format!(
                "Vault address `{address}` is not a URL (expected https://HOST:PORT)"
            )));
        }
        let login = match config.auth {
            VaultAuth::Token => Login::Token(Secret::new(
                first(&["VAULT_TOKEN", "BAO_TOKEN"]).ok_or_else(|| {
                    SecretError::NotConfigured(
                        "Vault auth is `token` and neither VAULT_TOKEN nor BAO_TOKEN is set".into(),
                    )
                })?,
            )),
            VaultAuth::AppRole => {
                let need = |name: &str| {
                    first(&[name]).map(Secret::new).ok_or_else(|| {
                        SecretError::NotConfigured(format!(
                            "Vault auth is `approle` and {name} is not set (AppRole needs VAULT_ROLE_ID and VAULT_SECRET_ID)"
                        ))
                    })
                };
                Login::AppRole {
                    mount: config.approle_mount.trim_matches('/').to_string(),
                    role_id: need("VAULT_ROLE_ID")?,
                    secret_id: need("VAULT_SECRET_ID")?,
                }
            }
        };
        let ca_file = match &config.ca_file {
            Some(f) => Some(project_root.join(&f.value)),
            None => first(&["VAULT_CACERT", "BAO_CACERT"]).map(PathBuf::from),
        };
        Ok(VaultSettings {
            address: address.trim_end_matches('/').to_string(),
            login,
            namespace: config
                .namespace
                .clone()
                .or_else(|| first(&["VAULT_NAMESPACE", "BAO_NAMESPACE"]))
                .map(|n| n.trim_matches('/').to_string())
                .filter(|n| !n.is_empty()),
            ca_file,
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_come_from_vault_then_bao_variables() {
        let e = env(&[
            ("BAO_ADDR", "http://127.0.0.1:8200/"),
            ("BAO_TOKEN", "t-bao"),
            ("VAULT_TOKEN", "t-vault"),
            ("BAO_NAMESPACE", "team/"),
            ("VAULT_CACERT", "/etc/ca.pem"),
        ]);
        let s = VaultSettings::from_config(None, Path::new("/repo"), &e).unwrap();
        assert_eq!(s.address, "http://127.0.0.1:8200");
        assert!(matches!(&s.login, Login::Token(t) if t.expose() == "t-vault"));
        assert_eq!(s.namespace.as_deref(), Some("team"));
        assert_eq!(s.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert!(!format!("{s:?}").contains("t-vault"));
    }

    #[test]
    fn the_block_wins_and_a_relative_ca_file_is_under_the_project() {
        let mut config = VaultConfig {
            auth: VaultAuth::AppRole,
            namespace: Some("ns1".into()),
            approle_mount: "ci-approle".into(),
            timeout_secs: 3,
            ..VaultConfig::default()
        };
        config.address = Some(spanned("https://vault.internal:8200"));
        config.ca_file = Some(spanned("certs/ca.pem"));
        let e = env(&[
            ("VAULT_ADDR", "http://elsewhere:1"),
            ("VAULT_ROLE_ID", "r"),
            ("VAULT_SECRET_ID", "s"),
            ("VAULT_NAMESPACE", "ignored"),
        ]);
        let s = VaultSettings::from_config(Some(&config), Path::new("/repo"), &e).unwrap();
        assert_eq!(s.address, "https://vault.internal:8200");
        assert_eq!(s.namespace.as_deref(), Some("ns1"));
        assert_eq!(s.ca_file.as_deref(), Some(Path::new("/repo/certs/ca.pem")));
        assert_eq!(s.timeout, Duration::from_secs(3));
        assert!(
            matches!(&s.login, Login::AppRole { mount, role_id, secret_id }
            if mount == "ci-approle" && role_id.expose() == "r" && secret_id.expose() == "s")
        );
    }

    #[test]
    fn missing_settings_name_where_they_come_from() {
        let err = VaultSettings::from_config(None, Path::new("/"), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("VAULT_ADDR or BAO_ADDR"), "{err}");
        let err =
            VaultSettings::from_config(None, Path::new("/"), &env(&[("VAULT_ADDR", "http://x")]))
                .unwrap_err();
        assert!(
            err.to_string().contains("VAULT_TOKEN nor BAO_TOKEN"),
            "{err}"
        );
        let config = VaultConfig {
            auth: VaultAuth::AppRole,
            ..VaultConfig::default()
        };
        let err = VaultSettings::from_config(
            Some(&config),
            Path::new("/"),
            &env(&[("VAULT_ADDR", "http://x"), ("VAULT_ROLE_ID", "r")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("VAULT_SECRET_ID is not set"),
            "{err}"
        );
        let err = VaultSettings::from_config(
            None,
            Path::new("/"),
            &env(&[("VAULT_ADDR", "vault:8200"), ("VAULT_TOKEN", "t")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not a URL"), "{err}");
    }

    fn spanned(s: &str) -> plinth_config::Spanned<String> {
        plinth_config::Spanned {
            value: s.to_string(),
            span: 0..0,
        }
    }
}
