//! The read side's IO: the read models of `ledger_projections::read` kept current from the store, and
//! answered as of now or any past position or time.
//!
//! [`ReadSide`] owns a [`ReadModel`] and folds into it every event the store has committed since it
//! last looked (each query first catches up, so a client reads its own writes). An as-of query is
//! planned by the model (which checkpoint to start from, which events follow it: at most the
//! checkpoint interval), the events are read from the store here, and the model folds them onto the
//! checkpoint ([`ReadModel::view_as_of`]). Histories and the change log give positions; their
//! envelopes are read here and rendered by the model ([`ReadSide::render`]).
//!
//! The model is behind a read-write lock that is never held across an `.await`: queries run as
//! closures on a [`View`] under the lock.
//!
//! # Snapshots beside the log
//!
//! `ledger rebuild` keeps snapshots in the store ([`EventStore::save_snapshot`]): the state every
//! [`CHECKPOINT_EVERY`] positions, and the whole model (state and change log) at the head it
//! reached. A new read side's first catch-up starts from the latest whole-model snapshot of the
//! current [`PROJECTION_CODE_VERSION`] and folds only the events after it; an as-of query before
//! that point (where the restored model holds no checkpoint of its own) starts from the latest
//! stored state snapshot at or before the point, so it still folds at most the interval. A snapshot
//! is used only if its seal verifies under the ledger's key (`ledger_schemas::seal`: the key signed
//! its code version, position, event hash and the SHA-256 of its bytes, so an editor of the file
//! cannot change any of them unnoticed), the hash of the event at its position is the log's (the
//! hash chains the whole prefix, so this ties the snapshot to this very log) and it decodes under
//! the current code; otherwise it is ignored with a warning and the fold starts from the first
//! event (or, for an as-of query, from the model's own plan). Never a stale, foreign or forged
//! snapshot, and so never a snapshot kept later from a model that started from one. A ledger
//! without a key keeps and uses none ([`EventStore::seal_key`]).
//!
//! Loading and decoding a stored state snapshot costs far more than folding onto a checkpoint in
//! memory, so [`ReadSide::follow`] (the server) first runs [`ReadSide::backfill`]: one fold of the
//! prefix before the start point, in the background, that gives the models their in-memory
//! checkpoints there; from then on the stored snapshots are no longer read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use ledger_projections::domain::{Meta, State};
use ledger_projections::read::{
    AsOf, ChangeView, Checkpoint, PROJECTION_CODE_VERSION, ReadModel, RenderError, Snapshot, View,
};
use ledger_schemas::ids::{ItemCode, PeriodId, UnitId};
use ledger_schemas::seal::{SnapshotSeal, content_digest};
use ledger_schemas::{Envelope, Event};

use super::AppError;
use crate::store::{Direction, EventStore, ReadFrom, StoredSnapshot};

/// Events read per page.
const PAGE: usize = 2048;

/// How often the live read models keep a checkpoint (positions). An as-of query folds at most this
/// many events onto one, and that fold (about 4 µs an event on a million-event ledger) is most of
/// its time: at the projections crate's default of 8,192 the slowest queries took just over 50 ms
/// (`BENCHMARKS.md`), at 4,096 they take about half. Checkpoints share structure, so twice as
/// many cost little memory.
pub const CHECKPOINT_EVERY: u64 = 4_096;

/// Where in the log a read is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAt {
    /// The head: everything committed.
    Head,
    /// After the last event at or before this position (the head, if it lies beyond).
    Position(u64),
    /// After the last event recorded at or before this moment.
    Time(DateTime<Utc>),
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("读模型无法折叠 (the read model cannot fold the log): {0}")]
    Fold(String),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The read models over one store.
pub struct ReadSide<S: EventStore> {
    store: Arc<S>,
    model: RwLock<ReadModel>,
    /// One folder at a time, so the log is applied once and in order. It guards whether the start
    /// from a stored snapshot was tried (once, by the first catch-up).
    folding: tokio::sync::Mutex<bool>,
    /// The position of the stored snapshot the model started from (0: it folded from the first
    /// event); the model holds no checkpoint of its own before it.
    restored_from: AtomicU64,
    /// The stored state snapshot an as-of query before `restored_from` last started from, by its
    /// position (`None` inside: it was not usable), so that queries near each other decode it once.
    stored_base: Mutex<Option<(u64, Option<Checkpoint>)>>,
}

