//! The application service: commands in, events out, state kept current.
//!
//! [`Ledger`] owns an [`EventStore`] and the write model folded from it (`ledger_projections::domain`).
//! `execute` decides a command against the folded state, appends the decision's events with the
//! expected revision of each stream, and folds what the store committed. Concurrency:
//!
//! - Commands that touch one score sheet (scores, self-assessments, corrections, reviews, business
//!   results, rectification steps) run **shared**: many at once, so the store can group-commit them.
//!   Two of them racing on the same stream are caught by the store's expected-revision check; the
//!   loser folds the winner's events and decides again (a stale `If-Match` is then refused by
//!   `decide` with the current revision).
//! - Every other command (period stages, rubric moves, access, decisions that span two streams)
//!   runs **exclusive**: it waits for the in-flight shared commands, so no score lands in a period
//!   after the decision that froze it was taken on this server.
//!
//! The folded state is always a fold of the store's log, in log order: after an append the service
//! reads the log from its head, so events written by other servers (EventStoreDB) are folded too.

pub mod clock;
pub mod reads;
pub mod tokens;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use ledger_projections::domain::{
    self, Command, Context, Decision, Expected, Meta, Rejection, State,
};
use ledger_schemas::{Actor, ContractError, Envelope, ProposedEvent};
use uuid::Uuid;

use crate::store::{AppendOutcome, Direction, EventStore, ExpectedRevision, ReadFrom, StoreError};

/// How many times a shared command is decided again after losing a race on its stream.
const MAX_ATTEMPTS: usize = 5;
/// Page size when folding the log.
const FOLD_PAGE: usize = 2048;

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The domain refused it; nothing was recorded.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The store refused or failed; see the inner error for whether anything was recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored event could not be read by this version of the program.
    #[error("账本中的事件无法解读 (an event in the ledger cannot be read): {0}")]
    Contract(#[from] ContractError),
}

/// What a recorded command committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// The events as proposed (ids, types), in order.
    pub event_ids: Vec<Uuid>,
    /// Their global positions.
    pub positions: Vec<u64>,
    /// Each touched stream and its revision after the append (the ETag of that resource).
    pub revisions: Vec<(String, u64)>,
}

/// Where the time comes from. The ledger's store stamps `recorded_at` itself; this clock gives the
/// decisions their "now" and "today" (due dates, overdue).
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
    /// The demo builder's clock, shared with its store so that a decision's "today" is the day
    /// its event is recorded on (see [`crate::store::clock`]).
    History(crate::store::HistoryClock),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
            Clock::History(clock) => clock.now(),
        }
    }
}

/// The write model and how far into the log it has folded.
#[derive(Debug, Default)]
pub struct Folded {
    pub state: State,
    /// Position of the last folded event (0 before the first).
    pub head: u64,
}

/// The application service over one store.
pub struct Ledger<S: EventStore> {
    store: Arc<S>,
    folded: RwLock<Folded>,
    /// Shared for sheet-local commands, exclusive for the rest (see the module docs).
    gate: tokio::sync::RwLock<()>,
    /// One folder at a time, so the log is folded once and in order.
    folding: tokio::sync::Mutex<()>,
    clock: Clock,
}

