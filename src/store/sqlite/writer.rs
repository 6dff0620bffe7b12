//! The single writer: one thread owns the only writing connection and group-commits appends.
//!
//! Appends arrive on a channel (bounded by a semaphore the caller awaits, so a flood of appends waits
//! in the callers' tasks rather than in memory). The thread takes the first waiting request, drains
//! whatever else is already queued (up to [`MAX_BATCH_REQUESTS`] requests or [`MAX_BATCH_EVENTS`]
//! events) and commits the lot in **one** transaction, so that one fsync of the WAL pays for the
//! whole batch:
//!
//! ```text
//! BEGIN IMMEDIATE                      -- the write lock; the head is re-read under it
//!   SAVEPOINT append  ... RELEASE      -- request 1 (three events) committed into the batch
//!   SAVEPOINT append  ... ROLLBACK TO  -- request 2 refused (an id reused): undone alone
//!   INSERT                             -- request 3 (one event: its statement is its savepoint)
//!   (nothing)                          -- request 4 refused (conflict): checked before writing
//! COMMIT                               -- one fsync (synchronous = FULL)
//! ```
//!
//! Only after `COMMIT` returns does any request in the batch get its answer, and only then is the
//! new head published to subscribers: an acknowledged append is on disk. A refusal (conflict,
//! idempotency mismatch) is a value, and whatever the refused request had written is undone with its
//! savepoint (or its single statement) without touching the rest of the batch; a storage failure (full disk, I/O error, corruption) aborts the whole transaction and is
//! the answer to every request of the batch, so nothing is ever half-written.
//!
//! The head (last position, hash and time) is read from the file at the start of every batch, under
//! the write lock, rather than cached: a second process appending to the same file (which SQLite's
//! lock serialises) can then never make this one chain onto a stale hash.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use ledger_schemas::Actor;
use ledger_schemas::integrity::{Digest, HashInput};
use rusqlite::{Connection, ErrorCode, OptionalExtension};
use tokio::sync::{OwnedSemaphorePermit, oneshot, watch};
use uuid::Uuid;

use super::error::from_sqlite;
use super::row;
use super::wal::WalCheckpointer;
use crate::store::clock::HistoryClock;
use crate::store::{ActualRevision, AppendOutcome, ExpectedRevision, StoreError};

/// The most requests one transaction takes; more wait for the next one.
pub const MAX_BATCH_REQUESTS: usize = 1024;
/// The most events one transaction takes (a single larger append still goes through, alone).
pub const MAX_BATCH_EVENTS: usize = 8192;

/// An event checked and canonicalised by the caller, waiting for its place in the log.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// Canonical JSON text.
    pub payload: String,
    pub actor: Actor,
    pub reason: Option<String>,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
}

/// One call of `append`.
#[derive(Debug)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedRevision,
    pub events: Vec<PreparedEvent>,
    pub reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
    /// The caller's place in the queue, given back when the request is answered and dropped.
    pub _permit: OwnedSemaphorePermit,
}

/// What the writer thread is asked to do.
#[derive(Debug)]
pub enum Command {
    Append(AppendRequest),
    /// Finish what is queued before this, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

/// Counters of the writer's work, for tests and the benchmark (group commit is visible in them).
#[derive(Debug, Default)]
pub struct WriterStats {
    pub transactions: AtomicU64,
    pub requests: AtomicU64,
    pub events: AtomicU64,
    pub largest_batch: AtomicU64,
}

/// A snapshot of [`WriterStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterCounts {
    /// Committed transactions.
    pub transactions: u64,
    /// Append requests answered from committed transactions (including refusals).
    pub requests: u64,
    /// Events written.
    pub events: u64,
    /// The most requests one transaction carried.
    pub largest_batch: u64,
}

impl WriterStats {
    pub fn snapshot(&self) -> WriterCounts {
        WriterCounts {
            transactions: self.transactions.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
        }
    }
}

/// The requests gathered for the next transaction.
#[derive(Default)]
struct Batch {
    requests: Vec<AppendRequest>,
    events: usize,
    /// A `Close` seen: commit what is gathered, then stop.
    close: Option<oneshot::Sender<()>>,
}

impl Batch {
    fn full(&self) -> bool {
        self.requests.len() >= MAX_BATCH_REQUESTS || self.events >= MAX_BATCH_EVENTS
    }

    fn push(&mut self, cmd: Command) {
        match cmd {
            Command::Append(req) => {
                self.events += req.events.len();
                self.requests.push(req);
            }
            Command::Close(ack) => self.close = Some(ack),
        }
    }

