//! Project model: discovery of stacks, instances, dependency graphs, change mapping.
