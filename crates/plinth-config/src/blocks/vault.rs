//! The `vault` block: how plinth reaches Vault or OpenBao.

use std::ops::Range;
use std::sync::Arc;

use plinth_diag::{Diagnostic, SourceFile};

use crate::Spanned;
use crate::body::Reader;

/// How plinth logs in to Vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultAuth {
    /// A token from `VAULT_TOKEN` / `BAO_TOKEN`.
    Token,
    /// AppRole login with `VAULT_ROLE_ID` and `VAULT_SECRET_ID`.
    AppRole,
}

/// The `vault` block (every field optional: the defaults come from the environment).
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// Server address; default `VAULT_ADDR` or `BAO_ADDR`.
    pub address: Option<Spanned<String>>,
    /// Login method.
    pub auth: VaultAuth,
    /// Namespace (`X-Vault-Namespace`); default `VAULT_NAMESPACE` / `BAO_NAMESPACE`.
    pub namespace: Option<String>,
    /// PEM file of the CA that signed the server's certificate; default `VAULT_CACERT`.
    pub ca_file: Option<Spanned<String>>,
    /// Mount path of the AppRole auth method (default `approle`).
    pub approle_mount: String,
    /// Per-request timeout in seconds (default 10).
    pub timeout_secs: u64,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            address: None,
            auth: VaultAuth::Token,
            namespace: None,
            ca_file: None,
            approle_mount: "approle".into(),
            timeout_secs: 10,
        }
    }
}

pub(crate) fn parse(
    block: &hcl_edit::structure::Block,
    source: &Arc<SourceFile>,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> VaultConfig {
    let r = Reader::new(
        &block.body,
        source,
        "the `vault` block",
        span,
        &[
            "address",
            "auth",
            "namespace",
            "ca_file",
            "approle_mount",
            "timeout",
        ],
        &[],
        diags,
    );
    let auth = match r.string("auth", diags) {
        None => VaultAuth::Token,
        Some(a) if a.value == "token" => VaultAuth::Token,
        Some(a) if a.value == "approle" => VaultAuth::AppRole,
        Some(a) => {
            diags.push(
                Diagnostic::error(format!("unknown Vault auth method `{}`", a.value)).at(
                    source,
                    a.span,
                    "expected `token` or `approle`",
                ),
            );
            VaultAuth::Token
        }
    };
    let address = r.string("address", diags);
    if let Some(a) = &address
        && !(a.value.starts_with("http://") || a.value.starts_with("https://"))
    {
        diags.push(Diagnostic::error("Vault `address` is not a URL").at(
            source,
            a.span.clone(),
            "expected https://HOST:PORT",
        ));
    }
    let defaults = VaultConfig::default();
    VaultConfig {
        address,
        auth,
        namespace: r.string("namespace", diags).map(|n| n.value),
        ca_file: r.string("ca_file", diags),
        approle_mount: r
            .string("approle_mount", diags)
            .map_or(defaults.approle_mount, |m| {
                m.value.trim_matches('/').to_string()
            }),
        timeout_secs: r
            .duration("timeout", diags)
            .map_or(defaults.timeout_secs, |t| t.value),
    }
}
