//! The event-store port and its adapters. Only this module knows SQL (and, later, gRPC).
//!
//! [`EventStore`] is what every backend implements: append with an expected revision, read a stream
//! either way, read the global log in pages, subscribe to it live, walk the hash chain, and,
//! optionally, hand over the signed checkpoints (`audit_snapshot`, `None` by default: only the
//! embedded store keeps them) and keep read-model snapshots (`save_snapshot`, `load_snapshot`,
//! `list_snapshots`, `delete_snapshots`, sealed with `seal_key`: derived data beside the log,
//! nothing kept by default). There is no update and no delete. The store, not the writer, stamps each event's position, revision,
//! recorded-at time and hash chain (see `ledger_schemas::integrity`), so that no client can choose
//! them.
//!
//! Besides the trait this module holds what is the same for every backend: the errors
//! ([`StoreError`]), the chain report ([`ChainReport`]), and [`read_all_stream`], which turns the
//! paged [`EventStore::read_all`] into one stream of the whole log. The embedded backend lives in
//! [`sqlite`].

pub mod any;
pub mod clock;
pub mod kurrent;
pub mod sqlite;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_core::Stream;
use ledger_schemas::checkpoint::LogSigningKey;
use ledger_schemas::integrity::{ChainBreak, ChainVerifier, Digest};
use ledger_schemas::{Envelope, ProposedEvent};

pub use clock::HistoryClock;
pub use sqlite::{SqliteOptions, SqliteStore};

/// How many events one page of a whole-log walk holds when the caller does not say.
pub const DEFAULT_PAGE: usize = 1024;

/// What the writer expects the stream to look like before its events are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedRevision {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this revision.
    Exact(u64),
}

impl std::fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedRevision::Any => f.write_str("any"),
            ExpectedRevision::NoStream => f.write_str("no stream"),
            ExpectedRevision::Exact(r) => write!(f, "revision {r}"),
        }
    }
}

/// Where a stream actually stood when an expectation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActualRevision {
    NoStream,
    Exact(u64),
}

impl std::fmt::Display for ActualRevision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActualRevision::NoStream => f.write_str("no stream"),
            ActualRevision::Exact(r) => write!(f, "revision {r}"),
        }
    }
}

/// What a successful append committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Global positions of the appended events, in order (consecutive on the embedded store).
    pub positions: Vec<u64>,
    /// The stream's revision after the append (its last event's revision).
    pub next_expected: u64,
}

/// Which way to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forwards,
    Backwards,
}

/// Where a read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// The first event (forwards) or the last one (backwards).
    Edge,
    /// This revision or position, included.
    At(u64),
}

/// Everything that can go wrong in a store, in terms a person can act on.
///
/// Cloneable because one storage failure of a group commit is the answer to every append in it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error(
        "并发冲突: 流 {stream} 期望 {expected}, 实际为 {actual} (concurrency conflict on stream {stream}: expected {expected}, actual {actual}); 请重新读取后重试 (re-read and retry)"
    )]
    Conflict {
        stream: String,
        expected: ExpectedRevision,
        actual: ActualRevision,
    },
    #[error(
        "事件 {event_id} 已以不同内容或位置写入 (event id {event_id} was already appended with a different stream, content or expectation); 同一事件 ID 不能用于不同事件 (an event id cannot be reused for another event)"
    )]
    IdempotencyMismatch { event_id: uuid::Uuid },
    #[error("无效的追加 (invalid append): {0}")]
    InvalidAppend(String),
    #[error(
        "{path}: 账本文件不存在 (no ledger file here); 请先运行 `ledger init` (run `ledger init` first)"
    )]
    Missing { path: PathBuf },
    #[error("{path}: 不是账本文件 (not a ledger file): {detail}")]
    NotALedger { path: PathBuf, detail: String },
    #[error(
        "{path}: 账本由更新的版本写入 (written by a newer version of the ledger: file format {found}, this program reads up to {supported}); 请升级 ledger (upgrade the program)"
    )]
    NewerFormat {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path}: 账本文件已损坏 (the ledger file is corrupt): {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: 无法写入 (cannot write): {detail}")]
    ReadOnly { path: PathBuf, detail: String },
    #[error("{path}: 磁盘已满 (disk full): {detail}; 未写入任何内容 (nothing was written)")]
    DiskFull { path: PathBuf, detail: String },
    #[error("{path}: 账本正被另一进程写入 (the ledger is locked by another process): {detail}")]
    Busy { path: PathBuf, detail: String },
    #[error("{path}: 存储错误 (storage error): {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("存储已关闭 (the store is shut down)")]
    Closed,
    #[error("无法连接事件存储 (event store unreachable): {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether retrying the same call later may succeed (network, shutdown) as opposed to a
    /// refusal that will not change.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Busy { .. })
    }
}

