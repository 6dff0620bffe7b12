//! The EventStoreDB / KurrentDB backend: the event-store port over the official `kurrentdb` client,
//! for deployments where several application servers share one cluster.
//!
//! Selected by a connection string (`kurrentdb://host:2113?tls=false`, `esdb://…`, `kurrent://…`,
//! and their `+discover` forms for clusters); see [`crate::store::any::open_store`].
//!
//! # Mapping
//!
//! | port / envelope          | KurrentDB                                                                 |
//! |--------------------------|---------------------------------------------------------------------------|
//! | stream `{category}-{id}` | the same stream name; one category per aggregate kind, so the server's `$ce-{category}` projections work. `$…` names and `ledger-notary` are refused |
//! | event type               | the event type (`ScoreRecorded`), so `$et-` projections work               |
//! | payload                  | the event data, `application/json`: the canonical JSON bytes, stored as they are hashed |
//! | schema version, actor, role, reason, correlation and causation ids | the custom metadata, JSON: `{"ledger":1, "schemaVersion", "actor":{"person","role"}, "reason", "$correlationId", "$causationId", "contentHash"}` (KurrentDB's own names for correlation and causation, so `$bc-` works). `ledger: 1` marks the ledger's events: other records in the database are not part of the ledger's log |
//! | event id                 | the event id. Idempotent retry rests on the server's own check (same ids at the expected revision: acknowledged, not written again) plus the seal index (an id already sealed is answered from the record, never written twice); see [`KurrentStore`]'s `append` |
//! | expected revision        | `Any` → any, `NoStream` → no stream, `Exact(r)` → stream revision `r`; the server's wrong-expected-version answer becomes [`StoreError::Conflict`] with the actual revision, exactly as the embedded store reports it |
//! | revision                 | the stream revision (0-based, gapless per stream, decided by the server)   |
//! | recorded-at              | the **sealed time**: the server's `created` stamp (microseconds), raised to the previous sealed event's time when the leader's clock went back; kept in the seal entry and covered by the hash (never the client's clock) |
//! | `position`               | the event's **seal sequence number**: 1, 2, 3, … in `$all` order, without gaps, assigned by the notary (see [`seal`]). The `$all` commit/prepare position is kept in the seal entry, not shown; the port's positions stay gapless as on the embedded store, so the same chain verifier works |
//! | `prev_hash`, `hash`      | from the seal entry: the same SHA-256 over the same canonical encoding as the embedded store, with `position` = the seal sequence number |
//!
//! # Why a notary (the design, weighed in issue 19)
//!
//! Three designs give the port its gapless, hash-chained order on KurrentDB:
//!
//! - **One ledger stream written with an expected revision** (every aggregate's events in one
//!   stream): order, gapless positions and a chain computed at write time, atomic multi-stream
//!   decisions (one append), exact idempotence after a failover (the server's own check for an
//!   expected revision), no `$all` reads. But every writer of the cluster contends on that one
//!   stream (any other server's write is a conflict to re-check and retry), aggregate streams no
//!   longer exist on the server (stream reads become look-ups through an index of the whole log that
//!   every adapter must build; `$ce-`/`$et-` projections and per-stream ACLs go), the recorded time
//!   becomes the writer's clock, and stored data changes shape.
//! - **The server's multi-stream append (25.1+)**: atomic across streams, but the official Rust
//!   client in `Cargo.lock` (`kurrentdb` 1.2.0) has no call for it, servers before 25.1 lack it, and
//!   it orders nothing beyond one write: the chain would still need a notary.
//! - **The notary (kept)**: works with every server since 21.10 and the client as it is; aggregate
//!   streams stay real streams whose expected revisions the server checks (no global contention);
//!   the chain is built after the fact in `$all` order by whichever notary wins the seal stream's
//!   expected revision. Its costs: an append waits for its seal (milliseconds), the user must read
//!   `$all` (checked at start-up), and a decision that touches two streams is two appends.
//!
//! The notary is kept: it is sound against what a cluster does once the sealed time never goes
//! back, repeats are checked against the seal's hash, and "not leader" redirects are followed (all
//! done here). Decisions that touch two streams are **not** atomic on this backend: nothing in the
//! client makes two appends one. The embedded store appends a decision's streams one after the
//! other too (`app::Ledger::append_decision`), so both backends behave alike: each stream's part is
//! valid on its own, and what was committed is folded before anyone decides again. When the
//! official client offers the multi-stream append, it can make those appends one while the notary
//! keeps the order.
//!
//! # Consequences of sealing
//!
//! An event belongs to the ledger's global log once it is sealed. So `append` returns once its
//! events are sealed (normally within milliseconds), `read_all`, `head` and `subscribe_all` show
//! sealed events only, and a stream read waits (briefly) for an event written a moment ago to be
//! sealed. If no notary runs anywhere, appends are still stored but answer `Unavailable` after the
//! seal timeout; a retry with the same ids is safe.
//!
//! # Failures
//!
//! Every call retries transient failures (node restarting, connection lost, leader moved) for the
//! [`RetryPolicy`]'s time budget (20 s, longer than an election; `ledgerRetrySecs=N` in the
//! connection string) and then answers [`StoreError::Unavailable`]. A "not leader" answer is
//! followed by the client itself and never rebuilds it from the connection string. A user who may
//! not read `$all` is refused at connect time with a message saying so. A retried append sends the
//! same event ids with the same expectation, so it is stored at most once: for `NoStream` and
//! `Exact` the server itself recognises the repeat; for `Any`, whose server-side check relies on a
//! cache that a restart empties, the adapter first looks at the stream's tail for the ids before it
//! sends again. An append is acknowledged only after the server acknowledged it and the notary
//! sealed it.

