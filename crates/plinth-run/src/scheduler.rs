//! Executing instances along a DAG with bounded parallelism.
//!
//! A ready queue over in-degrees (petgraph has no scheduler): an instance starts when all its
//! prerequisites let dependents run; when one fails or is blocked, everything that needs it is
//! reported skipped, naming the cause, and independent branches go on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use crate::events::Event;
use crate::report::{InstanceReport, InstanceStatus};

/// Runs `work` for every stack in `order`, each after its `prerequisites` (restricted to
/// `order`), at most `parallelism` at once. Returns reports in `order`.
pub async fn run_dag<F, Fut>(
    order: &[String],
    prerequisites: &HashMap<String, Vec<String>>,
    parallelism: usize,
    events: &UnboundedSender<Event>,
    work: F,
) -> Vec<InstanceReport>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = InstanceReport> + Send + 'static,
{
    let members: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    let mut pending: HashMap<&str, usize> = HashMap::new();
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for stack in order {
        let pre: Vec<&str> = prerequisites
            .get(stack)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|p| members.contains(p))
            .collect();
        pending.insert(stack, pre.len());
        for p in pre {
            dependents.entry(p).or_default().push(stack);
        }
    }
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    // Ready instances start in `order` (layer order), so output is stable run to run.
    let mut ready: BTreeSet<(usize, &str)> = order
        .iter()
        .filter(|s| pending[s.as_str()] == 0)
        .map(|s| (position[s.as_str()], s.as_str()))
        .collect();
    let mut done: BTreeMap<usize, InstanceReport> = BTreeMap::new();
    let mut running = JoinSet::new();
    let parallelism = parallelism.max(1);
    loop {
        while running.len() < parallelism {
            let Some((i, stack)) = ready.pop_first() else {
                break;
            };
            let fut = work(stack.to_string());
            running.spawn(async move { (i, fut.await) });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, report) = joined.expect("instance tasks do not panic");
        let stack = order[i].as_str();
        if report.status.lets_dependents_run() {
            for &d in dependents.get(stack).into_iter().flatten() {
                let n = pending.get_mut(d).expect("dependents are members");
                *n -= 1;
                if *n == 0 {
                    ready.insert((position[d], d));
                }
            }
        } else {
            let cause = format!("{} {}", stack, report.status.as_str());
            let mut todo: Vec<&str> = dependents.get(stack).cloned().unwrap_or_default();
            while let Some(d) = todo.pop() {
                let j = position[d];
                if done.contains_key(&j) {
                    continue;
                }
                let skipped = InstanceReport::new(d, InstanceStatus::Skipped)
                    .because(format!("upstream {cause}"));
                let _ = events.send(Event::Finished(skipped.clone()));
                done.insert(j, skipped);
                todo.extend(dependents.get(d).into_iter().flatten().copied());
            }
        }
        done.insert(i, report);
    }
    done.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn deps(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[tokio::test]
    async fn runs_after_prerequisites_and_skips_dependents_of_failures() {
        let order: Vec<String> = ["net", "a", "b", "c", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pre = deps(&[
            ("a", &["net"]),
            ("b", &["net"]),
            ("c", &["a"]),
            ("d", &["c"]),
        ]);
        let started = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let log = Arc::clone(&started);
        let reports = run_dag(&order, &pre, 2, &tx, move |stack| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push(stack.clone());
                let status = if stack == "a" {
                    InstanceStatus::Failed
                } else {
                    InstanceStatus::Succeeded
                };
                InstanceReport::new(&stack, status)
            }
        })
        .await;
        let statuses: Vec<(&str, InstanceStatus)> = reports
            .iter()
            .map(|r| (r.stack.as_str(), r.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("net", InstanceStatus::Succeeded),
                ("a", InstanceStatus::Failed),
                ("b", InstanceStatus::Succeeded),
                ("c", InstanceStatus::Skipped),
                ("d", InstanceStatus::Skipped),
            ]
        );
        assert_eq!(reports[3].reason.as_deref(), Some("upstream a failed"));
        assert_eq!(
            started.lock().unwrap()[0],
            "net",
            "the foundation starts first"
        );
        assert!(!started.lock().unwrap().contains(&"c".to_string()));
        drop(tx);
        let mut skipped_events = 0;
        while let Some(Event::Finished(r)) = rx.recv().await {
            if r.status == InstanceStatus::Skipped {
                skipped_events += 1;
            }
        }
        assert_eq!(skipped_events, 2);
    }
}
