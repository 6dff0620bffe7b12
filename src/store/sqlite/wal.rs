//! WAL checkpoints, mostly off the writer's path.
//!
//! SQLite's default copies the WAL back into the database file inside the commit that crosses
//! 1000 pages, on the committing thread: the writer stops taking appends while it copies pages and
//! fsyncs the database file. On the concurrent-append benchmark that was 12% of the writer thread's
//! CPU, and part of its time off CPU.
//!
//! Here the writer's connection carries a WAL hook instead of the automatic checkpoint. After each
//! commit the hook learns the WAL's size in pages, and
//!
//! - once per [`BACKGROUND_AT`] pages of growth (SQLite's own threshold), if other appends are
//!   waiting behind the commit, it wakes the `ledger-checkpoint` thread, which runs a `PASSIVE`
//!   checkpoint on a connection of its own while the writer goes on committing. If nobody is
//!   waiting it checkpoints inline, as SQLite would: a background checkpoint's fsync of the database
//!   file would only contend with the next commit's fsync of the WAL (measured: one-at-a-time
//!   appends 15% slower that way);
//! - when a background checkpoint has finished, the writer checkpoints inline what arrived
//!   meanwhile, so that its next transaction finds the WAL wholly copied and starts it over from
//!   the beginning. This matters: a WAL that starts over is rewritten in place, while one that
//!   keeps growing makes every commit extend the file, and the fsync then writes the file's size
//!   too (measured: single commits 30% slower). The background checkpoint alone never gets there
//!   under load, because frames keep arriving while it copies. An inline checkpoint fsyncs the
//!   database file on the writer's path, so this one is done only once the writer has worked
//!   [`INLINE_COST_FACTOR`] times the last inline checkpoint's duration since it;
//! - past the limit ([`WAL_LIMIT_PAGES`] by default, `SqliteOptions::wal_limit_pages`) it
//!   checkpoints inline regardless, which bounds the `-wal` file. Only one checkpoint runs at a
//!   time (SQLite refuses a second as busy), so at the limit the writer waits for a background
//!   checkpoint under way and then runs its own: on a loaded machine a background checkpoint can
//!   take long enough for many commits to pass the limit, and skipping the inline one as busy let
//!   the file grow past its bound.
//!
//! A checkpoint changes nothing a reader can see and never loses a committed frame (an interrupted
//! one is redone from the WAL at the next open), so neither path can fail an append: the hook
//! ignores a busy or failed checkpoint (a later commit tries again) and always reports success,
//! because an error returned from it would be reported as the commit's even though the commit
//! happened.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::hooks::Wal;
use rusqlite::{Connection, wal::CheckpointMode};

use super::error::from_sqlite;
use super::schema;
use crate::store::StoreError;

/// Pages of WAL growth per wake of the background thread (SQLite's default for its automatic
/// checkpoint), or half the limit if that is lower.
pub const BACKGROUND_AT: u32 = 1000;
/// An inline checkpoint to start the WAL over waits until the writer has worked this many times the
/// last inline checkpoint's duration since it (at most 2% of its time). Measured on the store
/// benchmark: 50 kept one-at-a-time appends at the raw baseline's ratio and concurrent appends at
/// their best; 200 cost one-at-a-time appends 15%.
pub const INLINE_COST_FACTOR: u32 = 50;
/// The default limit: WAL pages after a commit from which the writer checkpoints inline (64 MiB of
/// 4 KiB pages).
pub const WAL_LIMIT_PAGES: u32 = 16_384;

/// The background checkpoint thread; stops when the writer's connection (and with it the hook)
/// is dropped.
pub struct WalCheckpointer {
    thread: Option<JoinHandle<()>>,
    /// Whether the commit under way has other appends queued with it (set by the writer before
    /// each commit, read by the hook after it).
    busy: Arc<AtomicBool>,
}