mod codec;
pub(crate) mod conn;
pub mod seal;
mod verify;

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_core::Stream;
use kurrentdb::{
    AppendToStreamOptions, CurrentRevision, Position, RecordedEvent, StreamPosition, StreamState,
};
use ledger_schemas::integrity::Digest;
use ledger_schemas::{Envelope, ProposedEvent};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use codec::{LedgerMeta, NOTARY_STREAM, SEAL_TYPE};
pub use conn::RetryPolicy;
use conn::{Conn, Failure};
use seal::{Pos, SealIndex, Shared};

use crate::store::{
    ActualRevision, AppendOutcome, ChainReport, Direction, EventStore, ExpectedRevision, Progress,
    ReadFrom, StoreError, Subscription,
};

/// How the adapter behaves.
#[derive(Debug, Clone)]
pub struct KurrentOptions {
    /// Run a notary in this process (default). Every server may: they take turns safely.
    pub notary: bool,
    /// How long an append waits for its events to be sealed before it answers `Unavailable`.
    pub seal_timeout: Duration,
    /// Retries of each call.
    pub retry: RetryPolicy,
}

impl Default for KurrentOptions {
    fn default() -> Self {
        KurrentOptions {
            notary: true,
            seal_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// Aborts the background tasks when the last handle of the store goes.
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// The KurrentDB event store. Cheap to clone; the background tasks (seal follower, notary) stop
/// when the last clone is dropped.
#[derive(Clone)]
pub struct KurrentStore {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for KurrentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KurrentStore")
            .field("url", &self.shared.conn.url())
            .finish()
    }
}

/// Whether a store spec names a KurrentDB/EventStoreDB cluster rather than a file.
pub fn is_connection_string(spec: &str) -> bool {
    const SCHEMES: [&str; 8] = [
        "kurrentdb://",
        "kurrentdb+discover://",
        "kurrent://",
        "kurrent+discover://",
        "esdb://",
        "esdb+discover://",
        "kdb://",
        "kdb+discover://",
    ];
    SCHEMES.iter().any(|s| spec.starts_with(s))
}

impl KurrentStore {
    /// Connects with default options.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, KurrentOptions::default()).await
    }

    /// Connects, reads the seal stream (so an unreachable cluster is reported here, as
    /// `Unavailable`, after the retry policy), and starts the background tasks.
    pub async fn connect_with(url: &str, options: KurrentOptions) -> Result<Self, StoreError> {
        let conn = Conn::new(url, options.retry)?;
        probe_all(&conn).await?;
        let shared = Arc::new(Shared {
            conn,
            index: RwLock::new(SealIndex::default()),
            sealed: watch::channel(0).0,
            seal_timeout: options.seal_timeout,
        });
        shared.sync().await?;
        let mut tasks = vec![tokio::spawn(seal::follow_seals(shared.clone()))];
        if options.notary {
            tasks.push(tokio::spawn(seal::run_notary(shared.clone())));
        }
        Ok(KurrentStore {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        })
    }

    /// The connection string, without any password.
    pub fn url(&self) -> &str {
        self.shared.conn.url()
    }

    /// A catch-up subscription of the raw `$all` records strictly after `checkpoint`, resuming by
    /// itself after connection loss, for read models that keep a `$all` position as checkpoint.
    /// A checkpoint past the last record is not an error: records at or before it are skipped
    /// (see the [`seal`] module).
    pub fn follow_all(
        &self,
        checkpoint: Option<Position>,
    ) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
        let rx = seal::follow_all(self.shared.clone(), checkpoint);
        futures_util::stream::unfold(rx, |mut rx| async move {
            let item = rx.recv().await?;
            Some((item, rx))
        })
    }