impl<S: EventStore> ReadSide<S> {
    /// A read side that has folded nothing yet; the first query starts from the latest usable
    /// snapshot kept beside the log (if any) and folds the rest of the log.
    pub fn new(store: Arc<S>) -> Self {
        Self::with(
            store,
            ReadModel::with_checkpoints_every(CHECKPOINT_EVERY),
            false,
        )
    }

    /// A read side over models already folded from this store (by `ledger rebuild`'s pipeline, which
    /// is faster than catching up page by page); queries catch up from `model.position()`.
    pub fn from_model(store: Arc<S>, model: ReadModel) -> Self {
        Self::with(store, model, true)
    }

    fn with(store: Arc<S>, model: ReadModel, started: bool) -> Self {
        Self {
            store,
            model: RwLock::new(model),
            folding: tokio::sync::Mutex::new(started),
            restored_from: AtomicU64::new(0),
            stored_base: Mutex::new(None),
        }
    }

    /// The position of the stored snapshot the models started from (0 when they folded the log
    /// from its first event, or have not caught up yet).
    pub fn restored_from(&self) -> u64 {
        self.restored_from.load(Ordering::Relaxed)
    }

    /// The position the models have folded up to (no catch-up).
    pub fn position(&self) -> u64 {
        self.model().position()
    }

    /// A copy of the models as they stand (for keeping snapshots of them without holding up the
    /// folding): the state is shared, the change log's arrays copied.
    pub fn model_clone(&self) -> ReadModel {
        self.model().clone()
    }

    fn model(&self) -> std::sync::RwLockReadGuard<'_, ReadModel> {
        self.model.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Folds every event committed since the last call; returns the model's position.
    pub async fn catch_up(&self) -> Result<u64, ReadError> {
        let mut started = self.folding.lock().await;
        if !*started {
            *started = true;
            if self.model().is_empty() {
                self.restore().await;
            }
        }
        loop {
            let from = self.model().position() + 1;
            let page = self
                .store
                .read_all(Direction::Forwards, ReadFrom::At(from), PAGE)
                .await
                .map_err(AppError::from)?;
            let decoded = decode(&page)?;
            let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
            for (envelope, event) in page.iter().zip(&decoded) {
                model
                    .apply(envelope, event)
                    .map_err(|e| ReadError::Fold(e.to_string()))?;
            }
            if page.len() < PAGE {
                // The ledger's business zone is its first event: known once anything is folded.
                if model.position() > 0 {
                    super::clock::adopt(model.view().state().zone.as_deref());
                }
                return Ok(model.position());
            }
        }
    }

    /// Keeps the models current from the store's live subscription, so that they follow new events
    /// as they commit and a query seldom has anything to catch up (the catch-up stays, so a client
    /// still reads its own writes when the follower is behind). Runs until the subscription ends
    /// (the store closed) or fails; `ledger serve` spawns it and aborts it on shutdown.
    ///
    /// Each event is folded under the same lock as a catch-up, and only if it is the next one: a
    /// query's catch-up may have folded it already, and then it is skipped.
    pub async fn follow(&self) -> Result<(), ReadError> {
        use futures_util::StreamExt as _;
        let after = self.catch_up().await?;
        self.backfill().await;
        let mut live = self.store.subscribe_all(after);
        while let Some(next) = live.next().await {
            let envelope = next.map_err(AppError::from)?;
            let event = envelope.decode().map_err(AppError::from)?;
            let _folding = self.folding.lock().await;
            let mut model = self.model.write().unwrap_or_else(|p| p.into_inner());
            let expected = model.position() + 1;
            if envelope.position < expected {
                continue; // folded by a query's catch-up meanwhile
            }
            if envelope.position > expected {
                // Cannot happen with a gapless subscription; refuse rather than fold out of order.
                return Err(ReadError::Fold(format!(
                    "订阅跳过了第 {expected} 号事件 (the subscription skipped position {expected})"
                )));
            }
            model
                .apply(&envelope, &event)
                .map_err(|e| ReadError::Fold(e.to_string()))?;
        }
        Ok(())
    }

