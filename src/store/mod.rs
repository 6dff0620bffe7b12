//! The event-store port and its adapters. Only this module knows SQL (and, later, gRPC).
//!
//! [`EventStore`] is what every backend implements: append with an expected revision, read a stream
//! either way, read the global log in pages, subscribe to it live. There is no update and no delete.
//! The store, not the writer, stamps each event's position, revision, recorded-at time and hash chain
//! (see `ledger_schemas::integrity`), so that no client can choose them.

pub mod sqlite;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use futures_core::Stream;
use ledger_schemas::{Envelope, ProposedEvent};

pub use sqlite::SqliteStore;

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
#[derive(Debug, thiserror::Error)]
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
        matches!(self, StoreError::Unavailable(_))
    }
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
}