    /// The `$all` position of a sealed event (`seq` = its port position).
    pub fn all_position(&self, seq: u64) -> Option<Position> {
        self.shared.index().entry(seq).map(|e| e.at.into())
    }

    /// Sends the append (with retries); returns the stream's revision after it. A repeat that
    /// the server recognised by its ids is answered like a fresh write (on a real server with the
    /// original write's position), so the caller checks what was sealed, not how it was answered.
    async fn write(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        prepared: &[codec::Prepared],
    ) -> Result<u64, StoreError> {
        let state = match expected {
            ExpectedRevision::Any => StreamState::Any,
            ExpectedRevision::NoStream => StreamState::NoStream,
            ExpectedRevision::Exact(r) => StreamState::StreamRevision(r),
        };
        let options = AppendToStreamOptions::default().stream_state(state);
        let data: Vec<kurrentdb::EventData> = prepared.iter().map(|p| p.to_event_data()).collect();
        let first = prepared[0].event_id;
        let count = prepared.len() as u64;
        let since = chrono::Utc::now();
        let result = self
            .shared
            .conn
            .run("追加 (append)", |client, attempt| {
                let (options, data) = (options.clone(), data.clone());
                async move {
                    // An earlier attempt of an `Any` append may have been stored without our
                    // hearing of it; the server's own check for `Any` may have been lost in a
                    // restart. Look before sending again.
                    if attempt > 0
                        && expected == ExpectedRevision::Any
                        && let Some(revision) = find_landed(&client, stream, first, since).await?
                    {
                        return Ok(revision + count - 1);
                    }
                    let written = client.append_to_stream(stream, &options, data).await?;
                    Ok(written.next_expected_version)
                }
            })
            .await;
        match result {
            Ok(revision) => Ok(revision),
            Err(Failure::Refused(kurrentdb::Error::WrongExpectedVersion { current, .. })) => {
                let actual = match current {
                    CurrentRevision::Current(r) => ActualRevision::Exact(r),
                    CurrentRevision::NoStream => ActualRevision::NoStream,
                };
                Err(self.conflict(stream, expected, actual, prepared).await)
            }
            Err(other) => Err(other.into_store(self.url())),
        }
    }

    /// Makes sure that what was sealed under `positions` is exactly `prepared`, stored in `stream`
    /// from revision `first`. The server acknowledges a repeat by its ids alone, so an append
    /// reusing ids that another append stored a moment ago (not yet in our index) would otherwise
    /// be answered as if its own content were stored. The seal entry's hash covers the content,
    /// the revision and the sealed time: one hash per event, no read.
    async fn check_sealed(
        &self,
        stream: &str,
        first: u64,
        prepared: &[codec::Prepared],
        positions: &[u64],
    ) -> Result<(), StoreError> {
        let mut legacy = false;
        {
            let index = self.shared.index();
            for (i, (p, &seq)) in prepared.iter().zip(positions).enumerate() {
                let Some(entry) = index.entry(seq) else {
                    return Err(StoreError::IdempotencyMismatch {
                        event_id: p.event_id,
                    });
                };
                let Some(t) = entry.t else {
                    legacy = true;
                    break;
                };
                let prev = index.prev_hash(seq);
                let stamped = codec::Stamped {
                    prev_hash: &prev,
                    position: seq,
                    revision: first + i as u64,
                    recorded_at_micros: t,
                };
                if p.chain_hash(stream, stamped) != entry.h {
                    return Err(StoreError::IdempotencyMismatch {
                        event_id: p.event_id,
                    });
                }
            }
        }
        if legacy {
            // Sealed by a notary of format 1 (no time in the entry): compare what is stored.
            let stored = self
                .read_stream(
                    stream,
                    Direction::Forwards,
                    ReadFrom::At(first),
                    prepared.len(),
                )
                .await?;
            for (i, p) in prepared.iter().enumerate() {
                if !stored.get(i).is_some_and(|env| p.matches(stream, env)) {
                    return Err(StoreError::IdempotencyMismatch {
                        event_id: p.event_id,
                    });
                }
            }
        }
        Ok(())
    }

