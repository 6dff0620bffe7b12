//! The embedded backend: one SQLite file in WAL mode, one writer thread, a pool of readers.
//!
//! - [`schema`]: how a file is recognised as a ledger, created and migrated (`application_id`,
//!   `user_version`, the migration steps, the append-only triggers);
//! - `writer`: the single writer thread and its group commit (one transaction, one fsync, many
//!   appends, each in its own savepoint);
//! - `row`: the `events` table's rows as [`Envelope`]s, and the reading queries;
//! - `checkpoints`: the signed checkpoints kept beside the log, and the event hashes the Merkle
//!   tree is rebuilt from;
//! - `cosignatures`: the witnesses' cosignatures on those checkpoints (issue 21);
//! - `snapshots`: the read-model snapshots kept beside the log (derived data, replaceable);
//! - `error`: SQLite's and the OS's failures as [`StoreError`]s naming the file and the cause.
//!
//! Readers each have their own connection, taken from a small pool and used on tokio's blocking
//! threads; in WAL mode a reader sees the last committed state and never waits for the writer, and
//! the writer never waits for a reader. New commits are announced on a `watch` channel of the head
//! position, which live subscriptions wait on. Appends made to the same file by another process are
//! read correctly (the writer re-reads the head under the write lock), and announced to this
//! process's subscriptions by a watcher thread (`foreign`) that runs while anyone subscribes.

mod checkpoints;
mod cosignatures;
mod error;
mod foreign;
mod row;
pub mod schema;
mod snapshots;
mod wal;
mod writer;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_core::Stream;
use ledger_schemas::checkpoint::LogSigningKey;
use ledger_schemas::integrity::canonical_json;
use ledger_schemas::{Envelope, ProposedEvent};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use self::error::from_sqlite;
use self::wal::WalCheckpointer;
use self::writer::{AppendRequest, Command, PreparedEvent, Writer, WriterStats};
use super::clock::HistoryClock;
use super::{
    AppendOutcome, ChainReport, ChainWalk, DEFAULT_PAGE, Direction, EventStore, ExpectedRevision,
    Progress, ReadFrom, SnapshotEntry, SnapshotSelection, StoreError, StoredSnapshot, Subscription,
};

pub use self::checkpoints::AuditSnapshot;
pub use self::cosignatures::StoredCosignature;
pub use self::wal::{BACKGROUND_AT as WAL_CHECKPOINT_PAGES, WAL_LIMIT_PAGES};
pub use self::writer::{MAX_BATCH_EVENTS, MAX_BATCH_REQUESTS, WriterCounts};

/// Requests that may wait for the writer before `append` itself waits (back-pressure).
const QUEUE: usize = 4096;
/// Reader connections kept open between reads.
const POOLED_READERS: usize = 8;
/// Events per page of the background walks ([`SqliteStore::verify_chain`]), and pages allowed to wait
/// between their two threads: big enough that a thread descheduled for a few milliseconds by other
/// work on the machine does not starve the other, small enough to stay a few MiB.
const WALK_PAGE: usize = 4096;
const WALK_QUEUE: usize = 4;
/// The longest stream name accepted, in bytes.
pub const MAX_STREAM_LEN: usize = 200;

/// How to open a ledger file.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Create the file if it is absent (`ledger init`); otherwise an absent file is
    /// [`StoreError::Missing`].
    pub create: bool,
    /// A cap on the file's size in pages of 4 KiB (`PRAGMA max_page_count`), for a quota: an append
    /// that would grow the file past it fails as a full disk ([`StoreError::DiskFull`]) and writes
    /// nothing. `None`: no cap but the disk's.
    pub max_pages: Option<u64>,
    /// The WAL's size in pages from which the writer copies it back into the database file itself
    /// rather than leaving that to the background checkpoint thread (see `wal.rs`): the bound on the
    /// `-wal` file under a sustained flood of appends. Default [`WAL_LIMIT_PAGES`] (64 MiB).
    pub wal_limit_pages: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            create: true,
            max_pages: None,
            wal_limit_pages: WAL_LIMIT_PAGES,
        }
    }
}

/// The state of a ledger file, as `ledger status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerState {
    pub file: PathBuf,
    pub format_version: i64,
    pub events: u64,
    pub head_position: u64,
    /// The last event's hash; `None` for an empty ledger.
    pub head_hash: Option<String>,
    pub head_recorded_at: Option<DateTime<Utc>>,
}

/// The embedded event store. Cheap to clone: clones share the writer and the readers.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

