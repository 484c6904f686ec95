//! Finding the directories of `.tf` files under a path, for plain Terraform checkouts and
//! for the project directories that are neither stacks nor called modules.

use std::path::{Path, PathBuf};

/// Every directory at or below `root` holding a `.tf` file, sorted. Hidden directories
/// (`.terraform`, `.git`, `.plinth`) are not entered: they hold the engine's copies of
/// modules and plinth's own working files, not the user's code.
pub fn tf_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut has_tf = false;
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        // `file_type` does not follow symlinks, so a symlink loop cannot trap the walk.
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            subdirs.push(path);
        } else if name.ends_with(".tf") && name != "plinth_backend_override.tf" {
            has_tf = true;
        }
    }
    if has_tf {
        out.push(dir.to_path_buf());
    }
    for sub in subdirs {
        walk(&sub, out);
    }
}
