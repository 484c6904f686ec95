//! Everything a run needs, checked before any engine starts (preflight).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use plinth_config::Environment;
use plinth_diag::Diagnostic;
use plinth_engine::{Engine, Layout};
use plinth_project::{Affected, EnvGraph, Project, Selection, StackCode};
use rayon::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

use crate::RunError;
use crate::events::Event;
use crate::server_link::ServerLink;
use crate::upstream::StateCache;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Environment name: a persistent environment, or the name of an ephemeral copy.
    pub env: String,
    /// For a copy: the ephemeral environment block it is a copy of.
    pub template: Option<String>,
    /// Who asked, when the run applies in an environment with `apply_via = "server"`: the
    /// server's own pull-request flow passes `true`; the CLI never does.
    pub via_server: bool,
    /// `--skip-promotion --reason TEXT`: apply although the promotion gate is closed; the
    /// reason is recorded.
    pub skip_promotion: Option<String>,
    /// `SELECT`.
    pub selection: Selection,
    /// `--changed`: only these instances (dependencies outside stay as they are).
    pub changed: Option<Affected>,
    /// Exactly these stack ids (a re-plan of what an apply left), on top of the selection.
    pub only: Option<BTreeSet<String>>,
    /// `-j`.
    pub parallelism: Option<usize>,
    /// `--approve-destructive`: allow deleting stateful resources in protected environments.
    pub approve_destructive: bool,
    /// How long to wait for the environment's run lock.
    pub lock_wait: std::time::Duration,
    /// Earlier plan runs of this environment, newest first, whose plans a plan run may keep:
    /// an instance whose fingerprint has not moved gets that plan again instead of a new
    /// engine plan (a push to a pull request re-plans only what it touched).
    pub reuse_plans: Vec<String>,
    /// Stacks planned by the engine again even where an earlier plan could be kept (a plan
    /// asked for by name: the real infrastructure may have moved).
    pub replan: BTreeSet<String>,
}

