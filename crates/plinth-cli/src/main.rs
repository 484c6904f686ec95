//! `plinth`: one binary for the whole Terraform/OpenTofu life of an infrastructure repository.
//!
//! This crate is a thin layer: each command parses its arguments, calls the library crates
//! and renders the result. See DESIGN.md section 4 for the contract.

mod changes;
mod commands;
mod context;
mod exit;
mod project;
mod render;
mod runner;
mod select;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::context::{ColorChoice, Context, GlobalArgs};
use crate::exit::Exit;

/// plinth: plan and apply a repository's stacks across its environments.
#[derive(Debug, Parser)]
#[command(name = "plinth", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => Exit::Usage.code(),
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let result = Context::new(&cli.global).and_then(|ctx| commands::dispatch(&ctx, cli.command));
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            // Honour --color for the error prefix too; anstream alone would only look at the
            // terminal and the environment.
            let choice = match cli.global.color {
                ColorChoice::Always => anstream::ColorChoice::Always,
                ColorChoice::Never => anstream::ColorChoice::Never,
                ColorChoice::Auto => anstream::ColorChoice::Auto,
            };
            let mut stderr = anstream::AutoStream::new(std::io::stderr(), choice);
            match &failure.rendered {
                Some(text) => {
                    let _ = write!(stderr, "{text}");
                }
                None => {
                    let style = anstyle::Style::new()
                        .bold()
                        .fg_color(Some(anstyle::AnsiColor::Red.into()));
                    let _ = writeln!(stderr, "{style}error{style:#}: {}", failure.message);
                }
            }
            ExitCode::from(failure.exit.code())
        }
    }
}
