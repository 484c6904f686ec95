//! What every storage test shares: a database on SQLite or a private PostgreSQL, stores on it,
//! actors, and `on_both!`, which runs each scenario on both databases.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use plinth_state::test_support::TempPostgres;
use plinth_state::{Actor, Scope, Sealer, Store, StoreOptions};

pub struct Db {
    pub url: String,
    pub kind: &'static str,
    _sqlite_dir: Option<tempfile::TempDir>,
    _pg: Option<TempPostgres>,
}

pub fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        url: format!("sqlite:{}", dir.path().join("state.db").display()),
        kind: "sqlite",
        _sqlite_dir: Some(dir),
        _pg: None,
    }
}

pub fn postgres() -> Db {
    let pg = TempPostgres::start();
    let url = pg.create_database("plinth");
    Db {
        url,
        kind: "postgres",
        _sqlite_dir: None,
        _pg: Some(pg),
    }
}

/// A store on the database (several stores on one database behave like replicas).
pub async fn open(db: &Db) -> Store {
    Store::open(StoreOptions::new(
        db.url.clone(),
        Sealer::from_key(&[7u8; 32]).unwrap(),
    ))
    .await
    .unwrap()
}

pub fn actor(name: &str, scope: Scope) -> Actor {
    Actor {
        name: name.into(),
        scope,
    }
}

/// Polls `condition` until it holds or 10 s pass (no sleeping as synchronisation).
pub async fn eventually<T, F, Fut>(what: &str, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(common::sqlite()).await } )* }
        mod postgres_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(common::postgres()).await } )* }
    };
}
