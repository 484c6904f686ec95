//! KV version 2 over the HTTP API: `GET|POST|DELETE /v1/{mount}/data/{path}` and
//! `GET /v1/{mount}/metadata/{path}`, where the mount is the first segment of plinth's path
//! (`secret/licensing/prod` → mount `secret`, path `licensing/prod`).

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::error::SecretError;
use crate::secret::Secret;
use crate::store::{
    Latest, Metadata, SecretDoc, SecretStore, StoreFuture, VersionInfo, VersionedStore,
};

use super::client::{Answer, VaultClient, errors_of, parse_time};

/// Characters escaped inside one path segment; `/` separates segments and stays.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A KV v2 path split into its mount and the path inside it.
struct KvPath<'a> {
    full: &'a str,
    mount: &'a str,
    rest: String,
}

impl<'a> KvPath<'a> {
    fn parse(full: &'a str) -> Result<KvPath<'a>, SecretError> {
        let trimmed = full.trim_matches('/');
        match trimmed.split_once('/') {
            Some((mount, rest)) if !mount.is_empty() && !rest.trim_matches('/').is_empty() => {
                Ok(KvPath {
                    full,
                    mount,
                    rest: rest
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                })
            }
            _ => Err(SecretError::NotConfigured(format!(
                "vault:{full}: a KV v2 path needs a mount and a path, e.g. secret/app/prod"
            ))),
        }
    }

    fn data(&self) -> String {
        format!("{}/data/{}", self.mount, self.rest)
    }

    fn metadata(&self) -> String {
        format!("{}/metadata/{}", self.mount, self.rest)
    }

    fn at(&self) -> String {
        format!("vault:{}", self.full.trim_matches('/'))
    }

    /// Why a 404 answer means "nothing here".
    fn not_found(&self, body: &Value) -> SecretError {
        let reason = match errors_of(body) {
            Some(words) if words.contains("no handler for route") => format!(
                "no secrets engine is mounted at `{}` (is it a KV v2 mount?)",
                self.mount
            ),
            _ => format!(
                "no secret at path `{}` of the KV v2 mount `{}`",
                self.rest, self.mount
            ),
        };
        SecretError::NotFound {
            at: self.at(),
            reason,
        }
    }
}

impl VaultClient {
    /// The latest version at `path` (`MOUNT/PATH`), deleted or never written included.
    pub async fn kv_latest(&self, path: &str) -> Result<Latest, SecretError> {
        let kv = KvPath::parse(path)?;
        let at = kv.at();
        let Answer { status, body } = self.call(Method::GET, &kv.data(), None, &at).await?;
        let meta = &body["data"]["metadata"];
        if status == StatusCode::NOT_FOUND {
            // A deleted or destroyed latest version answers 404 with its metadata.
            return match meta["version"].as_u64() {
                Some(version) => Ok(Latest::Deleted { version }),
                None if errors_of(&body).is_some() => Err(kv.not_found(&body)),
                None => Ok(Latest::Absent),
            };
        }
        let data = body["data"]["data"]
            .as_object()
            .ok_or_else(|| SecretError::Protocol {
                at: at.clone(),
                detail: "no data.data object in the KV v2 answer (is the mount KV v1?)".into(),
            })?;
        Ok(Latest::Live(SecretDoc {
            values: data
                .iter()
                .map(|(k, v)| (k.clone(), Secret::json(v)))
                .collect(),
            version: meta["version"].as_u64(),
            created_time: meta["created_time"].as_str().and_then(parse_time),
        }))
    }

    /// The latest version's values at `path`; a deleted or absent secret is an error.
    pub async fn kv_read(&self, path: &str) -> Result<SecretDoc, SecretError> {
        match self.kv_latest(path).await? {
            Latest::Live(doc) => Ok(doc),
            Latest::Deleted { version } => Err(SecretError::NotFound {
                at: KvPath::parse(path)?.at(),
                reason: format!("its latest version ({version}) is deleted"),
            }),
            Latest::Absent => {
                let kv = KvPath::parse(path)?;
                Err(kv.not_found(&Value::Null))
            }
        }
    }

