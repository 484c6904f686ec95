//! The accept loop of `plinth serve`, written on hyper directly because `axum::serve` has no
//! header read timeout and no bound on connections:
//!
//! - a client must send its request headers within `header_read_timeout` (also the bound on a
//!   TLS handshake and on an idle keep-alive connection), or the connection is dropped;
//! - request bodies fail with 408 when no data arrives for `body_idle_timeout` or the whole
//!   body takes longer than `body_total_timeout` (see `timed_body`);
//! - at most `max_connections` connections are served at once; further clients wait in the
//!   kernel's accept queue until one closes;
//! - on shutdown the listener closes at once, in-flight requests finish (keep-alive connections
//!   close after their current request), and after `drain_timeout` the rest are dropped.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::shutdown::Shutdown;
use crate::timed_body::TimedBody;

/// How connections are accepted, bounded and drained.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Serve HTTPS with this configuration (see [`crate::load_tls`]); plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Time allowed for a request's headers (and a TLS handshake, and an idle keep-alive).
    pub header_read_timeout: Duration,
    /// Longest pause allowed between two pieces of a request body.
    pub body_idle_timeout: Duration,
    /// Longest time allowed for a whole request body.
    pub body_total_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            header_read_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(60),
            body_total_timeout: Duration::from_secs(30 * 60),
            max_connections: 1024,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router` until `shutdown` triggers, then drains (see the module doc).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: Shutdown,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let acceptor = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.triggered() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: keep
                    // serving the others, after a pause so a full table is not spun on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.triggered() => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let options = options.clone();
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_connection(stream, router, &options, watcher).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(options.header_read_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(tls)) => serve_connection(tls, router, &options, watcher).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    // Closing the listener makes new clients fail fast instead of queueing for nothing.
    drop(listener);
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after {} s of shutdown were dropped",
            options.drain_timeout.as_secs()
        );
    }
    Ok(())
}

async fn serve_connection<S>(
    stream: S,
    router: Router,
    options: &ServeOptions,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (idle, total) = (options.body_idle_timeout, options.body_total_timeout);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let request = request.map(|body| Body::new(TimedBody::new(body, idle, total)));
        router.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection).await {
        // Header timeouts, resets and malformed requests end here; they concern one client.
        tracing::debug!("connection ended: {e}");
    }
}

/// Serves until `shutdown` completes, with the default [`ServeOptions`] (plain HTTP).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let signal = Shutdown::new();
    let trigger = signal.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.trigger();
    });
    serve_with(listener, router, ServeOptions::default(), signal).await
}
