//! Appends made to the same file by another process (`ledger token revoke`, `ledger import`, a
//! second server): seen by a small watcher thread and announced on the head channel, so that this
//! process's live subscriptions (the read models, the write side) fold them within
//! [`POLL`] instead of waiting for the next append made here.
//!
//! The watcher runs only while someone subscribes (it is started by the first `subscribe_all`), on
//! a reader connection of its own. Every [`POLL`] it asks SQLite for `PRAGMA data_version`, which
//! changes when any other connection (this process's writer included) has committed since it last
//! asked; only then does it read the head, and it publishes it only if it lies beyond what was
//! published already. The writer publishes the same way (never lower), so the head on the channel
//! never goes back, whoever announced it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::watch;

use super::{row, schema};
use crate::store::StoreError;

/// How often the watcher looks for foreign appends. A revocation made from the command line takes
/// effect on a running server within this (plus one fold), well inside a second.
pub const POLL: Duration = Duration::from_millis(200);

/// The running watcher; dropping it (or [`Watcher::stop`]) stops the thread and closes its
/// connection before returning.
pub struct Watcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `path`, announcing heads beyond the current one on `head`.
    pub fn start(path: &Path, head: watch::Sender<u64>) -> Result<Self, StoreError> {
        let conn = schema::open_reader(path)?;
        let (stop, stopped) = mpsc::channel();
        let path: PathBuf = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("ledger-foreign".into())
            .spawn(move || run(&path, &conn, &head, &stopped))
            .map_err(|e| StoreError::Io {
                path: PathBuf::new(),
                detail: format!("无法启动监视线程 (cannot start the watcher thread): {e}"),
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it (at most one query).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.halt();
    }
}

fn run(path: &Path, conn: &Connection, head: &watch::Sender<u64>, stopped: &mpsc::Receiver<()>) {
    let mut seen: Option<i64> = None;
    loop {
        match stopped.recv_timeout(POLL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let version = match conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)) {
            Ok(version) => version,
            Err(e) => {
                tracing::warn!(error = %e, "无法查看其他进程的写入 (cannot look for appends by other processes)");
                continue;
            }
        };
        if seen == Some(version) {
            continue;
        }
        seen = Some(version);
        match row::head(path, conn) {
            Ok(Some((position, _, _))) => {
                publish(head, position);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "无法读取日志头 (cannot read the head of the log)")
            }
        }
    }
}

/// Announces `position` as the head if it lies beyond the one announced; never moves it back (the
/// writer and the watcher both announce, each from its own reading of the file).
pub fn publish(head: &watch::Sender<u64>, position: u64) {
    head.send_if_modified(|current| {
        let beyond = position > *current;
        if beyond {
            *current = position;
        }
        beyond
    });
}
