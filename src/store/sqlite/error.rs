//! Turning SQLite's and the OS's failures into [`StoreError`]s that name the file and the cause.
//!
//! SQLite reports by result code; the mapping below is the one place that decides which of them is a
//! full disk, a read-only file, a corrupt file, a file that is not a database, or another process
//! holding the lock. Everything else is [`StoreError::Io`] with SQLite's own words.

use std::path::Path;

use rusqlite::ErrorCode;

use crate::store::StoreError;

/// Maps a rusqlite error met while working on the ledger at `path`.
pub fn from_sqlite(path: &Path, err: rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    let (code, extended, message) = match &err {
        rusqlite::Error::SqliteFailure(e, msg) => (
            e.code,
            e.extended_code,
            msg.clone().unwrap_or_else(|| e.to_string()),
        ),
        other => {
            return StoreError::Io {
                path,
                detail: other.to_string(),
            };
        }
    };
    match code {
        ErrorCode::DiskFull => StoreError::DiskFull {
            path,
            detail: message,
        },
        ErrorCode::ReadOnly | ErrorCode::PermissionDenied => StoreError::ReadOnly {
            path,
            detail: message,
        },
        ErrorCode::CannotOpen => {
            // SQLite says "unable to open database file" whether the directory is read-only or gone;
            // ask the file system which it is.
            let detail = describe_cannot_open(&path).unwrap_or(message);
            if directory_is_read_only(&path) {
                StoreError::ReadOnly { path, detail }
            } else {
                StoreError::Io { path, detail }
            }
        }
        ErrorCode::DatabaseCorrupt => StoreError::Corrupt {
            path,
            detail: message,
        },
        ErrorCode::NotADatabase => StoreError::NotALedger {
            path,
            detail: format!("SQLite: {message}"),
        },
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy {
            path,
            detail: message,
        },
        _ => StoreError::Io {
            path,
            detail: format!("{message} (SQLite code {extended})"),
        },
    }
}

/// Maps an OS error met while looking at or creating the ledger file.
pub fn from_io(path: &Path, err: &std::io::Error) -> StoreError {
    use std::io::ErrorKind;
    let path = path.to_owned();
    match err.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly {
            path,
            detail: err.to_string(),
        },
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => StoreError::DiskFull {
            path,
            detail: err.to_string(),
        },
        ErrorKind::NotFound => StoreError::Io {
            detail: format!(
                "所在目录不存在 (the directory {} does not exist): {err}",
                parent_of(&path).display()
            ),
            path,
        },
        _ => StoreError::Io {
            path,
            detail: err.to_string(),
        },
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether the ledger's directory refuses new files (WAL needs `-wal` and `-shm` beside the ledger).
fn directory_is_read_only(path: &Path) -> bool {
    let probe = parent_of(path).join(format!(
        ".ledger-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        ),
    }
}

fn describe_cannot_open(path: &Path) -> Option<String> {
    let dir = parent_of(path);
    if !dir.exists() {
        return Some(format!(
            "所在目录不存在 (the directory {} does not exist)",
            dir.display()
        ));
    }
    if directory_is_read_only(path) {
        return Some(format!(
            "目录 {} 不可写, 无法创建 WAL 日志文件 (the directory is read-only, so the -wal and -shm files cannot be created)",
            dir.display()
        ));
    }
    None
}
