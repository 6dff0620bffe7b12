//! One store type for the program to hold, whichever backend a store spec names: a file path opens
//! the embedded SQLite store, a connection string (`kurrentdb://…`, `esdb://…`, see
//! [`kurrent::is_connection_string`]) the KurrentDB adapter.
//!
//! The program (`ledger serve --store SPEC`) works with [`Store`] and never asks which backend it
//! has; a test that needs one backend's extras uses that backend's type directly.

use std::path::Path;

use ledger_schemas::checkpoint::LogSigningKey;
use ledger_schemas::{Envelope, ProposedEvent};

use crate::store::kurrent::{self, KurrentStore};
use crate::store::{
    AppendOutcome, ChainReport, Direction, EventStore, ExpectedRevision, Progress, ReadFrom,
    SnapshotEntry, SnapshotSelection, SqliteStore, StoreError, StoredSnapshot, Subscription,
};

/// The store a spec named.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Kurrent(KurrentStore),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Sqlite(_) => f.write_str("Store::Sqlite"),
            Store::Kurrent(s) => write!(f, "Store::Kurrent({})", s.url()),
        }
    }
}

/// Opens the store a spec names: a connection string connects to KurrentDB/EventStoreDB (and
/// reports an unreachable cluster as [`StoreError::Unavailable`]); anything else is the path of a
/// ledger file, created if absent.
pub async fn open_store(spec: &str) -> Result<Store, StoreError> {
    if kurrent::is_connection_string(spec) {
        return Ok(Store::Kurrent(KurrentStore::connect(spec).await?));
    }
    let path = Path::new(spec).to_owned();
    // Opening a file may migrate it: keep that off the async workers.
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .map_err(|e| StoreError::Io {
            path: spec.into(),
            detail: format!("打开线程失败 (the opening thread failed): {e}"),
        })?;
    Ok(Store::Sqlite(opened?))
}

impl Store {
    /// Flushes and closes what needs it: the embedded store's writer finishes its queue; the
    /// KurrentDB adapter holds nothing that outlives a dropped connection.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Kurrent(_) => {}
        }
    }
}

impl EventStore for Store {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: Vec<ProposedEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        match self {
            Store::Sqlite(s) => s.append(stream, expected, events).await,
            Store::Kurrent(s) => s.append(stream, expected, events).await,
        }
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_stream(stream, direction, from, max).await,
            Store::Kurrent(s) => s.read_stream(stream, direction, from, max).await,
        }
    }

    async fn read_all(
        &self,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_all(direction, from, max).await,
            Store::Kurrent(s) => s.read_all(direction, from, max).await,
        }
    }

    async fn head(&self) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.head().await,
            Store::Kurrent(s) => s.head().await,
        }
    }

    fn subscribe_all(&self, after: u64) -> Subscription {
        match self {
            Store::Sqlite(s) => s.subscribe_all(after),
            Store::Kurrent(s) => s.subscribe_all(after),
        }
    }

    async fn verify(&self, progress: Progress) -> Result<ChainReport, StoreError> {
        match self {
            Store::Sqlite(s) => s.verify(progress).await,
            Store::Kurrent(s) => s.verify(progress).await,
        }
    }

    async fn audit_snapshot(
        &self,
        after: u64,
    ) -> Result<Option<super::sqlite::AuditSnapshot>, StoreError> {
        match self {
            Store::Sqlite(s) => EventStore::audit_snapshot(s, after).await,
            Store::Kurrent(s) => EventStore::audit_snapshot(s, after).await,
        }
    }

    async fn save_snapshot(&self, snapshot: StoredSnapshot) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.save_snapshot(snapshot).await,
            Store::Kurrent(s) => s.save_snapshot(snapshot).await,
        }
    }

    async fn load_snapshot(
        &self,
        code_version: u32,
        at_or_before: u64,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        match self {
            Store::Sqlite(s) => s.load_snapshot(code_version, at_or_before).await,
            Store::Kurrent(s) => s.load_snapshot(code_version, at_or_before).await,
        }
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotEntry>, StoreError> {
        match self {
            Store::Sqlite(s) => s.list_snapshots().await,
            Store::Kurrent(s) => s.list_snapshots().await,
        }
    }

    fn signs_checkpoints(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    fn seal_key(&self) -> Result<Option<LogSigningKey>, StoreError> {
        match self {
            Store::Sqlite(s) => s.seal_key(),
            Store::Kurrent(s) => s.seal_key(),
        }
    }

    async fn delete_snapshots(&self, which: SnapshotSelection) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.delete_snapshots(which).await,
            Store::Kurrent(s) => s.delete_snapshots(which).await,
        }
    }

    fn read_pages(
        &self,
        after: u64,
        page: usize,
    ) -> futures_util::stream::BoxStream<'_, Result<Vec<Envelope>, StoreError>> {
        match self {
            Store::Sqlite(s) => s.read_pages(after, page),
            Store::Kurrent(s) => s.read_pages(after, page),
        }
    }
}
