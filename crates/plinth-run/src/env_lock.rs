//! The local run lock of an environment: one run per environment at a time, across processes.
//!
//! An OS file lock (released by the kernel when the holder dies, so a crash never leaves a
//! stale lock) on `.plinth/locks/<env>.lock`, whose content names the holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Who holds an environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    /// The holding run.
    pub run_id: String,
    /// `plan`, `apply`, `destroy`.
    pub action: String,
    /// Process id.
    pub pid: u32,
    /// `user@host`.
    pub who: String,
    /// RFC 3339 time the lock was taken.
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} run {} (pid {}, {}, since {})",
            self.action, self.run_id, self.pid, self.who, self.since
        )?;
        // The engines inherit the lock: it outlives a plinth that was killed until they end.
        if !std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            write!(
                f,
                "; that plinth process has ended but engines it started still run and hold the \
                 lock until they finish (wait with --lock-timeout)"
            )?;
        }
        Ok(())
    }
}

/// A held environment lock; released on drop.
#[derive(Debug)]
pub struct EnvLock {
    file: File,
}

impl EnvLock {
    /// The lock's descriptor, for engines to inherit.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.file)
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Takes the lock at `path` for `holder`, waiting up to `wait`; on failure says who holds it.
pub fn acquire(path: &Path, holder: &Holder, wait: Duration) -> Result<EnvLock, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => {
                let body = serde_json::to_vec(holder).expect("holder serialises");
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| file.write_all(&body))
                    .and_then(|()| file.flush())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                return Ok(EnvLock { file });
            }
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    let mut text = String::new();
                    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
                    return Err(match serde_json::from_str::<Holder>(&text) {
                        Ok(h) => format!("held by {h}"),
                        Err(_) => "held by another plinth process".to_string(),
                    });
                }
                // Polling keeps the wait bounded without a thread stuck in a blocking lock call.
                std::thread::sleep(
                    Duration::from_millis(200)
                        .min(deadline.saturating_duration_since(Instant::now())),
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }
}

/// The current holder of the lock at `path`, if any.
pub fn holder(path: &Path) -> Option<Holder> {
    let file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(_) => std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder_named(run: &str) -> Holder {
        Holder {
            run_id: run.into(),
            action: "apply".into(),
            pid: 1,
            who: "a@b".into(),
            since: "now".into(),
        }
    }

    #[test]
    fn second_acquire_names_the_holder_until_release() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("locks/dev.lock");
        let first = acquire(&path, &holder_named("r1"), Duration::ZERO).unwrap();
        let err = acquire(&path, &holder_named("r2"), Duration::ZERO).unwrap_err();
        assert!(err.contains("apply run r1"), "{err}");
        assert_eq!(holder(&path).unwrap().run_id, "r1");
        drop(first);
        assert!(holder(&path).is_none());
        acquire(&path, &holder_named("r2"), Duration::ZERO).unwrap();
    }
}
