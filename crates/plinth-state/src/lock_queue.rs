//! The rules of pull-request instance locks, on an in-memory copy of one project's locks and
//! queues: `pull_locks` loads it inside a transaction, applies a rule, and writes back the
//! operations the rule recorded. Kept free of SQL so the rules can be tested alone.
//!
//! - A pull request takes all the locks it asks for at once, or none: it is then queued on
//!   every instance it wants (FIFO per instance, ordered by its ticket) and holds nothing, so
//!   no pull request ever holds some locks while waiting for others (no deadlock).
//! - An instance is free for a pull request when nobody else holds it and no other pull
//!   request is queued ahead on it: a newcomer never jumps the queue.
//! - After any release, queued pull requests are considered oldest ticket first; each that can
//!   now take everything it waits for is given it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pulls::PullRef;

/// An instance within a project: environment and stack.
pub(crate) type Target = (String, String);

/// Why a queued pull request waits on one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockWait {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Stack id.
    pub stack: String,
    /// The holder, or when nobody holds it the first pull request queued ahead; `None` when
    /// nothing is ahead on this instance (the pull request waits for another one).
    pub waiting_for: Option<PullRef>,
    /// 1 + the number of pull requests queued ahead on this instance (the holder not counted).
    pub position: i64,
}

/// A change to write back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Lock(Target, PullRef),
    Unlock(Target, PullRef),
    Enqueue(Target, PullRef, i64),
    Dequeue(Target, PullRef),
}

/// One project's locks and queues.
#[derive(Debug, Default)]
pub(crate) struct LockTable {
    pub project: String,
    pub holders: BTreeMap<Target, PullRef>,
    /// Per instance, sorted by ticket.
    pub queues: BTreeMap<Target, Vec<(i64, PullRef)>>,
    pub ops: Vec<Op>,
}

impl LockTable {
    pub fn new(project: &str) -> Self {
        LockTable {
            project: project.to_owned(),
            ..LockTable::default()
        }
    }

    /// Adds a loaded queue entry (rows arrive in any order).
    pub fn load_entry(&mut self, target: Target, pull: PullRef, ticket: i64) {
        let queue = self.queues.entry(target).or_default();
        queue.push((ticket, pull));
        queue.sort();
    }

    /// The pull request's ticket, when it is queued.
    pub fn ticket_of(&self, pull: &PullRef) -> Option<i64> {
        self.queues
            .values()
            .flat_map(|q| q.iter())
            .find(|(_, p)| p == pull)
            .map(|(t, _)| *t)
    }

    pub fn held_by(&self, pull: &PullRef) -> Vec<Target> {
        self.holders
            .iter()
            .filter(|(_, h)| *h == pull)
            .map(|(t, _)| t.clone())
            .collect()
    }

