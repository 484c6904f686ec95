//! `plinth serve`: run the plinth server (state backend, locks, API).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plinth_config::ServerFile;
use plinth_pulls::{Automation, Intake, PullsSetup, SetupOptions};
use plinth_server::{ServeOptions, ServerConfig, Shutdown};
use plinth_state::{KEY_ENV, Retention, Sealer, Store, StoreOptions};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};

/// Nice levels below the server at which its jobs' engines run.
const ENGINE_NICENESS: i32 = 10;

/// Default database, relative to the working directory.
pub const DEFAULT_DB: &str = "sqlite:.plinth/state.db";

/// Arguments of `plinth serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The state key (32 bytes, base64) comes from PLINTH_STATE_KEY or --state-key-file; without one \
the server refuses to start unless --insecure-no-encryption is given. Create tokens with \
`plinth token create NAME --scope read|write|admin --db URL`; Terraform sends them as the http \
backend password (TF_HTTP_PASSWORD, any username).

Several replicas may share one PostgreSQL database: locks and versions live in the database.

With --tls-cert and --tls-key the server speaks HTTPS only (PEM files; the certificate file may \
hold the chain, leaf first). A client must send its request headers within --header-timeout \
and keep its body flowing (--body-timeout between pieces), or it is dropped; at most \
--max-connections are served at once. SIGTERM or Ctrl-C stops accepting, lets running requests \
finish (up to 30 s) and exits.