    /// After a start from a stored snapshot, folds the log up to that point once more, in the
    /// background of a server (`follow` does it before following), to give the models their
    /// in-memory checkpoints before it: as-of queries there then fold at most the interval onto a
    /// checkpoint in memory instead of loading and decoding a stored state snapshot each time
    /// (which costs far more, `BENCHMARKS.md`). Only the domain state is folded, a page at a time,
    /// without holding the models' lock; queries are answered meanwhile from the stored snapshots.
    /// Does nothing when the models folded the log themselves. A failure is logged and leaves the
    /// stored snapshots in use.
    pub async fn backfill(&self) {
        let until = self.restored_from();
        if until == 0 {
            return;
        }
        match self.fold_prefix(until).await {
            Ok(checkpoints) => {
                let added = self
                    .model
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .add_earlier_checkpoints(checkpoints);
                self.restored_from.store(0, Ordering::Relaxed);
                *lock(&self.stored_base) = None;
                tracing::info!(
                    until,
                    added,
                    "读模型已补齐快照之前的检查点 (the read models have their checkpoints before the stored snapshot)"
                );
            }
            Err(e) => tracing::warn!(
                until,
                error = %e,
                "无法补齐快照之前的检查点 (cannot fold the checkpoints before the stored snapshot)"
            ),
        }
    }

    /// The checkpoints of a fold of the log's first `until` positions (one every
    /// [`CHECKPOINT_EVERY`], as [`ReadModel::apply`] takes them).
    async fn fold_prefix(&self, until: u64) -> Result<Vec<Checkpoint>, ReadError> {
        let mut state = State::default();
        let mut checkpoints: Vec<Checkpoint> = Vec::new();
        let mut next = 1;
        while next <= until {
            let want = usize::try_from(until - next + 1).map_or(PAGE, |left| left.min(PAGE));
            let page = self
                .store
                .read_all(Direction::Forwards, ReadFrom::At(next), want)
                .await
                .map_err(AppError::from)?;
            let Some(last) = page.last() else {
                return Err(ReadError::Fold(format!(
                    "日志在第 {next} 号事件前结束 (the log ends before position {next})"
                )));
            };
            next = last.position + 1;
            for (envelope, event) in page.iter().zip(decode(&page)?) {
                if envelope.position > until {
                    break;
                }
                state.evolve(&Meta::from_envelope(envelope), &event);
                let previous = checkpoints.last().map_or(0, |c| c.position);
                if ledger_projections::read::checkpoint_due(
                    CHECKPOINT_EVERY,
                    previous,
                    envelope.position,
                ) {
                    checkpoints.push(Checkpoint {
                        position: envelope.position,
                        state: state.clone(),
                    });
                }
            }
            tokio::task::yield_now().await;
        }
        Ok(checkpoints)
    }

