//! Digests of directory trees: what a plan read (a stack and its local modules) and what a
//! promotion compares (the same, without per-environment var files).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use plinth_config::{ENDPOINTS_OVERRIDE_FILE, STACK_FILE};
use sha2::{Digest, Sha256};

/// Whether `name` is a file plinth writes into stacks (not the user's code).
pub(crate) fn is_generated(name: &str) -> bool {
    name == crate::code::GENERATED_OVERRIDE || name == ENDPOINTS_OVERRIDE_FILE
}

/// Hashes every file under `dir` (path relative to `base`, and content), skipping engine
/// caches, plinth's own files, nested stacks (they have their own digest) and `exclude`.
pub(crate) fn hash_tree(base: &Path, dir: &Path, h: &mut Sha256, exclude: &HashSet<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == ".terraform" || name == ".plinth" || name == ".git" || is_generated(&name) {
            continue;
        }
        if exclude.contains(&path) {
            continue;
        }
        if path.is_dir() {
            if path.join(STACK_FILE).is_file() {
                continue;
            }
            hash_tree(base, &path, h, exclude);
        } else if let Ok(bytes) = std::fs::read(&path) {
            h.update(
                path.strip_prefix(base)
                    .unwrap_or(&path)
                    .as_os_str()
                    .as_encoded_bytes(),
            );
            h.update([0]);
            h.update(&bytes);
        }
    }
}

/// The digest of one directory tree.
pub(crate) fn tree_digest(dir: &Path) -> String {
    let mut h = Sha256::new();
    hash_tree(dir, dir, &mut h, &HashSet::new());
    hex::encode(h.finalize())
}
