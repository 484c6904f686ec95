//! Ephemeral copies: `env up` creates copy NAME of an ephemeral environment block, applies
//! it whole and runs the block's `test` commands; `env down` destroys it in reverse order and
//! forgets it only when the destroy succeeded; `env reap` does that to every copy past its
//! `ttl`. The pull-request flow uses the same functions for `T-pr-N`.
//!
//! With `backend = "plinth"` each copy is recorded on the server too: `env up` claims the
//! name there first (another checkout's copy of that name is refused), status changes follow,
//! `env down` removes it, and `env ls`/`env reap` list the local and the server's copies, so
//! every machine and the server's reaper see the same ones.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use plinth_config::Lifecycle;
use plinth_project::{Project, Selection};
use tokio::sync::mpsc::UnboundedSender;

use crate::copies::CopyRecord;
use crate::history::{History, now};
use crate::server_link::{Created, LinkWarning, RunOrigin, ServerLink};
use crate::{Event, Mode, Run, RunError, RunOptions, RunReport, RunStatus};

/// How a copy should be run.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// The copy's name.
    pub name: String,
    /// The ephemeral environment it copies (for `down`, taken from the record when `None`).
    pub template: Option<String>,
    /// The pull request it belongs to.
    pub pull_request: Option<u64>,
    /// `-j`.
    pub parallelism: Option<usize>,
    /// How long to wait for the copy's run lock.
    pub lock_wait: Duration,
    /// Who its runs are reported as on the plinth server.
    pub origin: RunOrigin,
}

/// Copies as listed: the local history's and, with `backend = "plinth"`, the server's.
#[derive(Debug, Clone, Default)]
pub struct CopyList {
    /// Each copy once (the local record when both have it), oldest first.
    pub copies: Vec<CopyRecord>,
    /// Why the server's copies are missing from the list.
    pub warning: Option<String>,
}

/// One `test` command's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestResult {
    /// The command as written.
    pub command: String,
    /// Its exit code (`None`: it could not start, or was killed).
    pub exit_code: Option<i32>,
}

/// What `env up` did.
#[derive(Debug, Clone)]
pub struct UpReport {
    /// The apply.
    pub run: RunReport,
    /// The tests, run only after a successful apply, in order, stopping at the first failure.
    pub tests: Vec<TestResult>,
    /// The copy as now recorded.
    pub copy: CopyRecord,
}

impl UpReport {
    /// Whether the copy is up and its tests passed.
    pub fn succeeded(&self) -> bool {
        self.run.status == RunStatus::Succeeded && self.tests.iter().all(|t| t.exit_code == Some(0))
    }
}

/// The template of copy `name`, when `name` is not a declared environment but a recorded
/// copy; `None` for a declared environment (or an unknown name, which runs then report).
pub async fn copy_template(project: &Project, name: &str) -> Result<Option<String>, RunError> {
    if project.config.environment(name).is_some() {
        return Ok(None);
    }
    Ok(find_copy(project, name).await?.map(|c| c.template))
}

/// Copy `name`: the local record, else the server's (a copy made by another checkout).
async fn find_copy(project: &Project, name: &str) -> Result<Option<CopyRecord>, RunError> {
    let db = plinth_engine::Layout::at(&project.work_dir).database();
    if db.is_file() {
        let history = History::open(&db).await.map_err(RunError::Other)?;
        if let Some(copy) = history.copy(name).await.map_err(RunError::Other)? {
            return Ok(Some(copy));
        }
    }
    let unknown = |e: String| {
        RunError::Other(format!(
            "`{name}` is neither an environment of plinth.hcl nor a copy recorded here, and the \
             plinth server cannot say whether it is one of its copies: {e}"
        ))
    };
    match ServerLink::of(project, None).map_err(unknown)? {
        Some(link) => link.copy(name).await.map_err(unknown),
        None => Ok(None),
    }
}

