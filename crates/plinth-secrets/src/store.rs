//! The seam between the runner and the places secrets live: a store reads a document (every
//! key at one path) in one request; a versioned store also keeps versions and can be written.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use time::OffsetDateTime;

use crate::error::SecretError;
use crate::secret::Secret;

/// The future a store operation returns (boxed so that stores can live behind `dyn`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SecretError>> + Send + 'a>>;

/// The keys and values found at one path, with the version they belong to.
#[derive(Debug, Clone, Default)]
pub struct SecretDoc {
    /// Key → value.
    pub values: BTreeMap<String, Secret>,
    /// The version read, for a versioned store.
    pub version: Option<u64>,
    /// When that version was written, for a versioned store.
    pub created_time: Option<OffsetDateTime>,
}

impl SecretDoc {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Secret> {
        self.values.get(key)
    }

    /// The key names (never values).
    pub fn keys(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }

    /// Whether `values` holds exactly the same keys and values.
    pub fn same_values(&self, values: &BTreeMap<String, Secret>) -> bool {
        self.values.len() == values.len()
            && self
                .values
                .iter()
                .zip(values)
                .all(|((ka, va), (kb, vb))| ka == kb && va.same_as(vb))
    }
}

/// A place secret values are read from, chosen by the scheme of a `from` string.
pub trait SecretStore: Send + Sync {
    /// The scheme it serves (`vault`, `env`).
    fn scheme(&self) -> &'static str;

    /// Reads every key at `path` in one request.
    fn read<'a>(&'a self, path: &'a str) -> StoreFuture<'a, SecretDoc>;
}

/// One version in a secret's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// When it was written.
    pub created_time: OffsetDateTime,
    /// When it was soft-deleted, if it was.
    pub deletion_time: Option<OffsetDateTime>,
    /// Whether its data was destroyed for good.
    pub destroyed: bool,
}

/// A secret's metadata: its versions (values are not part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The latest version.
    pub current_version: u64,
    /// Versions still kept, by number.
    pub versions: BTreeMap<u64, VersionInfo>,
}

impl Metadata {
    /// The latest version's entry.
    pub fn current(&self) -> Option<&VersionInfo> {
        self.versions.get(&self.current_version)
    }

    /// How old the latest version is at `now` (zero when it is in the future).
    pub fn age(&self, now: OffsetDateTime) -> Option<std::time::Duration> {
        self.current()
            .map(|v| (now - v.created_time).try_into().unwrap_or_default())
    }
}

/// The latest version of a secret, as a writer needs it.
#[derive(Debug, Clone)]
pub enum Latest {
    /// Nothing was ever written at the path.
    Absent,
    /// The latest version is soft-deleted; a write replaces it with check-and-set `version`.
    Deleted {
        /// Its number.
        version: u64,
    },
    /// The latest version and its values.
    Live(SecretDoc),
}

impl Latest {
    /// The check-and-set value a write replacing this must carry (0: must not exist yet).
    pub fn cas(&self) -> u64 {
        match self {
            Latest::Absent => 0,
            Latest::Deleted { version } => *version,
            Latest::Live(doc) => doc.version.unwrap_or(0),
        }
    }
}

/// A store that keeps versions and can be written: where `publish` and rotation go.
pub trait VersionedStore: SecretStore {
    /// The latest version at `path`, whether it exists, is deleted or was never written.
    fn read_latest<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Latest>;

    /// The versions of the secret at `path`.
    fn metadata<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Metadata>;

    /// Writes `values` as a new version and returns its number. With `cas`, the write
    /// happens only while the latest version is `cas` (0: only when nothing exists yet).
    fn write<'a>(
        &'a self,
        path: &'a str,
        values: &'a BTreeMap<String, Secret>,
        cas: Option<u64>,
    ) -> StoreFuture<'a, u64>;

    /// Soft-deletes the latest version (it can be undeleted; older versions stay).
    fn delete_latest<'a>(&'a self, path: &'a str) -> StoreFuture<'a, ()>;
}

/// What [`write_if_changed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The latest version already held these values.
    Unchanged {
        /// That version.
        version: u64,
    },
    /// A new version was written.
    Written {
        /// Its number.
        version: u64,
    },
}

impl WriteOutcome {
    /// The version that now holds the values.
    pub fn version(&self) -> u64 {
        match self {
            WriteOutcome::Unchanged { version } | WriteOutcome::Written { version } => *version,
        }
    }
}

/// Writes `values` at `path` as a new version only when they differ from the latest one
/// (`publish`); check-and-set on the version read, so a concurrent writer is detected.
pub async fn write_if_changed(
    store: &dyn VersionedStore,
    path: &str,
    values: &BTreeMap<String, Secret>,
) -> Result<WriteOutcome, SecretError> {
    let latest = store.read_latest(path).await?;
    if let Latest::Live(doc) = &latest
        && doc.same_values(values)
    {
        return Ok(WriteOutcome::Unchanged {
            version: latest.cas(),
        });
    }
    let version = store.write(path, values, Some(latest.cas())).await?;
    Ok(WriteOutcome::Written { version })
}

/// Sets one key of the secret at `path` to `value`, keeping its other keys, as a new
/// version (rotation); check-and-set on the version read, so two rotations cannot
/// interleave. Returns the new version.
pub async fn set_key(
    store: &dyn VersionedStore,
    path: &str,
    key: &str,
    value: Secret,
) -> Result<u64, SecretError> {
    let latest = store.read_latest(path).await?;
    let mut values = match &latest {
        Latest::Live(doc) => doc.values.clone(),
        Latest::Absent | Latest::Deleted { .. } => BTreeMap::new(),
    };
    values.insert(key.to_string(), value);
    store.write(path, &values, Some(latest.cas())).await
}
