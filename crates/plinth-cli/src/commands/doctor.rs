//! `plinth doctor`: checks each part the project uses and prints one line per finding, ✓ or ✗
//! with a fix. Exit 1 when anything failed. With `--server-config FILE` it also checks the
//! server file's forges and repositories (exit 64 when the file itself is wrong); outside a
//! project (a server host keeps no checkout) only git and the server file are checked.
//!
//! Adding a check: write `pub(super) fn check(d: &Doctor) -> Vec<Finding>` in a new file under
//! `doctor/`, declare the module below and add it to [`CHECKS`]. A check returns one finding
//! per thing it looked at (one per secret path, one per forge…), reads the project through
//! [`Doctor`], and never prints a secret.

mod backend;
mod engine;
mod forge_answer;
mod forges;
mod git;
mod plugin_cache;
mod project_file;
mod vault;

use std::io::Write;
use std::path::{Path, PathBuf};

use plinth_config::{ProjectConfig, ServerFile};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};

/// Every check, in the order they are shown, with what it needs.
const CHECKS: &[(Check, Needs)] = &[
    (project_file::check, Needs::Project),
    (engine::check, Needs::Project),
    (git::check, Needs::Host),
    (plugin_cache::check, Needs::Project),
    (backend::check, Needs::Project),
    (vault::check, Needs::Project),
    (forges::check, Needs::Host),
];

/// Whether a check is about a project, or about the machine (and the server file) alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Skipped when only a server file is checked outside a project.
    Project,
    /// Always run.
    Host,
}

/// A check: what it found, one finding per thing it looked at.
pub(crate) type Check = fn(&Doctor) -> Vec<Finding>;

/// Arguments of `plinth doctor`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
With --server-config FILE (plinth-server.hcl) doctor also reads each forge block's token (or \
GitHub App key) and webhook secret from the variables it names, and reads each repo block's \
repository through the forge's API with them, all at once, each call bounded by a few seconds. \
Values are never printed. Run outside a project, only git and the server file are checked.")]
pub struct Args {
    /// Also check this server file: each forge's credentials and each repository's access.
    #[arg(long, value_name = "FILE")]
    pub server_config: Option<PathBuf>,
}

/// The outcome of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Works.
    Ok,
    /// Broken: the fix says what to do.
    Fail,
    /// Not checked here (not used, or not plinth's to reach).
    Skipped,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// Ok, failed or skipped.
    pub status: Status,
    /// What was checked: `engine`, `state backend`…
    pub what: String,
    /// What was found.
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

impl Finding {
    /// A working part.
    pub fn ok(what: &str, detail: impl Into<String>) -> Finding {
        Finding {
            status: Status::Ok,
            what: what.into(),
            detail: detail.into(),
            fix: None,
        }
    }

    /// A broken part and its fix.
    pub fn fail(what: &str, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            status: Status::Fail,
            what: what.into(),
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A part not checked, and why.
    pub fn skipped(what: &str, detail: impl Into<String>) -> Finding {
        Finding {
            status: Status::Skipped,
            what: what.into(),
            detail: detail.into(),
            fix: None,
        }
    }
}

/// What the checks read: the project (when there is one) and an HTTP client factory.
pub(crate) struct Doctor<'a> {
    /// Global options.
    pub ctx: &'a Context,
    /// The project root, when a plinth.hcl was found.
    pub root: Option<PathBuf>,
    /// The parsed plinth.hcl, when it parses.
    pub config: Option<ProjectConfig>,
    /// Why plinth.hcl does not parse (its first error, one line).
    pub config_error: Option<String>,
    /// The server file given with `--server-config`, parsed.
    pub server: Option<ServerConfig>,
}

/// A parsed server file and where it lives.
pub(crate) struct ServerConfig {
    /// The file.
    pub file: ServerFile,
    /// Its directory, where relative paths in it (`private_key_file`) start.
    pub base_dir: PathBuf,
}