/// Checks that `name` can be a copy of `template` (exit 64 with the rule otherwise).
pub fn check_copy(project: &Project, name: &str, template: &str) -> Result<(), RunError> {
    if let Some(problem) = plinth_config::copy_name_problem(name) {
        return Err(RunError::Usage(problem));
    }
    if project.config.environment(name).is_some() {
        return Err(RunError::Usage(format!(
            "`{name}` is an environment of plinth.hcl; a copy needs a name of its own (e.g. `{template}-{name}`)"
        )));
    }
    match project.config.environment(template) {
        None => {
            let ephemeral: Vec<&str> = project
                .config
                .environments
                .iter()
                .filter(|e| e.lifecycle == Lifecycle::Ephemeral)
                .map(|e| e.name.value.as_str())
                .collect();
            Err(RunError::Usage(format!(
                "no environment `{template}` in plinth.hcl{}",
                if ephemeral.is_empty() {
                    "; declare one with `lifecycle = \"ephemeral\"`".to_string()
                } else {
                    format!(" (ephemeral ones: {})", ephemeral.join(", "))
                }
            )))
        }
        Some(env) if env.lifecycle != Lifecycle::Ephemeral => Err(RunError::Usage(format!(
            "`{template}` is a persistent environment; copies are made of ephemeral ones \
             (`lifecycle = \"ephemeral\"`)"
        ))),
        Some(_) => Ok(()),
    }
}

fn run_options(opts: &CopyOptions, template: &str) -> RunOptions {
    RunOptions {
        env: opts.name.clone(),
        template: Some(template.to_string()),
        via_server: false,
        skip_promotion: None,
        selection: Selection::default(),
        changed: None,
        only: None,
        parallelism: opts.parallelism,
        approve_destructive: false,
        lock_wait: opts.lock_wait,
        reuse_plans: Vec::new(),
        replan: Default::default(),
    }
}

/// Claims copy `copy.name` on the plinth server before anything is applied: a new copy is
/// created there only if no other checkout has one of that name (the pull request's own
/// copy is brought up to date). Nothing to do without a plinth backend.
async fn claim_on_server(
    project: &Project,
    copy: &CopyRecord,
    ours: bool,
) -> Result<Option<ServerLink>, RunError> {
    let cannot = |e: String| {
        RunError::Blocked(format!(
            "cannot record copy `{}` on the plinth server, so nothing was applied: {e}",
            copy.name
        ))
    };
    let Some(link) = ServerLink::of(project, Some((&copy.name, &copy.template))).map_err(cannot)?
    else {
        return Ok(None);
    };
    if ours {
        link.put_copy(copy).await.map_err(cannot)?;
        return Ok(Some(link));
    }
    match link.create_copy(copy).await.map_err(cannot)? {
        Created::Yes => {}
        Created::Exists(Some(theirs))
            if theirs.pull_request.is_some() && theirs.pull_request == copy.pull_request =>
        {
            let mut update = copy.clone();
            update.creator = theirs.creator;
            update.created_at = theirs.created_at;
            update.expires_at = theirs.expires_at.or(update.expires_at);
            link.put_copy(&update).await.map_err(cannot)?;
        }
        Created::Exists(theirs) => {
            let whose = match theirs {
                Some(c) => format!(
                    ": created by {} at {} as a copy of `{}`{} (status {})",
                    c.creator,
                    c.created_at,
                    c.template,
                    c.pull_request
                        .map(|n| format!(" for pull request {n}"))
                        .unwrap_or_default(),
                    c.status
                ),
                None => String::new(),
            };
            return Err(RunError::Blocked(format!(
                "copy `{name}` exists already on the plinth server {url}{whose}; nothing was \
                 applied: choose another name, or take it down first (`plinth env down {name}`)",
                name = copy.name,
                url = link.url(),
            )));
        }
    }
    Ok(Some(link))
}

/// Tells the server a copy's new status; a server that cannot be told is warned about.
async fn update_on_server(link: Option<&ServerLink>, copy: &CopyRecord, warning: &LinkWarning) {
    if let Some(link) = link
        && let Err(e) = link.put_copy(copy).await
    {
        warning.warn(format!(
            "{e}; copy `{}` is {} in the local history",
            copy.name, copy.status
        ));
    }
}

