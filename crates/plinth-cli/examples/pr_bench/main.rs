//! Pull-request benchmark: a real `plinth serve --config` (SQLite, its own state backend)
//! against a stand-in GitHub (`plinth_forge::fake`, recording every call) and a real git
//! repository of 40 `terraform_data` stacks. A burst of 200 GitHub deliveries for 20 pull
//! requests from concurrent senders: the webhook answers' latency, the time until every pull
//! request has its plans, and the engine's plans against the least that gives them; then, on
//! one pull request that affects all 40 stacks, a push touching one stack (smart re-plan)
//! against planning all 40.
//!
//! Usage: pr_bench --plinth PATH [--shim PATH] [--out DIR] [--results FILE] [--prs 20]
//!        [--clients 8] [--workers 2] [--rounds 3]
//! `PLINTH_WEBHOOK_EXAMPLES` must name `@octokit/webhooks-examples`. See bench/README.md
//! ("Pull requests") and bench/pr/run.sh.

mod accounting;
mod burst;
mod phases;
mod project;
mod report;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use plinth_forge::fake::FakeForge;
use plinth_forge::{ForgeKind, Permission};

use crate::project::Repo;
use crate::server::{Api, Server};

/// Stacks in the project.
const STACKS: usize = 40;

/// What to run.
pub struct Options {
    plinth: PathBuf,
    shim: Option<PathBuf>,
    out: PathBuf,
    results: Option<PathBuf>,
    /// Pull requests in the burst (each touches two stacks of its own).
    pub prs: usize,
    /// Concurrent senders.
    pub clients: usize,
    /// `server.workers`.
    pub workers: usize,
    /// Smart/full rounds on the wide pull request.
    pub rounds: usize,
}

fn options() -> Options {
    let mut o = Options {
        plinth: PathBuf::new(),
        shim: None,
        out: PathBuf::from("bench/out/pr"),
        results: None,
        prs: 20,
        clients: 8,
        workers: 2,
        rounds: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--plinth" => o.plinth = value.into(),
            "--shim" => o.shim = Some(value.into()),
            "--out" => o.out = value.into(),
            "--results" => o.results = Some(value.into()),
            "--prs" => o.prs = value.parse().expect("--prs N"),
            "--clients" => o.clients = value.parse().expect("--clients N"),
            "--workers" => o.workers = value.parse().expect("--workers N"),
            "--rounds" => o.rounds = value.parse().expect("--rounds N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!(o.plinth.is_file(), "--plinth PATH: the plinth binary");
    assert!(
        (1..=STACKS / 2).contains(&o.prs),
        "--prs: 1 to {} (each pull request has two stacks of its own)",
        STACKS / 2
    );
    assert!(o.clients >= 1 && o.workers >= 1 && o.rounds >= 1);
    o
}

/// Everything the phases share.
pub struct Bench {
    /// The options.
    pub o: Options,
    /// The stand-in GitHub.
    pub forge: FakeForge,
    /// The hosted repository.
    pub repo: Repo,
    /// `main`'s commit, every pull request's base.
    pub base: String,
    /// The server.
    pub server: Server,
    /// Its read API.
    pub api: Api,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// The shim's log.
    pub engine_log: PathBuf,
    /// `POST` target of the deliveries.
    pub webhook_url: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    let o = options();
    // Fail before anything starts when GitHub's payloads are missing.
    let _ = plinth_forge::fake::payloads::github::OctokitExamples::get();
    let machine = report::Machine::now();
    let bench = set_up(o).await;
    eprintln!(
        "burst: {} deliveries for {} pull requests",
        bench.o.prs * 10,
        bench.o.prs
    );
    let burst = phases::burst(&bench).await;
    eprintln!("closing the burst's pull requests");
    phases::close_all(&bench).await;
    eprintln!("smart against full re-plans");
    let wide = phases::smart_against_full(&bench).await;
    let machine = machine.finish();
    let text = report::render(&bench, &machine, &burst, &wide);
    println!("{}", text.table);
    if let Some(path) = &bench.o.results {
        std::fs::write(path, &text.markdown).expect("the results file");
        eprintln!("written: {}", path.display());
    }
    eprintln!("server log: {}", bench.server.log.display());
    if text.missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for m in &text.missed {
            eprintln!("missed: {m}");
        }
        ExitCode::FAILURE
    }
}

async fn set_up(o: Options) -> Bench {
    let out = std::path::absolute(&o.out).expect("an absolute output directory");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("the output directory");
    let forge = FakeForge::start(ForgeKind::GitHub).await;
    forge.set_permission(
        burst::REPO,
        burst::PLANNER.0,
        burst::PLANNER.1,
        Permission::Write,
    );
    forge.set_permission(
        burst::REPO,
        burst::CHATTER.0,
        burst::CHATTER.1,
        Permission::Read,
    );
    let listen = server::free_address();
    let url = format!("http://{listen}");
    let db = format!("sqlite:{}", out.join("state.db").display());
    let read = server::token(&o.plinth, &db, "bench-reader", "read");
    let service = server::token(&o.plinth, &db, "plinth-server", "write");
    let repo = Repo::create(&out.join("origin"), &url, STACKS);
    let base = repo.sha("main");
    let data_dir = out.join("data");
    let config = out.join("plinth-server.hcl");
    std::fs::write(
        &config,
        format!(
            "server {{\n  public_url = \"http://plinth.test\"\n  data_dir   = \"{}\"\n  workers    = {}\n}}\n\n\
             forge \"github\" {{\n  type               = \"github\"\n  api_url            = \"{}\"\n  token_env          = \"FORGE_TOKEN\"\n  webhook_secret_env = \"PLINTH_WEBHOOK_SECRET\"\n}}\n\n\
             repo \"{}\" {{\n  forge     = \"github\"\n  clone_url = \"{}\"\n}}\n",
            data_dir.display(),
            o.workers,
            forge.api_url(),
            burst::REPO,
            repo.dir.display()
        ),
    )
    .expect("the server file");
    let engine_log = out.join("engine.log");
    let mut env = vec![
        ("FORGE_TOKEN".to_string(), forge.token().to_string()),
        (
            "PLINTH_WEBHOOK_SECRET".to_string(),
            burst::SECRET.to_string(),
        ),
        ("PLINTH_TOKEN".to_string(), service.clone()),
    ];
    if let Some(shim) = &o.shim {
        let dir = out.join("shim");
        std::fs::create_dir_all(&dir).expect("the shim directory");
        std::fs::copy(shim, dir.join("terraform")).expect("the shim");
        let real = which("terraform").expect("terraform on PATH");
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH".into(), format!("{}:{path}", dir.display())));
        env.push(("REAL_TERRAFORM".into(), real.display().to_string()));
        env.push(("ENGINE_LOG".into(), engine_log.display().to_string()));
    }
    let server = Server::start(
        &o.plinth,
        &listen,
        &db,
        &config,
        &env,
        &out.join("server.log"),
    );
    eprintln!(
        "server at {}; applying main ({STACKS} stacks in {})",
        server.url,
        project::ENV
    );
    let apply = std::process::Command::new(&o.plinth)
        .arg("-C")
        .arg(&repo.dir)
        .args(["-q", "apply", project::ENV, "--auto-approve"])
        .env("PLINTH_TOKEN", &service)
        .output()
        .expect("plinth apply runs");
    assert!(
        apply.status.success(),
        "apply of main: {}{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr)
    );
    Bench {
        api: Api::new(&server.url, &read),
        webhook_url: format!("{}/webhooks/github", server.url),
        o,
        forge,
        repo,
        base,
        server,
        data_dir,
        engine_log,
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
