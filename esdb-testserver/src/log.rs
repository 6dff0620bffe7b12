//! The in-memory transaction log and its EventStoreDB rules: expected-version checks with the
//! server's own idempotence, stream and `$all` reads, and the positions subscriptions wait on.
//!
//! No gRPC here: [`crate::service`] translates requests into calls on [`Log`] and results back into
//! messages. The rules follow EventStoreDB's commit check (`IndexWriter.CheckCommit` in the server):
//!
//! - expected `Exact(r)` / `NoStream` (= -1) equal to the stream's current version: write;
//! - expected version *greater* than the current one: wrong expected version;
//! - expected version *smaller* than the current one: if the events already stored at
//!   `expected + 1 ..` carry the same ids in the same order, the append is an idempotent retry and
//!   is acknowledged without writing, with the position of the original write's last event (the
//!   server reads it back, `IdempotentLogPosition`); if the first id differs, wrong expected version; if only some
//!   match, "corrupted idempotency", which the server also answers as wrong expected version;
//! - expected `Any`: idempotent when the first id is found in a bounded in-memory cache of recently
//!   committed ids for the same stream (and the rest follow it), else write. Like the real server's
//!   cache, it is empty after a restart, so an `Any` retry across a restart writes again: the adapter
//!   has to cope with that, and the fault test checks that it does.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use uuid::Uuid;

/// One stored event, as the server keeps it.
#[derive(Debug, Clone)]
pub struct Record {
    pub stream: String,
    pub revision: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub content_type: String,
    /// 100 ns ticks since the Unix epoch, stamped by the server (never by the client).
    pub created_ticks: i64,
    pub custom_metadata: Vec<u8>,
    pub data: Vec<u8>,
    /// Commit and prepare position are equal for single-transaction appends, as on the real server.
    pub position: u64,
}

/// What the append asked the stream to look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Any,
    NoStream,
    StreamExists,
    Exact(u64),
}

/// A proposed event, validated.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub event_id: Uuid,
    pub event_type: String,
    pub content_type: String,
    pub custom_metadata: Vec<u8>,
    pub data: Vec<u8>,
}

/// The outcome of an append, before it becomes a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendResult {
    /// Written, or acknowledged as an idempotent retry: then, as on the real server, `position`
    /// is that of the last event of the original write (`None` only for an empty append).
    Success {
        current: Option<u64>,
        position: Option<u64>,
    },
    WrongExpectedVersion {
        current: Option<u64>,
        expected: Expected,
    },
}

/// Where a read or subscription of `$all` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllFrom {
    Start,
    End,
    Position(u64),
}

/// Where a read or subscription of a stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevFrom {
    Start,
    End,
    Revision(u64),
}

#[derive(Debug, Default)]
struct StreamState {
    /// The last revision ever written, kept even when a scavenge removed the events.
    last: Option<u64>,
    /// revision -> position of the events still stored.
    events: BTreeMap<u64, u64>,
}

/// How many committed ids the `Any` idempotence cache remembers (the real server's default cache is
/// of the same order).
const COMMIT_CACHE: usize = 100_000;

/// The whole database of one test server.
#[derive(Debug)]
pub struct Log {
    all: BTreeMap<u64, Arc<Record>>,
    streams: HashMap<String, StreamState>,
    next_position: u64,
    /// Added to the host clock for every stamp (negative after [`Log::step_clock_back`]).
    clock_offset_ticks: i64,
    commit_cache: HashMap<Uuid, (String, u64)>,
    commit_order: VecDeque<Uuid>,
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

impl Log {
    /// A fresh database holding, like a fresh EventStoreDB node, one system event before any user
    /// event (so clients must cope with `$`-records in `$all`).
    pub fn new() -> Self {
        let mut log = Log {
            all: BTreeMap::new(),
            streams: HashMap::new(),
            // The first chunk starts with a header; positions are byte offsets, never 0 for an event.
            next_position: 128,
            clock_offset_ticks: 0,
            commit_cache: HashMap::new(),
            commit_order: VecDeque::new(),
        };
        log.append_system("$scavenges", "$scavengeIndexInitialized", b"{}".to_vec());
        log
    }

    /// Now in 100 ns ticks since the Unix epoch, by the server's clock. Not forced forward: a real
    /// node stamps `DateTime.UtcNow` as it is, so a clock step back (or a failover to a node whose
    /// clock is behind) gives a later event an earlier stamp.
    fn stamp(&mut self) -> i64 {
        let now = chrono::Utc::now();
        let ticks = now.timestamp() * 10_000_000 + i64::from(now.timestamp_subsec_nanos() / 100);
        ticks + self.clock_offset_ticks
    }

