//! Walking the repository for `stack.hcl` files.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};
use plinth_config::STACK_FILE;

/// Directories never searched: engine caches and plinth's own work area.
pub(crate) const SKIPPED: [&str; 3] = [".terraform", ".plinth", ".git"];

/// Calls `visit` with every directory under `root` that holds a `stack.hcl` and returns what
/// it returned, in no particular order.
///
/// The walk is parallel and honours `.gitignore` (also outside a git checkout) and `.ignore`.
/// `visit` runs on the walker's threads as directories are found: reading and parsing while
/// the walk goes on kept both cores busy, where a walk first and a parse after left them
/// half idle during the walk.
pub fn visit_stack_dirs<T: Send>(root: &Path, visit: impl Fn(PathBuf) -> T + Sync) -> Vec<T> {
    let found = Mutex::new(Vec::new());
    WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .filter_entry(|entry| !SKIPPED.iter().any(|s| entry.file_name() == *s))
        .build_parallel()
        .run(|| {
            let found = &found;
            let visit = &visit;
            Box::new(move |entry| {
                // Anything named stack.hcl counts, whatever its type: the loader refuses what
                // is not a regular file instead of dropping the stack silently.
                if let Ok(entry) = entry
                    && entry.file_name() == STACK_FILE
                    && entry.depth() > 0
                    && let Some(dir) = entry.path().parent()
                {
                    let result = visit(dir.to_path_buf());
                    found
                        .lock()
                        .expect("no panics while holding the lock")
                        .push(result);
                }
                WalkState::Continue
            })
        });
    found.into_inner().expect("walker threads have finished")
}
