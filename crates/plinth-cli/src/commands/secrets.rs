//! `plinth secrets ls ENV | rotate NAME --env ENV [--apply]`: an environment's secrets
//! (never a value) and their rotation.

use std::io::Write;
use std::sync::Arc;

use plinth_run::Mode;

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::runner::{self, RunArgs};
use crate::select::SelectArgs;

/// Arguments of `plinth secrets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SecretsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SecretsCommand {
    /// List the environment's secrets: source, version, age, rotate_every, status.
    Ls {
        /// The environment.
        env: String,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write a new random value (from the secret's `generate`) as a new Vault version.
    Rotate {
        /// The secret block's name.
        name: String,
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// Then re-apply every instance that reads it, so the new value reaches the engine.
        #[arg(long)]
        apply: bool,
        /// Re-apply without asking.
        #[arg(long, requires = "apply")]
        auto_approve: bool,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `plinth secrets`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let project = Arc::new(crate::project::load(ctx)?);
    let rt = runner::runtime()?;
    match args.command {
        SecretsCommand::Ls { env, json } => {
            let secrets = rt
                .block_on(plinth_run::secrets_ls(&project, &env))
                .map_err(|e| runner::run_failure(ctx, e))?;
            if json {
                runner::write_json(&serde_json::json!({ "secrets": secrets }))?;
                return Ok(Exit::Success);
            }
            let mut out = std::io::stdout().lock();
            if secrets.is_empty() {
                let _ = writeln!(out, "no secrets in {env}");
                return Ok(Exit::Success);
            }
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::NOTHING);
            t.set_header(["SECRET", "SOURCE", "VERSION", "AGE", "ROTATE", "STATUS"]);
            let days = |d: Option<u64>| d.map_or_else(|| "-".to_string(), |d| format!("{d}d"));
            for s in &secrets {
                t.add_row(vec![
                    s.name.clone(),
                    s.location.clone(),
                    s.version.map_or_else(|| "-".into(), |v| v.to_string()),
                    days(s.age_days),
                    days(s.rotate_every_days),
                    match &s.detail {
                        Some(d) => format!("{} ({d})", s.status),
                        None => s.status.clone(),
                    },
                ]);
            }
            let _ = writeln!(out, "{t}");
            Ok(Exit::Success)
        }
        SecretsCommand::Rotate {
            name,
            env,
            apply,
            auto_approve,
            json,
        } => {
            if apply && !auto_approve {
                match runner::confirm(
                    &format!(
                        "Rotate `{name}` in `{env}` and re-apply the stacks that read it? Only 'yes' will be accepted:"
                    ),
                    "yes",
                ) {
                    Some(true) => {}
                    Some(false) => return Err(Failure::blocked("cancelled")),
                    None => {
                        return Err(Failure::blocked(
                            "refusing to re-apply: no --auto-approve, and no terminal to ask",
                        ));
                    }
                }
            }
            let rotation = rt
                .block_on(plinth_run::rotate_secret(
                    &project,
                    &name,
                    &env,
                    &plinth_run::who(),
                ))
                .map_err(|e| runner::run_failure(ctx, e))?;
            eprintln!(
                "rotated {}: {} is now version {}",
                rotation.name, rotation.location, rotation.version
            );
            if !apply || rotation.consumers.is_empty() {
                if json {
                    runner::write_json(&serde_json::json!({ "rotation": rotation }))?;
                }
                if !rotation.consumers.is_empty() {
                    eprintln!(
                        "read by {}: apply them to use it (`plinth secrets rotate … --apply` does)",
                        rotation.consumers.join(", ")
                    );
                }
                return Ok(Exit::Success);
            }
            let run_args = RunArgs {
                env: env.clone(),
                select: SelectArgs::default(),
                jobs: None,
                lock_timeout: "0s".into(),
                json,
            };
            let mut opts = runner::options(ctx, &project, &run_args, None, false)?;
            opts.only = Some(rotation.consumers.iter().cloned().collect());
            let report = rt.block_on(runner::execute(ctx, project, opts, Mode::ApplyAuto))?;
            runner::finish(ctx, &report, json, false)
        }
    }
}
