//! The notary and the seal index: how the hash chain is kept when many servers append at once.
//!
//! Nobody can compute an event's `prev_hash` at append time when several servers append to one
//! cluster: the order of `$all` is decided by the leader as the appends arrive. So the chain is
//! built *after* the fact, in `$all` order, by a notary:
//!
//! 1. The notary follows `$all` with a catch-up subscription from its checkpoint. For each ledger
//!    event (one the ledger wrote: not a `$` stream or type, not the seal stream, `ledger: 1` in
//!    its metadata) it assigns the next sequence number `seq` (1, 2, 3, ... without gaps),
//!    computes `hash = SHA-256(canonical encoding with prev_hash, position = seq, ...)` exactly as
//!    the embedded store does, and checks the writer's content digest on the way.
//!    The event's recorded time is decided here too: the server's `created` stamp, raised to the
//!    previous sealed event's time if it is earlier. A cluster's stamps are the leader's wall
//!    clock and can go back (a clock step, a failover to a node whose clock is behind); the sealed
//!    time never does, so the read side, which refuses time going back, keeps folding. The time is
//!    in the seal entry and in the hash, and `verify` recomputes it from the stored stamps.
//! 2. It appends one [`SealRecord`] per batch (up to [`MAX_BATCH`] events) to [`NOTARY_STREAM`],
//!    with the expected revision of the last record it read. That expected revision is the whole
//!    election: every server may run a notary; whoever appends first extends the chain, the others
//!    get a conflict, re-read the seal stream and carry on from there. The chain can never fork.
//! 3. Every adapter keeps a [`SealIndex`]: the seal entries, in order, followed live through a
//!    catch-up subscription of the seal stream. It maps a ledger event to its `seq` and chain
//!    hashes; `seq` is the `position` the port shows.
//!
//! The notary's checkpoint (the `$all` position of the last record it examined, which may be a
//! non-ledger record) is stored in each seal record. On restart it subscribes from there and skips
//! everything at or before it, so a checkpoint that lies past the last event (the record it named
//! was scavenged, or was not an event) does not fail the subscription.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kurrentdb::{
    AppendToStreamOptions, Position, ReadStreamOptions, RecordedEvent, StreamPosition, StreamState,
    SubscribeToAllOptions, SubscribeToStreamOptions,
};
use ledger_schemas::integrity::{Digest, HashInput};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::codec::{self, Kind, NOTARY_STREAM, SEAL_TYPE};
use super::conn::{Conn, Failure};
use crate::store::StoreError;

/// The most events one seal record covers (a record of 1,000 entries is about 150 kB, well under
/// the server's 1 MiB append limit).
pub const MAX_BATCH: usize = 1000;

/// A `$all` position as stored in a seal record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub c: u64,
    pub p: u64,
}

impl From<Position> for Pos {
    fn from(p: Position) -> Self {
        Pos {
            c: p.commit,
            p: p.prepare,
        }
    }
}

impl From<Pos> for Position {
    fn from(p: Pos) -> Self {
        Position {
            commit: p.c,
            prepare: p.p,
        }
    }
}

/// One sealed event: its id, where it is in `$all`, its chain hash and its recorded time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealEntry {
    pub id: Uuid,
    #[serde(flatten)]
    pub at: Pos,
    pub h: Digest,
    /// The recorded time, microseconds since the Unix epoch: the server's stamp, never earlier
    /// than the previous entry's. Absent in records of format 1 (the stamp as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
}

impl SealEntry {
    /// The recorded time of the sealed `event` (the entry's, or the server's stamp for entries of
    /// format 1).
    pub fn recorded_at(
        &self,
        event: &RecordedEvent,
    ) -> Result<chrono::DateTime<chrono::Utc>, String> {
        let micros = match self.t {
            Some(t) => t,
            None => codec::created_micros(event).ok_or_else(|| codec::no_stamp(event))?,
        };
        chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| {
            format!(
                "事件 {} 的时间超出范围 (event {}: time out of range)",
                event.id, event.id
            )
        })
    }
}

/// The recorded time the notary gives an event stamped `created` after one recorded at
/// `previous`: never earlier.
pub fn sealed_time(created: i64, previous: Option<i64>) -> i64 {
    previous.map_or(created, |p| created.max(p))
}

/// The format of the seal records this program writes (2: entries carry their time).
pub const FORMAT: u32 = 2;