    /// The error for a wrong expected revision. The server answers that way also when *some* of
    /// the ids are already stored right after the expected revision (a partial repeat): that is a
    /// reuse of ids, not a race.
    async fn conflict(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        actual: ActualRevision,
        prepared: &[codec::Prepared],
    ) -> StoreError {
        let base = match expected {
            ExpectedRevision::NoStream => Some(0),
            ExpectedRevision::Exact(r) => r.checked_add(1),
            ExpectedRevision::Any => None,
        };
        if let (Some(base), ActualRevision::Exact(current)) = (base, actual)
            && current >= base
            && let Ok(stored) = seal::read_stream_raw(
                &self.shared.conn,
                stream,
                true,
                StreamPosition::Position(base),
                prepared.len(),
            )
            .await
            && let Some(reused) = prepared
                .iter()
                .find(|p| stored.iter().any(|s| s.id == p.event_id))
        {
            return StoreError::IdempotencyMismatch {
                event_id: reused.event_id,
            };
        }
        StoreError::Conflict {
            stream: stream.to_owned(),
            expected,
            actual,
        }
    }

    /// Answers an append some of whose ids are already sealed: the same write again gets the first
    /// outcome; anything else is a reuse of ids and is refused. Nothing is written either way.
    async fn replay(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        prepared: &[codec::Prepared],
        known: &[Option<u64>],
    ) -> Result<AppendOutcome, StoreError> {
        let mismatch = |event_id| Err(StoreError::IdempotencyMismatch { event_id });
        let Some(first_seq) = known[0] else {
            let reused = prepared
                .iter()
                .zip(known)
                .find(|(_, k)| k.is_some())
                .map(|(p, _)| p.event_id)
                .expect("some id is known");
            return mismatch(reused);
        };
        let first = fetch(&self.shared, first_seq, first_seq).await?;
        let Some(first) = first.into_iter().next() else {
            return mismatch(prepared[0].event_id);
        };
        let base = first.revision;
        let fits = match expected {
            ExpectedRevision::Any => true,
            ExpectedRevision::NoStream => base == 0,
            ExpectedRevision::Exact(e) => e.checked_add(1) == Some(base),
        };
        if first.stream != stream || !fits {
            return mismatch(prepared[0].event_id);
        }
        let stored = self
            .read_stream(
                stream,
                Direction::Forwards,
                ReadFrom::At(base),
                prepared.len(),
            )
            .await?;
        for (i, p) in prepared.iter().enumerate() {
            match stored.get(i) {
                Some(env) if p.matches(stream, env) => {}
                _ => return mismatch(p.event_id),
            }
        }
        Ok(AppendOutcome {
            positions: stored.iter().map(|e| e.position).collect(),
            next_expected: base + prepared.len() as u64 - 1,
        })
    }
}

/// Reads one record of `$all`, so that a user who may not (only `$admins` may, unless the
/// `$$$all` ACL says otherwise) is told so at start-up in plain words, instead of every append
/// timing out later because no notary can follow `$all`. Wrong credentials are reported here too.
async fn probe_all(conn: &Conn) -> Result<(), StoreError> {
    let options = kurrentdb::ReadAllOptions::default().max_count(1);
    let probe = conn
        .run("读取全局日志 (read $all)", |client, _| {
            let options = options.clone();
            async move {
                let mut read = client.read_all(&options).await?;
                read.next().await?;
                Ok(())
            }
        })
        .await;
    match probe {
        Ok(()) => Ok(()),
        Err(Failure::Refused(kurrentdb::Error::AccessDenied)) => Err(seal::all_denied(conn.url())),
        Err(other) => Err(other.into_store(conn.url())),
    }
}