    /// The versions of the secret at `path`.
    pub async fn kv_metadata(&self, path: &str) -> Result<Metadata, SecretError> {
        let kv = KvPath::parse(path)?;
        let at = kv.at();
        let Answer { status, body } = self.call(Method::GET, &kv.metadata(), None, &at).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(kv.not_found(&body));
        }
        let data = &body["data"];
        let bad = |detail: &str| SecretError::Protocol {
            at: at.clone(),
            detail: detail.into(),
        };
        let current_version = data["current_version"]
            .as_u64()
            .ok_or_else(|| bad("no current_version in the metadata"))?;
        let mut versions = BTreeMap::new();
        for (n, v) in data["versions"].as_object().into_iter().flatten() {
            let (Ok(n), Some(created_time)) = (
                n.parse::<u64>(),
                v["created_time"].as_str().and_then(parse_time),
            ) else {
                return Err(bad("a version without a number or created_time"));
            };
            versions.insert(
                n,
                VersionInfo {
                    created_time,
                    deletion_time: v["deletion_time"].as_str().and_then(parse_time),
                    destroyed: v["destroyed"].as_bool().unwrap_or(false),
                },
            );
        }
        Ok(Metadata {
            current_version,
            versions,
        })
    }

    /// Writes `values` as a new version (check-and-set on `cas` when given); returns it.
    pub async fn kv_write(
        &self,
        path: &str,
        values: &BTreeMap<String, Secret>,
        cas: Option<u64>,
    ) -> Result<u64, SecretError> {
        let kv = KvPath::parse(path)?;
        let at = kv.at();
        let data: Map<String, Value> = values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        let mut body = json!({ "data": data });
        if let Some(cas) = cas {
            body["options"] = json!({ "cas": cas });
        }
        let result = self.call(Method::POST, &kv.data(), Some(&body), &at).await;
        drop(body);
        match result {
            Ok(Answer { status, body }) if status == StatusCode::NOT_FOUND => {
                Err(kv.not_found(&body))
            }
            Ok(Answer { body, .. }) => {
                body["data"]["version"]
                    .as_u64()
                    .ok_or_else(|| SecretError::Protocol {
                        at,
                        detail: "no data.version in the answer to a write".into(),
                    })
            }
            Err(SecretError::Http { detail, .. })
                if detail.contains("check-and-set") && cas.is_some() =>
            {
                Err(SecretError::CasMismatch {
                    at,
                    expected: cas.unwrap_or(0),
                })
            }
            // The server's words about a refused write may quote what was sent.
            Err(e) => Err(scrub(e, values)),
        }
    }

    /// Soft-deletes the latest version at `path` (nothing to delete is not an error).
    pub async fn kv_delete_latest(&self, path: &str) -> Result<(), SecretError> {
        let kv = KvPath::parse(path)?;
        let at = kv.at();
        let Answer { status, body } = self.call(Method::DELETE, &kv.data(), None, &at).await?;
        if status == StatusCode::NOT_FOUND && errors_of(&body).is_some() {
            return Err(kv.not_found(&body));
        }
        Ok(())
    }
}

fn scrub(err: SecretError, values: &BTreeMap<String, Secret>) -> SecretError {
    let clean = |s: String| {
        values
            .values()
            .filter(|v| !v.expose().is_empty())
            .fold(s, |s, v| s.replace(v.expose(), "***"))
    };
    match err {
        SecretError::Http { at, status, detail } => SecretError::Http {
            at,
            status,
            detail: clean(detail),
        },
        SecretError::Refused { at, detail } => SecretError::Refused {
            at,
            detail: clean(detail),
        },
        SecretError::Protocol { at, detail } => SecretError::Protocol {
            at,
            detail: clean(detail),
        },
        other => other,
    }
}

impl SecretStore for VaultClient {
    fn scheme(&self) -> &'static str {
        "vault"
    }

    fn read<'a>(&'a self, path: &'a str) -> StoreFuture<'a, SecretDoc> {
        Box::pin(self.kv_read(path))
    }
}

impl VersionedStore for VaultClient {
    fn read_latest<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Latest> {
        Box::pin(self.kv_latest(path))
    }

    fn metadata<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Metadata> {
        Box::pin(self.kv_metadata(path))
    }

    fn write<'a>(
        &'a self,
        path: &'a str,
        values: &'a BTreeMap<String, Secret>,
        cas: Option<u64>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(self.kv_write(path, values, cas))
    }

    fn delete_latest<'a>(&'a self, path: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.kv_delete_latest(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_segment_is_the_mount() {
        let kv = KvPath::parse("secret/licensing/prod").unwrap();
        assert_eq!(kv.data(), "secret/data/licensing/prod");
        assert_eq!(kv.metadata(), "secret/metadata/licensing/prod");
        assert_eq!(kv.at(), "vault:secret/licensing/prod");
        let kv = KvPath::parse("/kv/a b/c?d/").unwrap();
        assert_eq!(kv.data(), "kv/data/a%20b/c%3Fd");
        assert!(KvPath::parse("secret").is_err());
        assert!(KvPath::parse("secret/").is_err());
    }
}