    /// Takes what is queued, without waiting.
    fn drain(&mut self, rx: &Receiver<Command>) {
        while self.close.is_none() && !self.full() {
            match rx.try_recv() {
                Ok(cmd) => self.push(cmd),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
    }
}

/// The last event in the log, which the next one chains onto.
#[derive(Debug, Clone, Copy)]
struct Head {
    position: u64,
    hash: Digest,
    recorded_at: i64,
}

/// What became of one request of a batch.
enum Applied {
    /// Its events were written (kept when its savepoint is released).
    Written(AppendOutcome),
    /// It is a retry of an append already stored: answered from the stored events, and whatever
    /// this attempt wrote before finding out is rolled back.
    Replayed(AppendOutcome),
}

/// Why one request of a batch did not go in.
enum Failure {
    /// A refusal of this request only: its savepoint is rolled back and the batch goes on.
    Refused(StoreError),
    /// The storage failed: the whole transaction is abandoned.
    Storage(StoreError),
}

pub struct Writer {
    conn: Connection,
    wal: Option<WalCheckpointer>,
    path: PathBuf,
    head_tx: watch::Sender<u64>,
    stats: Arc<WriterStats>,
    /// The demo builder's clock; `None` (the system clock) for every other store.
    clock: Option<HistoryClock>,
}

impl Writer {
    pub fn new(
        conn: Connection,
        wal: WalCheckpointer,
        path: PathBuf,
        head_tx: watch::Sender<u64>,
        stats: Arc<WriterStats>,
        clock: Option<HistoryClock>,
    ) -> Self {
        Self {
            conn,
            wal: Some(wal),
            path,
            head_tx,
            stats,
            clock,
        }
    }

    /// The thread's body: batches until every sender is gone or a `Close` arrives.
    pub fn run(mut self, rx: Receiver<Command>) {
        let mut batch = Batch::default();
        while batch.close.is_none() {
            match rx.recv() {
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
            batch.drain(&rx);
            if !batch.requests.is_empty() {
                self.commit(&mut batch.requests);
                crate::metrics::metrics()
                    .commit_batch_events
                    .observe(batch.events as f64);
            }
            batch.events = 0;
        }
        // Refuse whatever raced in after the close, then close the connection before answering, so
        // that the caller of `close` may reopen or remove the file at once.
        let mut late_closes = Vec::new();
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                Command::Append(req) => {
                    let _ = req.reply.send(Err(StoreError::Closed));
                }
                Command::Close(ack) => late_closes.push(ack),
            }
        }
        drop(rx);
        if let Some(wal) = self.wal.take() {
            wal.stop(&mut self.conn);
        }
        drop(self.conn);
        for ack in batch.close.into_iter().chain(late_closes) {
            let _ = ack.send(());
        }
    }

    fn commit(&mut self, batch: &mut Vec<AppendRequest>) {
        if let Some(wal) = &self.wal {
            wal.set_busy(batch.len() > 1);
        }
        match self.transaction(batch) {
            Ok((outcomes, head, written)) => {
                self.stats.transactions.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .requests
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                self.stats
                    .events
                    .fetch_add(written as u64, Ordering::Relaxed);
                self.stats
                    .largest_batch
                    .fetch_max(batch.len() as u64, Ordering::Relaxed);
                // Published after the commit, so a subscriber woken by it can read the events.
                super::foreign::publish(&self.head_tx, head.position);
                for (req, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = req.reply.send(outcome);
                }
            }
            Err(err) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                tracing::warn!(error = %err, requests = batch.len(), "group commit failed; nothing written");
                for req in batch.drain(..) {
                    let _ = req.reply.send(Err(err.clone()));
                }
            }
        }
    }