impl WalCheckpointer {
    /// Opens the checkpointing connection, starts its thread and installs the hook on the writer's
    /// connection.
    pub fn start(path: &Path, writer: &mut Connection, limit: u32) -> Result<Self, StoreError> {
        let conn = schema::open_aside(path)?;
        let (wake, woken) = sync_channel::<()>(1);
        let done = Arc::new(AtomicBool::new(false));
        let busy = Arc::new(AtomicBool::new(false));
        let running = Arc::new(Mutex::new(()));
        let step = i64::from(BACKGROUND_AT.min(limit / 2).max(1));
        let mut hook = Hook {
            wake,
            done: done.clone(),
            busy: busy.clone(),
            running: running.clone(),
            limit: i64::from(limit.max(1)),
            step,
            next_wake: step,
            last: 0,
            last_inline: Instant::now(),
            inline_cost: Duration::ZERO,
        };
        let thread = std::thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || run(conn, woken, done, running))
            .map_err(|e| StoreError::Io {
                path: path.to_owned(),
                detail: format!("无法启动检查点线程 (cannot start the checkpoint thread): {e}"),
            })?;
        writer
            .wal_hook(Some(move |wal: &mut Wal, pages: i32| {
                hook.after_commit(wal, i64::from(pages));
                // Always success: an error here would be reported as the commit's, which happened.
                Ok(())
            }))
            .map_err(|e| from_sqlite(path, e))?;
        Ok(Self {
            thread: Some(thread),
            busy,
        })
    }

    /// Tells the hook whether the next commit carries more than one waiting append.
    pub fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::Relaxed);
    }

    /// Removes the hook from the writer's connection (which ends the thread's loop) and waits for
    /// the thread, so that its connection is closed when this returns.
    pub fn stop(mut self, writer: &mut Connection) {
        let _ = writer.wal_hook(None::<fn(&mut Wal, i32) -> rusqlite::Result<()>>);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The WAL hook's state, on the writer's thread.
struct Hook {
    wake: SyncSender<()>,
    /// Set by the background thread when a checkpoint of it finished.
    done: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
    /// Held by whichever checkpoint runs, the background thread's or an inline one.
    running: Arc<Mutex<()>>,
    limit: i64,
    step: i64,
    /// WAL pages from which the next checkpoint is started.
    next_wake: i64,
    /// The WAL's pages after the previous commit.
    last: i64,
    last_inline: Instant,
    inline_cost: Duration,
}

impl Hook {
    fn after_commit(&mut self, wal: &mut Wal, pages: i64) {
        if pages < self.last {
            // The WAL started over from its beginning.
            self.next_wake = self.step;
        }
        self.last = pages;
        let affordable = self.last_inline.elapsed() >= self.inline_cost * INLINE_COST_FACTOR;
        if pages >= self.limit {
            self.inline(wal, pages, true);
        } else if affordable && self.done.swap(false, Ordering::AcqRel) {
            self.inline(wal, pages, false);
        } else if pages >= self.next_wake {
            self.next_wake = pages + self.step;
            if !self.busy.load(Ordering::Relaxed) {
                // Nobody is waiting behind this commit: checkpoint here, as SQLite would. A
                // background checkpoint's fsync would only contend with the next commit's.
                self.inline(wal, pages, false);
                return;
            }
            match self.wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => self.inline(wal, pages, false),
            }
        }
    }

    /// Checkpoints on the writer's connection. `wait`: at the limit, wait for a background
    /// checkpoint under way instead of skipping this one.
    fn inline(&mut self, wal: &mut Wal, pages: i64, wait: bool) {
        let running = self.running.clone();
        let _running = if wait {
            running
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        } else {
            match running.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return,
            }
        };
        let started = Instant::now();
        if let Err(err) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
            tracing::debug!(error = %err, pages, "inline WAL checkpoint skipped");
        }
        self.last_inline = Instant::now();
        self.inline_cost = self.last_inline - started;
    }
}

fn run(conn: Connection, woken: Receiver<()>, done: Arc<AtomicBool>, running: Arc<Mutex<()>>) {
    while woken.recv().is_ok() {
        let _running = running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok(_) => done.store(true, Ordering::Release),
            Err(err) => tracing::debug!(error = %err, "background WAL checkpoint skipped"),
        }
    }
}
