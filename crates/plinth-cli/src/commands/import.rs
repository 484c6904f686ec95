//! `plinth import terragrunt|atlantis [DIR]`: write `plinth.hcl` and `stack.hcl` files from a
//! Terragrunt tree or an `atlantis.yaml`, and list what could not be converted.

use std::io::Write;
use std::path::{Path, PathBuf};

use plinth_import::{NoteKind, Proposal, sanitize_name};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};
use crate::project;

/// Arguments of `plinth import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    tool: Tool,
}

#[derive(Debug, clap::Subcommand)]
enum Tool {
    /// Units (terragrunt.hcl) become stacks: dependencies, inputs, includes, remote state,
    /// env/account hierarchy; remote sources get a wrapper stack.
    Terragrunt(ToolArgs),
    /// atlantis.yaml projects become stacks and environments; workflows' -var-file, autoplan,
    /// apply_requirements and depends_on carry over.
    Atlantis(ToolArgs),
}

#[derive(Debug, clap::Args)]
struct ToolArgs {
    /// The repository to convert (default: the current directory); plinth.hcl is written there.
    dir: Option<PathBuf>,
    /// Print the files instead of writing them.
    #[arg(long)]
    dry_run: bool,
    /// Project name (default: the directory's name).
    #[arg(long)]
    project: Option<String>,
}

/// Runs `plinth import`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let (tool, a) = match &args.tool {
        Tool::Terragrunt(a) => ("terragrunt", a),
        Tool::Atlantis(a) => ("atlantis", a),
    };
    let dir = ctx.cwd.join(a.dir.as_deref().unwrap_or(Path::new(".")));
    let root = dir
        .canonicalize()
        .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
    let name = a.project.clone().unwrap_or_else(|| {
        sanitize_name(
            &root
                .file_name()
                .map_or("project".into(), |n| n.to_string_lossy()),
        )
    });
    let proposal = match tool {
        "terragrunt" => plinth_import::terragrunt::convert(
            &root,
            &plinth_import::terragrunt::TerragruntOptions { project: name },
        ),
        _ => plinth_import::atlantis::convert(
            &root,
            &plinth_import::atlantis::AtlantisOptions { project: name },
        ),
    }
    .map_err(|diags| project::config_failure(ctx, &diags))?;
    finish(
        ctx,
        &root,
        &proposal,
        !a.dry_run,
        &format!("run `plinth import {tool}` without --dry-run to write them"),
    )
}

/// Checks `proposal` with plinth's parser, then writes it (or prints it), its notes and a
/// summary. Shared with `plinth init` on an existing repository.
pub(crate) fn finish(
    ctx: &Context,
    root: &Path,
    proposal: &Proposal,
    write: bool,
    dry_hint: &str,
) -> CmdResult {
    let problems = proposal.validate();
    if !problems.is_empty() {
        return Err(Failure::failure(format!(
            "plinth produced files its own parser rejects (a bug; nothing was written):\n  {}",
            problems.join("\n  ")
        )));
    }
    let mut out = anstream::AutoStream::new(std::io::stdout(), color(ctx.color_stdout));
    let io = |e: std::io::Error| Failure::failure(format!("cannot write to stdout: {e}"));
    let bold = anstyle::Style::new().bold();
    if write {
        let report = proposal
            .write(root)
            .map_err(|e| Failure::failure(format!("cannot write into {}: {e}", root.display())))?;
        for f in &report.written {
            writeln!(out, "wrote {f}").map_err(io)?;
        }
        for f in &report.kept {
            writeln!(out, "kept  {f} (it exists; not overwritten)").map_err(io)?;
        }
        if !report.gitignore_added.is_empty() {
            writeln!(
                out,
                "added to .gitignore: {}",
                report.gitignore_added.join(" ")
            )
            .map_err(io)?;
        }
    } else {
        for f in &proposal.files {
            writeln!(out, "{bold}--- {} ({}){bold:#}", f.path, f.purpose).map_err(io)?;
            write!(out, "{}", f.text).map_err(io)?;
        }
    }
    print_notes(&mut out, proposal).map_err(io)?;
    let count = |k: NoteKind| proposal.notes.iter().filter(|n| n.kind == k).count();
    writeln!(
        out,
        "\n{} stack(s) in {} environment(s) ({}); {} not converted, {} changed, {} suggestion(s)",
        proposal.stacks.len(),
        proposal.environments.len(),
        proposal.environments.join(", "),
        count(NoteKind::NotConverted),
        count(NoteKind::Changed),
        count(NoteKind::Suggestion),
    )
    .map_err(io)?;
    if write {
        writeln!(
            out,
            "next: plinth check --no-engine && plinth graph {}",
            proposal.environments.first().map_or("", String::as_str)
        )
        .map_err(io)?;
    } else {
        writeln!(out, "nothing written: {dry_hint}").map_err(io)?;
    }
    Ok(Exit::Success)
}

/// Notes, one per line: `file:line: kind: message`.
pub(crate) fn print_notes(out: &mut impl Write, proposal: &Proposal) -> std::io::Result<()> {
    let notes = proposal.sorted_notes();
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nnotes:")?;
    for n in notes {
        match &n.location {
            Some(loc) => writeln!(out, "  {loc}: {}: {}", n.kind.label(), n.message)?,
            None => writeln!(out, "  {}: {}", n.kind.label(), n.message)?,
        }
    }
    Ok(())
}

fn color(on: bool) -> anstream::ColorChoice {
    if on {
        anstream::ColorChoice::Always
    } else {
        anstream::ColorChoice::Never
    }
}