/// What a walk of the hash chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events that checked out, from the start of the log (all of them when `broken` is `None`).
    pub verified: u64,
    /// The hash of the last event that checked out ([`Digest::ZERO`] for an empty log).
    pub head: Digest,
    /// The first event that does not fit the chain, if any.
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// A count that a long walk keeps current, so that a caller can draw progress from another thread
/// without handing the walk a callback (the walk may run on a blocking thread of its own).
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Events done so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, done: u64) {
        self.0.store(done, Ordering::Relaxed);
    }
}

/// Checks events in log order against a running [`ChainVerifier`], keeping `progress` current; stops
/// at the first break. Shared by every backend's `verify`, so that they judge a chain the same way.
#[derive(Debug)]
pub struct ChainWalk {
    verifier: ChainVerifier,
    progress: Progress,
    broken: Option<ChainBreak>,
}

impl ChainWalk {
    pub fn new(progress: Progress) -> Self {
        progress.set(0);
        Self {
            verifier: ChainVerifier::new(),
            progress,
            broken: None,
        }
    }

    /// Checks a page; returns false once the chain is broken (later events are not looked at).
    pub fn feed<'a>(&mut self, events: impl IntoIterator<Item = &'a Envelope>) -> bool {
        if self.broken.is_some() {
            return false;
        }
        for event in events {
            if let Err(broken) = self.verifier.check(event) {
                self.broken = Some(broken);
                break;
            }
        }
        self.progress.set(self.verifier.verified_through());
        self.broken.is_none()
    }

    pub fn finish(self) -> ChainReport {
        ChainReport {
            verified: self.verifier.verified_through(),
            head: self.verifier.head(),
            broken: self.broken,
        }
    }
}

/// A snapshot of the read models kept beside the log (`ledger rebuild` writes them, the read side
/// starts from the latest). Derived data: it is not part of the hash chain, may be replaced or
/// deleted, and is only ever used after checking its seal and checking it against the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// The projection code version that folded it (`PROJECTION_CODE_VERSION`).
    pub code_version: u32,
    /// The position of the last event folded into it.
    pub position: u64,
    /// The hash of the event at `position` when the snapshot was taken ([`Digest::ZERO`] at 0): a
    /// snapshot whose hash is not the log's at that position belongs to another log.
    pub event_hash: Digest,
    /// The ledger key's seal over the fields above and the SHA-256 of `bytes`
    /// (`ledger_schemas::seal::SnapshotSeal::to_bytes`), as stored: the store does not check it.
    pub seal: Vec<u8>,
    /// The encoded snapshot (`ledger_projections::read`'s stored forms).
    pub bytes: Vec<u8>,
}

impl StoredSnapshot {
    /// What its seal must vouch for, given the SHA-256 of its bytes.
    pub fn subject(&self, content: Digest) -> ledger_schemas::seal::SnapshotSubject {
        ledger_schemas::seal::SnapshotSubject {
            code_version: self.code_version,
            position: self.position,
            event_hash: self.event_hash,
            content,
        }
    }
}