    /// Runs one batch in one transaction: the answer to each request, the new head and the number
    /// of events written. `Err` means nothing of the batch was written.
    #[allow(clippy::type_complexity)]
    fn transaction(
        &mut self,
        batch: &[AppendRequest],
    ) -> Result<(Vec<Result<AppendOutcome, StoreError>>, Head, usize), StoreError> {
        let path = self.path.clone();
        let sql = |conn: &Connection, statement: &str| -> Result<(), StoreError> {
            conn.prepare_cached(statement)
                .and_then(|mut s| s.execute([]))
                .map(drop)
                .map_err(|e| from_sqlite(&path, e))
        };
        sql(&self.conn, "BEGIN IMMEDIATE")?;
        let mut head = match row::head(&self.path, &self.conn)? {
            Some((position, hash, recorded_at)) => Head {
                position,
                hash,
                recorded_at,
            },
            None => Head {
                position: 0,
                hash: Digest::ZERO,
                recorded_at: i64::MIN,
            },
        };
        // One clock reading per batch: the events of a batch are recorded together. Never earlier
        // than the previous event, so the log's times never go backwards even if the clock does.
        let now = match &self.clock {
            None => chrono::Utc::now(),
            Some(clock) => clock.now(),
        }
        .timestamp_micros();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut written = 0;
        for req in batch {
            // A request of several events runs in a savepoint, so that a failure after some of its
            // inserts (a later id already stored) undoes them alone. A request of one event needs
            // none: its expectation is checked before anything is written, and a single INSERT that
            // fails is undone by SQLite's own statement journal. Either way the rest of the batch is
            // untouched.
            let savepoint = req.events.len() > 1;
            if savepoint {
                sql(&self.conn, "SAVEPOINT append")?;
            }
            let before = head;
            let undo = |head: &mut Head| -> Result<(), StoreError> {
                if savepoint {
                    sql(&self.conn, "ROLLBACK TO append")?;
                    sql(&self.conn, "RELEASE append")?;
                }
                *head = before;
                Ok(())
            };
            match self.apply(req, &mut head, now) {
                Ok(Applied::Written(outcome)) => {
                    if savepoint {
                        sql(&self.conn, "RELEASE append")?;
                    }
                    written += outcome.positions.len();
                    outcomes.push(Ok(outcome));
                }
                Ok(Applied::Replayed(outcome)) => {
                    undo(&mut head)?;
                    outcomes.push(Ok(outcome));
                }
                Err(Failure::Refused(err)) => {
                    undo(&mut head)?;
                    outcomes.push(Err(err));
                }
                Err(Failure::Storage(err)) => return Err(err),
            }
        }
        sql(&self.conn, "COMMIT")?;
        Ok((outcomes, head, written))
    }

    /// Applies one request inside its savepoint.
    ///
    /// A retry (its first id already stored) is recognised where it shows, so that the common case
    /// pays no extra lookup: either its expectation no longer holds (the stream moved on, by the
    /// first attempt) or, with an expectation that still holds, its insert meets the unique index on
    /// event ids. Either way it is then answered from the stored events.
    fn apply(&self, req: &AppendRequest, head: &mut Head, now: i64) -> Result<Applied, Failure> {
        let storage = |e: rusqlite::Error| Failure::Storage(from_sqlite(&self.path, e));
        let current: Option<u64> = self
            .conn
            .prepare_cached(
                "SELECT revision FROM events WHERE stream = ?1 ORDER BY revision DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row([&req.stream], |r| r.get::<_, i64>(0))
                    .optional()
            })
            .map_err(storage)?
            .map(|r| r as u64);
        let accepted = match (req.expected, current) {
            (ExpectedRevision::Any, _) | (ExpectedRevision::NoStream, None) => true,
            (ExpectedRevision::Exact(e), Some(c)) => e == c,
            _ => false,
        };
        if !accepted {
            return match self.stored(&req.events[0].event_id).map_err(storage)? {
                Some(first) => self.replay(req, first).map(Applied::Replayed),
                None => Err(Failure::Refused(StoreError::Conflict {
                    stream: req.stream.clone(),
                    expected: req.expected,
                    actual: current.map_or(ActualRevision::NoStream, ActualRevision::Exact),
                })),
            };
        }
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO events (position, event_id, stream, revision, event_type, schema_version, \
                 recorded_at, actor_person, actor_role, reason, correlation_id, causation_id, payload, \
                 prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(storage)?;
        let mut revision = current.map_or(0, |c| c + 1);
        let mut positions = Vec::with_capacity(req.events.len());
        for event in &req.events {
            let position = head.position + 1;
            let recorded_at = head.recorded_at.max(now);
            let hash = HashInput {
                prev_hash: &head.hash,
                position,
                event_id: &event.event_id,
                stream: &req.stream,
                revision,
                event_type: &event.event_type,
                schema_version: event.schema_version,
                recorded_at_micros: recorded_at,
                actor_person: event.actor.person.as_str(),
                actor_role: event.actor.role.as_str(),
                reason: event.reason.as_deref(),
                correlation_id: &event.correlation_id,
                causation_id: event.causation_id.as_ref(),
                payload: &event.payload,
            }
            .hash();
            let inserted = insert.execute(rusqlite::params![
                position as i64,
                &event.event_id.as_bytes()[..],
                &req.stream,
                revision as i64,
                &event.event_type,
                event.schema_version,
                recorded_at,
                event.actor.person.as_str(),
                event.actor.role.as_str(),
                event.reason.as_deref(),
                &event.correlation_id.as_bytes()[..],
                event.causation_id.as_ref().map(|c| &c.as_bytes()[..]),
                &event.payload,
                &head.hash.0[..],
                &hash.0[..],
            ]);
            if let Err(err) = inserted {
                let reused = matches!(&err, rusqlite::Error::SqliteFailure(e, Some(msg))
                    if e.code == ErrorCode::ConstraintViolation && msg.contains("events.event_id"));
                if !reused {
                    return Err(storage(err));
                }
                // The id is stored already. If it is this append's first id, this may be a retry,
                // judged against the stored events; a later id colliding means the first one was
                // new (this attempt just wrote it), so the ids were reused for something else.
                if positions.is_empty() {
                    let first = self.stored(&event.event_id).map_err(storage)?;
                    if let Some(first) = first {
                        return self.replay(req, first).map(Applied::Replayed);
                    }
                }
                return Err(Failure::Refused(StoreError::IdempotencyMismatch {
                    event_id: event.event_id,
                }));
            }
            *head = Head {
                position,
                hash,
                recorded_at,
            };
            positions.push(position);
            revision += 1;
        }
        Ok(Applied::Written(AppendOutcome {
            positions,
            next_expected: revision - 1,
        }))
    }