    /// Answers `query` on the read models at `at` (after catching up).
    pub async fn query<T: Send>(
        &self,
        at: ReadAt,
        query: impl FnOnce(&View<'_>) -> T + Send,
    ) -> Result<T, ReadError> {
        self.catch_up().await?;
        let point = match at {
            ReadAt::Head => return Ok(query(&self.model().view())),
            ReadAt::Position(p) => AsOf::Position(p),
            ReadAt::Time(t) => AsOf::Time(t),
        };
        let plan = self.model().plan(point);
        if plan.events > 0
            && plan.base < self.restored_from()
            && let Some((base, tail, decoded)) = self.stored_base(plan.base, plan.position).await
        {
            let model = self.model();
            match model.view_from(
                base,
                AsOf::Position(plan.position),
                tail.iter().zip(&decoded),
            ) {
                Ok(view) => return Ok(query(&view)),
                Err(e) => tracing::warn!(
                    error = %e,
                    "无法从存储的快照回答历史查询, 改为从头折叠 (cannot answer the as-of query from the stored snapshot; folding from the first event)"
                ),
            }
        }
        let (tail, decoded) = if plan.events == 0 {
            (Vec::new(), Vec::new())
        } else {
            self.read_range(plan.base + 1, plan.events).await?
        };
        let model = self.model();
        let view = model
            .view_as_of(&plan, tail.iter().zip(&decoded))
            .map_err(|e| ReadError::Fold(e.to_string()))?;
        Ok(query(&view))
    }

    /// Starts the empty model from the latest whole-model snapshot kept beside the log, if there is
    /// one of the current code version and it is usable; otherwise leaves it empty (a warning says
    /// why a snapshot was not used), and the catch-up folds from the first event.
    async fn restore(&self) {
        let row = match self
            .store
            .load_snapshot(PROJECTION_CODE_VERSION, u64::MAX)
            .await
        {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "{NOT_USED}");
                return;
            }
        };
        let position = row.position;
        let restored = match self.check_against_log(&row).await {
            Ok(()) => open_sealed(self.store.as_ref(), &row, |bytes| {
                ReadModel::decode_stored(bytes, CHECKPOINT_EVERY).map_err(|e| e.to_string())
            }),
            Err(e) => Err(e),
        };
        match restored {
            Ok(model) if model.position() == position => {
                tracing::info!(
                    position,
                    "读模型从存储的快照开始 (the read models start from the stored snapshot)"
                );
                *self.model.write().unwrap_or_else(|p| p.into_inner()) = model;
                self.restored_from.store(position, Ordering::Relaxed);
            }
            Ok(model) => tracing::warn!(
                position,
                found = model.position(),
                "{NOT_USED}: 快照内容的位置不符 (the snapshot's content is of another position)"
            ),
            Err(e) => tracing::warn!(position, error = %e, "{NOT_USED}"),
        }
    }

    /// Whether the event at the snapshot's position is the one it was taken after (same hash).
    async fn check_against_log(&self, row: &StoredSnapshot) -> Result<(), String> {
        if row.position == 0 {
            return Err("快照位置为 0 (a snapshot at position 0)".into());
        }
        let found = self
            .store
            .read_all(Direction::Forwards, ReadFrom::At(row.position), 1)
            .await
            .map_err(|e| e.to_string())?;
        match found.first() {
            Some(e) if e.position == row.position && e.hash == row.event_hash => Ok(()),
            Some(e) if e.position == row.position => Err(format!(
                "第 {} 号事件的哈希与快照所记不同 (the hash of the event at position {} is not the one the snapshot was taken after): {} ≠ {}",
                row.position,
                row.position,
                e.hash.to_hex(),
                row.event_hash.to_hex()
            )),
            _ => Err(format!(
                "日志中没有第 {} 号事件 (the log has no event at position {})",
                row.position, row.position
            )),
        }
    }

    /// For an as-of query at `position` whose plan starts at `base` (before the model's first
    /// checkpoint): the latest usable stored state snapshot after `base` and at or before
    /// `position`, with the events after it up to `position`; `None` when there is none (the
    /// caller folds the plan instead).
    async fn stored_base(
        &self,
        base: u64,
        position: u64,
    ) -> Option<(Checkpoint, Vec<Envelope>, Vec<Event>)> {
        let row = match self
            .store
            .load_snapshot(PROJECTION_CODE_VERSION, position)
            .await
        {
            Ok(Some(row)) if row.position > base => row,
            Ok(_) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "{NOT_USED}");
                return None;
            }
        };
        let cached = lock(&self.stored_base)
            .as_ref()
            .filter(|(at, _)| *at == row.position)
            .map(|(_, checkpoint)| checkpoint.clone());
        let checkpoint = match cached {
            Some(checkpoint) => checkpoint,
            None => {
                let usable = match self.check_against_log(&row).await {
                    Ok(()) => open_sealed(self.store.as_ref(), &row, |bytes| {
                        Snapshot::decode(bytes).map_err(|e| e.to_string())
                    })
                    .and_then(|c| {
                        if c.position == row.position {
                            Ok(c)
                        } else {
                            Err(format!(
                                "快照内容的位置为 {} (the snapshot's content is of position {})",
                                c.position, c.position
                            ))
                        }
                    }),
                    Err(e) => Err(e),
                };
                let checkpoint = usable
                    .map_err(|e| tracing::warn!(position = row.position, error = %e, "{NOT_USED}"))
                    .ok();
                *lock(&self.stored_base) = Some((row.position, checkpoint.clone()));
                checkpoint
            }
        }?;
        // Positions are dense (gapless from 1), so the tail is the next `position - base` events;
        // the model checks it against its own log before folding it.
        let count = usize::try_from(position - checkpoint.position).ok()?;
        let (tail, decoded) = if count == 0 {
            (Vec::new(), Vec::new())
        } else {
            match self.read_range(checkpoint.position + 1, count).await {
                Ok(read) => read,
                Err(e) => {
                    tracing::warn!(error = %e, "{NOT_USED}");
                    return None;
                }
            }
        };
        Some((checkpoint, tail, decoded))
    }

    /// The envelopes at `positions` (each must exist), in the order given.
    pub async fn envelopes(&self, positions: &[u64]) -> Result<Vec<Envelope>, ReadError> {
        let mut out = Vec::with_capacity(positions.len());
        for &position in positions {
            let found = self
                .store
                .read_all(Direction::Forwards, ReadFrom::At(position), 1)
                .await
                .map_err(AppError::from)?;
            match found.into_iter().next() {
                Some(envelope) if envelope.position == position => out.push(envelope),
                _ => return Err(RenderError::NotInLog { position }.into()),
            }
        }
        Ok(out)
    }

    /// Renders changes for people (see `ledger_projections::read::render`).
    pub fn render(&self, envelopes: &[Envelope]) -> Result<Vec<ChangeView>, ReadError> {
        let model = self.model();
        envelopes
            .iter()
            .map(|e| model.render(e).map_err(ReadError::from))
            .collect()
    }

    /// Renders the steps of one item's history (see
    /// `ledger_projections::read::render_in_history`): whole-sheet reviews and rubric moves show
    /// the item's review state and standing after them.
    pub fn render_item_history(
        &self,
        envelopes: &[Envelope],
        period: &PeriodId,
        unit: &UnitId,
        item: &ItemCode,
    ) -> Result<Vec<ChangeView>, ReadError> {
        let model = self.model();
        envelopes
            .iter()
            .map(|e| {
                model
                    .render_in_history(e, period, unit, item)
                    .map_err(ReadError::from)
            })
            .collect()
    }

    /// `count` consecutive events from position `from`, decoded.
    ///
    /// An as-of query's tail is up to the checkpoint interval ([`CHECKPOINT_EVERY`] events); reading and decoding
    /// it is most of the query's time, so it is split into [`TAIL_PARTS`] ranges read and decoded
    /// at once by separate tasks (each store read uses its own reader connection), which the
    /// runtime's worker threads run in parallel.
    async fn read_range(
        &self,
        from: u64,
        count: usize,
    ) -> Result<(Vec<Envelope>, Vec<Event>), ReadError> {
        let part = count.div_ceil(TAIL_PARTS).max(1);
        let mut tasks = Vec::with_capacity(TAIL_PARTS);
        let mut start = 0;
        while start < count {
            let len = part.min(count - start);
            let store = self.store.clone();
            let first = from + start as u64;
            tasks.push(tokio::spawn(async move {
                let envelopes = read_exactly(store.as_ref(), first, len).await?;
                let events = decode(&envelopes)?;
                Ok::<_, AppError>((envelopes, events))
            }));
            start += len;
        }
        let mut envelopes = Vec::with_capacity(count);
        let mut events = Vec::with_capacity(count);
        for task in tasks {
            let (e, d) = task.await.map_err(|e| {
                ReadError::Fold(format!("读取任务失败 (a read task failed): {e}"))
            })??;
            envelopes.extend(e);
            events.extend(d);
        }
        Ok((envelopes, events))
    }
}