/// Creates (or brings up to date) copy `opts.name` of `opts.template`: applies it whole along
/// the graph, then runs the template's `test` commands from the project root.
pub async fn env_up(
    project: Arc<Project>,
    opts: CopyOptions,
    events: UnboundedSender<Event>,
) -> Result<UpReport, RunError> {
    let template = opts
        .template
        .clone()
        .ok_or_else(|| RunError::Usage("`env up` needs --from TEMPLATE".into()))?;
    check_copy(&project, &opts.name, &template)?;
    let env = project
        .config
        .environment(&template)
        .expect("checked above")
        .clone();
    let warning = LinkWarning::new(events.clone());
    let run = Run::start(
        Arc::clone(&project),
        run_options(&opts, &template),
        Mode::ApplyAuto,
        events,
    )
    .await?
    .reported_as(opts.origin.clone());
    let history = History::open(&plinth_engine::Layout::at(&project.work_dir).database())
        .await
        .map_err(RunError::Other)?;
    let earlier = history.copy(&opts.name).await.map_err(RunError::Other)?;
    if let Some(e) = &earlier
        && e.template != template
    {
        return Err(RunError::Usage(format!(
            "copy `{}` exists already as a copy of `{}`; take it down first",
            opts.name, e.template
        )));
    }
    let created_at = earlier.as_ref().map_or_else(now, |e| e.created_at.clone());
    let expires_at = env
        .ttl
        .as_ref()
        .and_then(|ttl| plus_seconds(&created_at, ttl.value));
    let mut copy = CopyRecord {
        name: opts.name.clone(),
        template: template.clone(),
        creator: earlier
            .as_ref()
            .map_or_else(crate::who, |e| e.creator.clone()),
        pull_request: opts
            .pull_request
            .or(earlier.as_ref().and_then(|e| e.pull_request)),
        created_at,
        expires_at,
        status: "applying".into(),
        instances: run.instances().len() as i64,
        last_run: Some(run.id().to_string()),
    };
    let server = claim_on_server(&project, &copy, earlier.is_some()).await?;
    history.put_copy(&copy).await.map_err(RunError::Other)?;
    let report = run.execute().await?;
    let mut tests = Vec::new();
    copy.status = if report.status == RunStatus::Succeeded {
        tests = run_tests(&project, &opts.name, &template, &env.test).await?;
        if tests.iter().all(|t| t.exit_code == Some(0)) {
            "up".into()
        } else {
            "test_failed".into()
        }
    } else {
        "apply_failed".into()
    };
    history.put_copy(&copy).await.map_err(RunError::Other)?;
    update_on_server(server.as_ref(), &copy, &warning).await;
    Ok(UpReport {
        run: report,
        tests,
        copy,
    })
}

/// Runs the `test` commands of a copy in order with `sh -c`, from the project root, with
/// `PLINTH_ENV`, `PLINTH_TEMPLATE` and `PLINTH_OUTPUTS` (a file holding `plinth output
/// --format json` of the copy). Their output goes to plinth's stderr.
async fn run_tests(
    project: &Arc<Project>,
    name: &str,
    template: &str,
    commands: &[plinth_config::Spanned<String>],
) -> Result<Vec<TestResult>, RunError> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let outputs = crate::env_outputs(
        Arc::clone(project),
        name,
        Some(template),
        Selection::default(),
    )
    .await?;
    let file = copy_dir(project, name).join("outputs.json");
    crate::saved::write_json(&file, &crate::outputs_json(&outputs, false))
        .map_err(|e| RunError::Other(format!("{}: {e}", file.display())))?;
    let mut results = Vec::new();
    for command in commands {
        eprintln!("test {name}: {}", command.value);
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| RunError::Other(format!("stderr: {e}")))?;
        let status = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&command.value)
            .current_dir(&project.root)
            .env("PLINTH_ENV", name)
            .env("PLINTH_TEMPLATE", template)
            .env("PLINTH_OUTPUTS", &file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::from(
                stderr
                    .try_clone()
                    .map_err(|e| RunError::Other(format!("stderr: {e}")))?,
            ))
            .stderr(std::process::Stdio::from(stderr))
            .status()
            .await;
        let exit_code = match status {
            Ok(s) => s.code(),
            Err(e) => {
                eprintln!("test {name}: cannot run `{}`: {e}", command.value);
                None
            }
        };
        results.push(TestResult {
            command: command.value.clone(),
            exit_code,
        });
        if exit_code != Some(0) {
            break;
        }
    }
    Ok(results)
}

use std::os::fd::AsFd;

/// What `env down` did.
#[derive(Debug, Clone)]
pub struct DownReport {
    /// The destroy.
    pub run: RunReport,
    /// Whether the copy was forgotten (its destroy succeeded).
    pub removed: bool,
}

