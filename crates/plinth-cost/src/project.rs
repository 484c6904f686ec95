//! Estimates of a project's stacks from their code, read in parallel.

use std::path::PathBuf;

use plinth_project::{Project, StackCode};
use rayon::prelude::*;

use crate::estimate::estimate_code;
use crate::price::Pricing;
use crate::report::InstanceCost;

/// The code estimate of each of `stacks` (ids), in the order given; unknown ids are skipped.
/// Local modules are followed, as `plan` follows them.
pub fn estimate_stacks(
    project: &Project,
    stacks: &[String],
    pricing: &Pricing<'_>,
) -> Vec<InstanceCost> {
    let modules = project.local_modules();
    stacks
        .par_iter()
        .filter_map(|id| {
            let stack = project.stack(id)?;
            let mods: &[PathBuf] = modules.get(id).map_or(&[], Vec::as_slice);
            let mut code = StackCode::read(&stack.dir, mods);
            // Notes name files relative to the project, as every other message does.
            for file in &mut code.facts.unparsed {
                if let Ok(rel) = file.strip_prefix(&project.root) {
                    *file = rel.to_path_buf();
                }
            }
            Some(estimate_code(id, &code.facts, pricing))
        })
        .collect()
}
