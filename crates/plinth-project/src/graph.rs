//! The dependency graph of one environment: its instances, edges, and execution layers.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use plinth_diag::Diagnostic;
use serde::Serialize;

use crate::{Project, Stack};

/// One instance in an environment's graph.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Stack id.
    pub stack: String,
    /// Stack ids this instance depends on (dependencies and `after`).
    pub depends_on: Vec<String>,
}

/// The DAG of an environment, validated (no cycles, no missing instances).
#[derive(Debug, Clone, Serialize)]
pub struct EnvGraph {
    /// Environment name.
    pub env: String,
    /// Instances sorted by stack id.
    pub nodes: Vec<Node>,
    /// Layer k holds instances whose dependencies are all in layers < k.
    pub layers: Vec<Vec<String>>,
    /// Node positions sorted by stack id, for lookups without a second copy of every id.
    #[serde(skip)]
    by_id: Vec<u32>,
    #[serde(skip)]
    dependents: Vec<Vec<usize>>,
}

impl Project {
    /// Checks the graph of `env` (no cycle, every dependency has an instance) without
    /// building it: for listings, which need no layers.
    pub fn check_graph(&self, env: &str) -> Result<(), Vec<Diagnostic>> {
        self.graph_with(env, false).map(|_| ())
    }

    /// The validated graph of `env`.
    pub fn graph(&self, env: &str) -> Result<EnvGraph, Vec<Diagnostic>> {
        self.graph_with(env, true)
            .map(|g| g.expect("a built graph was asked for"))
    }

    fn graph_with(&self, env: &str, build: bool) -> Result<Option<EnvGraph>, Vec<Diagnostic>> {
        if self.config.environment(env).is_none() {
            let names: Vec<&str> = self.config.environment_names().collect();
            let mut d = Diagnostic::error(format!("unknown environment `{env}`"));
            d = match plinth_config::did_you_mean(env, names.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("environments in plinth.hcl: {}", names.join(", "))),
            };
            return Err(vec![d]);
        }
        let stacks: Vec<&Stack> = self.instances(env).collect();
        let index: HashMap<&str, usize> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut diags = Vec::new();
        let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(stacks.len(), stacks.len() * 2);
        let nodes_ix: Vec<NodeIndex> = (0..stacks.len()).map(|i| graph.add_node(i)).collect();
        let mut nodes = Vec::with_capacity(if build { stacks.len() } else { 0 });
        for (i, stack) in stacks.iter().enumerate() {
            let mut depends_on = Vec::new();
            for up in stack.upstream() {
                match index.get(up) {
                    Some(&j) => {
                        graph.add_edge(nodes_ix[j], nodes_ix[i], ());
                        if build {
                            depends_on.push(up.to_string());
                        }
                    }
                    None => diags.push(missing_instance(self, stack, up, env)),
                }
            }
            if build {
                nodes.push(Node {
                    stack: stack.id.clone(),
                    depends_on,
                });
            }
        }
        for scc in tarjan_scc(&graph) {
            let is_cycle = scc.len() > 1 || graph.contains_edge(scc[0], scc[0]);
            if is_cycle {
                let members: BTreeSet<usize> = scc.iter().map(|n| graph[*n]).collect();
                diags.push(cycle_error(&stacks, &index, &members, env));
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        if !build {
            return Ok(None);
        }
        let mut dependents = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            for up in &node.depends_on {
                dependents[index[up.as_str()]].push(i);
            }
        }
        let layers = layer(&nodes, &dependents);
        let mut by_id: Vec<u32> = (0..nodes.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| nodes[a as usize].stack.cmp(&nodes[b as usize].stack));
        drop(index);
        Ok(Some(EnvGraph {
            env: env.to_string(),
            nodes,
            layers,
            by_id,
            dependents,
        }))
    }
}

impl EnvGraph {
    fn position(&self, id: &str) -> Option<usize> {
        self.by_id
            .binary_search_by(|&i| self.nodes[i as usize].stack.as_str().cmp(id))
            .ok()
            .map(|k| self.by_id[k] as usize)
    }

    /// The node of stack `id`.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.position(id).map(|i| &self.nodes[i])
    }

    /// Whether stack `id` has an instance here.
    pub fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    /// Stacks that depend directly on `id`.
    pub fn dependents_of(&self, id: &str) -> Vec<&str> {
        self.position(id).map_or_else(Vec::new, |i| {
            self.dependents[i]
                .iter()
                .map(|&j| self.nodes[j].stack.as_str())
                .collect()
        })
    }

    /// `ids` plus everything upstream of them.
    pub fn with_upstream(&self, ids: &BTreeSet<String>) -> BTreeSet<String> {
        self.closure(ids, |g, i| {
            g.nodes[i]
                .depends_on
                .iter()
                .filter_map(|u| g.position(u))
                .collect()
        })
    }

    /// `ids` plus everything downstream of them.
    pub fn with_downstream(&self, ids: &BTreeSet<String>) -> BTreeSet<String> {
        self.closure(ids, |g, i| g.dependents[i].clone())
    }

    fn closure(
        &self,
        ids: &BTreeSet<String>,
        next: impl Fn(&EnvGraph, usize) -> Vec<usize>,
    ) -> BTreeSet<String> {
        let mut seen: BTreeSet<usize> = ids.iter().filter_map(|id| self.position(id)).collect();
        let mut stack: Vec<usize> = seen.iter().copied().collect();
        while let Some(i) = stack.pop() {
            for j in next(self, i) {
                if seen.insert(j) {
                    stack.push(j);
                }
            }
        }
        seen.into_iter()
            .map(|i| self.nodes[i].stack.clone())
            .collect()
    }
}

