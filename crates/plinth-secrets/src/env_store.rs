//! `env:VAR`: secrets from plinth's own environment (what CI or the server was given).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::SecretError;
use crate::secret::Secret;
use crate::store::{SecretDoc, SecretStore, StoreFuture};

/// Where environment variables are looked up: the process, or a map in tests and in the
/// server (which runs with another environment than its jobs').
pub trait EnvLookup: Send + Sync {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvLookup for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvLookup for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvLookup for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The `env` store: the path is the variable's name, and the document holds one key of
/// the same name.
#[derive(Clone)]
pub struct EnvStore {
    env: Arc<dyn EnvLookup>,
}

impl EnvStore {
    /// A store reading `env`.
    pub fn new(env: Arc<dyn EnvLookup>) -> EnvStore {
        EnvStore { env }
    }

    /// A store reading the process environment.
    pub fn process() -> EnvStore {
        EnvStore::new(Arc::new(ProcessEnv))
    }
}

impl SecretStore for EnvStore {
    fn scheme(&self) -> &'static str {
        "env"
    }

    fn read<'a>(&'a self, path: &'a str) -> StoreFuture<'a, SecretDoc> {
        Box::pin(async move {
            // An empty variable counts as unset: passing "" as a secret hides a CI mistake.
            let value = self
                .env
                .var(path)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| SecretError::EnvUnset { var: path.into() })?;
            let mut doc = SecretDoc::default();
            doc.values.insert(path.to_string(), Secret::new(value));
            Ok(doc)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_set_variable_and_names_an_unset_one() {
        let env: HashMap<String, String> = [("STRIPE_KEY".to_string(), "sk_test_1".to_string())]
            .into_iter()
            .collect();
        let store = EnvStore::new(Arc::new(env));
        let doc = store.read("STRIPE_KEY").await.unwrap();
        assert_eq!(doc.get("STRIPE_KEY").unwrap().expose(), "sk_test_1");
        let err = store.read("NOPE").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "env:NOPE: environment variable NOPE is not set"
        );
    }
}
