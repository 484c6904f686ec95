//! `plinth state`: inspect and roll back state held by the plinth server, through its JSON API.

use std::path::PathBuf;

use comfy_table::Table;
use plinth_client::{Client, ClientError};

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
    let client = Client::new(&server, &token).map_err(|e| Failure::usage(e.to_string()))?;
    runtime.block_on(async {
        match &args.command {
            StateCommand::Versions { instance } => {
                let path = instance_path(ctx, &args, instance)?;
                let versions = client.versions(&path).await.map_err(refusal)?;
                if args.json {
                    let doc = serde_json::json!({ "instance": path, "versions": versions });
                    println!("{doc}");
                    return Ok(Exit::Success);
                }
                let mut table = Table::new();
                table.load_style(comfy_table::presets::NOTHING);
                table.set_header(["", "VERSION", "SERIAL", "CREATED", "BY", "SIZE", "NOTE"]);
                for v in &versions {
                    let serial = match v.serial {
                        Some(s) => s.to_string(),
                        None => "opaque".into(),
                    };
                    table.add_row([
                        if v.current { "*" } else { "" }.to_string(),
                        v.version.to_string(),
                        serial,
                        v.created_at.clone(),
                        v.created_by.clone(),
                        v.size.to_string(),
                        v.note.clone().unwrap_or_default(),
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
                let body = client.pull_state(&path, *version).await.map_err(refusal)?;
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
                let done = client.rollback(&path, *version).await.map_err(refusal)?;
                if args.json {
                    println!("{}", serde_json::to_string(&done).unwrap_or_default());
                } else if !ctx.quiet {
                    println!(
                        "{instance}: version {version} restored as the new current version {}",
                        done.version
                    );
                }
            }
            StateCommand::Locks => {
                let project = project(ctx, &args)?;
                let locks = client.state_locks(Some(&project)).await.map_err(refusal)?;
                if args.json {
                    println!("{}", serde_json::json!({ "locks": locks }));
                    return Ok(Exit::Success);
                }
                let mut table = Table::new();
                table.load_style(comfy_table::presets::NOTHING);
                table.set_header(["INSTANCE", "LOCK ID", "WHO", "OPERATION", "SINCE", "TOKEN"]);
                for l in &locks {
                    table.add_row([
                        l.instance.as_str(),
                        l.id.as_str(),
                        l.info["Who"].as_str().unwrap_or(""),
                        l.info["Operation"].as_str().unwrap_or(""),
                        l.locked_at.as_str(),
                        l.token.as_str(),
                    ]);
                }
                println!("{table}");
            }
            StateCommand::Unlock { instance, id } => {
                let path = instance_path(ctx, &args, instance)?;
                let released = client
                    .force_unlock(&path, id.as_deref())
                    .await
                    .map_err(refusal)?;
                if args.json {
                    println!("{}", serde_json::json!({ "released": released }));
                } else if !ctx.quiet {
                    println!("{instance}: released lock {:?}", released.id);
                }
            }
        }
        Ok(Exit::Success)
    })
}

/// A refusal of the server as an exit: held by someone else (409, 423) is "blocked".
fn refusal(err: ClientError) -> Failure {
    match err {
        ClientError::Config(m) => Failure::usage(m),
        e if e.is_conflict() => Failure::blocked(e.to_string()),
        e => Failure::failure(e.to_string()),
    }
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