/// The data of one seal record: the entries for `first`, `first + 1`, ... and the notary's `$all`
/// checkpoint after them. An entry's `prev_hash` is the hash of the entry before it (the last entry
/// of the previous record; zero for `seq` 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealRecord {
    pub v: u32,
    pub first: u64,
    pub entries: Vec<SealEntry>,
    pub checkpoint: Pos,
}

/// The seal entries known to this adapter, in `seq` order (`entries[i]` has `seq = i + 1`).
#[derive(Debug, Default)]
pub struct SealIndex {
    entries: Vec<SealEntry>,
    by_id: HashMap<Uuid, u64>,
    /// The revision of the last seal record applied.
    applied: Option<u64>,
    checkpoint: Option<Pos>,
    /// The first seal record that does not continue the chain, if any, as (the `first` it claims,
    /// the `seq` that was next, its first event id); `verify` reports it.
    pub broken: Option<(u64, u64, Uuid)>,
}

impl SealIndex {
    /// Number of sealed events (= the last `seq`).
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn applied(&self) -> Option<u64> {
        self.applied
    }

    pub fn checkpoint(&self) -> Option<Pos> {
        self.checkpoint
    }

    /// The entry of `seq` (1-based).
    pub fn entry(&self, seq: u64) -> Option<&SealEntry> {
        self.entries.get(usize::try_from(seq.checked_sub(1)?).ok()?)
    }

    /// The `prev_hash` of `seq`.
    pub fn prev_hash(&self, seq: u64) -> Digest {
        if seq <= 1 {
            Digest::ZERO
        } else {
            self.entry(seq - 1).map_or(Digest::ZERO, |e| e.h)
        }
    }

    /// The recorded time of the last sealed event, if it has one.
    pub fn head_time(&self) -> Option<i64> {
        self.entries.last().and_then(|e| e.t)
    }

    /// The hash of the last sealed event.
    pub fn head_hash(&self) -> Digest {
        self.entries.last().map_or(Digest::ZERO, |e| e.h)
    }

    /// The `seq` of the event at this `$all` position (entries are in `$all` order).
    pub fn seq_at(&self, at: Pos) -> Option<u64> {
        self.entries
            .binary_search_by(|e| e.at.cmp(&at))
            .ok()
            .map(|i| i as u64 + 1)
    }

    /// The `seq` under which an event id was first sealed.
    pub fn seq_of(&self, id: &Uuid) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// Applies the seal record stored at `revision`; records already applied are skipped. Returns
    /// whether anything changed.
    pub fn apply(&mut self, revision: u64, record: &SealRecord) -> bool {
        if self.applied.is_some_and(|a| revision <= a) {
            return false;
        }
        if record.first != self.len() + 1 && self.broken.is_none() {
            // Cannot happen through the notary (its expected revision serialises the records); a
            // record written by hand or altered would do it.
            let id = record.entries.first().map_or(Uuid::nil(), |e| e.id);
            self.broken = Some((record.first, self.len() + 1, id));
        }
        for entry in &record.entries {
            self.entries.push(*entry);
            self.by_id
                .entry(entry.id)
                .or_insert(self.entries.len() as u64);
        }
        self.applied = Some(revision);
        self.checkpoint = Some(record.checkpoint);
        true
    }
}

/// Everything the adapter's parts share.
pub(crate) struct Shared {
    pub(crate) conn: Conn,
    pub(crate) index: RwLock<SealIndex>,
    /// The number of sealed events, for waiters.
    pub(crate) sealed: watch::Sender<u64>,
    /// The longest an append (or a read of a fresh event) waits for its seal.
    pub(crate) seal_timeout: Duration,
}

impl Shared {
    pub fn index(&self) -> std::sync::RwLockReadGuard<'_, SealIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, SealIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a seal record read from the seal stream and wakes the waiters.
    pub fn apply(&self, event: &RecordedEvent) -> Result<(), StoreError> {
        if event.event_type != SEAL_TYPE {
            return Ok(());
        }
        let record: SealRecord =
            serde_json::from_slice(&event.data).map_err(|e| StoreError::Corrupt {
                path: self.conn.url().into(),
                detail: format!(
                    "公证记录 {} 无法解析 (seal record at revision {} does not parse): {e}",
                    event.revision, event.revision
                ),
            })?;
        let len = {
            let mut index = self.index_mut();
            index.apply(event.revision, &record);
            index.len()
        };
        self.sealed.send_if_modified(|n| {
            let changed = *n != len;
            *n = len;
            changed
        });
        Ok(())
    }