With --config FILE (plinth-server.hcl: `server`, `forge` and `repo` blocks) the server also takes \
webhooks at /webhooks/github, /webhooks/gitlab and /webhooks/gitea for the listed repositories. \
Each forge's webhook secret and API token come from the environment variables the file names; \
the server refuses to start while one is unset.")]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:8421", value_name = "ADDR")]
    pub listen: String,
    /// Database: sqlite:PATH (one file, WAL) or postgres://USER@HOST/DB.
    #[arg(long, env = "PLINTH_DB", default_value = DEFAULT_DB, value_name = "URL")]
    pub db: String,
    /// File holding the 32-byte state key (raw, or base64 text); overrides PLINTH_STATE_KEY.
    #[arg(long, value_name = "PATH")]
    pub state_key_file: Option<PathBuf>,
    /// Store state without encryption at rest (for throwaway setups only).
    #[arg(long)]
    pub insecure_no_encryption: bool,
    /// Largest accepted state upload, in MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub max_state_mib: usize,
    /// Retention: keep at least the N newest versions per instance (default: keep all).
    #[arg(long, value_name = "N")]
    pub keep_versions: Option<u32>,
    /// Retention: keep every version younger than D days (default: keep all).
    #[arg(long, value_name = "D")]
    pub keep_days: Option<u32>,
    /// Serve HTTPS with this PEM certificate (chain) file; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Connections served at once; more wait until one closes.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a client has to send its request headers (and finish a TLS handshake).
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a request body may pause between two pieces before the request is refused (408).
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// The server file (plinth-server.hcl): forges, repositories and pull-request automation.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs `plinth serve`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let sealer = sealer(ctx, &args)?;
    let url = resolve_db_url(ctx, &args.db);
    let mut options = StoreOptions::new(url, sealer);
    options.retention = Retention {
        keep_last: args.keep_versions,
        keep_days: args.keep_days,
    };
    let config = ServerConfig {
        max_state_bytes: args.max_state_mib.saturating_mul(1024 * 1024),
        ..ServerConfig::default()
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            plinth_server::load_tls(&ctx.cwd.join(cert), &ctx.cwd.join(key))
                .map_err(|e| Failure::usage(format!("cannot use the TLS certificate: {e}")))?,
        ),
        _ => None,
    };
    let serve_options = ServeOptions {
        tls,
        header_read_timeout: Duration::from_secs(args.header_timeout),
        body_idle_timeout: Duration::from_secs(args.body_timeout),
        max_connections: args.max_connections as usize,
        ..ServeOptions::default()
    };
    let filter = if ctx.verbose { "info" } else { "warn" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        // Escape codes only for a terminal with colour on: never into a log file or journal.
        .with_ansi(ctx.color_stderr)
        .try_init();
    // Before the database is opened: a configuration error changes nothing anywhere. And
    // before any thread exists: the secrets it names leave the process environment here.
    let pulls = match &args.config {
        Some(path) => Some(load_pulls(ctx, path, &options.url)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(
        ctx,
        args.listen,
        options,
        config,
        serve_options,
        pulls,
    ))
}

/// The server file's forge set-up, and the values of the server's own secrets (masked in
/// everything it writes to a forge).
pub struct PullsConfig {
    setup: Arc<PullsSetup>,
    masks: Vec<String>,
}

/// Reads the values of the server's secrets, then removes the forge tokens, webhook secrets
/// and the state key from the process environment, so that no engine, hook or test command
/// a pull request runs can read them (`PLINTH_TOKEN` stays: the engines' state backend is
/// this server). Called while the process has a single thread.
fn take_server_secrets(file: &ServerFile) -> Vec<String> {
    let mut names: Vec<String> = file
        .required_env()
        .into_iter()
        .map(|(name, _)| name.to_string())
        .collect();
    names.push(KEY_ENV.to_string());
    let mut masks: Vec<String> = names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .filter(|v| !v.is_empty())
        .collect();
    masks.extend(std::env::var("PLINTH_TOKEN").ok().filter(|v| !v.is_empty()));
    for name in &names {
        // SAFETY: `run` calls this before the async runtime (or any other thread) starts, so
        // nothing reads the environment concurrently.
        unsafe { std::env::remove_var(name) };
    }
    masks
}

/// Parses the server file and reads the secrets it names (exit 64 at file:line:col).
fn load_pulls(ctx: &Context, path: &Path, db_url: &str) -> Result<PullsConfig, Failure> {
    let full = ctx.cwd.join(path);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let file = ServerFile::parse(&path.display().to_string(), &text)
        .map_err(|diags| crate::project::config_failure(ctx, &diags))?;
    let base_dir = full.parent().unwrap_or(&ctx.cwd);
    let setup = PullsSetup::load(&file, &SetupOptions::new(base_dir, db_url, &ctx.cwd))
        .map_err(|e| crate::project::config_failure(ctx, &e.diagnostics))?;
    std::fs::create_dir_all(setup.data_dir()).map_err(|e| {
        Failure::failure(format!(
            "cannot create the data directory {}: {e}",
            setup.data_dir().display()
        ))
    })?;
    Ok(PullsConfig {
        setup: Arc::new(setup),
        masks: take_server_secrets(&file),
    })
}

/// This replica's pull-request job workers, started after the listener is up, with the
/// replica's shutdown signal: each stops claiming when it triggers and hands back (or
/// finishes) its job; `serve` awaits them before closing the database. Beside them, the
/// scheduler that stores drift checks and reaper passes as jobs.
async fn start_pull_workers(
    auto: &Arc<Automation>,
    setup: &Arc<PullsSetup>,
    shutdown: &Shutdown,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles =
        plinth_pulls::worker::start(Arc::clone(auto), setup.workers(), shutdown.clone()).await;
    handles.push(plinth_pulls::schedule::start(
        Arc::clone(auto),
        shutdown.clone(),
    ));
    handles
}

/// The name of this replica's workers in job leases: the same after a restart on this host
/// with this data directory (so the replica takes its unfinished jobs back at once), another
/// for a replica elsewhere.
fn replica_id(setup: &PullsSetup) -> String {
    use std::hash::{Hash, Hasher};
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    setup.data_dir().hash(&mut h);
    format!("{host}-{:08x}", h.finish() as u32)
}

async fn serve(
    ctx: &Context,
    listen: String,
    options: StoreOptions,
    config: ServerConfig,
    serve_options: ServeOptions,
    pulls: Option<PullsConfig>,
) -> CmdResult {
    let store = Store::open(options)
        .await
        .map_err(|e| Failure::failure(format!("cannot open the state database: {e}")))?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::failure(format!("cannot read the listening address: {e}")))?;
    if store.token_count().await.unwrap_or(0) == 0 && !ctx.quiet {
        eprintln!(
            "warning: no API tokens exist yet, so every request will be refused; create one with \
             `plinth token create NAME --scope admin --db …`"
        );
    }
    // Tests and scripts read this line to learn the port chosen for `--listen …:0`.
    let scheme = if serve_options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "plinth serve: listening on {scheme}://{addr} (database {}, encryption {})",
        store.kind().as_str(),
        if store.is_encrypting() { "on" } else { "OFF" }
    );
    // One signal for the replica: the accept loop drains on it, and job workers (spawned with
    // a clone) stop claiming and hand their jobs back with `Store::release_job`.
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.trigger();
    });
    // The dashboard at `/` (plinth-web), inside the server's metrics layer and JSON 404.
    let web = plinth_web::WebConfig {
        tls: serve_options.tls.is_some(),
        ..plinth_web::WebConfig::default()
    };
    let auto = pulls.as_ref().map(|PullsConfig { setup, masks }| {
        Arc::new(Automation::new(
            store.clone(),
            Arc::clone(setup),
            &replica_id(setup),
            masks.clone(),
        ))
    });
    // Locks an admin releases go to the next pull request in line, which is planned at once.
    let hand_over: Option<plinth_server::HandOver> = auto.clone().map(|auto| {
        let f: plinth_server::HandOver = Arc::new(move |pulls| {
            let auto = Arc::clone(&auto);
            tokio::spawn(async move {
                if let Err(e) = auto
                    .plan_handed_over(&pulls, "a lock was released by an admin")
                    .await
                {
                    tracing::warn!(error = %e, "cannot plan the pull requests handed locks");
                }
            });
        });
        f
    });
    let web = plinth_web::WebConfig {
        hand_over: hand_over.clone(),
        ..web
    };
    let config = ServerConfig {
        hand_over,
        ..config
    };
    let mut extra = plinth_web::router(store.clone(), web);
    let mut workers = Vec::new();
    if let (Some(PullsConfig { setup, .. }), Some(auto)) = (&pulls, &auto) {
        // Plans and applies yield the CPU to the webhook answers and the API (forges time
        // deliveries out after ten seconds; a burst must not wait behind engines).
        plinth_engine::lower_engine_priority(ENGINE_NICENESS);
        let intake = Arc::new(Intake::new(setup.clone(), store.clone()).with_wake(auto.wake()));
        extra = extra.merge(plinth_server::webhook_router(intake));
        if !ctx.quiet {
            eprintln!(
                "plinth serve: pull requests of {} repositories through {} forges at \
                 /webhooks/{{github,gitlab,gitea}}, {} workers, data in {}",
                setup.repos().len(),
                setup.forges().len(),
                setup.workers(),
                setup.data_dir().display()
            );
        }
        workers = start_pull_workers(auto, setup, &shutdown).await;
    }
    let router = plinth_server::router_with(store.clone(), config, extra);
    let served = plinth_server::serve_with(listener, router, serve_options, shutdown).await;
    for worker in workers {
        let _ = worker.await;
    }
    served.map_err(|e| Failure::failure(format!("server error: {e}")))?;
    store.close().await;
    Ok(Exit::Success)
}

fn sealer(ctx: &Context, args: &Args) -> Result<Sealer, Failure> {
    if let Some(path) = &args.state_key_file {
        return Sealer::from_file(&ctx.cwd.join(path)).map_err(|e| Failure::usage(e.to_string()));
    }
    if let Ok(text) = std::env::var(KEY_ENV) {
        return Sealer::from_base64(&text).map_err(|e| Failure::usage(format!("{KEY_ENV}: {e}")));
    }
    if args.insecure_no_encryption {
        eprintln!("warning: --insecure-no-encryption: state is stored in plaintext");
        return Ok(Sealer::insecure_plaintext());
    }
    Err(Failure::usage(format!(
        "no state encryption key: set {KEY_ENV} (32 bytes, base64) or pass --state-key-file PATH, \
         or --insecure-no-encryption for a throwaway server\n  help: a new key: {}",
        Sealer::generate_key_base64()
    )))
}

/// Relative SQLite paths are relative to `-C DIR`, like every other path plinth takes.
pub fn resolve_db_url(ctx: &Context, url: &str) -> String {
    match url.strip_prefix("sqlite:") {
        Some(path) if !path.starts_with('/') && !path.starts_with("//") => {
            format!("sqlite:{}", ctx.cwd.join(path).display())
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
