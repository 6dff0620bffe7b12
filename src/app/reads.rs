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

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use ledger_projections::read::{AsOf, ChangeView, ReadModel, RenderError, View};
use ledger_schemas::{Envelope, Event};

use super::AppError;
use crate::store::{Direction, EventStore, ReadFrom};

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
    /// One folder at a time, so the log is applied once and in order.
    folding: tokio::sync::Mutex<()>,
}

impl<S: EventStore> ReadSide<S> {
    /// A read side that has folded nothing yet; the first query folds the log.
    pub fn new(store: Arc<S>) -> Self {
        Self {
            store,
            model: RwLock::new(ReadModel::with_checkpoints_every(CHECKPOINT_EVERY)),
            folding: tokio::sync::Mutex::new(()),
        }
    }

    /// A read side over models already folded from this store (by `ledger rebuild`'s pipeline, which
    /// is faster than catching up page by page); queries catch up from `model.position()`.
    pub fn from_model(store: Arc<S>, model: ReadModel) -> Self {
        Self {
            store,
            model: RwLock::new(model),
            folding: tokio::sync::Mutex::new(()),
        }
    }

    /// The position the models have folded up to (no catch-up).
    pub fn position(&self) -> u64 {
        self.model().position()
    }

    fn model(&self) -> std::sync::RwLockReadGuard<'_, ReadModel> {
        self.model.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Folds every event committed since the last call; returns the model's position.
    pub async fn catch_up(&self) -> Result<u64, ReadError> {
        let _folding = self.folding.lock().await;
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

    /// `count` consecutive events from position `from`, decoded.
    ///
    /// An as-of query's tail is up to the checkpoint interval (8,192 events); reading and decoding
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
