//! `plinth token`: manage API tokens, directly on the server's database.

use plinth_state::{Scope, Store};

use crate::commands::serve::{DEFAULT_DB, resolve_db_url};
use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};

/// Arguments of `plinth token`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// Token name, recorded in the audit log for everything done with it.
        name: String,
        /// read: pull state and versions; write: also lock and write; admin: also
        /// force-unlock, rollback and read the audit log.
        #[arg(long, value_parser = ["read", "write", "lock", "admin"])]
        scope: String,
        /// The server's database.
        #[arg(long, env = "PLINTH_DB", default_value = DEFAULT_DB, value_name = "URL")]
        db: String,
    },
    /// List tokens (names and scopes, never secrets).
    Ls {
        /// The server's database.
        #[arg(long, env = "PLINTH_DB", default_value = DEFAULT_DB, value_name = "URL")]
        db: String,
    },
    /// Revoke a token; it stops working at once on every replica.
    Revoke {
        /// Token name.
        name: String,
        /// The server's database.
        #[arg(long, env = "PLINTH_DB", default_value = DEFAULT_DB, value_name = "URL")]
        db: String,
    },
}

/// Runs `plinth token`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let open = |db: &str| {
            let url = resolve_db_url(ctx, db);
            async move {
                Store::open_metadata_only(&url)
                    .await
                    .map_err(|e| Failure::failure(format!("cannot open the database: {e}")))
            }
        };
        match args.command {
            TokenCommand::Create { name, scope, db } => {
                let scope: Scope = scope.parse().map_err(|e| Failure::usage(format!("{e}")))?;
                let store = open(&db).await?;
                let secret = store
                    .create_token(&name, scope)
                    .await
                    .map_err(|e| Failure::failure(e.to_string()))?;
                println!("{secret}");
                if !ctx.quiet {
                    eprintln!(
                        "created token {name:?} with scope {scope}; it is shown only this once \
                         (use it as PLINTH_TOKEN / TF_HTTP_PASSWORD)"
                    );
                }
            }
            TokenCommand::Ls { db } => {
                let store = open(&db).await?;
                let tokens = store
                    .list_tokens()
                    .await
                    .map_err(|e| Failure::failure(e.to_string()))?;
                for t in tokens {
                    println!("{}\t{}\t{}", t.name, t.scope, t.created_at);
                }
            }
            TokenCommand::Revoke { name, db } => {
                let store = open(&db).await?;
                store
                    .revoke_token(&name)
                    .await
                    .map_err(|e| Failure::failure(e.to_string()))?;
                if !ctx.quiet {
                    eprintln!("revoked token {name:?}");
                }
            }
        }
        Ok(Exit::Success)
    })
}