struct Inner {
    path: PathBuf,
    /// `None` only while dropping, so that the writer sees its channel close.
    tx: Option<std::sync::mpsc::Sender<Command>>,
    /// Places in the writer's queue; `append` waits for one (back-pressure without blocking).
    queue: Arc<Semaphore>,
    head: watch::Receiver<u64>,
    /// Announces heads for the foreign-append watcher; `None` once closed, so that subscriptions
    /// see the channel close when the writer and the watcher have stopped.
    head_tx: Mutex<Option<watch::Sender<u64>>>,
    /// The foreign-append watcher, started by the first subscription.
    foreign: Mutex<Option<foreign::Watcher>>,
    readers: Mutex<Vec<Connection>>,
    closed: AtomicBool,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    stats: Arc<WriterStats>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what is queued and close its connection; waiting
        // for it makes "the last handle is gone" mean "the file is closed".
        self.tx = None;
        if let Some(handle) = lock(&self.writer).take() {
            let _ = handle.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    /// Runs `f` on a reader connection from the pool (opening one if none is free).
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Path, &Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let result = f(&self.path, &conn);
        if !self.closed.load(Ordering::Acquire) {
            let mut pool = lock(&self.readers);
            if pool.len() < POOLED_READERS {
                pool.push(conn);
            }
        }
        result
    }
}