/// What a warning about an unusable stored snapshot starts with.
const NOT_USED: &str = "读模型快照不可用, 已忽略 (a stored read-model snapshot is not used)";

/// Decodes a stored snapshot with `decode` and checks its seal under the ledger's key, returning
/// the decoded value only if the seal holds. The SHA-256 of the bytes, which the seal covers, is
/// taken on a thread of its own while this one decodes, so the check costs a start little more
/// than the decoding it overlaps (`BENCHMARKS.md`).
fn open_sealed<S: EventStore, T>(
    store: &S,
    row: &StoredSnapshot,
    decode: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<T, String> {
    let key = match store.seal_key() {
        Ok(Some(key)) => key.verifying_key(),
        Ok(None) => {
            return Err(
                "账本没有密钥 (FILE.key), 无法核对快照的封印 (the ledger has no key, FILE.key, to check the snapshot's seal with)"
                    .into(),
            );
        }
        Err(e) => return Err(e.to_string()),
    };
    let seal = SnapshotSeal::from_bytes(&row.seal).map_err(|e| e.to_string())?;
    let (content, decoded) = std::thread::scope(|s| {
        let hashing = s.spawn(|| content_digest(&row.bytes));
        let decoded = decode(&row.bytes);
        (hashing.join(), decoded)
    });
    let content =
        content.map_err(|_| "快照哈希线程崩溃 (the thread hashing the snapshot panicked)")?;
    seal.verify(&key, &row.subject(content))
        .map_err(|e| e.to_string())?;
    decoded
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many ranges an as-of tail is split into (one per worker thread of the runtime).
const TAIL_PARTS: usize = 2;

/// Up to `count` consecutive events from position `from` (fewer only at the end of the log).
async fn read_exactly<S: EventStore>(
    store: &S,
    from: u64,
    count: usize,
) -> Result<Vec<Envelope>, AppError> {
    let mut out = Vec::with_capacity(count);
    let mut next = from;
    while out.len() < count {
        let page = store
            .read_all(Direction::Forwards, ReadFrom::At(next), count - out.len())
            .await?;
        let Some(last) = page.last() else { break };
        next = last.position + 1;
        out.extend(page);
    }
    Ok(out)
}

fn decode(page: &[Envelope]) -> Result<Vec<Event>, AppError> {
    page.iter()
        .map(|e| e.decode().map_err(AppError::from))
        .collect()
}
