//! `plinth secrets ls|rotate`: what an environment's secrets are (source, version, age, due
//! for rotation — never a value), and writing a new random value as a new Vault version.

use std::sync::Arc;

use plinth_config::{Scope, SecretSource};
use plinth_project::Project;
use plinth_secrets::{ProcessEnv, SecretError, Stores};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::RunError;
use crate::history::{History, now};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rotations (
    secret TEXT NOT NULL,
    env TEXT NOT NULL,
    location TEXT NOT NULL,
    version INTEGER NOT NULL,
    who TEXT NOT NULL,
    at TEXT NOT NULL
);
";

/// One secret of an environment, as `secrets ls` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretInfo {
    /// The `secret` block's name (the variable it feeds).
    pub name: String,
    /// `vault` or `env`.
    pub source: String,
    /// `vault:PATH#KEY` or `env:VAR`.
    pub location: String,
    /// The latest Vault version.
    pub version: Option<u64>,
    /// Age of the latest version, in whole days.
    pub age_days: Option<u64>,
    /// `rotate_every`, in days.
    pub rotate_every_days: Option<u64>,
    /// `ok`, `due` (older than `rotate_every`) or `missing`.
    pub status: String,
    /// Why it is missing (never a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A rotation that was written.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    /// The secret.
    pub name: String,
    /// `vault:PATH#KEY`.
    pub location: String,
    /// The new version.
    pub version: u64,
    /// Stacks of the environment that read it (what `--apply` re-applies).
    pub consumers: Vec<String>,
}

struct EnvName<'a>(&'a str);

impl Scope for EnvName<'_> {
    fn root(&self, name: &str) -> Option<Value> {
        (name == "env").then(|| json!({ "name": self.0, "template": self.0 }))
    }
}

fn stores(project: &Project) -> Stores {
    Stores::for_project(
        project.config.vault.as_ref(),
        &project.root,
        Arc::new(ProcessEnv),
    )
}

/// The source of secret block `decl` in environment `env`.
fn source_of(decl: &plinth_config::SecretDecl, env: &str) -> Result<SecretSource, RunError> {
    let from = decl
        .from
        .value
        .evaluate(&EnvName(env))
        .map_err(|e| RunError::Usage(format!("secret `{}`: {}", decl.name.value, e.message)))?;
    SecretSource::parse(from.as_str().unwrap_or_default())
        .map_err(|e| RunError::Usage(format!("secret `{}`: {e}", decl.name.value)))
}

fn check_env(project: &Project, env: &str) -> Result<(), RunError> {
    if project.config.environment(env).is_none() {
        project.graph(env).map_err(RunError::Config)?;
    }
    Ok(())
}

/// Every secret of `env`, with where it stands; nothing is read but metadata (and, for
/// `env:` secrets, whether the variable is set).
pub async fn secrets_ls(project: &Project, env: &str) -> Result<Vec<SecretInfo>, RunError> {
    check_env(project, env)?;
    let stores = stores(project);
    let mut out = Vec::new();
    for decl in project.config.secrets.iter().filter(|s| s.applies_to(env)) {
        let source = source_of(decl, env)?;
        let rotate = decl.rotate_every.as_ref().map(|r| r.value);
        let mut info = SecretInfo {
            name: decl.name.value.clone(),
            source: source.kind().to_string(),
            location: source.to_string(),
            version: None,
            age_days: None,
            rotate_every_days: rotate.map(|s| s / 86400),
            status: "ok".into(),
            detail: None,
        };
        match &source {
            SecretSource::Env(var) => {
                if std::env::var(var).map_or(true, |v| v.is_empty()) {
                    info.status = "missing".into();
                    info.detail = Some(format!("{var} is not set"));
                }
            }
            SecretSource::Vault { path, key } => match metadata_and_key(&stores, path, key).await {
                Ok((version, age)) => {
                    info.version = Some(version);
                    info.age_days = age.map(|a| a.as_secs() / 86400);
                    if let (Some(age), Some(every)) = (age, rotate)
                        && age.as_secs() > every
                    {
                        info.status = "due".into();
                    }
                }
                Err(e) => {
                    info.status = "missing".into();
                    info.detail = Some(e.to_string());
                }
            },
        }
        out.push(info);
    }
    Ok(out)
}

