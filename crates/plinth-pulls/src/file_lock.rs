//! Advisory file locks (`flock`, through std's `File::lock`). A lock belongs to one open
//! file, so it excludes the tasks of one process as surely as other processes and replicas
//! sharing the directory, and the kernel drops it when its holder dies (kill -9 included).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

/// A held lock; released when dropped.
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

/// Waits for the exclusive lock on `path` (created if missing) on a blocking thread, so the
/// async workers keep running meanwhile. Dropping the future before the lock is granted
/// releases it as soon as it is.
pub(crate) async fn exclusive(path: &Path) -> io::Result<FileLock> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let file = open(&path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    })
    .await
    .map_err(io::Error::other)?
}

/// The exclusive lock on `path` if nobody holds it in any mode.
pub(crate) fn try_exclusive(path: &Path) -> io::Result<Option<FileLock>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// A shared lock on `path` unless someone holds it exclusively.
pub(crate) fn try_shared(path: &Path) -> io::Result<Option<FileLock>> {
    let file = open(path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(FileLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_exclude_each_other_within_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.lock");
        let held = exclusive(&path).await.unwrap();
        assert!(try_exclusive(&path).unwrap().is_none());
        assert!(try_shared(&path).unwrap().is_none());
        drop(held);
        let a = try_shared(&path).unwrap().expect("free after release");
        let b = try_shared(&path).unwrap().expect("shared locks coexist");
        assert!(try_exclusive(&path).unwrap().is_none());
        drop((a, b));
        assert!(try_exclusive(&path).unwrap().is_some());
    }
}