    pub fn queued_for(&self, pull: &PullRef) -> Vec<Target> {
        self.queues
            .iter()
            .filter(|(_, q)| q.iter().any(|(_, p)| p == pull))
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Others queued ahead of `pull` on `target`: all others when it has no ticket yet.
    fn ahead(&self, target: &Target, pull: &PullRef, ticket: Option<i64>) -> Vec<&PullRef> {
        self.queues
            .get(target)
            .into_iter()
            .flatten()
            .filter(|(t, p)| p != pull && ticket.is_none_or(|mine| *t < mine))
            .map(|(_, p)| p)
            .collect()
    }

    fn free_for(&self, target: &Target, pull: &PullRef, ticket: Option<i64>) -> bool {
        self.holders.get(target).is_none_or(|h| h == pull)
            && self.ahead(target, pull, ticket).is_empty()
    }

    /// Whether `pull` can take every target now.
    pub fn can_take(&self, pull: &PullRef, targets: &[Target]) -> bool {
        let ticket = self.ticket_of(pull);
        targets.iter().all(|t| self.free_for(t, pull, ticket))
    }

    /// Gives `pull` every target and takes it out of every queue of the project.
    pub fn take(&mut self, pull: &PullRef, targets: &[Target]) {
        for target in targets {
            if self.holders.get(target) != Some(pull) {
                self.holders.insert(target.clone(), pull.clone());
                self.ops.push(Op::Lock(target.clone(), pull.clone()));
            }
        }
        self.dequeue(pull, None);
    }

    /// Queues `pull` on every target it is not yet queued on, under `ticket`.
    pub fn enqueue(&mut self, pull: &PullRef, ticket: i64, targets: &[Target]) {
        for target in targets {
            let queue = self.queues.entry(target.clone()).or_default();
            if !queue.iter().any(|(_, p)| p == pull) {
                queue.push((ticket, pull.clone()));
                queue.sort();
                self.ops
                    .push(Op::Enqueue(target.clone(), pull.clone(), ticket));
            }
        }
    }

    /// Releases the pull request's locks (of one environment, or all).
    pub fn unlock(&mut self, pull: &PullRef, env: Option<&str>) {
        for target in self.held_by(pull) {
            if env.is_none_or(|e| e == target.0) {
                self.holders.remove(&target);
                self.ops.push(Op::Unlock(target, pull.clone()));
            }
        }
    }

    /// Takes the pull request out of its queues (of one environment, or all).
    pub fn dequeue(&mut self, pull: &PullRef, env: Option<&str>) {
        for (target, queue) in self.queues.iter_mut() {
            if env.is_some_and(|e| e != target.0) {
                continue;
            }
            let before = queue.len();
            queue.retain(|(_, p)| p != pull);
            if queue.len() != before {
                self.ops.push(Op::Dequeue(target.clone(), pull.clone()));
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
    }

    /// Removes whoever holds `target`; returns the former holder.
    pub fn unlock_target(&mut self, target: &Target) -> Option<PullRef> {
        let holder = self.holders.remove(target)?;
        self.ops.push(Op::Unlock(target.clone(), holder.clone()));
        Some(holder)
    }

    /// Gives their locks to every queued pull request that can now take all it waits for,
    /// oldest ticket first; returns them in that order.
    pub fn hand_over(&mut self) -> Vec<PullRef> {
        let mut waiting: Vec<(i64, PullRef)> = self
            .queues
            .values()
            .flat_map(|q| q.iter().cloned())
            .collect();
        waiting.sort();
        waiting.dedup_by(|a, b| a.1 == b.1);
        let mut granted = Vec::new();
        for (_, pull) in waiting {
            let wanted = self.queued_for(&pull);
            if !wanted.is_empty() && self.can_take(&pull, &wanted) {
                self.take(&pull, &wanted);
                granted.push(pull);
            }
        }
        granted
    }

    /// Where `pull` waits, per instance it is queued on.
    pub fn waits(&self, pull: &PullRef) -> Vec<LockWait> {
        let ticket = self.ticket_of(pull);
        self.queued_for(pull)
            .into_iter()
            .map(|target| {
                let ahead = self.ahead(&target, pull, ticket);
                let waiting_for = self
                    .holders
                    .get(&target)
                    .filter(|h| *h != pull)
                    .or(ahead.first().copied())
                    .cloned();
                LockWait {
                    project: self.project.clone(),
                    env: target.0.clone(),
                    stack: target.1.clone(),
                    waiting_for,
                    position: ahead.len() as i64 + 1,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(n: i64) -> PullRef {
        PullRef {
            repo: "acme/infra".into(),
            number: n,
        }
    }

    fn t(env: &str, stack: &str) -> Target {
        (env.into(), stack.into())
    }

    #[test]
    fn all_or_nothing_and_fifo() {
        let mut table = LockTable::new("p");
        let (x, y, z) = (t("prod", "x"), t("prod", "y"), t("prod", "z"));
        assert!(table.can_take(&pr(1), std::slice::from_ref(&x)));
        table.take(&pr(1), std::slice::from_ref(&x));
        // 2 wants x and y: x is held, so it takes neither and queues on both.
        assert!(!table.can_take(&pr(2), &[x.clone(), y.clone()]));
        table.enqueue(&pr(2), 1, &[x.clone(), y.clone()]);
        assert!(table.held_by(&pr(2)).is_empty());
        // 3 wants only y, which nobody holds, but 2 is queued ahead: 3 queues too.
        assert!(!table.can_take(&pr(3), std::slice::from_ref(&y)));
        table.enqueue(&pr(3), 2, &[y.clone(), z.clone()]);
        let waits = table.waits(&pr(3));
        let on_y = waits.iter().find(|w| w.stack == "y").unwrap();
        assert_eq!(on_y.waiting_for, Some(pr(2)));
        assert_eq!(on_y.position, 2);
        let on_z = waits.iter().find(|w| w.stack == "z").unwrap();
        assert_eq!((on_z.waiting_for.clone(), on_z.position), (None, 1));
        // 1 releases: 2 takes x and y; 3 still waits for 2 on y.
        table.unlock(&pr(1), None);
        assert_eq!(table.hand_over(), [pr(2)]);
        assert_eq!(table.held_by(&pr(2)), [x.clone(), y.clone()]);
        assert_eq!(table.waits(&pr(3))[0].waiting_for, Some(pr(2)));
        table.unlock(&pr(2), None);
        assert_eq!(table.hand_over(), [pr(3)]);
        assert!(table.queues.is_empty());
    }

    #[test]
    fn unlocking_one_environment_keeps_the_others() {
        let mut table = LockTable::new("p");
        table.take(&pr(1), &[t("staging", "x"), t("prod", "x")]);
        table.enqueue(&pr(2), 1, &[t("staging", "x")]);
        table.unlock(&pr(1), Some("staging"));
        assert_eq!(table.hand_over(), [pr(2)]);
        assert_eq!(table.held_by(&pr(1)), [t("prod", "x")]);
        assert_eq!(table.held_by(&pr(2)), [t("staging", "x")]);
    }
}