    /// Steps the clock back by `by` for every later stamp.
    pub fn step_clock_back(&mut self, by: std::time::Duration) {
        let ticks = i64::try_from(by.as_nanos() / 100).unwrap_or(i64::MAX);
        self.clock_offset_ticks = self.clock_offset_ticks.saturating_sub(ticks);
    }

    fn write(&mut self, stream: &str, proposed: Proposed) -> u64 {
        let created_ticks = self.stamp();
        let state = self.streams.entry(stream.to_owned()).or_default();
        let revision = state.last.map_or(0, |r| r + 1);
        let position = self.next_position;
        // A record's size on disk decides where the next one starts: positions are byte offsets,
        // increasing but not consecutive, as on the real server.
        self.next_position += 64
            + stream.len() as u64
            + proposed.event_type.len() as u64
            + proposed.custom_metadata.len() as u64
            + proposed.data.len() as u64;
        state.last = Some(revision);
        state.events.insert(revision, position);
        self.commit_cache
            .insert(proposed.event_id, (stream.to_owned(), revision));
        self.commit_order.push_back(proposed.event_id);
        if self.commit_order.len() > COMMIT_CACHE
            && let Some(old) = self.commit_order.pop_front()
        {
            self.commit_cache.remove(&old);
        }
        self.all.insert(
            position,
            Arc::new(Record {
                stream: stream.to_owned(),
                revision,
                event_id: proposed.event_id,
                event_type: proposed.event_type,
                content_type: proposed.content_type,
                created_ticks,
                custom_metadata: proposed.custom_metadata,
                data: proposed.data,
                position,
            }),
        );
        position
    }

    /// Writes a system record (a `$`-stream), as the server itself does now and then.
    pub fn append_system(&mut self, stream: &str, event_type: &str, data: Vec<u8>) -> u64 {
        self.write(
            stream,
            Proposed {
                event_id: Uuid::new_v4(),
                event_type: event_type.to_owned(),
                content_type: "application/json".to_owned(),
                custom_metadata: Vec::new(),
                data,
            },
        )
    }

    fn current(&self, stream: &str) -> Option<u64> {
        self.streams.get(stream).and_then(|s| s.last)
    }

    fn id_at(&self, stream: &str, revision: u64) -> Option<Uuid> {
        let position = self.streams.get(stream)?.events.get(&revision)?;
        Some(self.all.get(position)?.event_id)
    }

    /// Appends atomically if `expected` holds (see the module docs for the rules).
    pub fn append(
        &mut self,
        stream: &str,
        expected: Expected,
        events: Vec<Proposed>,
    ) -> AppendResult {
        let current = self.current(stream);
        let wrong = AppendResult::WrongExpectedVersion { current, expected };
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let exp: i64 = match expected {
            Expected::Any => {
                if let Some(first) = ids.first()
                    && let Some((s, r)) = self.commit_cache.get(first)
                    && s == stream
                {
                    let r = *r;
                    let all_follow = ids.iter().enumerate().all(|(i, id)| {
                        self.commit_cache.get(id) == Some(&(stream.to_owned(), r + i as u64))
                    });
                    return if all_follow {
                        let last = r + ids.len() as u64 - 1;
                        AppendResult::Success {
                            current: Some(last),
                            position: self.position_of(stream, last),
                        }
                    } else {
                        wrong
                    };
                }
                return self.write_all(stream, events, current);
            }
            Expected::StreamExists => {
                if current.is_none() {
                    return wrong;
                }
                return self.write_all(stream, events, current);
            }
            Expected::NoStream => -1,
            Expected::Exact(r) => r as i64,
        };
        let cur = current.map_or(-1, |c| c as i64);
        if exp == cur {
            return self.write_all(stream, events, current);
        }
        if exp > cur || ids.is_empty() {
            return wrong;
        }
        for (i, id) in ids.iter().enumerate() {
            let revision = (exp + 1) as u64 + i as u64;
            if revision as i64 > cur || self.id_at(stream, revision) != Some(*id) {
                // First id different: a plain conflict; some matching: "corrupted idempotency",
                // which the server reports as a wrong expected version too.
                return wrong;
            }
        }
        let last = (exp + ids.len() as i64) as u64;
        AppendResult::Success {
            current: Some(last),
            position: self.position_of(stream, last),
        }
    }

    /// The `$all` position of a stream's event, if it is still stored.
    fn position_of(&self, stream: &str, revision: u64) -> Option<u64> {
        self.streams.get(stream)?.events.get(&revision).copied()
    }

    fn write_all(
        &mut self,
        stream: &str,
        events: Vec<Proposed>,
        current: Option<u64>,
    ) -> AppendResult {
        if events.is_empty() {
            return AppendResult::Success {
                current,
                position: None,
            };
        }
        let mut last = 0;
        for event in events {
            last = self.write(stream, event);
        }
        AppendResult::Success {
            current: self.current(stream),
            position: Some(last),
        }
    }