/// The latest version of `path` and its age, once `key` is known to be in it.
async fn metadata_and_key(
    stores: &Stores,
    path: &str,
    key: &str,
) -> Result<(u64, Option<std::time::Duration>), SecretError> {
    let store = stores.versioned("vault")?;
    let meta = store.metadata(path).await?;
    let doc = stores.store("vault")?.read(path).await?;
    if !doc.values.contains_key(key) {
        return Err(SecretError::KeyMissing {
            at: format!("vault:{path}"),
            key: key.to_string(),
            keys: doc.values.keys().cloned().collect(),
        });
    }
    Ok((
        meta.current_version,
        meta.age(time::OffsetDateTime::now_utc()),
    ))
}

/// Writes a new random value (from the block's `generate`) as a new version of secret `name`
/// in `env`, records who rotated what and when, and names the stacks that read it.
pub async fn rotate_secret(
    project: &Project,
    name: &str,
    env: &str,
    who: &str,
) -> Result<Rotation, RunError> {
    check_env(project, env)?;
    let decl = project
        .config
        .secrets
        .iter()
        .find(|s| s.name.value == name)
        .ok_or_else(|| {
            let names: Vec<&str> = project
                .config
                .secrets
                .iter()
                .map(|s| s.name.value.as_str())
                .collect();
            RunError::Usage(format!(
                "no secret `{name}` in plinth.hcl{}",
                match plinth_config::did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => String::new(),
                }
            ))
        })?;
    if !decl.applies_to(env) {
        return Err(RunError::Usage(format!(
            "secret `{name}` does not apply to environment `{env}`"
        )));
    }
    let generate = decl.generate.as_ref().ok_or_else(|| {
        RunError::Usage(format!(
            "secret `{name}` has no `generate` block: plinth does not know what a new value looks like (add `generate = {{ length = 48 }}`)"
        ))
    })?;
    let source = source_of(decl, env)?;
    let SecretSource::Vault { path, key } = &source else {
        return Err(RunError::Usage(format!(
            "secret `{name}` comes from {source}; only Vault secrets can be rotated by plinth"
        )));
    };
    let stores = stores(project);
    let store = stores
        .versioned("vault")
        .map_err(|e| RunError::Blocked(format!("secret `{name}`: {e}")))?;
    let value = plinth_secrets::generate(generate.length as usize, generate.symbols)
        .map_err(|e| RunError::Other(format!("secret `{name}`: {e}")))?;
    let version = plinth_secrets::set_key(store.as_ref(), path, key, value)
        .await
        .map_err(|e| RunError::Blocked(format!("secret `{name}`: {e}")))?;
    let history = History::open(&plinth_engine::Layout::at(&project.work_dir).database())
        .await
        .map_err(RunError::Other)?;
    sqlx::query(
        "INSERT INTO rotations (secret, env, location, version, who, at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(env)
    .bind(source.to_string())
    .bind(version as i64)
    .bind(who)
    .bind(now())
    .execute(&history.pool)
    .await
    .map_err(|e| RunError::Other(format!("run history: {e}")))?;
    let modules = project.local_modules();
    let consumers = project
        .instances(env)
        .filter(|s| {
            let mods = modules.get(&s.id).map_or(&[][..], Vec::as_slice);
            plinth_project::StackCode::read(&s.dir, mods)
                .variables
                .is_some_and(|v| v.contains(name))
        })
        .map(|s| s.id.clone())
        .collect();
    Ok(Rotation {
        name: name.to_string(),
        location: source.to_string(),
        version,
        consumers,
    })
}

/// The rotations recorded for `env`, oldest first: `(secret, location, version, who, at)`.
pub async fn rotations(
    project: &Project,
    env: &str,
) -> Result<Vec<(String, String, i64, String, String)>, RunError> {
    let db = plinth_engine::Layout::at(&project.work_dir).database();
    if !db.is_file() {
        return Ok(Vec::new());
    }
    let history = History::open(&db).await.map_err(RunError::Other)?;
    let rows = sqlx::query(
        "SELECT secret, location, version, who, at FROM rotations WHERE env = ? ORDER BY at, rowid",
    )
    .bind(env)
    .fetch_all(&history.pool)
    .await
    .map_err(|e| RunError::Other(format!("run history: {e}")))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get("secret"),
                r.get("location"),
                r.get("version"),
                r.get("who"),
                r.get("at"),
            )
        })
        .collect())
}
