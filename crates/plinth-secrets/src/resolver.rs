//! A run's secret values: each distinct path is read once, however many instances need it
//! and however many ask at the same moment, and kept in memory for the run only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plinth_config::SecretSource;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;

use crate::error::SecretError;
use crate::secret::Secret;
use crate::store::SecretDoc;
use crate::stores::{SecretRef, Stores};

/// Reads in flight at once against the stores (a run with hundreds of paths must not open
/// hundreds of connections to a shared Vault).
const MAX_IN_FLIGHT: usize = 16;

type Outcome = Result<Arc<SecretDoc>, SecretError>;

/// The one read of a document, shared by everyone who needs it.
type Read = Arc<OnceCell<Outcome>>;

struct Inner {
    stores: Arc<Stores>,
    /// (scheme, path) → the one read of that document; its error too, so that 200
    /// instances behind an unreachable Vault wait for one timeout, not 200.
    docs: Mutex<HashMap<(String, String), Read>>,
    in_flight: Semaphore,
}

/// The secrets of one run. Cloning shares the same reads.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

impl Resolver {
    /// A resolver reading through `stores`, with nothing read yet.
    pub fn new(stores: Arc<Stores>) -> Resolver {
        Resolver {
            inner: Arc::new(Inner {
                stores,
                docs: Mutex::new(HashMap::new()),
                in_flight: Semaphore::new(MAX_IN_FLIGHT),
            }),
        }
    }

    /// The stores it reads through (for `publish` and rotation, which write).
    pub fn stores(&self) -> &Arc<Stores> {
        &self.inner.stores
    }

    /// The value `source` points to.
    pub async fn get(&self, source: &SecretSource) -> Result<Secret, SecretError> {
        self.get_ref(&SecretRef::from(source)).await
    }

    /// The value `r` points to.
    pub async fn get_ref(&self, r: &SecretRef) -> Result<Secret, SecretError> {
        let doc = self.document(r.scheme, &r.path).await?;
        doc.get(&r.key)
            .cloned()
            .ok_or_else(|| SecretError::KeyMissing {
                at: r.location(),
                key: r.key.clone(),
                keys: doc.keys(),
            })
    }

    /// The whole document at `path` of `scheme`'s store, read at most once per resolver.
    pub async fn document(&self, scheme: &str, path: &str) -> Outcome {
        let cell = {
            let mut docs = self.inner.docs.lock().unwrap_or_else(|p| p.into_inner());
            docs.entry((scheme.to_string(), path.to_string()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            let store = self.inner.stores.store(scheme)?;
            let _permit = self.inner.in_flight.acquire().await.map_err(|_| {
                SecretError::NotConfigured("the secret resolver was shut down".into())
            })?;
            store.read(path).await.map(Arc::new)
        })
        .await
        .clone()
    }

    /// Reads every distinct document `refs` point to, concurrently; later
    /// [`get`](Self::get)s are then answered from memory (errors included).
    pub async fn prefetch(&self, refs: impl IntoIterator<Item = SecretRef>) {
        let mut seen = std::collections::HashSet::new();
        let mut tasks = JoinSet::new();
        for r in refs {
            if seen.insert((r.scheme, r.path.clone())) {
                let this = self.clone();
                tasks.spawn(async move {
                    let _ = this.document(r.scheme, &r.path).await;
                });
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    /// How many distinct documents were asked for (read or failed) so far.
    pub fn documents_requested(&self) -> usize {
        self.inner
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|c| c.initialized())
            .count()
    }

    /// Every value read so far, of every key of every document: the run's mask set.
    pub fn values_read(&self) -> Vec<Secret> {
        let docs = self.inner.docs.lock().unwrap_or_else(|p| p.into_inner());
        docs.values()
            .filter_map(|c| c.get())
            .filter_map(|o| o.as_ref().ok())
            .flat_map(|d| d.values.values().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::env_store::EnvStore;

    #[tokio::test]
    async fn env_values_and_unknown_schemes() {
        let env: HashMap<String, String> = [("API_KEY".to_string(), "k-123".to_string())]
            .into_iter()
            .collect();
        let stores = Stores::new().with(Arc::new(EnvStore::new(Arc::new(env))));
        let resolver = Resolver::new(Arc::new(stores));
        let v = resolver
            .get(&SecretSource::parse("env:API_KEY").unwrap())
            .await
            .unwrap();
        assert_eq!(v.expose(), "k-123");
        let err = resolver
            .get(&SecretSource::parse("env:UNSET_ONE").unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "missing");
        assert_eq!(resolver.documents_requested(), 2);
        assert_eq!(resolver.values_read().len(), 1);
        let err = resolver
            .get(&SecretSource::parse("vault:secret/a#b").unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("`vault:`"), "{err}");
    }
}