impl SqliteStore {
    /// Opens the ledger at `path`, creating it if absent.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens an existing ledger; an absent file is [`StoreError::Missing`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(
            path,
            SqliteOptions {
                create: false,
                ..SqliteOptions::default()
            },
        )
    }

    /// Opens (and creates, migrates) a ledger file and starts its writer thread.
    ///
    /// Blocking: it reads the file's header and may migrate it. Needs no async runtime; the async
    /// methods do.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        Self::open_clocked(path.as_ref(), options, None)
    }

    /// Creates a ledger whose events are recorded at the times `clock` gives (never later than the
    /// system clock, never earlier than the previous event): the demo builder's store. Refuses a
    /// ledger that already holds events, so no existing record can gain an event with a chosen
    /// time (see [`crate::store::clock`]).
    pub(crate) fn create_for_history(
        path: impl AsRef<Path>,
        clock: &HistoryClock,
    ) -> Result<Self, StoreError> {
        let store =
            Self::open_clocked(path.as_ref(), SqliteOptions::default(), Some(clock.clone()))?;
        let head = *store.inner.head.borrow();
        if head > 0 {
            return Err(StoreError::ReadOnly {
                path: store.path().to_owned(),
                detail: format!(
                    "账本已有 {head} 个事件, 历史时钟只用于新的空账本 (the ledger holds {head} events; a history clock is given only to a new, empty ledger)"
                ),
            });
        }
        Ok(store)
    }

    fn open_clocked(
        path: &Path,
        options: SqliteOptions,
        clock: Option<HistoryClock>,
    ) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let mut conn = schema::open_writer(&path, options.create)?;
        if let Some(max) = options.max_pages {
            conn.pragma_update(
                None,
                "max_page_count",
                i64::try_from(max).unwrap_or(i64::MAX),
            )
            .map_err(|e| from_sqlite(&path, e))?;
        }
        let head = row::head(&path, &conn)?.map_or(0, |(position, _, _)| position);
        // One reader now, so that a file readers cannot open fails here and not at the first read.
        let reader = schema::open_reader(&path)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (head_tx, head_rx) = watch::channel(head);
        let stats = Arc::new(WriterStats::default());
        let wal = WalCheckpointer::start(&path, &mut conn, options.wal_limit_pages)?;
        let writer = Writer::new(
            conn,
            wal,
            path.clone(),
            head_tx.clone(),
            stats.clone(),
            clock,
        );
        let handle = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Io {
                path: path.clone(),
                detail: format!("无法启动写线程 (cannot start the writer thread): {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                tx: Some(tx),
                queue: Arc::new(Semaphore::new(QUEUE)),
                head: head_rx,
                head_tx: Mutex::new(Some(head_tx)),
                foreign: Mutex::new(None),
                readers: Mutex::new(vec![reader]),
                closed: AtomicBool::new(false),
                writer: Mutex::new(Some(handle)),
                stats,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The writer's counters so far (transactions, requests, events, the largest batch).
    pub fn writer_counts(&self) -> WriterCounts {
        self.inner.stats.snapshot()
    }

    /// Finishes queued appends, closes the writer's and the readers' connections and waits for the
    /// writer thread. Afterwards every call on any clone is [`StoreError::Closed`].
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if let Some(tx) = &self.inner.tx
            && tx.send(Command::Close(ack)).is_ok()
        {
            let _ = done.await;
        }
        self.inner.closed.store(true, Ordering::Release);
        lock(&self.inner.head_tx).take();
        let watcher = lock(&self.inner.foreign).take();
        if let Some(watcher) = watcher {
            let _ = tokio::task::spawn_blocking(move || watcher.stop()).await;
        }
        lock(&self.inner.readers).clear();
        let handle = lock(&self.inner.writer).take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    /// Runs `f` on a writing connection of its own ([`schema::open_aside`]), on a blocking thread.
    ///
    /// Signed checkpoints and read-model snapshots do not go through the writer thread: they are
    /// written rarely, and SQLite serialises the two writers with its lock, so the group-commit path
    /// stays untouched.
    async fn write_aside<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path, &Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let path = self.path().to_owned();
        let joined = path.clone();
        tokio::task::spawn_blocking(move || f(&path, &schema::open_aside(&path)?))
            .await
            .map_err(|e| StoreError::Io {
                path: joined,
                detail: format!("旁路写入线程失败 (the thread writing beside the log failed): {e}"),
            })?
    }

    /// Runs a read on a blocking thread with a pooled reader connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path, &Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(f))
            .await
            .map_err(|e| StoreError::Io {
                path: self.inner.path.clone(),
                detail: format!("读取线程失败 (the reading thread failed): {e}"),
            })?
    }

    /// Starts the foreign-append watcher (`foreign`) unless it runs or the store is closed. A
    /// failure to start it is logged: subscriptions then see foreign appends only after the next
    /// append made here, as before.
    fn watch_foreign_appends(&self) {
        let mut running = lock(&self.inner.foreign);
        if running.is_some() {
            return;
        }
        let Some(head_tx) = lock(&self.inner.head_tx).clone() else {
            return;
        };
        match foreign::Watcher::start(self.path(), head_tx) {
            Ok(watcher) => *running = Some(watcher),
            Err(e) => {
                tracing::warn!(error = %e, "无法监视其他进程的写入 (cannot watch for appends by other processes)")
            }
        }
    }

    /// The file's format version, event count and head, as `ledger status` prints them.
    pub async fn state(&self) -> Result<LedgerState, StoreError> {
        self.read(|path, conn| {
            let format_version = schema::format_version(path, conn)?;
            // One read transaction, so the count and the head agree.
            conn.execute_batch("BEGIN")
                .map_err(|e| from_sqlite(path, e))?;
            let result = (|| {
                let events: i64 = conn
                    .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                    .map_err(|e| from_sqlite(path, e))?;
                let head = row::head(path, conn)?;
                Ok(LedgerState {
                    file: path.to_owned(),
                    format_version,
                    events: events as u64,
                    head_position: head.map_or(0, |(p, _, _)| p),
                    head_hash: head.map(|(_, h, _)| h.to_hex()),
                    head_recorded_at: head.and_then(|(_, _, t)| DateTime::from_timestamp_micros(t)),
                })
            })();
            let _ = conn.execute_batch("COMMIT");
            result
        })
        .await
    }

    /// The whole global log after `after`, as a stream of pages of up to `page` events. A reader
    /// thread fetches page after page (each its own short read transaction) and keeps the next pages
    /// ready while the caller works on the current one; at most four pages wait in memory. The
    /// stream ends at the first short page, i.e. at the head as it was when the walk got there.
    /// Dropping the stream stops the reader.
    pub fn stream_pages(
        &self,
        after: u64,
        page: usize,
    ) -> impl Stream<Item = Result<Vec<Envelope>, StoreError>> + Send + 'static {
        let page = page.max(1);
        let (tx, rx) = mpsc::channel::<Result<Vec<Envelope>, StoreError>>(WALK_QUEUE);
        let inner = self.inner.clone();
        let producer = move || {
            let outcome = inner.with_reader(|path, conn| {
                let mut next = after + 1;
                loop {
                    let events =
                        row::read_all(path, conn, Direction::Forwards, ReadFrom::At(next), page)?;
                    let short = events.len() < page;
                    if let Some(last) = events.last() {
                        next = last.position + 1;
                        if tx.blocking_send(Ok(events)).is_err() {
                            return Ok(()); // the caller stopped reading
                        }
                    }
                    if short {
                        return Ok(());
                    }
                }
            });
            if let Err(err) = outcome {
                let _ = tx.blocking_send(Err(err));
            }
        };
        let mut started = Some(producer);
        futures_util::stream::unfold(rx, move |mut rx| {
            // Started on first poll, so that building the stream needs no runtime.
            if let Some(producer) = started.take() {
                tokio::task::spawn_blocking(producer);
            }
            async move {
                let page = rx.recv().await?;
                Some((page, rx))
            }
        })
    }

    /// The whole global log after `after`, event by event: [`SqliteStore::stream_pages`] flattened.
    pub fn stream_all(
        &self,
        after: u64,
        page: usize,
    ) -> impl Stream<Item = Result<Envelope, StoreError>> + Send + 'static {
        super::flatten_pages(self.stream_pages(after, page))
    }

    /// Walks the hash chain (see [`EventStore::verify`]) with two threads: one reads pages of the log
    /// in a single read transaction (a consistent snapshot), the other hashes them. At most
    /// `WALK_QUEUE + 2` pages of `WALK_PAGE` events are in memory at once, whatever the log's size.
    pub async fn verify_chain(&self, progress: Progress) -> Result<ChainReport, StoreError> {
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<Result<Vec<Envelope>, StoreError>>(WALK_QUEUE);
        let inner = self.inner.clone();
        let producer = tokio::task::spawn_blocking(move || {
            let outcome = inner.with_reader(|path, conn| {
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT {} FROM events ORDER BY position ASC",
                        row::COLUMNS
                    ))
                    .map_err(|e| from_sqlite(path, e))?;
                let mut rows = stmt.query([]).map_err(|e| from_sqlite(path, e))?;
                let mut page = Vec::with_capacity(WALK_PAGE);
                while let Some(r) = rows.next().map_err(|e| from_sqlite(path, e))? {
                    page.push(row::envelope(path, r)?);
                    if page.len() == WALK_PAGE {
                        let full = std::mem::replace(&mut page, Vec::with_capacity(WALK_PAGE));
                        if tx.send(Ok(full)).is_err() {
                            return Ok(()); // the checker stopped: the chain broke
                        }
                    }
                }
                if !page.is_empty() {
                    let _ = tx.send(Ok(page));
                }
                Ok(())
            });
            if let Err(err) = outcome {
                let _ = tx.send(Err(err));
            }
        });
        let checker = tokio::task::spawn_blocking(move || {
            let mut walk = ChainWalk::new(progress);
            for page in rx {
                if !walk.feed(&page?) {
                    break;
                }
            }
            Ok(walk.finish())
        });
        let joined = |e: tokio::task::JoinError| StoreError::Io {
            path: self.inner.path.clone(),
            detail: format!("校验线程失败 (a verifying thread failed): {e}"),
        };
        let report = checker.await.map_err(joined)?;
        producer.await.map_err(joined)?;
        report
    }
}