/// Longest-path layering: a node's layer is one more than its deepest dependency's.
///
/// Kahn's algorithm over in-degrees: iterative, so a dependency chain of any length (tens of
/// thousands of stacks) cannot exhaust the stack. The graph was checked acyclic before.
fn layer(nodes: &[Node], dependents: &[Vec<usize>]) -> Vec<Vec<String>> {
    let mut pending: Vec<usize> = nodes.iter().map(|n| n.depends_on.len()).collect();
    let mut depth = vec![0usize; nodes.len()];
    let mut ready: VecDeque<usize> = (0..nodes.len()).filter(|&i| pending[i] == 0).collect();
    while let Some(i) = ready.pop_front() {
        for &d in &dependents[i] {
            depth[d] = depth[d].max(depth[i] + 1);
            pending[d] -= 1;
            if pending[d] == 0 {
                ready.push_back(d);
            }
        }
    }
    let mut layers: Vec<Vec<String>> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let d = depth[i];
        if layers.len() <= d {
            layers.resize(d + 1, Vec::new());
        }
        layers[d].push(node.stack.clone());
    }
    layers
}

fn missing_instance(project: &Project, stack: &Stack, up: &str, env: &str) -> Diagnostic {
    let cfg = &stack.config;
    let span = cfg
        .dependencies
        .iter()
        .zip(&stack.dependencies)
        .find(|(_, (_, id))| id == up)
        .map(|(d, _)| d.stack.span.clone())
        .or_else(|| {
            cfg.settings
                .after
                .iter()
                .zip(&stack.after)
                .find(|(_, id)| *id == up)
                .map(|(a, _)| a.span.clone())
        })
        .unwrap_or(0..0);
    let upstream_envs = project
        .stack(up)
        .and_then(|s| s.config.settings.environments.as_ref())
        .map(|envs| {
            envs.iter()
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Diagnostic::error(format!(
        "stack `{}` depends on `{up}`, which has no instance in environment `{env}`",
        stack.id
    ))
    .at(
        &cfg.source,
        span,
        format!("`{up}` only runs in: {upstream_envs}"),
    )
    .with_help(format!(
        "add `{env}` to the environments of `{up}`, or leave `{env}` out of `{}`'s environments",
        stack.id
    ))
}

fn cycle_error(
    stacks: &[&Stack],
    index: &HashMap<&str, usize>,
    members: &BTreeSet<usize>,
    env: &str,
) -> Diagnostic {
    // The shortest cycle through the set's first member: a breadth-first search along
    // upstream edges inside the set, back to where it started (a strongly connected set
    // always has one). A greedy walk could end in a loop that misses the start.
    let start = *members.iter().next().expect("a cycle has members");
    let upstream_in_set = |i: usize| -> Vec<usize> {
        stacks[i]
            .upstream()
            .iter()
            .filter_map(|u| index.get(*u).copied())
            .filter(|j| members.contains(j))
            .collect()
    };
    // `reached_from[j] = i`: the search reached `j` as an upstream of `i`.
    let mut reached_from: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    'search: while let Some(i) = queue.pop_front() {
        for j in upstream_in_set(i) {
            if j == start {
                reached_from.insert(start, i);
                break 'search;
            }
            if let Entry::Vacant(slot) = reached_from.entry(j) {
                slot.insert(i);
                queue.push_back(j);
            }
        }
    }
    let mut back = Vec::new();
    let mut at = reached_from[&start];
    while at != start {
        back.push(at);
        at = reached_from[&at];
    }
    let mut path = vec![start];
    path.extend(back.into_iter().rev());
    path.push(start);
    let names: Vec<&str> = path.iter().map(|&i| stacks[i].id.as_str()).collect();
    let all: Vec<&str> = members.iter().map(|&i| stacks[i].id.as_str()).collect();
    let first = stacks[path[0]];
    let span = first
        .config
        .dependencies
        .iter()
        .zip(&first.dependencies)
        .find(|(_, (_, id))| *id == stacks[path[1]].id)
        .map(|(d, _)| d.stack.span.clone())
        .or_else(|| {
            first
                .config
                .settings
                .after
                .iter()
                .zip(&first.after)
                .find(|(_, id)| **id == stacks[path[1]].id)
                .map(|(a, _)| a.span.clone())
        })
        .unwrap_or(0..0);
    let mut d = Diagnostic::error(format!(
        "dependency cycle in environment `{env}`: {}",
        names.join(" → ")
    ))
    .at(
        &first.config.source,
        span,
        "this dependency closes the cycle",
    );
    if all.len() > names.len() - 1 {
        d = d.with_note(format!("stacks on the cycle: {}", all.join(", ")));
    }
    d.with_help("remove one of these dependencies, or replace a data dependency by an output of a third stack")
}
