//! A real server for the API tests: a store on SQLite or a private PostgreSQL, the router
//! behind `serve_with` on a loopback port, tokens of each scope, and a JSON client.

#![allow(dead_code)]

use std::time::Duration;

use plinth_server::{ServeOptions, ServerConfig, Shutdown};
use plinth_state::test_support::TempPostgres;
use plinth_state::{Scope, Sealer, Store, StoreOptions};

pub struct Db {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<TempPostgres>,
}

pub fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        url: format!("sqlite:{}", dir.path().join("state.db").display()),
        _dir: Some(dir),
        _pg: None,
    }
}

pub fn postgres() -> Db {
    let pg = TempPostgres::start();
    let url = pg.create_database("plinth");
    Db {
        url,
        _dir: None,
        _pg: Some(pg),
    }
}

pub struct Server {
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub store: Store,
    pub shutdown: Shutdown,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
    pub read: String,
    pub write: String,
    pub admin: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(db: &Db) -> Server {
        Self::start_with(db, ServerConfig::default(), ServeOptions::default()).await
    }

    pub async fn start_with(db: &Db, config: ServerConfig, options: ServeOptions) -> Server {
        let store = Store::open(StoreOptions::new(
            db.url.clone(),
            Sealer::from_key(&[7u8; 32]).unwrap(),
        ))
        .await
        .unwrap();
        let tls = options.tls.is_some();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let router = plinth_server::router(store.clone(), config);
        let done = tokio::spawn(plinth_server::serve_with(
            listener,
            router,
            options,
            shutdown.clone(),
        ));
        let token = |name: &'static str, scope| {
            let store = store.clone();
            async move { store.create_token(name, scope).await.unwrap() }
        };
        Server {
            url: format!("{}://{addr}", if tls { "https" } else { "http" }),
            addr,
            read: token("viewer", Scope::Read).await,
            write: token("ci", Scope::Write).await,
            admin: token("root", Scope::Admin).await,
            store,
            shutdown,
            done,
            http: plinth_http::client(&plinth_http::ClientOptions {
                timeout: Duration::from_secs(30),
                ..plinth_http::ClientOptions::default()
            })
            .unwrap(),
        }
    }

    /// Sends a request with a token (or none) and returns the status and the JSON body; every
    /// answer of the API must be JSON, refusals included.
    pub async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.url),
        );
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let doc = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: {status} is not JSON ({e}): {text:?}"));
        (status, doc)
    }

    /// Asserts a refusal: the status and a JSON `error` containing `needle`.
    pub async fn refused(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
        status: u16,
        needle: &str,
    ) {
        let (got, doc) = self.call(token, method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {doc}");
        let message = doc["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error: {doc}"));
        assert!(
            message.contains(needle),
            "{method} {path}: {message:?} lacks {needle:?}"
        );
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(support::sqlite()).await } )* }
        mod postgres_db { use super::*; $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(support::postgres()).await } )* }
    };
}
