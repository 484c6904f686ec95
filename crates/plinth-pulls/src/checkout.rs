//! A pull request's project at a commit: the worktree, and `plinth.hcl` loaded there with the
//! pull request's own work directory (so plans and history outlive the worktree).

use std::sync::Arc;

use plinth_config::Backend;
use plinth_project::Project;

use crate::automation::Automation;
use crate::error::FlowError;
use crate::sheet::PullCtx;
use crate::workspace::Worktree;

/// A loaded project at a commit.
pub(crate) struct Checkout {
    /// Held while the job uses it, so that pruning leaves it alone.
    pub _worktree: Worktree,
    pub project: Arc<Project>,
}

/// The project, or why there is none at that commit (shown on the pull request).
pub(crate) enum Loaded {
    Ready(Checkout),
    Problems(Vec<String>),
}

impl Automation {
    /// Checks out `sha` of the pull request (fetching `refs` when the mirror lacks it) and
    /// loads its project.
    pub(crate) async fn checkout(
        &self,
        pc: &PullCtx,
        sha: &str,
        refs: &[String],
    ) -> Result<Loaded, FlowError> {
        let Some(clone_url) = pc
            .repo
            .clone_url
            .clone()
            .or_else(|| pc.sheet.clone_url.clone())
        else {
            // A comment can be the first delivery plinth gets for a pull request, and only
            // pull-request payloads carry the clone URL.
            return Ok(Loaded::Problems(vec![format!(
                "plinth does not know where to fetch {} from yet: push to the pull request (or \
                 set `clone_url` in its repo block of plinth-server.hcl)",
                pc.pull.repo
            )]));
        };
        let auth = pc.forge.git_auth(&pc.pull.repo).await?;
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let worktree = self
            .workspaces
            .checkout(&pc.pull.repo, &clone_url, &auth, &refs, sha)
            .await?;
        let root = worktree.path().join(&pc.repo.project_dir);
        let work_dir = pc.work_dir();
        let prefix = format!("{}/", worktree.path().display());
        let loaded = tokio::task::spawn_blocking(move || {
            if !root.join(plinth_config::PROJECT_FILE).is_file() {
                return Err(vec![format!(
                    "no {} in `{}` at this commit",
                    plinth_config::PROJECT_FILE,
                    root.strip_prefix(&prefix).unwrap_or(&root).display()
                )]);
            }
            Project::load(&root)
                .map(|p| p.with_work_dir(work_dir))
                .map_err(|diags| vec![plinth_diag::render_all(&diags, false).replace(&prefix, "")])
        })
        .await
        .map_err(|e| FlowError::Other(format!("loading the project: {e}")))?;
        Ok(match loaded {
            Ok(project) => {
                if project.config.state.backend == Backend::Local {
                    return Ok(Loaded::Problems(vec![
                        "this project keeps its state with `backend = \"local\"`: a server run \
                         would write it into a throw-away worktree. Use `backend = \"plinth\"` \
                         (this server) or a shared backend such as s3 to plan and apply from \
                         pull requests."
                            .to_string(),
                    ]));
                }
                Loaded::Ready(Checkout {
                    _worktree: worktree,
                    project: Arc::new(project),
                })
            }
            Err(problems) => Loaded::Problems(problems),
        })
    }
}

/// The refs that hold a pull request's head and its base branch.
pub(crate) fn pull_refs(
    kind: plinth_config::ForgeKind,
    number: u64,
    base_ref: &str,
) -> Vec<String> {
    vec![
        plinth_forge::pull_head_ref(kind, number),
        format!("refs/heads/{base_ref}"),
    ]
}