impl<S: EventStore> Ledger<S> {
    /// Opens the service and folds the whole log.
    pub async fn open(store: Arc<S>, clock: Clock) -> Result<Self, AppError> {
        let ledger = Self {
            store,
            folded: RwLock::new(Folded::default()),
            gate: tokio::sync::RwLock::new(()),
            folding: tokio::sync::Mutex::new(()),
            clock,
        };
        ledger.catch_up().await?;
        // Every time this process reads or types is on the clock the ledger recorded.
        clock::adopt(ledger.folded().state.zone.as_deref());
        Ok(ledger)
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The folded state, read-locked. Hold the guard briefly and never across an `.await`.
    pub fn folded(&self) -> RwLockReadGuard<'_, Folded> {
        self.folded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Decides `command` as `actor` and records its events.
    pub async fn execute(&self, actor: Actor, command: Command) -> Result<Executed, AppError> {
        self.execute_correlated(actor, command, Uuid::now_v7())
            .await
    }

    /// As [`Ledger::execute`], with the correlation id to put on every event (e.g. a request id).
    pub async fn execute_correlated(
        &self,
        actor: Actor,
        command: Command,
        correlation_id: Uuid,
    ) -> Result<Executed, AppError> {
        self.execute_from(actor, command, correlation_id, None)
            .await
    }

    /// As [`Ledger::execute_correlated`], for a command read from a file whose SHA-256 is
    /// `file_sha256`: the imported score events record it (`Context::file_sha256`).
    pub async fn execute_imported(
        &self,
        actor: Actor,
        command: Command,
        correlation_id: Uuid,
        file_sha256: &str,
    ) -> Result<Executed, AppError> {
        self.execute_from(actor, command, correlation_id, Some(file_sha256))
            .await
    }

    async fn execute_from(
        &self,
        actor: Actor,
        command: Command,
        correlation_id: Uuid,
        file_sha256: Option<&str>,
    ) -> Result<Executed, AppError> {
        let shared = is_sheet_local(&command);
        let _gate = if shared {
            Gate::Shared(self.gate.read().await)
        } else {
            Gate::Exclusive(self.gate.write().await)
        };
        if !shared {
            self.catch_up().await?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = self.clock.now();
            let ctx = Context {
                actor: actor.clone(),
                now,
                today: clock::business_date(now),
                file_sha256: file_sha256.map(str::to_owned),
            };
            let decision = {
                let folded = self.folded();
                domain::decide(&folded.state, &ctx, command.clone())?
            };
            match self.append_decision(&actor, correlation_id, decision).await {
                Ok(executed) => {
                    let last = executed.positions.iter().copied().max().unwrap_or(0);
                    self.catch_up_to(last).await?;
                    return Ok(executed);
                }
                Err(StoreError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                    // Another writer got there first: fold what it wrote and decide again.
                    self.catch_up().await?;
                }
                Err(err) => {
                    // Whatever part was committed must be folded before anyone decides again.
                    self.catch_up().await?;
                    return Err(err.into());
                }
            }
        }
    }

    /// Appends a decision's events stream by stream, in the order they were decided.
    async fn append_decision(
        &self,
        actor: &Actor,
        correlation_id: Uuid,
        decision: Decision,
    ) -> Result<Executed, StoreError> {
        let Decision {
            events,
            reason,
            expected,
        } = decision;
        let mut executed = Executed {
            event_ids: Vec::with_capacity(events.len()),
            positions: Vec::with_capacity(events.len()),
            revisions: Vec::new(),
        };
        // The first event of a decision causes the others (e.g. an upheld appeal and its correction).
        let mut cause: Option<Uuid> = None;
        let mut proposed: Vec<(String, ProposedEvent)> = Vec::with_capacity(events.len());
        for event in &events {
            let mut p = ProposedEvent::new(event, actor.clone(), Uuid::now_v7(), correlation_id);
            p.reason = reason.clone();
            p.causation_id = cause;
            cause.get_or_insert(p.event_id);
            executed.event_ids.push(p.event_id);
            proposed.push((event.stream(), p));
        }
        for expectation in expected {
            let batch: Vec<ProposedEvent> = proposed
                .iter()
                .filter(|(stream, _)| *stream == expectation.stream)
                .map(|(_, p)| p.clone())
                .collect();
            let expected = match expectation.expected {
                Expected::NoStream => ExpectedRevision::NoStream,
                Expected::Revision(r) => ExpectedRevision::Exact(r),
            };
            let started = std::time::Instant::now();
            let AppendOutcome {
                positions,
                next_expected,
            } = self
                .store
                .append(&expectation.stream, expected, batch)
                .await?;
            let metrics = crate::metrics::metrics();
            metrics.appends.inc();
            metrics
                .append_seconds
                .observe(started.elapsed().as_secs_f64());
            executed.positions.extend(positions);
            executed.revisions.push((expectation.stream, next_expected));
        }
        Ok(executed)
    }

    /// Keeps the write model current with everything the store commits, whoever appended it: another
    /// server, or another process on the same file (`ledger token revoke`, `ledger import`). Without
    /// it the write model folds only after the commands this process runs, so a token revoked from
    /// the command line kept working on a quiet server (issue 14). Runs until the subscription ends
    /// (the store closed) or fails; `ledger serve` spawns it and aborts it on shutdown.
    ///
    /// Events arrive in batches (what the subscription has ready); a batch already folded by the
    /// commands' own catch-up (the usual case on a busy server) costs one look at the head, and
    /// anything else is folded by [`Ledger::catch_up_to`], the one folder.
    pub async fn follow(&self) -> Result<(), AppError> {
        use futures_util::StreamExt as _;
        let after = self.catch_up().await?;
        let mut live = self.store.subscribe_all(after).ready_chunks(FOLD_PAGE);
        while let Some(batch) = live.next().await {
            let mut last = 0;
            for next in batch {
                last = last.max(next?.position);
            }
            self.catch_up_to(last).await?;
        }
        Ok(())
    }

    /// Folds every event the store has committed since the last fold; returns the new head.
    pub async fn catch_up(&self) -> Result<u64, AppError> {
        self.fold_from_store(None).await
    }

    /// Folds at least up to `position` (already folded by a concurrent caller, or now).
    pub async fn catch_up_to(&self, position: u64) -> Result<u64, AppError> {
        let head = self.folded().head;
        if head >= position {
            return Ok(head);
        }
        self.fold_from_store(Some(position)).await
    }

    /// The one folder. With a target, a caller that waited for the lock while another folded past
    /// its target returns at once instead of reading the store again: after a group commit, every
    /// appender of the batch would otherwise queue here for an empty read of its own.
    async fn fold_from_store(&self, target: Option<u64>) -> Result<u64, AppError> {
        let _folding = self.folding.lock().await;
        if let Some(target) = target {
            let head = self.folded().head;
            if head >= target {
                return Ok(head);
            }
        }
        loop {
            let from = self.folded().head + 1;
            let page = self
                .store
                .read_all(Direction::Forwards, ReadFrom::At(from), FOLD_PAGE)
                .await?;
            if page.is_empty() {
                return Ok(self.folded().head);
            }
            let decoded = decode_page(&page)?;
            let mut folded = self.folded.write().unwrap_or_else(|p| p.into_inner());
            for (envelope, event) in page.iter().zip(&decoded) {
                folded.state.evolve(&Meta::from_envelope(envelope), event);
                folded.head = envelope.position;
            }
            if page.len() < FOLD_PAGE {
                return Ok(folded.head);
            }
        }
    }
}

fn decode_page(page: &[Envelope]) -> Result<Vec<ledger_schemas::Event>, ContractError> {
    page.iter().map(Envelope::decode).collect()
}

enum Gate<'a> {
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'a, ()>),
    Exclusive(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'a, ()>),
}

/// Whether a command touches only one score sheet (or one rectification) and so may run beside
/// others. Anything that changes what other decisions depend on is exclusive.
fn is_sheet_local(command: &Command) -> bool {
    matches!(
        command,
        Command::RecordSelfAssessment { .. }
            | Command::RecordScore { .. }
            | Command::CorrectScore { .. }
            | Command::ReviewItem { .. }
            | Command::ReviewSheet { .. }
            | Command::RecordBusinessResult { .. }
            | Command::SubmitRectification { .. }
    )
}
