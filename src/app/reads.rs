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
            model: RwLock::new(ReadModel::new()),
            folding: tokio::sync::Mutex::new(()),
        }
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
        let tail = if plan.events == 0 {
            Vec::new()
        } else {
            self.read_range(plan.base + 1, plan.events).await?
        };
        let decoded = decode(&tail)?;
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

    /// `count` consecutive events from position `from`.
    async fn read_range(&self, from: u64, count: usize) -> Result<Vec<Envelope>, ReadError> {
        let mut out = Vec::with_capacity(count);
        let mut next = from;
        while out.len() < count {
            let page = self
                .store
                .read_all(
                    Direction::Forwards,
                    ReadFrom::At(next),
                    (count - out.len()).min(PAGE),
                )
                .await
                .map_err(AppError::from)?;
            let Some(last) = page.last() else { break };
            next = last.position + 1;
            out.extend(page);
        }
        Ok(out)
    }
}

fn decode(page: &[Envelope]) -> Result<Vec<Event>, AppError> {
    page.iter()
        .map(|e| e.decode().map_err(AppError::from))
        .collect()
}
