//! Where plinth keeps its files under `.plinth/` (DESIGN.md section 3).

use std::path::{Path, PathBuf};

/// Paths of one project's `.plinth/` directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the project rooted at `root`.
    pub fn new(root: &Path) -> Self {
        Layout {
            root: root.join(".plinth"),
        }
    }

    /// The layout of a project whose work directory (its `.plinth/`) is `dir`.
    pub fn at(dir: &Path) -> Self {
        Layout {
            root: dir.to_path_buf(),
        }
    }

    /// `.plinth/` itself.
    pub fn base(&self) -> &Path {
        &self.root
    }

    /// The instance's `TF_DATA_DIR`: its own, so one stack can run for several environments
    /// at once.
    pub fn data_dir(&self, env: &str, stack: &str) -> PathBuf {
        self.root.join("work").join(env).join(stack_path(stack))
    }

    /// The local backend's state file of an instance.
    pub fn local_state(&self, env: &str, stack: &str) -> PathBuf {
        self.root
            .join("state")
            .join(env)
            .join(stack_path(stack))
            .join("terraform.tfstate")
    }

    /// The provider plugin cache shared by every instance.
    pub fn plugin_cache(&self) -> PathBuf {
        self.root.join("plugin-cache")
    }

    /// Directory of one run.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }

    /// Directory of one instance within a run (plan file, plan JSON, logs).
    pub fn run_instance_dir(&self, run_id: &str, stack: &str) -> PathBuf {
        self.run_dir(run_id).join(stack_path(stack))
    }

    /// The run lock file of an environment.
    pub fn env_lock(&self, env: &str) -> PathBuf {
        self.root.join("locks").join(format!("{env}.lock"))
    }

    /// The run history database.
    pub fn database(&self) -> PathBuf {
        self.root.join("plinth.db")
    }
}

/// A stack id as a relative path (`.` for a stack at the project root becomes `_root`).
fn stack_path(stack: &str) -> PathBuf {
    if stack == "." {
        PathBuf::from("_root")
    } else {
        PathBuf::from(stack)
    }
}