/// Looks for `first` near the end of `stream`, among events the server stamped after `since`
/// (less a margin for clock skew): the revision it was stored at, if it was.
async fn find_landed(
    client: &kurrentdb::Client,
    stream: &str,
    first: Uuid,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<u64>, kurrentdb::Error> {
    const PAGE: usize = 64;
    const PAGES: usize = 16;
    let horizon = since - chrono::Duration::seconds(30);
    let mut from = StreamPosition::End;
    for _ in 0..PAGES {
        let options = kurrentdb::ReadStreamOptions::default()
            .backwards()
            .position(from)
            .max_count(PAGE);
        let mut read = match client.read_stream(stream, &options).await {
            Ok(read) => read,
            Err(kurrentdb::Error::ResourceNotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut last = None;
        loop {
            let event = match read.next().await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(kurrentdb::Error::ResourceNotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
            let Some(event) = event.event else { continue };
            if event.id == first {
                return Ok(Some(event.revision));
            }
            if codec::recorded_at(&event).is_some_and(|at| at < horizon) {
                return Ok(None);
            }
            last = Some(event.revision);
        }
        match last {
            Some(r) if r > 0 => from = StreamPosition::Position(r - 1),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

fn corrupt(shared: &Shared, detail: String) -> StoreError {
    StoreError::Corrupt {
        path: shared.conn.url().into(),
        detail,
    }
}

/// The envelopes of the sealed events `a..=b` (clamped to what is sealed), in order, read from
/// `$all` in pages.
async fn fetch(shared: &Shared, a: u64, b: u64) -> Result<Vec<Envelope>, StoreError> {
    let (entries, start) = {
        let index = shared.index();
        let b = b.min(index.len());
        if a == 0 || a > b {
            return Ok(Vec::new());
        }
        let entries: Vec<(u64, seal::SealEntry, Digest)> = (a..=b)
            .map(|seq| {
                (
                    seq,
                    *index.entry(seq).expect("in range"),
                    index.prev_hash(seq),
                )
            })
            .collect();
        // Start at the sealed event before the first one wanted: a position the server gave us,
        // so it is a record boundary, and the wanted event is after it whether or not a read
        // includes its start.
        let start = match a {
            1 => StreamPosition::Start,
            _ => StreamPosition::Position(index.entry(a - 1).expect("sealed").at.into()),
        };
        (entries, start)
    };
    let mut out = Vec::with_capacity(entries.len());
    let mut from = start;
    let mut k = 0;
    while k < entries.len() {
        let want = (entries.len() - k + 64).min(4096);
        let page = seal::read_all_raw(&shared.conn, from, want).await?;
        let mut progressed = false;
        for event in &page {
            let Some(&(seq, entry, prev)) = entries.get(k) else {
                break;
            };
            let at = Pos::from(event.position);
            if at < entry.at {
                continue;
            }
            if at > entry.at {
                break;
            }
            let codec::Kind::Ledger(meta) = codec::classify(event) else {
                return Err(corrupt(
                    shared,
                    format!(
                        "已封存的第 {seq} 号事件 {} 不再是账本事件 (sealed event {seq}, id {}, is no longer readable as a ledger event)",
                        entry.id, entry.id
                    ),
                ));
            };
            let env = entry
                .recorded_at(event)
                .and_then(|at| codec::envelope(event, *meta, seq, prev, entry.h, at))
                .map_err(|why| corrupt(shared, why))?;
            out.push(env);
            k += 1;
            progressed = true;
        }
        let last = page.last().map(|e| e.position);
        let stuck = match (last, from) {
            (None, _) => true,
            (Some(last), StreamPosition::Position(p)) => !progressed && last == p,
            _ => false,
        };
        if k < entries.len() {
            let (seq, entry, _) = entries[k];
            let missing = stuck || page.iter().any(|e| Pos::from(e.position) > entry.at);
            if missing {
                return Err(corrupt(
                    shared,
                    format!(
                        "已封存的第 {seq} 号事件 {} 不在 $all 中 (sealed event {seq}, id {}, is missing from $all): 被删除或清理 (deleted or scavenged)",
                        entry.id, entry.id
                    ),
                ));
            }
        }
        if let Some(last) = last {
            from = StreamPosition::Position(last);
        }
    }
    Ok(out)
}

impl EventStore for KurrentStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: Vec<ProposedEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        let prepared = codec::prepare(stream, events)?;
        let known: Vec<Option<u64>> = {
            let index = self.shared.index();
            prepared.iter().map(|p| index.seq_of(&p.event_id)).collect()
        };
        if known.iter().any(Option::is_some) {
            return self.replay(stream, expected, &prepared, &known).await;
        }
        let next_expected = self.write(stream, expected, &prepared).await?;
        let ids: Vec<Uuid> = prepared.iter().map(|p| p.event_id).collect();
        let positions = self.shared.wait_sealed(&ids).await?;
        let first = next_expected + 1 - prepared.len() as u64;
        self.check_sealed(stream, first, &prepared, &positions)
            .await?;
        Ok(AppendOutcome {
            positions,
            next_expected,
        })
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        let forwards = direction == Direction::Forwards;
        let from = match from {
            ReadFrom::Edge if forwards => StreamPosition::Start,
            ReadFrom::Edge => StreamPosition::End,
            ReadFrom::At(r) => StreamPosition::Position(r),
        };
        let events = seal::read_stream_raw(&self.shared.conn, stream, forwards, from, max).await?;
        let unsealed: Vec<Uuid> = {
            let index = self.shared.index();
            events
                .iter()
                .filter(|e| index.seq_at(e.position.into()).is_none())
                .map(|e| e.id)
                .collect()
        };
        if !unsealed.is_empty() {
            // Written a moment ago (here or by another server): wait for the notary, so that the
            // envelope carries its place in the chain like every other.
            self.shared.wait_sealed(&unsealed).await?;
        }
        let index = self.shared.index();
        events
            .iter()
            .map(|event| {
                let codec::Kind::Ledger(meta) = codec::classify(event) else {
                    return Err(corrupt(
                        &self.shared,
                        format!(
                            "流 {stream} 中的事件 {} 不是账本事件 (event {} in stream {stream} was not written by the ledger)",
                            event.id, event.id
                        ),
                    ));
                };
                let seq = index.seq_at(event.position.into()).ok_or_else(|| {
                    corrupt(
                        &self.shared,
                        format!(
                            "事件 {} 未被封存 (event {} is not sealed: its id was sealed at another place)",
                            event.id, event.id
                        ),
                    )
                })?;
                let entry = index.entry(seq).expect("sealed");
                entry
                    .recorded_at(event)
                    .and_then(|at| {
                        codec::envelope(event, *meta, seq, index.prev_hash(seq), entry.h, at)
                    })
                    .map_err(|why| corrupt(&self.shared, why))
            })
            .collect()
    }

    async fn read_all(
        &self,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        self.shared.sync().await?;
        let len = self.shared.index().len();
        if max == 0 || len == 0 {
            return Ok(Vec::new());
        }
        let span = max as u64 - 1;
        match direction {
            Direction::Forwards => {
                let a = match from {
                    ReadFrom::Edge => 1,
                    ReadFrom::At(p) => p.max(1),
                };
                fetch(&self.shared, a, a.saturating_add(span).min(len)).await
            }
            Direction::Backwards => {
                let b = match from {
                    ReadFrom::Edge => len,
                    ReadFrom::At(p) => p.min(len),
                };
                if b == 0 {
                    return Ok(Vec::new());
                }
                let a = b.saturating_sub(span).max(1);
                let mut events = fetch(&self.shared, a, b).await?;
                events.reverse();
                Ok(events)
            }
        }
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.shared.sync().await?;
        Ok(self.shared.index().len())
    }

    fn subscribe_all(&self, after: u64) -> Subscription {
        struct State {
            shared: Arc<Shared>,
            // Keeps the background tasks alive while a subscriber listens.
            _tasks: Arc<Tasks>,
            next: u64,
            buffered: VecDeque<Envelope>,
            sealed: watch::Receiver<u64>,
            failures: u32,
        }
        let state = State {
            sealed: self.shared.sealed.subscribe(),
            shared: self.shared.clone(),
            _tasks: self._tasks.clone(),
            next: after.saturating_add(1),
            buffered: VecDeque::new(),
            failures: 0,
        };
        Box::pin(futures_util::stream::unfold(
            state,
            |mut state| async move {
                loop {
                    if let Some(event) = state.buffered.pop_front() {
                        return Some((Ok(event), state));
                    }
                    state.sealed.borrow_and_update();
                    let len = state.shared.index().len();
                    if len >= state.next {
                        let to = len.min(state.next + 511);
                        match fetch(&state.shared, state.next, to).await {
                            Ok(events) => {
                                state.failures = 0;
                                if let Some(last) = events.last() {
                                    state.next = last.position + 1;
                                }
                                state.buffered.extend(events);
                                continue;
                            }
                            Err(error) => {
                                state.failures += 1;
                                let pause = state.shared.conn.retry.backoff(state.failures.min(8));
                                tokio::time::sleep(pause).await;
                                return Some((Err(error), state));
                            }
                        }
                    }
                    if state.sealed.changed().await.is_err() {
                        return None;
                    }
                }
            },
        ))
    }

    async fn verify(&self, progress: Progress) -> Result<ChainReport, StoreError> {
        verify::verify(&self.shared, progress).await
    }
}
