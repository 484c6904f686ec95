//! Global options shared by every command: working directory, colour, verbosity.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::exit::Failure;

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Options accepted by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Run as if plinth was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print less.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (engine output, timings).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The resolved global context handed to each command.
#[derive(Debug, Clone)]
pub struct Context {
    /// Directory plinth acts from (after `-C`).
    pub cwd: PathBuf,
    /// Whether stdout gets colour.
    pub color_stdout: bool,
    /// Whether stderr gets colour.
    pub color_stderr: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
}

impl Context {
    /// Resolves `-C` and the colour choice.
    pub fn new(args: &GlobalArgs) -> Result<Self, Failure> {
        let base = std::env::current_dir()
            .map_err(|e| Failure::usage(format!("cannot read the current directory: {e}")))?;
        let cwd = match &args.dir {
            Some(dir) => {
                let dir = base.join(dir);
                if !dir.is_dir() {
                    return Err(Failure::usage(format!(
                        "-C {}: no such directory",
                        args.dir.as_deref().unwrap_or(Path::new("")).display()
                    )));
                }
                dir
            }
            None => base,
        };
        let colour = |stream_is_tty: bool| match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stream_is_tty && std::env::var_os("NO_COLOR").is_none(),
        };
        use std::io::IsTerminal;
        Ok(Context {
            cwd,
            color_stdout: colour(std::io::stdout().is_terminal()),
            color_stderr: colour(std::io::stderr().is_terminal()),
            quiet: args.quiet,
            verbose: args.verbose,
        })
    }
}
