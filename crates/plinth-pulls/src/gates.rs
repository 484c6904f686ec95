//! The gates an apply from a comment must pass (DESIGN §5.1), each answered with what it
//! found: who may apply, approvals on the head commit, mergeability, and plans that are of
//! the head, complete and not preview-only. Staleness against the state, promotion records,
//! protected destroys and policy denials are the run's own refusals, checked when it starts.

use plinth_forge::{Permission, PullState};
use plinth_state::PullInstance;

use crate::automation::Automation;
use crate::error::FlowError;
use crate::sheet::PullCtx;
use crate::summary::{Gate, short};

/// The person asking.
pub(crate) struct Commenter<'a> {
    pub login: &'a str,
    pub id: Option<u64>,
}

impl Automation {
    /// Every gate of applying `env`'s `planned` instances at `head` for `who`.
    pub(crate) async fn apply_gates(
        &self,
        pc: &PullCtx,
        env: &plinth_config::Environment,
        head: &str,
        who: &Commenter<'_>,
        planned: &[PullInstance],
    ) -> Result<Vec<Gate>, FlowError> {
        let mut gates = vec![self.may_apply(pc, who).await?];
        let info = pc.forge.pull_request(&pc.pull.repo, pc.number).await?;
        if env.approvals > 0 {
            let approvals = pc.forge.approvals(&pc.pull.repo, pc.number).await?;
            let on_head: Vec<&str> = approvals
                .iter()
                .filter(|a| {
                    a.commit_sha
                        .as_deref()
                        .is_none_or(|c| c.eq_ignore_ascii_case(head))
                })
                .map(|a| a.user.as_str())
                .collect();
            let stale = approvals.len() - on_head.len();
            gates.push(Gate {
                name: "approvals".into(),
                open: on_head.len() as u64 >= env.approvals,
                detail: format!(
                    "{} of {} on `{}`{}",
                    on_head.len(),
                    env.approvals,
                    short(head),
                    if stale > 0 {
                        format!(" ({stale} on an earlier commit)")
                    } else {
                        String::new()
                    }
                ),
            });
        }
        let mergeable = match (info.state, info.mergeable) {
            (PullState::Open, Some(true)) => Gate {
                name: "mergeable".into(),
                open: true,
                detail: "yes".into(),
            },
            (PullState::Open, Some(false)) => Gate {
                name: "mergeable".into(),
                open: false,
                detail: "the forge says it does not merge cleanly: resolve the conflicts".into(),
            },
            (PullState::Open, None) => Gate {
                name: "mergeable".into(),
                open: false,
                detail: "the forge has not computed it yet: comment again in a moment".into(),
            },
            (state, _) => Gate {
                name: "mergeable".into(),
                open: false,
                detail: format!("the pull request is {}", state.as_str()),
            },
        };
        gates.push(mergeable);
        let moved = !info.head_sha.eq_ignore_ascii_case(head);
        let of_other_commit = planned
            .iter()
            .filter(|i| i.plan.as_ref().is_some_and(|p| p.commit != head))
            .count();
        let missing: Vec<&str> = planned
            .iter()
            .filter(|i| i.plan.is_none())
            .map(|i| i.stack.as_str())
            .collect();
        let preview: Vec<&str> = planned
            .iter()
            .filter(|i| i.plan.as_ref().is_some_and(|p| p.preview_only))
            .map(|i| i.stack.as_str())
            .collect();
        let plans = if moved {
            Gate {
                name: "plans current".into(),
                open: false,
                detail: format!(
                    "the head moved to `{}` and is being planned: wait for its plan",
                    short(&info.head_sha)
                ),
            }
        } else if planned.is_empty() {
            Gate {
                name: "plans current".into(),
                open: false,
                detail: format!(
                    "nothing is planned in `{}`: comment `plinth plan {}`",
                    env.name.value, env.name.value
                ),
            }
        } else if !missing.is_empty() {
            Gate {
                name: "plans current".into(),
                open: false,
                detail: format!("no plan for {}", missing.join(", ")),
            }
        } else if of_other_commit > 0 {
            Gate {
                name: "plans current".into(),
                open: false,
                detail: format!(
                    "{of_other_commit} plan(s) are of an earlier commit: comment `plinth plan {}`",
                    env.name.value
                ),
            }
        } else if !preview.is_empty() {
            Gate {
                name: "plans current".into(),
                open: false,
                detail: format!(
                    "preview-only (made with mock outputs): {}; apply their dependencies first",
                    preview.join(", ")
                ),
            }
        } else {
            Gate {
                name: "plans current".into(),
                open: true,
                detail: format!("{} plan(s) of `{}`", planned.len(), short(head)),
            }
        };
        gates.push(plans);
        Ok(gates)
    }

    /// Whether `who` may apply: named in the repo block's `appliers`, or (without that
    /// list) given write permission by the forge.
    async fn may_apply(&self, pc: &PullCtx, who: &Commenter<'_>) -> Result<Gate, FlowError> {
        Ok(match &pc.repo.appliers {
            Some(list) => {
                let open = list.iter().any(|a| a.eq_ignore_ascii_case(who.login));
                Gate {
                    name: "may apply".into(),
                    open,
                    detail: if open {
                        format!("{} is an applier", who.login)
                    } else {
                        format!(
                            "{} is not among the appliers ({})",
                            who.login,
                            list.join(", ")
                        )
                    },
                }
            }
            None => {
                let permission = pc
                    .forge
                    .permission(&pc.pull.repo, who.login, who.id)
                    .await?;
                let open = permission >= Permission::Write;
                Gate {
                    name: "may apply".into(),
                    open,
                    detail: if open {
                        format!("{} has write access", who.login)
                    } else {
                        format!("{} has no write access to {}", who.login, pc.pull.repo)
                    },
                }
            }
        })
    }
}
