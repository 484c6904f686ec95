//! The stores a process can read from, by scheme, and where one `from` source points.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use plinth_config::{SecretSource, VaultConfig};

use crate::env_store::{EnvLookup, EnvStore};
use crate::error::SecretError;
use crate::store::{SecretStore, VersionedStore};
use crate::vault::{VaultClient, VaultSettings};

/// Where one secret value lives: a store's scheme, the path read in one request, and the
/// key inside it. The only place that looks inside a [`SecretSource`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretRef {
    /// The store's scheme (`vault`, `env`).
    pub scheme: &'static str,
    /// The path (`secret/licensing/prod`, or the variable's name).
    pub path: String,
    /// The key in the document at `path`.
    pub key: String,
}

impl From<&SecretSource> for SecretRef {
    fn from(source: &SecretSource) -> SecretRef {
        match source {
            SecretSource::Vault { path, key } => SecretRef {
                scheme: "vault",
                path: path.clone(),
                key: key.clone(),
            },
            SecretSource::Env(var) => SecretRef {
                scheme: "env",
                path: var.clone(),
                key: var.clone(),
            },
        }
    }
}

impl SecretRef {
    /// `scheme:path`: how errors about the whole document name it.
    pub fn location(&self) -> String {
        format!("{}:{}", self.scheme, self.path)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key == self.path {
            write!(f, "{}:{}", self.scheme, self.path)
        } else {
            write!(f, "{}:{}#{}", self.scheme, self.path, self.key)
        }
    }
}

enum Entry {
    Read(Arc<dyn SecretStore>),
    Versioned(Arc<dyn VersionedStore>),
    /// The store is configured wrongly; the error is given to whoever needs it, so that a
    /// run without `vault:` secrets is not stopped by a missing VAULT_TOKEN.
    Unavailable(SecretError),
}

/// The stores of a process, by scheme. Built once per process (an AppRole login is then
/// made once) and shared by every run's [`Resolver`](crate::Resolver).
#[derive(Default)]
pub struct Stores {
    by_scheme: BTreeMap<&'static str, Entry>,
}

impl Stores {
    /// No store at all.
    pub fn new() -> Stores {
        Stores::default()
    }

    /// `env` reading `env`, and `vault` from the project's `vault` block completed from
    /// `env` (or the reason it cannot be used).
    pub fn for_project(
        vault: Option<&VaultConfig>,
        project_root: &Path,
        env: Arc<dyn EnvLookup>,
    ) -> Stores {
        let vault = VaultSettings::from_config(vault, project_root, env.as_ref())
            .and_then(VaultClient::new);
        let stores = Stores::new().with(Arc::new(EnvStore::new(env)));
        match vault {
            Ok(client) => stores.with_versioned(Arc::new(client)),
            Err(e) => stores.with_unavailable("vault", e),
        }
    }

    /// Adds (or replaces) a read-only store.
    pub fn with(mut self, store: Arc<dyn SecretStore>) -> Stores {
        self.by_scheme.insert(store.scheme(), Entry::Read(store));
        self
    }

    /// Adds (or replaces) a versioned, writable store.
    pub fn with_versioned(mut self, store: Arc<dyn VersionedStore>) -> Stores {
        self.by_scheme
            .insert(store.scheme(), Entry::Versioned(store));
        self
    }

    /// Records that `scheme`'s store cannot be used, and why.
    pub fn with_unavailable(mut self, scheme: &'static str, why: SecretError) -> Stores {
        self.by_scheme.insert(scheme, Entry::Unavailable(why));
        self
    }

    /// The store serving `scheme`.
    pub fn store(&self, scheme: &str) -> Result<Arc<dyn SecretStore>, SecretError> {
        match self.by_scheme.get(scheme) {
            Some(Entry::Read(s)) => Ok(s.clone()),
            Some(Entry::Versioned(s)) => Ok(s.clone()),
            Some(Entry::Unavailable(e)) => Err(e.clone()),
            None => Err(SecretError::NotConfigured(format!(
                "no secret store serves `{scheme}:` sources"
            ))),
        }
    }

    /// The versioned store serving `scheme` (where `publish` and rotation write).
    pub fn versioned(&self, scheme: &str) -> Result<Arc<dyn VersionedStore>, SecretError> {
        match self.by_scheme.get(scheme) {
            Some(Entry::Versioned(s)) => Ok(s.clone()),
            Some(Entry::Read(s)) => Err(SecretError::Unsupported {
                at: format!("{scheme}:"),
                store: s.scheme(),
                operation: "keep versions or be written",
            }),
            Some(Entry::Unavailable(e)) => Err(e.clone()),
            None => Err(SecretError::NotConfigured(format!(
                "no secret store serves `{scheme}:` sources"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_source_points_into_its_store() {
        let r = SecretRef::from(&SecretSource::parse("vault:secret/app/prod#db").unwrap());
        assert_eq!(
            (r.scheme, r.path.as_str(), r.key.as_str()),
            ("vault", "secret/app/prod", "db")
        );
        assert_eq!(r.to_string(), "vault:secret/app/prod#db");
        assert_eq!(r.location(), "vault:secret/app/prod");
        let r = SecretRef::from(&SecretSource::parse("env:STRIPE").unwrap());
        assert_eq!(r.to_string(), "env:STRIPE");
    }

    #[test]
    fn an_unconfigured_vault_fails_only_those_who_use_it() {
        let env: HashMap<String, String> = HashMap::new();
        let stores = Stores::for_project(None, Path::new("/"), Arc::new(env));
        assert!(stores.store("env").is_ok());
        let err = stores.store("vault").err().unwrap();
        assert!(err.to_string().contains("VAULT_ADDR"), "{err}");
        let err = stores.versioned("env").err().unwrap();
        assert_eq!(err.kind(), "unsupported");
        assert!(stores.store("sops").is_err());
    }
}
