//! `SELECT`: which instances of an environment a command acts on.

use std::collections::BTreeSet;

use globset::{Glob, GlobSetBuilder};

use crate::{EnvGraph, Project};

/// The `--stack`, `--tag`, `--with-deps` and `--with-dependents` options.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Stack id globs (`infra/**`); empty means every stack.
    pub stacks: Vec<String>,
    /// Tags; a stack matches if it has any of them.
    pub tags: Vec<String>,
    /// Add everything the selected stacks depend on.
    pub with_deps: bool,
    /// Add everything that depends on the selected stacks.
    pub with_dependents: bool,
}

impl Selection {
    /// Whether this selection narrows anything.
    pub fn is_all(&self) -> bool {
        self.stacks.is_empty() && self.tags.is_empty()
    }

    /// The selected stack ids of `graph`; a pattern or tag that matches nothing is an error.
    pub fn apply(&self, project: &Project, graph: &EnvGraph) -> Result<BTreeSet<String>, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.stacks {
            let glob = Glob::new(pattern.trim_end_matches('/'))
                .map_err(|e| format!("--stack {pattern}: {e}"))?;
            builder.add(glob);
        }
        let globs = builder.build().map_err(|e| e.to_string())?;
        let mut picked = BTreeSet::new();
        let mut pattern_hits = vec![false; self.stacks.len()];
        let mut tag_hits = vec![false; self.tags.len()];
        for node in &graph.nodes {
            let stack = project
                .stack(&node.stack)
                .expect("graph nodes are project stacks");
            let glob_matches = globs.matches(&node.stack);
            for &i in &glob_matches {
                pattern_hits[i] = true;
            }
            let by_glob = self.stacks.is_empty() || !glob_matches.is_empty();
            let mut by_tag = self.tags.is_empty();
            for (i, tag) in self.tags.iter().enumerate() {
                if stack.tags().contains(tag) {
                    tag_hits[i] = true;
                    by_tag = true;
                }
            }
            if by_glob && by_tag {
                picked.insert(node.stack.clone());
            }
        }
        if let Some(i) = pattern_hits.iter().position(|hit| !hit) {
            return Err(format!(
                "--stack {} matches no stack in environment `{}`",
                self.stacks[i], graph.env
            ));
        }
        if let Some(i) = tag_hits.iter().position(|hit| !hit) {
            return Err(format!(
                "--tag {} matches no stack in environment `{}`",
                self.tags[i], graph.env
            ));
        }
        // Both closures start from the explicit selection, so that `--with-deps
        // --with-dependents` does not pull in the dependents of the dependencies.
        let mut out = picked.clone();
        if self.with_deps {
            out.extend(graph.with_upstream(&picked));
        }
        if self.with_dependents {
            out.extend(graph.with_downstream(&picked));
        }
        Ok(out)
    }
}
