//! `plinth state`: inspect and roll back state held by the plinth server, through its JSON API.

use std::path::PathBuf;

use comfy_table::Table;
use reqwest::StatusCode;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};

/// Arguments of `plinth state`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
These commands talk to a running `plinth serve` through its JSON API: the server URL comes from \
--server or PLINTH_SERVER, the token from PLINTH_TOKEN (sent as a Bearer token). The project is \
--project, else the `project` of the enclosing plinth.hcl. INSTANCE is ENV/STACK, e.g. \
prod/plumbing/network.")]
pub struct Args {
    #[command(subcommand)]
    command: StateCommand,
    /// Server base URL.
    #[arg(long, env = "PLINTH_SERVER", global = true, value_name = "URL")]
    server: Option<String>,
    /// Project name (default: read from plinth.hcl).
    #[arg(long, global = true)]
    project: Option<String>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum StateCommand {
    /// List every stored version of an instance, newest first.
    Versions {
        /// ENV/STACK.
        instance: String,
    },
    /// Print the current state (or a given version) to stdout or a file.
    Pull {
        /// ENV/STACK.
        instance: String,
        /// Version number (default: the current one).
        #[arg(id = "at", long = "at", value_name = "VERSION")]
        version: Option<i64>,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Make an old version current again (admin token; refused while the instance is locked).
    Rollback {
        /// ENV/STACK.
        instance: String,
        /// The version to restore.
        #[arg(id = "target", value_name = "VERSION")]
        version: i64,
    },
    /// List held locks.
    Locks,
    /// Force-unlock an instance (admin token; recorded in the audit log).
    Unlock {
        /// ENV/STACK.
        instance: String,
        /// Only release the lock if it still has this ID.
        #[arg(long)]
        id: Option<String>,
    },
}

/// Runs `plinth state`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let server = args
        .server
        .clone()
        .ok_or_else(|| Failure::usage("no server: pass --server URL or set PLINTH_SERVER"))?;
    let token = std::env::var("PLINTH_TOKEN")
        .map_err(|_| Failure::usage("no token: set PLINTH_TOKEN to a plinth API token"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failure(format!("cannot start the async runtime: {e}")))?;
    let client = Client {
        http: plinth_http::client(&plinth_http::ClientOptions::default())
            .map_err(|e| Failure::usage(e.to_string()))?,
        base: server.trim_end_matches('/').to_owned(),
        token,
    };
    runtime.block_on(async {
        match &args.command {
            StateCommand::Versions { instance } => {
                let path = instance_path(ctx, &args, instance)?;
                let body = client.get(&format!("/v1/versions/{path}")).await?;
                if args.json {
                    println!("{}", String::from_utf8_lossy(&body));
                    return Ok(Exit::Success);
                }
                let doc: serde_json::Value = parse(&body)?;
                let mut table = Table::new();
                table.load_style(comfy_table::presets::NOTHING);
                table.set_header(["", "VERSION", "SERIAL", "CREATED", "BY", "SIZE", "NOTE"]);
                for v in doc["versions"].as_array().into_iter().flatten() {
                    let serial = match v["serial"].as_i64() {
                        Some(s) => s.to_string(),
                        None => "opaque".into(),
                    };
                    table.add_row([
                        if v["current"] == true { "*" } else { "" }.to_string(),
                        v["version"].to_string(),
                        serial,
                        v["created_at"].as_str().unwrap_or("").to_string(),
                        v["created_by"].as_str().unwrap_or("").to_string(),
                        v["size"].to_string(),
                        v["note"].as_str().unwrap_or("").to_string(),
                    ]);
                }
                println!("{table}");
            }
            StateCommand::Pull {
                instance,
                version,
                output,
            } => {
                let path = instance_path(ctx, &args, instance)?;
                let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
                let body = client.get(&format!("/v1/pull/{path}{query}")).await?;
                match output {
                    Some(file) => std::fs::write(ctx.cwd.join(file), &body).map_err(|e| {
                        Failure::failure(format!("cannot write {}: {e}", file.display()))
                    })?,
                    None => {
                        use std::io::Write;
                        std::io::stdout()
                            .write_all(&body)
                            .map_err(|e| Failure::failure(format!("cannot write stdout: {e}")))?;
                    }
                }
            }
            StateCommand::Rollback { instance, version } => {
                let path = instance_path(ctx, &args, instance)?;
                let body = client
                    .send(
                        client
                            .http
                            .post(format!("{}/v1/rollback/{path}", client.base))
                            .json(&serde_json::json!({ "version": version })),
                    )
                    .await?;
                let doc: serde_json::Value = parse(&body)?;
                if args.json {
                    println!("{doc}");
                } else if !ctx.quiet {
                    println!(
                        "{instance}: version {version} restored as the new current version {}",
                        doc["version"]
                    );
                }
            }
            StateCommand::Locks => {
                let project = project(ctx, &args)?;
                let body = client.get(&format!("/v1/locks?project={project}")).await?;
                if args.json {
                    println!("{}", String::from_utf8_lossy(&body));
                    return Ok(Exit::Success);
                }
                let doc: serde_json::Value = parse(&body)?;
                let mut table = Table::new();
                table.load_style(comfy_table::presets::NOTHING);
                table.set_header(["INSTANCE", "LOCK ID", "WHO", "OPERATION", "SINCE", "TOKEN"]);
                for l in doc["locks"].as_array().into_iter().flatten() {
                    table.add_row([
                        l["instance"].as_str().unwrap_or(""),
                        l["id"].as_str().unwrap_or(""),
                        l["info"]["Who"].as_str().unwrap_or(""),
                        l["info"]["Operation"].as_str().unwrap_or(""),
                        l["locked_at"].as_str().unwrap_or(""),
                        l["token"].as_str().unwrap_or(""),
                    ]);
                }
                println!("{table}");
            }
            StateCommand::Unlock { instance, id } => {
                let path = instance_path(ctx, &args, instance)?;
                let query = id.as_ref().map(|i| format!("?id={i}")).unwrap_or_default();
                let body = client
                    .send(
                        client
                            .http
                            .delete(format!("{}/v1/locks/{path}{query}", client.base)),
                    )
                    .await?;
                let doc: serde_json::Value = parse(&body)?;
                if args.json {
                    println!("{doc}");
                } else if !ctx.quiet {
                    println!("{instance}: released lock {}", doc["released"]["id"]);
                }
            }
        }
        Ok(Exit::Success)
    })
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// Sends with the token; maps refusals to exit codes (423 = blocked, 4xx = failure).
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, Failure> {
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            Failure::failure(format!(
                "cannot reach the plinth server at {}: {e}",
                self.base
            ))
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::failure(format!("the server's answer was cut off: {e}")))?
            .to_vec();
        if status.is_success() {
            return Ok(body);
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let message = format!("server refused ({status}): {message}");
        Err(match status {
            StatusCode::LOCKED | StatusCode::CONFLICT => Failure::blocked(message),
            _ => Failure::failure(message),
        })
    }
}

fn parse(body: &[u8]) -> Result<serde_json::Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| Failure::failure(format!("the server answered with invalid JSON: {e}")))
}

fn project(ctx: &Context, args: &Args) -> Result<String, Failure> {
    match &args.project {
        Some(p) => Ok(p.clone()),
        None => Ok(crate::project::load(ctx)?.config.plinth.project),
    }
}

/// `ENV/STACK` → `PROJECT/ENV/STACK`, validated before any request.
fn instance_path(ctx: &Context, args: &Args, instance: &str) -> Result<String, Failure> {
    let (env, stack) = instance.split_once('/').ok_or_else(|| {
        Failure::usage(format!(
            "invalid instance {instance:?}: expected ENV/STACK (e.g. prod/plumbing/network)"
        ))
    })?;
    let project = project(ctx, args)?;
    let id = plinth_state::InstanceId::new(&project, env, stack)
        .map_err(|e| Failure::usage(e.to_string()))?;
    Ok(id.key())
}
