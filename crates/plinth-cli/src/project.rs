//! Finding and loading the project for a command, with diagnostics rendered for the user.

use plinth_diag::Diagnostic;
use plinth_project::{EnvGraph, Project, find_root};

use crate::context::Context;
use crate::exit::{Exit, Failure};

/// Loads the project whose root is at or above the working directory.
pub fn load(ctx: &Context) -> Result<Project, Failure> {
    let root = find_root(&ctx.cwd).ok_or_else(|| {
        Failure::usage(format!(
            "no plinth.hcl in {} or any parent directory\n  help: run plinth inside a project, or pass -C DIR",
            ctx.cwd.display()
        ))
    })?;
    Project::load(&root).map_err(|diags| config_failure(ctx, &diags))
}

/// Loads the project's shape only (stacks, dependencies, environments), for commands that
/// never run a stack.
pub fn load_outline(ctx: &Context) -> Result<Project, Failure> {
    let root = find_root(&ctx.cwd).ok_or_else(|| {
        Failure::usage(format!(
            "no plinth.hcl in {} or any parent directory\n  help: run plinth inside a project, or pass -C DIR",
            ctx.cwd.display()
        ))
    })?;
    Project::load_outline(&root).map_err(|diags| config_failure(ctx, &diags))
}

/// The validated graph of `env`, or a configuration failure.
pub fn graph(ctx: &Context, project: &Project, env: &str) -> Result<EnvGraph, Failure> {
    project
        .graph(env)
        .map_err(|diags| config_failure(ctx, &diags))
}

/// Renders configuration diagnostics into a usage failure (exit 64).
pub fn config_failure(ctx: &Context, diags: &[Diagnostic]) -> Failure {
    let mut text = plinth_diag::render_all(diags, ctx.color_stderr);
    // A blank line before the summary, as between diagnostics (and as rustc does).
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    let n = diags.len();
    let summary = if n == 1 {
        "1 configuration error".to_string()
    } else {
        format!("{n} configuration errors")
    };
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let (on, off) = if ctx.color_stderr {
        (style.render().to_string(), style.render_reset().to_string())
    } else {
        (String::new(), String::new())
    };
    text.push_str(&format!("{on}error{off}: aborting due to {summary}\n"));
    Failure::rendered(Exit::Usage, summary, text)
}