    /// Reads the seal stream from where the index stands to its end (so that the index is at least
    /// as current as the moment of the call).
    pub async fn sync(&self) -> Result<(), StoreError> {
        loop {
            let from = self.index().applied().map_or(0, |a| a + 1);
            let page = 500;
            let events = read_stream_raw(
                &self.conn,
                NOTARY_STREAM,
                true,
                StreamPosition::Position(from),
                page,
            )
            .await?;
            for event in &events {
                self.apply(event)?;
            }
            if events.len() < page {
                return Ok(());
            }
        }
    }

    /// Waits until every id is sealed; returns their `seq`s. Times out with `Unavailable`.
    pub async fn wait_sealed(&self, ids: &[Uuid]) -> Result<Vec<u64>, StoreError> {
        let started = Instant::now();
        let mut sealed = self.sealed.subscribe();
        let mut synced = false;
        loop {
            sealed.borrow_and_update();
            {
                let index = self.index();
                let seqs: Option<Vec<u64>> = ids.iter().map(|id| index.seq_of(id)).collect();
                if let Some(seqs) = seqs {
                    return Ok(seqs);
                }
            }
            let elapsed = started.elapsed();
            if elapsed >= self.seal_timeout {
                return Err(StoreError::Unavailable(format!(
                    "{}: 事件已写入, 但公证链在 {:.0} 秒内未封存 (the events are stored, but the notary did not seal them within {:.0} s: is a notary running?); 用相同的事件 ID 重试即可 (retrying with the same event ids is safe)",
                    self.conn.url(),
                    self.seal_timeout.as_secs_f64(),
                    self.seal_timeout.as_secs_f64()
                )));
            }
            // Normally the follower wakes us. Half-way through, look at the seal stream ourselves
            // once, in case the follower is between reconnects.
            if !synced && elapsed >= self.seal_timeout / 2 {
                synced = true;
                let _ = self.sync().await;
                continue;
            }
            let wait = (self.seal_timeout - elapsed).min(Duration::from_millis(200));
            let _ = tokio::time::timeout(wait, sealed.changed()).await;
        }
    }
}