/// Checks an append's input and puts its payloads in canonical form, in the caller's task (so the
/// writer thread only places and hashes).
fn prepare(stream: &str, events: Vec<ProposedEvent>) -> Result<Vec<PreparedEvent>, StoreError> {
    let invalid = |why: String| Err(StoreError::InvalidAppend(why));
    if events.is_empty() {
        return invalid("没有要追加的事件 (no events to append)".into());
    }
    if stream.is_empty() || stream.len() > MAX_STREAM_LEN {
        return invalid(format!(
            "流名称须为 1 到 {MAX_STREAM_LEN} 字节 (a stream name must be 1 to {MAX_STREAM_LEN} bytes): {stream:?}"
        ));
    }
    if stream.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return invalid(format!(
            "流名称不能包含空白或控制字符 (a stream name cannot contain whitespace or control characters): {stream:?}"
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    let mut prepared = Vec::with_capacity(events.len());
    for event in events {
        if event.event_id.is_nil() {
            return invalid("事件 ID 不能为空 UUID (an event id cannot be the nil UUID)".into());
        }
        if !seen.insert(event.event_id) {
            return invalid(format!(
                "同一追加中事件 ID {} 重复 (event id {} appears twice in one append)",
                event.event_id, event.event_id
            ));
        }
        if event.event_type.is_empty() || event.event_type.chars().any(char::is_whitespace) {
            return invalid(format!(
                "事件 {} 的类型无效 (event {} has an invalid event type {:?})",
                event.event_id, event.event_id, event.event_type
            ));
        }
        if !event.payload.is_object() {
            return invalid(format!(
                "事件 {} 的内容须为 JSON 对象 (the payload of event {} must be a JSON object)",
                event.event_id, event.event_id
            ));
        }
        prepared.push(PreparedEvent {
            payload: canonical_json(&event.payload),
            event_id: event.event_id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            actor: event.actor,
            reason: event.reason,
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
        });
    }
    Ok(prepared)
}

impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: Vec<ProposedEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        let events = prepare(stream, events)?;
        let tx = self.inner.tx.as_ref().ok_or(StoreError::Closed)?;
        let permit = self
            .inner
            .queue
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        tx.send(Command::Append(AppendRequest {
            stream: stream.to_owned(),
            expected,
            events,
            reply,
            _permit: permit,
        }))
        .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        let stream = stream.to_owned();
        self.read(move |path, conn| row::read_stream(path, conn, &stream, direction, from, max))
            .await
    }

    async fn read_all(
        &self,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        self.read(move |path, conn| row::read_all(path, conn, direction, from, max))
            .await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.read(|path, conn| Ok(row::head(path, conn)?.map_or(0, |(position, _, _)| position)))
            .await
    }

    fn subscribe_all(&self, after: u64) -> Subscription {
        self.watch_foreign_appends();
        struct Live {
            store: SqliteStore,
            next: u64,
            buffered: VecDeque<Envelope>,
            head: watch::Receiver<u64>,
            done: bool,
        }
        let live = Live {
            store: self.clone(),
            next: after + 1,
            buffered: VecDeque::new(),
            head: self.inner.head.clone(),
            done: false,
        };
        Box::pin(futures_util::stream::unfold(live, |mut live| async move {
            loop {
                if let Some(event) = live.buffered.pop_front() {
                    return Some((Ok(event), live));
                }
                if live.done {
                    return None;
                }
                // Marking the head seen before reading means a commit during the read still wakes
                // the `changed()` below: nothing falls between catch-up and live.
                let committed = *live.head.borrow_and_update();
                if live.next <= committed {
                    match live
                        .store
                        .read_all(Direction::Forwards, ReadFrom::At(live.next), DEFAULT_PAGE)
                        .await
                    {
                        Ok(page) => {
                            if let Some(last) = page.last() {
                                live.next = last.position + 1;
                                live.buffered.extend(page);
                                continue;
                            }
                        }
                        Err(err) => {
                            live.done = true;
                            return Some((Err(err), live));
                        }
                    }
                }
                if live.head.changed().await.is_err() {
                    live.done = true;
                    return Some((Err(StoreError::Closed), live));
                }
            }
        }))
    }

    async fn verify(&self, progress: Progress) -> Result<ChainReport, StoreError> {
        self.verify_chain(progress).await
    }

    /// The hashes and checkpoints from one read transaction, plus the public key derived from
    /// `FILE.key` when the ledger has one (a ledger without a key has no checkpoints to prove
    /// against either, but its log is still served).
    async fn audit_snapshot(&self, after: u64) -> Result<Option<AuditSnapshot>, StoreError> {
        let mut snapshot = SqliteStore::audit_snapshot_after(self, after).await?;
        snapshot.public_key = crate::audit::verifying_key(self.path(), None)
            .ok()
            .flatten()
            .map(|key| key.to_note_verifier());
        Ok(Some(snapshot))
    }

    async fn save_snapshot(&self, snapshot: StoredSnapshot) -> Result<bool, StoreError> {
        self.put_snapshot(snapshot).await
    }

    async fn load_snapshot(
        &self,
        code_version: u32,
        at_or_before: u64,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        self.get_snapshot(code_version, at_or_before).await
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotEntry>, StoreError> {
        self.snapshot_entries().await
    }

    /// The ledger's signing key from `FILE.key`, looked for at each call, so that a key created
    /// later (`ledger init`, `ledger audit checkpoint`) is picked up.
    fn signs_checkpoints(&self) -> bool {
        true
    }

    fn seal_key(&self) -> Result<Option<LogSigningKey>, StoreError> {
        if !crate::audit::key_path(self.path()).exists() {
            return Ok(None);
        }
        crate::audit::load_key(self.path())
            .map(Some)
            .map_err(|e| StoreError::Io {
                path: crate::audit::key_path(self.path()),
                detail: format!("{e:#}"),
            })
    }

    async fn delete_snapshots(&self, which: SnapshotSelection) -> Result<u64, StoreError> {
        self.drop_snapshots(which).await
    }

    fn read_pages(
        &self,
        after: u64,
        page: usize,
    ) -> futures_util::stream::BoxStream<'_, Result<Vec<Envelope>, StoreError>> {
        Box::pin(self.stream_pages(after, page))
    }
}
