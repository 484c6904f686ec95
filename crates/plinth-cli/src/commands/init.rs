//! `plinth init`: a new project in an empty directory, or, in an existing Terraform repository,
//! the `plinth.hcl` and `stack.hcl` files its root modules need (printed; `--write` writes).

use std::io::Write;
use std::path::Path;

use plinth_import::discover::{DiscoverOptions, discover};
use plinth_import::sanitize_name;
use plinth_import::scaffold::{Layout, ScaffoldOptions, scaffold};

use crate::context::Context;
use crate::exit::{CmdResult, Exit, Failure};

/// Layouts of a new project.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LayoutArg {
    /// Modules in components/, one composition per environment in envs/<env>.
    Components,
    /// One stack per module on a foundation stack, wired by outputs.
    Modules,
    /// One root module with a var file per environment.
    Single,
}

/// Arguments of `plinth init`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
In an empty directory, writes a project that `plinth check` passes and `plinth apply dev \
--auto-approve` applies at once (terraform_data stand-ins). In a directory with Terraform code \
and no plinth.hcl, finds the root modules and environments and prints the files it proposes; \
--write writes them. Existing files are never overwritten.")]
pub struct Args {
    /// Layout of a new project (empty directory only).
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    /// Environments in promotion order (for an existing repository: when none is found).
    #[arg(long, value_delimiter = ',', default_value = "dev,staging,prod")]
    envs: Vec<String>,
    /// Existing repository: write the proposed files instead of printing them.
    #[arg(long)]
    write: bool,
    /// Project name (default: the directory's name).
    #[arg(long)]
    project: Option<String>,
}

/// Runs `plinth init`.
pub fn run(ctx: &Context, args: Args) -> CmdResult {
    let root = ctx
        .cwd
        .canonicalize()
        .map_err(|e| Failure::usage(format!("{}: {e}", ctx.cwd.display())))?;
    if root.join("plinth.hcl").is_file() {
        return Err(Failure::usage(format!(
            "{} already has a plinth.hcl\n  help: `plinth doctor` checks it; `plinth ls` lists its stacks",
            root.display()
        )));
    }
    for env in &args.envs {
        if env.is_empty() || sanitize_name(env) != *env {
            return Err(Failure::usage(format!(
                "--envs: `{env}` is not a valid environment name (letters, digits, `-`, `_`, `.`)"
            )));
        }
    }
    let project = args.project.clone().unwrap_or_else(|| {
        sanitize_name(
            &root
                .file_name()
                .map_or("project".into(), |n| n.to_string_lossy()),
        )
    });
    let engine = engine_on_path();
    let tree = plinth_project::terraform_tree(&root);
    if tree.roots.is_empty() && tree.called.is_empty() {
        return new_project(&root, project, args, engine);
    }
    if args.layout.is_some() && !ctx.quiet {
        eprintln!(
            "note: --layout applies to an empty directory; this one has Terraform code, so it is read instead"
        );
    }
    let proposal = discover(
        &root,
        &DiscoverOptions {
            project,
            engine,
            default_environments: args.envs.clone(),
        },
    );
    super::import::finish(
        ctx,
        &root,
        &proposal,
        args.write,
        "run `plinth init --write` to write them",
    )
}

fn new_project(root: &Path, project: String, args: Args, engine: String) -> CmdResult {
    let layout = match args.layout.unwrap_or(LayoutArg::Modules) {
        LayoutArg::Components => Layout::Components,
        LayoutArg::Modules => Layout::Modules,
        LayoutArg::Single => Layout::Single,
    };
    let proposal = scaffold(&ScaffoldOptions {
        project,
        layout,
        environments: args.envs.clone(),
        engine,
    });
    let problems = proposal.validate();
    if !problems.is_empty() {
        return Err(Failure::failure(format!(
            "scaffold does not parse (a bug): {}",
            problems.join("; ")
        )));
    }
    let report = proposal
        .write(root)
        .map_err(|e| Failure::failure(format!("cannot write into {}: {e}", root.display())))?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::failure(format!("cannot write to stdout: {e}"));
    for f in &report.written {
        writeln!(out, "created {f}").map_err(io)?;
    }
    for f in &report.kept {
        writeln!(out, "kept    {f} (it exists; not overwritten)").map_err(io)?;
    }
    if !report.gitignore_added.is_empty() {
        writeln!(
            out,
            "added to .gitignore: {}",
            report.gitignore_added.join(" ")
        )
        .map_err(io)?;
    }
    let first = args.envs.first().map_or("dev", String::as_str);
    writeln!(
        out,
        "\n{} stack(s), environments {}\nnext: plinth check && plinth apply {first} --auto-approve",
        proposal.stacks.len(),
        args.envs.join(" → "),
    )
    .map_err(io)?;
    Ok(Exit::Success)
}

/// `terraform` when it is on PATH, else `tofu` when that is, else `terraform`.
fn engine_on_path() -> String {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if !on_path("terraform") && on_path("tofu") {
        "tofu".into()
    } else {
        "terraform".into()
    }
}
