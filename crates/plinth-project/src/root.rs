//! Finding the project root.

use std::path::{Path, PathBuf};

use plinth_config::PROJECT_FILE;

/// The nearest directory at or above `start` holding `plinth.hcl`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(PROJECT_FILE).is_file())
        .map(Path::to_path_buf)
}