/// A run's shared, read-only context (plus the state cache).
pub struct RunContext {
    /// The project.
    pub project: Arc<Project>,
    /// The environment's declaration (for a copy, its template's).
    pub environment: Environment,
    /// The name instances run under: the environment, or the copy.
    pub instance_env: String,
    /// Whether this run is of an ephemeral copy.
    pub is_copy: bool,
    /// The validated graph of the environment.
    pub graph: EnvGraph,
    /// Selected stacks, in layer order.
    pub selected: Vec<String>,
    /// The engine.
    pub engine: Engine,
    /// `.plinth/` paths.
    pub layout: Layout,
    /// Static facts about each selected stack's code.
    pub code: HashMap<String, StackCode>,
    /// The local modules each stack calls, transitively.
    pub modules: HashMap<String, Vec<PathBuf>>,
    /// The commit of the work tree (`+dirty` with uncommitted changes), when in git.
    pub commit: Option<String>,
    /// Parallelism.
    pub parallelism: usize,
    /// `--approve-destructive`.
    pub approve_destructive: bool,
    /// Upstream and own states read in this run.
    pub states: StateCache,
    /// The plinth server of the project's state block (`Ok(None)` for other backends), or
    /// why it cannot be used; made on first use, shared by state reads and the history report.
    server: std::sync::OnceLock<Result<Option<ServerLink>, String>>,
    /// Stacks whose plan in this run has changes (a dependent's plan made against their
    /// current state will be stale once they are applied).
    pub pending: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Stacks applied successfully in this run (their dependents' saved plans may now read
    /// other values).
    pub applied: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Secret values read in this run, each distinct path once.
    pub secret_values: plinth_secrets::Resolver,
    /// Engines running now, for Ctrl-C.
    pub processes: Arc<plinth_engine::ProcessRegistry>,
    /// The environment lock's descriptor, inherited by every engine so that the lock lasts
    /// as long as the last of them.
    pub lock_fd: std::sync::OnceLock<std::os::fd::RawFd>,
    /// Progress events.
    pub events: UnboundedSender<Event>,
    /// This run's id.
    pub run_id: String,
    /// `RunOptions::reuse_plans`.
    pub reuse_plans: Vec<String>,
    /// `RunOptions::replan`.
    pub replan: BTreeSet<String>,
    /// Team policies and prices applied to every saved plan; loaded once by runs that plan.
    pub(crate) review: std::sync::OnceLock<Arc<crate::review::PlanReview>>,
}

impl RunContext {
    /// Validates everything that can be checked without the engine running: the graph, the
    /// selection, the engine binary and version, and that every `inputs` key is a variable.
    pub fn prepare(
        project: Arc<Project>,
        opts: &RunOptions,
        events: UnboundedSender<Event>,
        run_id: String,
    ) -> Result<RunContext, RunError> {
        let block = opts.template.as_deref().unwrap_or(&opts.env);
        let graph = project.graph(block).map_err(RunError::Config)?;
        let environment = project
            .config
            .environment(block)
            .expect("graph checked the environment")
            .clone();
        if opts.template.is_none() && environment.lifecycle == plinth_config::Lifecycle::Ephemeral {
            return Err(RunError::Usage(format!(
                "`{}` is an ephemeral environment: runs happen in its copies; create one with \
                 `plinth env up NAME --from {}`",
                opts.env, opts.env
            )));
        }
        let mut picked: BTreeSet<String> = opts
            .selection
            .apply(&project, &graph)
            .map_err(RunError::Usage)?;
        if let Some(changed) = &opts.changed {
            picked.retain(|s| changed.contains(&opts.env, s));
        }
        if let Some(only) = &opts.only {
            picked.retain(|s| only.contains(s));
        }
        let selected: Vec<String> = graph
            .layers
            .iter()
            .flatten()
            .filter(|s| picked.contains(*s))
            .cloned()
            .collect();
        let settings = &project.config.plinth;
        let engine = Engine::locate(
            &settings.engine.value,
            &project.root,
            settings.engine_version.as_ref().map(|v| v.value.as_str()),
        )
        .map_err(RunError::Engine)?;
        let modules = project.local_modules();
        let code: HashMap<String, StackCode> = selected
            .par_iter()
            .map(|id| {
                let stack = project.stack(id).expect("selected stacks exist");
                let mods: &[PathBuf] = modules.get(id).map_or(&[], Vec::as_slice);
                (id.clone(), StackCode::read(&stack.dir, mods))
            })
            .collect();
        let mut diags = Vec::new();
        for id in &selected {
            let stack = project.stack(id).expect("selected stacks exist");
            let Some(declared) = code[id].variables.as_ref() else {
                continue;
            };
            for input in &stack.config.inputs {
                if !declared.contains(&input.name) {
                    let known: Vec<&str> = declared.iter().map(String::as_str).collect();
                    let mut d = Diagnostic::error(format!(
                        "input `{}` of stack `{id}` is not a variable the stack declares",
                        input.name
                    ))
                    .at(
                        &stack.config.source,
                        input.value.span.clone(),
                        "no `variable` block with this name",
                    );
                    d = match plinth_config::did_you_mean(&input.name, known.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!(
                            "declare `variable \"{}\" {{}}` in the stack, or remove the input",
                            input.name
                        )),
                    };
                    diags.push(d);
                }
            }
        }
        // A value CI must provide: its absence is reported before anything runs, where the
        // file asks for it.
        let missing = |name: &str| std::env::var_os(name).is_none();
        for id in &selected {
            let stack = project.stack(id).expect("selected stacks exist");
            for input in &stack.config.inputs {
                for (name, has_default, span) in input.value.getenv_calls() {
                    if !has_default && missing(name) {
                        diags.push(getenv_missing(&stack.config.source, name, span));
                    }
                }
            }
        }
        let state = &project.config.state;
        for expr in std::iter::once(&state.key)
            .chain(state.config.iter().map(|(_, v)| v))
            .chain(state.url.iter())
        {
            for (name, has_default, span) in expr.getenv_calls() {
                if !has_default && missing(name) {
                    diags.push(getenv_missing(&project.config.source, name, span));
                }
            }
        }
        if !diags.is_empty() {
            return Err(RunError::Config(diags));
        }
        let parallelism = opts
            .parallelism
            .or(settings.parallelism)
            .unwrap_or_else(default_parallelism)
            .max(1);
        let layout = Layout::at(&project.work_dir);
        let commit = plinth_vcs::Repo::discover(&project.root)
            .ok()
            .and_then(|r| r.head().ok().flatten());
        let ctx = RunContext {
            modules,
            commit,
            environment,
            graph,
            selected,
            engine,
            layout,
            code,
            parallelism,
            approve_destructive: opts.approve_destructive,
            states: StateCache::default(),
            server: Default::default(),
            pending: Default::default(),
            applied: Default::default(),
            instance_env: opts.env.clone(),
            secret_values: plinth_secrets::Resolver::new(Arc::new(
                plinth_secrets::Stores::for_project(
                    project.config.vault.as_ref(),
                    &project.root,
                    Arc::new(plinth_secrets::ProcessEnv),
                ),
            )),
            is_copy: opts.template.is_some(),
            processes: Default::default(),
            lock_fd: Default::default(),
            events,
            run_id,
            reuse_plans: opts.reuse_plans.clone(),
            replan: opts.replan.clone(),
            review: Default::default(),
            project,
        };
        ctx.check_state_isolation()?;
        Ok(ctx)
    }

    /// The name instances run under (the environment, or the copy).
    pub fn env(&self) -> &str {
        &self.instance_env
    }

    /// The environment block (a copy's template): what var files and secrets belong to.
    pub fn block(&self) -> &str {
        &self.environment.name.value
    }

    /// The link to the plinth server (see the `server` field), one per run.
    pub(crate) fn server_link(&self) -> Result<Option<&ServerLink>, String> {
        self.server
            .get_or_init(|| ServerLink::of(&self.project, Some((self.env(), self.block()))))
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }
}

fn getenv_missing(
    source: &std::sync::Arc<plinth_diag::SourceFile>,
    name: &str,
    span: std::ops::Range<usize>,
) -> Diagnostic {
    Diagnostic::error(format!(
        "environment variable {name} is not set, and this getenv has no default"
    ))
    .at(source, span, format!("reads {name}"))
    .with_help(format!(
        "set {name} (CI provides it), or give a default: getenv(\"{name}\", \"…\")"
    ))
}

/// Number of CPUs, at most 8 (DESIGN.md section 2).
fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8)
}