/// Destroys copy `opts.name` in reverse graph order and forgets it when that succeeded;
/// otherwise it stays recorded as `destroy_failed`.
pub async fn env_down(
    project: Arc<Project>,
    opts: CopyOptions,
    events: UnboundedSender<Event>,
) -> Result<DownReport, RunError> {
    let Some(mut copy) = find_copy(&project, &opts.name).await? else {
        return Err(RunError::Usage(format!(
            "no copy `{}` (see `plinth env ls`)",
            opts.name
        )));
    };
    let history = History::open(&plinth_engine::Layout::at(&project.work_dir).database())
        .await
        .map_err(RunError::Other)?;
    let warning = LinkWarning::new(events.clone());
    let server = ServerLink::of(&project, Some((&opts.name, &copy.template))).unwrap_or_else(|e| {
        warning.warn(format!(
            "copy `{}` is not updated on the plinth server: {e}",
            opts.name
        ));
        None
    });
    let run = Run::start(
        Arc::clone(&project),
        run_options(&opts, &copy.template),
        Mode::Destroy,
        events,
    )
    .await?
    .reported_as(opts.origin.clone());
    copy.status = "destroying".into();
    copy.last_run = Some(run.id().to_string());
    history.put_copy(&copy).await.map_err(RunError::Other)?;
    update_on_server(server.as_ref(), &copy, &warning).await;
    let report = run.execute().await?;
    let removed = report.status == RunStatus::Succeeded;
    if removed {
        history
            .remove_copy(&opts.name)
            .await
            .map_err(RunError::Other)?;
        if let Some(link) = &server
            && let Err(e) = link.delete_copy(&opts.name).await
        {
            warning.warn(format!(
                "{e}; copy `{}` is destroyed, but the server still lists it (run `plinth env \
                 down {}` again to remove it there)",
                opts.name, opts.name
            ));
        }
        let layout = plinth_engine::Layout::at(&project.work_dir);
        for dir in [
            layout.base().join("state").join(&opts.name),
            layout.base().join("work").join(&opts.name),
            copy_dir(&project, &opts.name),
        ] {
            let _ = std::fs::remove_dir_all(dir);
        }
    } else {
        copy.status = "destroy_failed".into();
        history.put_copy(&copy).await.map_err(RunError::Other)?;
        update_on_server(server.as_ref(), &copy, &warning).await;
    }
    Ok(DownReport {
        run: report,
        removed,
    })
}

/// The copies whose `expires_at` has passed, here and on the server.
pub async fn expired_copies(project: &Project) -> Result<CopyList, RunError> {
    let now = time::OffsetDateTime::now_utc();
    let mut list = copies_here_and_there(project, true).await?;
    list.copies.retain(|c| {
        c.expires_at
            .as_deref()
            .and_then(parse_time)
            .is_some_and(|t| t <= now)
    });
    Ok(list)
}

/// Every recorded copy, here and on the server.
pub async fn list_copies(project: &Project) -> Result<CopyList, RunError> {
    copies_here_and_there(project, false).await
}

/// The local records, and the server's (only the expired ones with `expired`); a server that
/// cannot be asked leaves a warning, not an error.
async fn copies_here_and_there(project: &Project, expired: bool) -> Result<CopyList, RunError> {
    let db = plinth_engine::Layout::at(&project.work_dir).database();
    let mut copies = if db.is_file() {
        History::open(&db)
            .await
            .map_err(RunError::Other)?
            .copies()
            .await
            .map_err(RunError::Other)?
    } else {
        Vec::new()
    };
    let remote = match ServerLink::of(project, None) {
        Ok(None) => Ok(Vec::new()),
        Ok(Some(link)) if expired => link.expired_copies().await,
        Ok(Some(link)) => link.copies().await,
        Err(e) => Err(format!("the plinth server's copies are not listed: {e}")),
    };
    let warning = match remote {
        Ok(remote) => {
            for copy in remote {
                if !copies.iter().any(|c| c.name == copy.name) {
                    copies.push(copy);
                }
            }
            None
        }
        Err(e) => Some(format!("{e}; only the copies recorded here are listed")),
    };
    copies.sort_by_key(|c| (parse_time(&c.created_at), c.name.clone()));
    Ok(CopyList { copies, warning })
}

/// `.plinth/copies/NAME/`: the outputs file given to tests.
fn copy_dir(project: &Project, name: &str) -> PathBuf {
    plinth_engine::Layout::at(&project.work_dir)
        .base()
        .join("copies")
        .join(name)
}

fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

fn plus_seconds(rfc3339: &str, secs: u64) -> Option<String> {
    let t = parse_time(rfc3339)? + time::Duration::seconds(i64::try_from(secs).ok()?);
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}