impl Doctor<'_> {
    /// The directory the project's files live in (the working directory without a project).
    pub fn base(&self) -> &Path {
        self.root.as_deref().unwrap_or(&self.ctx.cwd)
    }

    /// Only the server file is checked: there is no project here.
    pub fn server_only(&self) -> bool {
        self.root.is_none() && self.server.is_some()
    }

    /// Runs `fut` to completion on a small runtime (checks are sequential and short).
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> Result<F::Output, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        Ok(rt.block_on(fut))
    }

    /// An HTTP client with short timeouts, built the one way plinth builds clients.
    pub fn http(&self) -> Result<reqwest::Client, String> {
        plinth_http::client(&plinth_http::ClientOptions {
            timeout: std::time::Duration::from_secs(10),
            connect_timeout: std::time::Duration::from_secs(5),
            ca_file: None,
        })
        .map_err(|e| e.to_string())
    }
}

/// Parses the server file (exit 64 at file:line:col, as `plinth serve --config` does).
fn load_server_file(ctx: &Context, path: &Path) -> Result<ServerConfig, Failure> {
    let full = ctx.cwd.join(path);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let file = ServerFile::parse(&path.display().to_string(), &text)
        .map_err(|diags| crate::project::config_failure(ctx, &diags))?;
    Ok(ServerConfig {
        file,
        base_dir: full.parent().unwrap_or(&ctx.cwd).to_path_buf(),
    })
}

/// Runs `plinth doctor`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let server = match &args.server_config {
        Some(path) => Some(load_server_file(ctx, path)?),
        None => None,
    };
    let root = plinth_project::find_root(&ctx.cwd);
    let (config, config_error) = match &root {
        None => (None, None),
        Some(r) => {
            let default = r
                .file_name()
                .map_or("project".into(), |n| n.to_string_lossy().into_owned());
            match std::fs::read_to_string(r.join(plinth_config::PROJECT_FILE)) {
                Err(e) => (None, Some(format!("cannot read plinth.hcl: {e}"))),
                Ok(text) => {
                    match ProjectConfig::parse(plinth_config::PROJECT_FILE, &text, &default) {
                        Ok(c) => (Some(c), None),
                        Err(d) => (None, d.first().map(|d| d.one_line())),
                    }
                }
            }
        }
    };
    let doctor = Doctor {
        ctx,
        root,
        config,
        config_error,
        server,
    };
    let mut findings = Vec::new();
    if doctor.server_only() {
        findings.push(Finding::skipped(
            "project",
            format!(
                "no plinth.hcl in {} or above: checking the server file only",
                ctx.cwd.display()
            ),
        ));
    }
    for (check, needs) in CHECKS {
        if *needs == Needs::Host || !doctor.server_only() {
            findings.extend(check(&doctor));
        }
    }
    let mut out = anstream::AutoStream::new(
        std::io::stdout(),
        if ctx.color_stdout {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Never
        },
    );
    let io = |e: std::io::Error| Failure::failure(format!("cannot write to stdout: {e}"));
    let green = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into()));
    let red = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let dim = anstyle::Style::new().dimmed();
    for f in &findings {
        let (mark, style) = match f.status {
            Status::Ok => ("✓", green),
            Status::Fail => ("✗", red),
            Status::Skipped => ("-", dim),
        };
        match &f.fix {
            Some(fix) => writeln!(
                out,
                "{style}{mark}{style:#} {}: {} — fix: {fix}",
                f.what, f.detail
            ),
            None => writeln!(out, "{style}{mark}{style:#} {}: {}", f.what, f.detail),
        }
        .map_err(io)?;
    }
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    let ok = findings.iter().filter(|f| f.status == Status::Ok).count();
    writeln!(
        out,
        "{ok} ok, {failed} failed, {} not checked",
        findings.len() - ok - failed
    )
    .map_err(io)?;
    Ok(if failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}