    /// Whether the stream was ever written.
    pub fn stream_exists(&self, stream: &str) -> bool {
        self.current(stream).is_some()
    }

    /// The stream's last revision, if any.
    pub fn last_revision(&self, stream: &str) -> Option<u64> {
        self.current(stream)
    }

    /// Up to `count` events of one stream; `forwards` from `from` included, or backwards from it
    /// included.
    pub fn read_stream(
        &self,
        stream: &str,
        forwards: bool,
        from: RevFrom,
        count: usize,
    ) -> Vec<Arc<Record>> {
        let Some(state) = self.streams.get(stream) else {
            return Vec::new();
        };
        let pick = |(_, position): (&u64, &u64)| self.all.get(position).cloned();
        match (forwards, from) {
            (true, RevFrom::End) => Vec::new(),
            (true, RevFrom::Start) => state.events.iter().filter_map(pick).take(count).collect(),
            (true, RevFrom::Revision(r)) => state
                .events
                .range(r..)
                .filter_map(pick)
                .take(count)
                .collect(),
            (false, RevFrom::End) => state
                .events
                .iter()
                .rev()
                .filter_map(pick)
                .take(count)
                .collect(),
            (false, RevFrom::Start) => state
                .events
                .range(..=0)
                .rev()
                .filter_map(pick)
                .take(count)
                .collect(),
            (false, RevFrom::Revision(r)) => state
                .events
                .range(..=r)
                .rev()
                .filter_map(pick)
                .take(count)
                .collect(),
        }
    }

    /// Events of a stream after revision `after` (all of them for `None`), for subscriptions.
    pub fn stream_after(&self, stream: &str, after: Option<u64>, count: usize) -> Vec<Arc<Record>> {
        let Some(state) = self.streams.get(stream) else {
            return Vec::new();
        };
        let start = after.map_or(0, |a| a + 1);
        state
            .events
            .range(start..)
            .filter_map(|(_, p)| self.all.get(p).cloned())
            .take(count)
            .collect()
    }

    /// Up to `count` records of `$all`: forwards from a position included, backwards from a
    /// position excluded (a backwards read returns what lies *before* the position, as the server's
    /// transaction-file reader does).
    pub fn read_all(&self, forwards: bool, from: AllFrom, count: usize) -> Vec<Arc<Record>> {
        let values = |it: &mut dyn Iterator<Item = (&u64, &Arc<Record>)>| {
            it.map(|(_, r)| r.clone()).take(count).collect::<Vec<_>>()
        };
        match (forwards, from) {
            (true, AllFrom::Start) => values(&mut self.all.iter()),
            (true, AllFrom::End) => Vec::new(),
            (true, AllFrom::Position(p)) => values(&mut self.all.range(p..)),
            (false, AllFrom::End) => values(&mut self.all.iter().rev()),
            (false, AllFrom::Start) => Vec::new(),
            (false, AllFrom::Position(p)) => values(&mut self.all.range(..p).rev()),
        }
    }

    /// Records after position `after` (all for `None`), for subscriptions.
    pub fn all_after(&self, after: Option<u64>, count: usize) -> Vec<Arc<Record>> {
        match after {
            None => self.all.values().take(count).cloned().collect(),
            Some(p) => self
                .all
                .range(p.saturating_add(1)..)
                .map(|(_, r)| r.clone())
                .take(count)
                .collect(),
        }
    }

    /// The position of the last record of `$all` (`None` when empty).
    pub fn last_position(&self) -> Option<u64> {
        self.all.keys().next_back().copied()
    }

    /// Test hook: lets `change` rewrite a stored event in place (as an attacker with disk access
    /// could). Returns whether the event was found.
    pub fn tamper(&mut self, event_id: Uuid, change: impl FnOnce(&mut Record)) -> bool {
        let Some(position) = self
            .all
            .iter()
            .find(|(_, r)| r.event_id == event_id)
            .map(|(p, _)| *p)
        else {
            return false;
        };
        if let Some(record) = self.all.get_mut(&position) {
            let mut copy = (**record).clone();
            change(&mut copy);
            *record = Arc::new(copy);
        }
        true
    }

    /// Test hook: removes every stored event of `stream` from the log, as a scavenge does after a
    /// stream's `$maxAge` or `$maxCount` has passed; the stream keeps its last revision. Returns how
    /// many records went.
    pub fn scavenge(&mut self, stream: &str) -> usize {
        let Some(state) = self.streams.get_mut(stream) else {
            return 0;
        };
        let positions: Vec<u64> = state.events.values().copied().collect();
        state.events.clear();
        for p in &positions {
            self.all.remove(p);
        }
        positions.len()
    }

    /// What a restart loses: the in-memory idempotence cache.
    pub fn forget_cache(&mut self) {
        self.commit_cache.clear();
        self.commit_order.clear();
    }

    /// Number of records in `$all` (system records included).
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}