    /// The stored copy of an event id, if any.
    fn stored(&self, id: &Uuid) -> rusqlite::Result<Option<StoredEvent>> {
        self.conn
            .prepare_cached(
                "SELECT position, stream, revision, event_type, schema_version, actor_person, \
                 actor_role, reason, correlation_id, causation_id, payload FROM events WHERE event_id = ?1",
            )?
            .query_row([&id.as_bytes()[..]], |r| {
                Ok(StoredEvent {
                    position: r.get::<_, i64>(0)? as u64,
                    stream: r.get(1)?,
                    revision: r.get::<_, i64>(2)? as u64,
                    event_type: r.get(3)?,
                    schema_version: r.get(4)?,
                    actor_person: r.get(5)?,
                    actor_role: r.get(6)?,
                    reason: r.get(7)?,
                    correlation_id: r.get(8)?,
                    causation_id: r.get(9)?,
                    payload: r.get(10)?,
                })
            })
            .optional()
    }

    /// Answers a retry: every id must be stored, in this stream, in this order, with this content, at
    /// the revisions the same expectation would have given; then the first outcome is returned.
    fn replay(&self, req: &AppendRequest, first: StoredEvent) -> Result<AppendOutcome, Failure> {
        let mismatch = |event_id| Failure::Refused(StoreError::IdempotencyMismatch { event_id });
        let base = first.revision;
        let expectation_fits = match req.expected {
            ExpectedRevision::Any => true,
            ExpectedRevision::NoStream => base == 0,
            ExpectedRevision::Exact(e) => e.checked_add(1) == Some(base),
        };
        if !expectation_fits {
            return Err(mismatch(req.events[0].event_id));
        }
        let mut positions = Vec::with_capacity(req.events.len());
        for (i, event) in req.events.iter().enumerate() {
            let stored = if i == 0 {
                Some(first.clone())
            } else {
                self.stored(&event.event_id)
                    .map_err(|e| Failure::Storage(from_sqlite(&self.path, e)))?
            };
            match stored {
                Some(s)
                    if s.stream == req.stream
                        && s.revision == base + i as u64
                        && s.same_as(event) =>
                {
                    positions.push(s.position)
                }
                _ => return Err(mismatch(event.event_id)),
            }
        }
        Ok(AppendOutcome {
            positions,
            next_expected: base + req.events.len() as u64 - 1,
        })
    }
}

/// An event as stored, for comparing a retry with it.
#[derive(Debug, Clone)]
struct StoredEvent {
    position: u64,
    stream: String,
    revision: u64,
    event_type: String,
    schema_version: u32,
    actor_person: String,
    actor_role: String,
    reason: Option<String>,
    correlation_id: Vec<u8>,
    causation_id: Option<Vec<u8>>,
    payload: String,
}

impl StoredEvent {
    fn same_as(&self, event: &PreparedEvent) -> bool {
        self.event_type == event.event_type
            && self.schema_version == event.schema_version
            && self.payload == event.payload
            && self.actor_person == event.actor.person.as_str()
            && self.actor_role == event.actor.role.as_str()
            && self.reason == event.reason
            && self.correlation_id == event.correlation_id.as_bytes()
            && self.causation_id.as_deref()
                == event.causation_id.as_ref().map(|c| &c.as_bytes()[..])
    }
}
