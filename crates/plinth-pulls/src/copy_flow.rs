//! Ephemeral environments on pull requests: copy `T-pr-N` of template `T` applied whole on
//! every push with its `test` commands run (the `env up` machinery), destroyed on close.

use plinth_config::Environment;
use plinth_forge::StatusState;
use plinth_run::{CopyOptions, InstanceStatus, RunOrigin, RunStatus, UpReport};

use crate::automation::Automation;
use crate::checkout::{Checkout, Loaded};
use crate::error::FlowError;
use crate::job_run::JobRun;
use crate::sheet::PullCtx;
use crate::summary::{EnvSection, LockCell, Row, RowResult, short};

/// How long a copy's run waits for another run of the same copy.
const RUN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// The copy of `template` for pull request `number`.
pub(crate) fn copy_name(template: &str, number: u64) -> String {
    format!("{template}-pr-{number}")
}

impl Automation {
    /// Creates or updates the pull request's copy of `env` at `head`, applies it and runs its
    /// tests; the section says how it went, and `plinth/TEMPLATE` too.
    pub(crate) async fn copy_up(
        &self,
        pc: &mut PullCtx,
        co: &Checkout,
        env: &Environment,
        head: &str,
        run: &JobRun,
    ) -> Result<EnvSection, FlowError> {
        let template = env.name.value.clone();
        let name = copy_name(&template, pc.number);
        let context = format!("plinth/{template}");
        self.set_status(
            pc,
            head,
            &context,
            StatusState::Pending,
            &format!("applying {name}"),
        )
        .await;
        run.log(&format!("copy {name}: applying at {}", short(head)))
            .await?;
        pc.sheet.copies.insert(template.clone(), name.clone());
        pc.save()?;
        let opts = CopyOptions {
            name: name.clone(),
            template: Some(template.clone()),
            pull_request: Some(pc.number),
            parallelism: None,
            lock_wait: RUN_LOCK_WAIT,
            origin: RunOrigin::server("plinth"),
        };
        let (events, _) = tokio::sync::mpsc::unbounded_channel();
        let mut section = EnvSection {
            env: template.clone(),
            copy: Some(name.clone()),
            ..Default::default()
        };
        match plinth_run::env_up(std::sync::Arc::clone(&co.project), opts, events).await {
            Err(e) => {
                let why = self.redact(&crate::plan_flow::run_error(e));
                section.state = "could not be applied".into();
                section.lines.push(why.clone());
                self.set_status(pc, head, &context, StatusState::Failure, &why)
                    .await;
            }
            Ok(up) => {
                self.describe_up(&mut section, &up, head);
                let (state, description) = if up.succeeded() {
                    (
                        StatusState::Success,
                        format!("{name} applied; {} test(s) passed", up.tests.len()),
                    )
                } else if up.run.status != RunStatus::Succeeded {
                    (StatusState::Failure, format!("{name}: the apply failed"))
                } else {
                    (
                        StatusState::Failure,
                        format!("{name}: a test failed (the copy stays up to inspect)"),
                    )
                };
                self.set_status(pc, head, &context, state, &description)
                    .await;
            }
        }
        Ok(section)
    }

    fn describe_up(&self, section: &mut EnvSection, up: &UpReport, head: &str) {
        section.state = if up.succeeded() {
            format!("applied and tested at `{}`", short(head))
        } else if up.run.status == RunStatus::Succeeded {
            format!("applied at `{}`; a test failed", short(head))
        } else {
            format!("apply at `{}` failed", short(head))
        };
        section.rows = up
            .run
            .instances
            .iter()
            .map(|i| Row {
                stack: i.stack.clone(),
                result: match i.status {
                    InstanceStatus::Succeeded | InstanceStatus::Unchanged => RowResult::Applied {
                        add: i.add,
                        change: i.change,
                        destroy: i.destroy,
                    },
                    InstanceStatus::Failed => RowResult::Failed {
                        reason: self.redact(crate::plan_flow::without_log_path(
                            i.reason.as_deref().unwrap_or("failed"),
                        )),
                    },
                    _ => RowResult::NotRun {
                        reason: self.redact(crate::plan_flow::without_log_path(
                            i.reason.as_deref().unwrap_or(i.status.as_str()),
                        )),
                    },
                },
                preview_only: false,
                kept: false,
                stateful: Vec::new(),
                notes: Vec::new(),
                lock: LockCell::None,
            })
            .collect();
        section.lines = up
            .tests
            .iter()
            .map(|t| match t.exit_code {
                Some(0) => format!("test passed: {}", t.command),
                Some(code) => format!("test failed (exit {code}): {}", t.command),
                None => format!("test did not finish: {}", t.command),
            })
            .collect();
    }

    /// Destroys the pull request's copy `name` of `template` from the code at `sha`.
    pub(crate) async fn copy_down(
        &self,
        pc: &mut PullCtx,
        template: &str,
        name: &str,
        sha: &str,
        refs: &[String],
        run: &JobRun,
    ) -> Result<(), FlowError> {
        let context = format!("plinth/{template}");
        let co = match self.checkout(pc, sha, refs).await? {
            Loaded::Ready(co) => co,
            Loaded::Problems(problems) => {
                run.log(&format!(
                    "copy {name}: cannot destroy: {}",
                    problems.join("; ")
                ))
                .await?;
                return Ok(());
            }
        };
        let opts = CopyOptions {
            name: name.to_string(),
            template: Some(template.to_string()),
            pull_request: Some(pc.number),
            parallelism: None,
            lock_wait: RUN_LOCK_WAIT,
            origin: RunOrigin::server("plinth"),
        };
        let (events, _) = tokio::sync::mpsc::unbounded_channel();
        let mut section = EnvSection {
            env: template.to_string(),
            copy: Some(name.to_string()),
            ..Default::default()
        };
        match plinth_run::env_down(co.project.clone(), opts, events).await {
            Ok(down) if down.removed => {
                section.state = "destroyed".into();
                pc.sheet.copies.remove(template);
                self.set_status(
                    pc,
                    sha,
                    &context,
                    StatusState::Success,
                    &format!("{name} destroyed"),
                )
                .await;
            }
            Ok(down) => {
                section.state = format!("destroy failed (run {}): the copy stays", down.run.run_id);
                self.set_status(
                    pc,
                    sha,
                    &context,
                    StatusState::Failure,
                    &format!("{name}: destroy failed"),
                )
                .await;
            }
            Err(e) => {
                let why = self.redact(&crate::plan_flow::run_error(e));
                section.state = "could not be destroyed".into();
                section.lines.push(why);
            }
        }
        run.log(&format!("copy {name}: {}", section.state)).await?;
        crate::plan_flow::put_section(&mut pc.sheet.summary.envs, section);
        Ok(())
    }
}
