//! One module per subcommand; each exposes its clap `Args` and a `run` function.

use crate::context::Context;
use crate::exit::CmdResult;

pub mod apply;
pub mod approve_policy;
pub mod check;
pub mod check_secrets;
pub mod cost;
pub mod destroy;
pub mod doctor;
pub mod drift;
pub mod env;
pub mod exec;
pub mod graph;
pub mod import;
pub mod init;
pub mod ls;
pub mod output;
pub mod plan;
pub mod promote;
pub mod runs;
pub mod secrets;
pub mod serve;
pub mod show;
pub mod state;
pub mod token;

/// Every subcommand.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Scaffold a project, or propose stack.hcl files for an existing Terraform repository.
    Init(Box<init::Args>),
    /// Write plinth.hcl and stack.hcl files from a Terragrunt tree or an atlantis.yaml.
    Import(Box<import::Args>),
    /// Check the engine, git, plugin cache and state backend; one line each.
    Doctor(Box<doctor::Args>),
    /// List instances (stack × environment).
    Ls(Box<ls::Args>),
    /// Show the dependency graph of an environment.
    Graph(Box<graph::Args>),
    /// Plan an environment along its dependency graph.
    Plan(Box<plan::Args>),
    /// Apply saved plans, or plan and apply with --auto-approve.
    Apply(Box<apply::Args>),
    /// Approve the plans of a run that a team policy denied (owners of the policy only).
    ApprovePolicy(Box<approve_policy::Args>),
    /// Destroy an environment's instances in reverse dependency order.
    Destroy(Box<destroy::Args>),
    /// Check each instance for changes made outside Terraform (exit 2 when any drifted).
    Drift(Box<drift::Args>),
    /// Ephemeral copies of an environment: up, down, ls, reap.
    Env(Box<env::Args>),
    /// Run an engine command in each selected instance's context (`-- state list`).
    Exec(Box<exec::Args>),
    /// Print every stack's outputs for an environment.
    Output(Box<output::Args>),
    /// What an environment would take from the one it promotes from.
    Promote(Box<promote::Args>),
    /// List runs, or show one run.
    Runs(Box<runs::Args>),
    /// Show a run's planned resource changes as the engine renders them (secrets masked).
    Show(Box<show::Args>),
    /// Run governance checks on the code.
    Check(Box<check::Args>),
    /// Estimate an environment's monthly cost from its code or a saved plan.
    Cost(Box<cost::Args>),
    /// An environment's secrets (never a value), and their rotation.
    Secrets(Box<secrets::Args>),
    /// Run the plinth server (state backend, locks, API).
    Serve(Box<serve::Args>),
    /// Manage API tokens.
    Token(Box<token::Args>),
    /// Inspect and roll back state held by the plinth server.
    State(Box<state::Args>),
}

/// Runs the chosen subcommand.
pub fn dispatch(ctx: &Context, command: Command) -> CmdResult {
    match command {
        Command::Init(args) => init::run(ctx, *args),
        Command::Import(args) => import::run(ctx, *args),
        Command::Doctor(args) => doctor::run(ctx, *args),
        Command::Ls(args) => ls::run(ctx, *args),
        Command::Graph(args) => graph::run(ctx, *args),
        Command::Plan(args) => plan::run(ctx, *args),
        Command::Apply(args) => apply::run(ctx, *args),
        Command::ApprovePolicy(args) => approve_policy::run(ctx, *args),
        Command::Destroy(args) => destroy::run(ctx, *args),
        Command::Drift(args) => drift::run(ctx, *args),
        Command::Env(args) => env::run(ctx, *args),
        Command::Exec(args) => exec::run(ctx, *args),
        Command::Output(args) => output::run(ctx, *args),
        Command::Promote(args) => promote::run(ctx, *args),
        Command::Runs(args) => runs::run(ctx, *args),
        Command::Show(args) => show::run(ctx, *args),
        Command::Check(args) => check::run(ctx, *args),
        Command::Cost(args) => cost::run(ctx, *args),
        Command::Secrets(args) => secrets::run(ctx, *args),
        Command::Serve(args) => serve::run(ctx, *args),
        Command::Token(args) => token::run(ctx, *args),
        Command::State(args) => state::run(ctx, *args),
    }
}