/// A kept snapshot as listed for an audit: everything but its bytes, which the store hashes as it
/// reads them (one at a time, so listing a large table holds one snapshot in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    pub code_version: u32,
    pub position: u64,
    pub event_hash: Digest,
    pub seal: Vec<u8>,
    /// The length of its bytes.
    pub size: u64,
    /// The SHA-256 of its bytes (`ledger_schemas::seal::content_digest`).
    pub content: Digest,
}

impl SnapshotEntry {
    /// What its seal must vouch for.
    pub fn subject(&self) -> ledger_schemas::seal::SnapshotSubject {
        ledger_schemas::seal::SnapshotSubject {
            code_version: self.code_version,
            position: self.position,
            event_hash: self.event_hash,
            content: self.content,
        }
    }
}

/// Which stored snapshots to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotSelection {
    /// Those of every code version but this one.
    OtherVersions(u32),
    /// Those of this code version, except at the positions listed.
    VersionExcept(u32, Vec<u64>),
}

/// A live feed of the global log: catch-up from a position, then new events as they commit.
pub type Subscription = Pin<Box<dyn Stream<Item = Result<Envelope, StoreError>> + Send>>;

/// The event-store port. Every backend implements it; nothing else touches storage.
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` to `stream` if the stream matches `expected`, atomically: all or none.
    ///
    /// Idempotent retry: appending the same event ids with the same expectation again returns the
    /// first outcome and writes nothing. Reusing an id for anything else is refused.
    fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: Vec<ProposedEvent>,
    ) -> impl Future<Output = Result<AppendOutcome, StoreError>> + Send;

    /// Reads up to `max` events of one stream. An unknown stream reads as empty.
    fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> impl Future<Output = Result<Vec<Envelope>, StoreError>> + Send;

    /// Reads up to `max` events of the global log, one page.
    fn read_all(
        &self,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> impl Future<Output = Result<Vec<Envelope>, StoreError>> + Send;

    /// The position of the last committed event (0 for an empty log).
    fn head(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every event after `after` (0 = from the start), then each new event as it commits, forever.
    fn subscribe_all(&self, after: u64) -> Subscription;

    /// Walks the whole hash chain from the first event, in pages (constant memory), and reports the
    /// first event that does not fit. `progress` counts the events checked so far.
    ///
    /// A storage failure is an `Err`; a broken chain is an `Ok` report with `broken` set, because it
    /// is a finding about the data, not a failure to look at it.
    fn verify(
        &self,
        progress: Progress,
    ) -> impl Future<Output = Result<ChainReport, StoreError>> + Send {
        async move {
            let mut walk = ChainWalk::new(progress);
            let mut from = 1;
            loop {
                let page = self
                    .read_all(Direction::Forwards, ReadFrom::At(from), DEFAULT_PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                from = last.position + 1;
                if !walk.feed(&page) {
                    break;
                }
            }
            Ok(walk.finish())
        }
    }

    /// What an audit over HTTP needs, read consistently: every event hash, every signed checkpoint
    /// and the public key, or `None` for a backend that keeps no signed checkpoints.
    ///
    /// Optional because checkpoints are a capability of the embedded store (its `checkpoints` table
    /// and `FILE.key`); the KurrentDB adapter has neither, and the HTTP API answers 501 for it rather
    /// than inventing a root nobody signed.
    ///
    /// `event_hashes` holds the hashes of the events after position `after` only, so that a caller
    /// keeping a tree of the first `after` events (the HTTP API does) reads just what is new.
    fn audit_snapshot(
        &self,
        after: u64,
    ) -> impl Future<Output = Result<Option<sqlite::AuditSnapshot>, StoreError>> + Send {
        let _ = after;
        async { Ok(None) }
    }

    /// Keeps a read-model snapshot beside the log, replacing one of the same code version and
    /// position; returns whether it was kept. Optional, like the checkpoints: the default keeps
    /// nothing (`false`), and a backend that keeps nothing just makes every start fold from the
    /// first event (the KurrentDB adapter).
    fn save_snapshot(
        &self,
        snapshot: StoredSnapshot,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        drop(snapshot);
        async { Ok(false) }
    }

    /// The latest kept snapshot of `code_version` at or before position `at_or_before`, if any.
    /// Snapshots of other code versions are never returned. The default keeps none.
    fn load_snapshot(
        &self,
        code_version: u32,
        at_or_before: u64,
    ) -> impl Future<Output = Result<Option<StoredSnapshot>, StoreError>> + Send {
        let _ = (code_version, at_or_before);
        async { Ok(None) }
    }

    /// Every kept snapshot, of every code version, by code version then position, without its
    /// bytes (see [`SnapshotEntry`]). The default keeps none.
    fn list_snapshots(
        &self,
    ) -> impl Future<Output = Result<Vec<SnapshotEntry>, StoreError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// The key that seals the snapshots this store keeps: the ledger's signing key. `None` when
    /// there is none (a ledger file without `FILE.key`, or a backend that keeps no snapshots): then
    /// no snapshot is kept, and none is used, since nothing could show it was not edited.
    fn seal_key(&self) -> Result<Option<LogSigningKey>, StoreError> {
        Ok(None)
    }

    /// Whether this backend keeps signed checkpoints and sealed snapshots, so that a server over it
    /// is ready only with its signing key ([`seal_key`](Self::seal_key)) loaded.
    fn signs_checkpoints(&self) -> bool {
        false
    }

    /// Deletes kept snapshots (`which` code versions); returns how many. The default keeps none.
    fn delete_snapshots(
        &self,
        which: SnapshotSelection,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = which;
        async { Ok(0) }
    }

    /// The whole global log after `after`, as a stream of pages of up to `page` events, ending at
    /// the first short page. The default reads page after page with [`EventStore::read_all`] as
    /// the caller asks; a backend may read ahead while the caller works on a page (the SQLite store
    /// does, [`SqliteStore::stream_pages`]), which `ledger rebuild` relies on to overlap reading
    /// with decoding.
    fn read_pages(
        &self,
        after: u64,
        page: usize,
    ) -> futures_util::stream::BoxStream<'_, Result<Vec<Envelope>, StoreError>> {
        let page = page.max(1);
        Box::pin(futures_util::stream::unfold(
            Some(after + 1),
            move |next| async move {
                let next = next?;
                match self
                    .read_all(Direction::Forwards, ReadFrom::At(next), page)
                    .await
                {
                    Err(err) => Some((Err(err), None)),
                    Ok(events) => {
                        let last = events.last()?.position;
                        let more = (events.len() >= page).then_some(last + 1);
                        Some((Ok(events), more))
                    }
                }
            },
        ))
    }
}

/// The whole global log after `after` as one stream, read in pages of `page` events under the hood
/// ([`EventStore::read_pages`]: a backend that reads ahead, like the SQLite store, does so here too).
pub fn read_all_stream<S: EventStore + ?Sized>(
    store: &S,
    after: u64,
    page: usize,
) -> impl Stream<Item = Result<Envelope, StoreError>> + Send + '_ {
    flatten_pages(store.read_pages(after, page))
}

/// A stream of pages as a stream of events; a failed page is one error in its place.
pub(crate) fn flatten_pages<'a>(
    pages: impl Stream<Item = Result<Vec<Envelope>, StoreError>> + Send + 'a,
) -> impl Stream<Item = Result<Envelope, StoreError>> + Send + 'a {
    use futures_util::StreamExt as _;
    pages.flat_map(|page| {
        let items: Vec<Result<Envelope, StoreError>> = match page {
            Ok(events) => events.into_iter().map(Ok).collect(),
            Err(err) => vec![Err(err)],
        };
        futures_util::stream::iter(items)
    })
}