/// Reads up to `max` events of a stream (empty when it does not exist), with retries.
pub(crate) async fn read_stream_raw(
    conn: &Conn,
    stream: &str,
    forwards: bool,
    from: StreamPosition<u64>,
    max: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let options = ReadStreamOptions::default().position(from).max_count(max);
    let options = if forwards {
        options.forwards()
    } else {
        options.backwards()
    };
    conn.run("读取流 (read stream)", |client, _| {
        let options = options.clone();
        async move {
            let mut read = match client.read_stream(stream, &options).await {
                Ok(read) => read,
                Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let mut out = Vec::new();
            loop {
                match read.next().await {
                    Ok(Some(event)) => {
                        if let Some(event) = event.event {
                            out.push(event);
                        }
                    }
                    Ok(None) => return Ok(out),
                    Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
                    Err(e) => return Err(e),
                }
            }
        }
    })
    .await
    .map_err(|f| f.into_store(conn.url()))
}

/// Reads up to `max` records of `$all` forwards from `from` (included), with retries.
pub(crate) async fn read_all_raw(
    conn: &Conn,
    from: StreamPosition<Position>,
    max: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let options = kurrentdb::ReadAllOptions::default()
        .forwards()
        .position(from)
        .max_count(max);
    conn.run("读取全局日志 (read $all)", |client, _| {
        let options = options.clone();
        async move {
            let mut read = client.read_all(&options).await?;
            let mut out = Vec::with_capacity(max.min(4096));
            while let Some(event) = read.next().await? {
                if let Some(event) = event.event {
                    out.push(event);
                }
            }
            Ok(out)
        }
    })
    .await
    .map_err(|f| f.into_store(conn.url()))
}

/// A live, ordered feed of `$all` records strictly after `checkpoint` (everything for `None`),
/// resuming by itself after connection loss: the adapter's catch-up subscription, used by the
/// notary and open to read models that keep a raw `$all` checkpoint.
///
/// Records at or before the checkpoint are skipped rather than trusted to the server: a server may
/// include the record at the start position, and a checkpoint may lie past the last record (its
/// record scavenged, or the position of a non-event record), which must neither fail nor replay.
/// If the server refuses to start at the checkpoint at all, the feed starts from the beginning of
/// `$all` and skips up to the checkpoint (slower, never wrong).
///
/// Errors are reported (the feed then carries on after a backoff); the feed ends when the receiver
/// is dropped.
pub(crate) fn follow_all(
    shared: Arc<Shared>,
    checkpoint: Option<Position>,
) -> mpsc::Receiver<Result<RecordedEvent, StoreError>> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let skip_through = checkpoint;
        let mut resume = checkpoint;
        let mut from_start = false;
        let mut failures = 0u32;
        let mut failing_since: Option<Instant> = None;
        loop {
            let start = match (from_start, resume) {
                (false, Some(p)) => StreamPosition::Position(p),
                _ => StreamPosition::Start,
            };
            let (generation, client) = shared.conn.client();
            let mut sub = client
                .subscribe_to_all(&SubscribeToAllOptions::default().position(start))
                .await;
            loop {
                let event = tokio::select! {
                    event = sub.next() => event,
                    _ = tx.closed() => return,
                };
                match event {
                    Ok(event) => {
                        failures = 0;
                        failing_since = None;
                        let Some(event) = event.event else { continue };
                        if skip_through.is_some_and(|c| before_or_at(event.position, c))
                            || resume.is_some_and(|r| before_or_at(event.position, r))
                        {
                            continue;
                        }
                        resume = Some(event.position);
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        let refused_position = matches!(
                            &error,
                            kurrentdb::Error::Grpc { code, .. }
                                if matches!(code, tonic::Code::InvalidArgument | tonic::Code::OutOfRange | tonic::Code::FailedPrecondition)
                        );
                        if refused_position && !from_start {
                            tracing::warn!(%error, "the server refused the $all checkpoint; following from the start and skipping up to it");
                            from_start = true;
                        } else {
                            shared.conn.reset_after(generation, &error);
                        }
                        failures += 1;
                        let since = *failing_since.get_or_insert_with(Instant::now);
                        let report = if error.is_access_denied() {
                            all_denied(shared.conn.url())
                        } else {
                            StoreError::Unavailable(format!(
                                "{}: 订阅 $all 中断 (the $all subscription dropped): {error}",
                                shared.conn.url()
                            ))
                        };
                        // Reported once it has failed for longer than a call would retry (an
                        // election passes unreported), and at once when access is denied.
                        let report_now =
                            error.is_access_denied() || since.elapsed() >= shared.conn.retry.budget;
                        if report_now && tx.send(Err(report)).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(shared.conn.retry.backoff(failures.saturating_sub(1)))
                            .await;
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The error for a user that may not read `$all`, which the notary and every read of the ledger's
/// log need.
pub(crate) fn all_denied(url: &str) -> StoreError {
    StoreError::Io {
        path: url.into(),
        detail: "连接串中的用户名或密码错误, 或该用户无权读取 $all (wrong user name or password in the connection string, or the user may not read $all): 账本的公证与全局读取需要读 $all (the ledger's notary and its log reads need to read $all); 请将该用户加入 $admins, 或在 $$$all 的元数据中授予其读权限 ($r) (add the user to $admins, or grant it read ($r) in the metadata of $$$all); 见 README 的 KurrentDB 一节 (see the README's KurrentDB section)".into(),
    }
}

fn before_or_at(p: Position, checkpoint: Position) -> bool {
    (p.commit, p.prepare) <= (checkpoint.commit, checkpoint.prepare)
}

/// Follows the seal stream live and applies each record to the index, reconnecting forever with a
/// capped backoff. Runs for as long as the store is open.
pub(crate) async fn follow_seals(shared: Arc<Shared>) {
    let mut failures = 0u32;
    loop {
        let from = match shared.index().applied() {
            Some(r) => StreamPosition::Position(r),
            None => StreamPosition::Start,
        };
        let (generation, client) = shared.conn.client();
        let mut sub = client
            .subscribe_to_stream(
                NOTARY_STREAM,
                &SubscribeToStreamOptions::default().start_from(from),
            )
            .await;
        loop {
            match sub.next().await {
                Ok(event) => {
                    failures = 0;
                    if let Some(event) = event.event
                        && let Err(e) = shared.apply(&event)
                    {
                        tracing::error!(error = %e, "a seal record does not parse");
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "seal follower lost its subscription");
                    shared.conn.reset_after(generation, &error);
                    break;
                }
            }
        }
        failures += 1;
        tokio::time::sleep(shared.conn.retry.backoff(failures.min(8))).await;
    }
}

/// Runs the notary for as long as the store is open: rounds of [`notary_round`], with a capped
/// backoff after failures.
pub(crate) async fn run_notary(shared: Arc<Shared>) {
    let mut failures = 0u32;
    loop {
        match notary_round(&shared).await {
            Ok(()) => failures = 0,
            Err(error) => {
                failures += 1;
                tracing::debug!(%error, "notary round failed");
                tokio::time::sleep(shared.conn.retry.backoff(failures.min(8))).await;
            }
        }
    }
}

/// One round: catch up with the seal stream, follow `$all` from the checkpoint and seal batches
/// until another notary gets ahead (`Ok`, to start over from its records) or the connection fails.
async fn notary_round(shared: &Arc<Shared>) -> Result<(), StoreError> {
    shared.sync().await?;
    let (mut next_seq, mut prev, mut last_time, mut expected, checkpoint) = {
        let index = shared.index();
        (
            index.len() + 1,
            index.head_hash(),
            index.head_time(),
            index.applied(),
            index.checkpoint(),
        )
    };
    let mut feed = follow_all(shared.clone(), checkpoint.map(Position::from));
    loop {
        let Some(first) = feed.recv().await else {
            return Ok(());
        };
        let mut batch = vec![first?];
        while batch.len() < MAX_BATCH {
            match feed.try_recv() {
                Ok(event) => batch.push(event?),
                Err(_) => break,
            }
        }
        let mut entries = Vec::new();
        let mut last_seen = None;
        for event in &batch {
            last_seen = Some(event.position);
            let Kind::Ledger(meta) = codec::classify(event) else {
                continue;
            };
            let seq = next_seq + entries.len() as u64;
            let Some(created) = codec::created_micros(event) else {
                tracing::error!(event_id = %event.id, "not sealing a ledger event without a server stamp");
                continue;
            };
            let t = sealed_time(created, last_time);
            let Some(time) = chrono::DateTime::from_timestamp_micros(t) else {
                tracing::error!(event_id = %event.id, "not sealing a ledger event whose stamp is out of range");
                continue;
            };
            let env = match codec::envelope(event, *meta, seq, prev, Digest::ZERO, time) {
                Ok(env) => env,
                Err(why) => {
                    // Marked as a ledger event but not readable as one: sealing it would put an
                    // event into the chain that no reader can show. Leave it out, loudly.
                    tracing::error!(event_id = %event.id, %why, "not sealing an unreadable ledger event");
                    continue;
                }
            };
            let content = codec::envelope_content_digest(&env);
            let meta_hash = serde_json::from_slice::<codec::LedgerMeta>(&event.custom_metadata)
                .map(|m| m.content_hash)
                .unwrap_or(Digest::ZERO);
            if content != meta_hash {
                tracing::error!(event_id = %event.id, "an event's content does not match the digest its writer recorded; sealing what is stored, `verify` will report it");
            }
            let hash = HashInput::of(&env).hash();
            entries.push(SealEntry {
                id: event.id,
                at: event.position.into(),
                h: hash,
                t: Some(t),
            });
            prev = hash;
            last_time = Some(t);
        }
        if entries.is_empty() {
            continue;
        }
        let record = SealRecord {
            v: FORMAT,
            first: next_seq,
            entries,
            checkpoint: last_seen.expect("a batch is never empty").into(),
        };
        let count = record.entries.len() as u64;
        match append_seal(shared, expected, &record).await? {
            Some(revision) => {
                {
                    let mut index = shared.index_mut();
                    index.apply(revision, &record);
                }
                let len = shared.index().len();
                shared.sealed.send_replace(len);
                expected = Some(revision);
                next_seq += count;
            }
            // Another notary sealed first: start over from its records.
            None => return Ok(()),
        }
    }
}

/// Appends a seal record after `expected`; `Ok(None)` when another notary got there first.
async fn append_seal(
    shared: &Shared,
    expected: Option<u64>,
    record: &SealRecord,
) -> Result<Option<u64>, StoreError> {
    let state = match expected {
        Some(r) => StreamState::StreamRevision(r),
        None => StreamState::NoStream,
    };
    let options = AppendToStreamOptions::default().stream_state(state);
    // One id for every attempt: a retry after a lost acknowledgement is then recognised by the
    // server as the same write.
    let id = Uuid::now_v7();
    let data = kurrentdb::EventData::json(SEAL_TYPE, record)
        .map_err(|e| StoreError::InvalidAppend(format!("seal record: {e}")))?
        .id(id);
    let result = shared
        .conn
        .run("写入公证记录 (append a seal record)", |client, _| {
            let (options, data) = (options.clone(), data.clone());
            async move { client.append_to_stream(NOTARY_STREAM, &options, data).await }
        })
        .await;
    match result {
        Ok(written) => Ok(Some(written.next_expected_version)),
        Err(Failure::Refused(kurrentdb::Error::WrongExpectedVersion { .. })) => Ok(None),
        Err(other) => Err(other.into_store(shared.conn.url())),
    }
}
