//! Connecting to SQLite or PostgreSQL through sqlx's `Any` driver: one code path for both.
//!
//! Queries use `$N` placeholders, which both drivers accept, and only types `Any` carries
//! (BIGINT, TEXT, BLOB/BYTEA). Schemas differ only in type names, hence one migration
//! directory per dialect.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::StateError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// A single SQLite file in WAL mode.
    Sqlite,
    /// A PostgreSQL database, possibly shared by several server replicas.
    Postgres,
}

impl DbKind {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }

    /// Recognises `sqlite:PATH` and `postgres://…` / `postgresql://…` URLs.
    pub fn of_url(url: &str) -> Result<Self, StateError> {
        if url.starts_with("sqlite:") {
            Ok(DbKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbKind::Postgres)
        } else {
            Err(StateError::BadRequest(format!(
                "unsupported database URL {:?}: use sqlite:PATH or postgres://USER@HOST/DB",
                redact(url)
            )))
        }
    }
}

/// Opens a pool and brings the schema up to date.
pub(crate) async fn connect(
    url: &str,
    max_connections: u32,
) -> Result<(AnyPool, DbKind), StateError> {
    sqlx::any::install_default_drivers();
    let kind = DbKind::of_url(url)?;
    let url = match kind {
        DbKind::Sqlite => sqlite_url(url)?,
        DbKind::Postgres => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url).map_err(|e| {
        StateError::BadRequest(format!("invalid database URL {:?}: {e}", redact(&url)))
    })?;
    let mut pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // A ping before every checkout doubles the round trips of each query on PostgreSQL; a
        // dead connection fails its query instead and the pool replaces it.
        .test_before_acquire(false)
        .idle_timeout(Duration::from_secs(300));
    if kind == DbKind::Sqlite {
        pool = pool.after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers proceed during a write; FULL makes each commit durable
                // across power loss, which state storage needs more than write speed.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA busy_timeout = 30000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        });
    }
    let pool = pool.connect_with(options).await?;
    match kind {
        DbKind::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
        DbKind::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
    }
    Ok((pool, kind))
}

/// `sqlite:PATH` → a URL that creates the file (and its directory) when missing.
fn sqlite_url(url: &str) -> Result<String, StateError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StateError::BadRequest(
            "the SQLite database needs a file path (sqlite:PATH); state must survive restarts"
                .into(),
        ));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StateError::BadRequest(format!("cannot create {}: {e}", dir.display())))?;
    }
    let query = if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        query.to_owned()
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Hides a password in a database URL before it goes into a message.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognised_and_passwords_hidden() {
        assert_eq!(DbKind::of_url("sqlite:x.db").unwrap(), DbKind::Sqlite);
        assert_eq!(
            DbKind::of_url("postgres://u@h/db").unwrap(),
            DbKind::Postgres
        );
        assert!(DbKind::of_url("mysql://h/db").is_err());
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn sqlite_paths_become_create_mode_urls() {
        assert_eq!(
            sqlite_url("sqlite:/tmp/x.db").unwrap(),
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert!(sqlite_url("sqlite::memory:").is_err());
    }
}
