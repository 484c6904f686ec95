//! `init`, skipped when nothing it depends on changed, serialised on the shared plugin cache
//! when it may install providers or its backend cannot set up concurrently.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::EngineError;
use crate::backend::{BackendSetup, OVERRIDE_FILE};
use crate::process::Invocation;

const FINGERPRINT_FILE: &str = "plinth-init.sha256";

/// Whether `init` ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitOutcome {
    /// Its inputs were unchanged since the last successful init of this instance.
    Skipped,
    /// It ran and succeeded.
    Ran,
}

/// What `init` of one instance depends on, besides the backend.
#[derive(Debug, Clone)]
pub struct InitInputs<'a> {
    /// Text of the code that `init` reads: `terraform` blocks, module sources and versions,
    /// the dependency lock file (computed by the project model).
    pub code_key: &'a str,
    /// Whether the code may need providers from a registry (false: built-in ones only).
    pub needs_providers: bool,
}

/// Makes sure the instance is initialised for `setup`.
pub async fn ensure_init(
    inv: &Invocation,
    setup: &BackendSetup,
    inputs: &InitInputs<'_>,
    cache_lock: &Path,
    log: &Path,
) -> Result<InitOutcome, EngineError> {
    write_override(&inv.dir, &setup.override_file())?;
    let mut h = Sha256::new();
    h.update(inv.engine.binary.as_os_str().as_encoded_bytes());
    h.update(inv.engine.version.to_string());
    h.update(setup.override_file());
    for arg in setup.init_args() {
        h.update(arg);
        h.update([0]);
    }
    h.update(inputs.code_key);
    if let Some(ws) = &setup.workspace {
        h.update(b"workspace\0");
        h.update(ws);
    }
    let fingerprint = hex::encode(h.finalize());
    let fp_file = inv.data_dir.join(FINGERPRINT_FILE);
    let initialised = inv.data_dir.join("terraform.tfstate").is_file();
    if initialised && std::fs::read_to_string(&fp_file).is_ok_and(|old| old.trim() == fingerprint) {
        return Ok(InitOutcome::Skipped);
    }
    std::fs::create_dir_all(&inv.data_dir)
        .map_err(|e| EngineError::Io(inv.data_dir.display().to_string(), e))?;
    std::fs::create_dir_all(&inv.plugin_cache)
        .map_err(|e| EngineError::Io(inv.plugin_cache.display().to_string(), e))?;
    // Terraform's plugin cache is not safe for concurrent installs; hold a file lock (shared by
    // every plinth process on this cache) while an init that may install providers runs, or
    // one whose backend set-up races with another's.
    let _guard = if inputs.needs_providers || setup.serial_init {
        Some(lock_file(cache_lock).await?)
    } else {
        None
    };
    let mut args = vec!["init", "-input=false", "-no-color", "-reconfigure"];
    let backend_args = setup.init_args();
    args.extend(backend_args.iter().map(String::as_str));
    let exit = inv.run(&args, log).await?;
    if exit.code != 0 {
        let _ = std::fs::remove_file(&fp_file);
        return Err(EngineError::Failed {
            command: "init".into(),
            code: exit.code,
            log: log.display().to_string(),
        });
    }
    if let Some(ws) = &setup.workspace {
        select_workspace(inv, ws, log).await.inspect_err(|_| {
            let _ = std::fs::remove_file(&fp_file);
        })?;
    }
    std::fs::write(&fp_file, &fingerprint)
        .map_err(|e| EngineError::Io(fp_file.display().to_string(), e))?;
    Ok(InitOutcome::Ran)
}

/// Selects workspace `name`, creating it when missing (`workspace select -or-create` would do
/// both but needs Terraform 1.4).
async fn select_workspace(inv: &Invocation, name: &str, log: &Path) -> Result<(), EngineError> {
    if inv.run(&["workspace", "select", name], log).await?.code == 0 {
        return Ok(());
    }
    let exit = inv.run(&["workspace", "new", name], log).await?;
    if exit.code != 0 {
        return Err(EngineError::Failed {
            command: format!("workspace new {name}"),
            code: exit.code,
            log: log.display().to_string(),
        });
    }
    Ok(())
}

/// Writes the backend override file unless it already has this content. The content is the
/// same for every environment, and the write goes through a rename, so concurrent writers
/// never leave a partial file.
fn write_override(dir: &Path, content: &str) -> Result<(), EngineError> {
    let path = dir.join(OVERRIDE_FILE);
    if std::fs::read_to_string(&path).is_ok_and(|c| c == content) {
        return Ok(());
    }
    let tmp = dir.join(format!(".{OVERRIDE_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, content).map_err(|e| EngineError::Io(tmp.display().to_string(), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| EngineError::Io(path.display().to_string(), e))
}

/// An exclusive lock on a file, released when dropped.
pub struct FileLock(std::fs::File);

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

async fn lock_file(path: &Path) -> Result<FileLock, EngineError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::Io(dir.display().to_string(), e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| EngineError::Io(path.display().to_string(), e))?;
    let display = path.display().to_string();
    tokio::task::spawn_blocking(move || file.lock().map(|()| FileLock(file)))
        .await
        .expect("the lock task does not panic")
        .map_err(|e| EngineError::Io(display, e))
}
