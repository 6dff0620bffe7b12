//! The read models: what people read, folded from the events alone, now or **as of** any past point.
//!
//! [`ReadModel`] is fed every stored event in log order ([`ReadModel::apply`]). It holds
//!
//! - the domain [`State`], folded by the very `State::evolve` the write side decides on (one copy of
//!   the domain rules); standings, accountability and rubric versions are computed from it;
//! - the change log ([`changes`]): one 32-byte entry per event with its time, for "who changed what
//!   and when" and the histories of sheets and items; the texts are rendered on demand from the
//!   envelopes the caller reads ([`render_change`]);
//! - checkpoints ([`checkpoint`]): the state every [`DEFAULT_CHECKPOINT_EVERY`] positions, sharing
//!   structure with each other and with the live state.
//!
//! Queries go through a [`View`]: [`ReadModel::view`] for now, [`ReadModel::view_as_of`] for the past.
//!
//! # As of
//!
//! A point is a position or a time ([`AsOf`]). As of position `p` means after the last event whose
//! position is ≤ `p`; as of time `t` means after the last event recorded at or before `t` (inclusive;
//! `recorded_at` never decreases along positions, so this is a binary search of the time index). The
//! answer equals the fold of the log's prefix up to that event, exactly.
//!
//! - The change log and the histories are append-only: as of `p` they are cut at `p`.
//! - The state-based models need the state at `p`: [`ReadModel::plan`] names the checkpoint to start
//!   from and the events to fold after it (at most N); the caller reads those events from the store and
//!   passes them to [`ReadModel::view_as_of`], which folds them onto an O(1) clone of the checkpoint.
//!
//! Pure: no IO, no clock (`today` for overdue work is an argument), no randomness.
//!
//! - [`standings`]: per period, every unit's figures, grade and rank; per-aspect rankings.
//! - [`annual`]: the year's result (年度考核): a span of periods combined per unit by the rubric's
//!   annual rule, with its own grade and rank.
//! - [`accountability`]: a responsible person's items, their scores, open/overdue/closed rectifications.
//! - [`versions`]: rubric versions as they stood, and diffs between any two.
//! - [`changes`]: the change log's entries, filters, pages and histories.
//! - [`render`]: one change as people read it, zh-CN first, then English.
//! - [`checkpoint`]: checkpoints, stored snapshots, the projection code version.

pub mod accountability;
pub mod annual;
pub mod changes;
pub mod checkpoint;
mod chunked;
mod intern;
pub mod render;
pub mod standings;
pub mod todo;
pub mod versions;

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::envelope::Envelope;
use ledger_schemas::events::Event;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, RubricId, UnitId};

pub use accountability::{
    Accountability, OwnedItem, OwnedScore, RectificationLine, Scope, accountability,
};
pub use annual::{
    AnnualResult, AnnualUnit, Span, SpanError, SpanPeriod, UnitPeriod, annual, period_slot,
    periods_span, year_span,
};
pub use changes::{ApplyError, ChangeFilter, ChangeKind, ChangePage, ReviewAtTime, StandingAtTime};
pub use checkpoint::{
    Checkpoint, DEFAULT_CHECKPOINT_EVERY, PROJECTION_CODE_VERSION, SNAPSHOT_FINGERPRINTS, Snapshot,
    SnapshotError,
};
pub use intern::{fnv1a64, fnv1a64_concat};
pub use render::{ChangeView, RenderError, render_change, render_in_history, value_text};
pub use standings::{AspectRank, AspectRanking, PeriodStandings, UnitStanding, standings};
pub use todo::{
    AppealAwaiting, DEFAULT_HORIZON_DAYS, MAX_HORIZON_DAYS, SheetAwaiting, SheetGap, Todo, Viewer,
    todo,
};
pub use versions::{RubricVersion, rubric_diff, rubric_versions};

use crate::domain::{Meta, State};
use crate::rubric::RubricDiff;
use changes::ChangeLog;

/// A point in the log's past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// After the last event at or before this position.
    Position(u64),
    /// After the last event recorded at or before this time (inclusive).
    Time(DateTime<Utc>),
}

/// How to answer an as-of query: start from the state at `base` and fold the events at positions
/// `(base, position]` (the caller reads them from the store, in order; there are `events` of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOfPlan {
    /// The position the answer is as of: the last event at or before the point asked (0 before the
    /// first event).
    pub position: u64,
    /// The position of the state to start from: a checkpoint, the live state, or 0 (empty).
    pub base: u64,
    /// How many events lie in `(base, position]`: at most the checkpoint interval.
    pub events: usize,
}

/// Why an as-of view could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsOfError {
    #[error(
        "补充事件不符: 应为位置 {expected:?}, 实为 {found:?} (the events supplied do not match the plan: expected position {expected:?}, found {found:?})"
    )]
    Tail {
        expected: Option<u64>,
        found: Option<u64>,
    },
    #[error("位置 {position} 没有检查点 (there is no checkpoint at position {position})")]
    NoCheckpoint { position: u64 },
    #[error(
        "检查点 {checkpoint} 晚于所查询的位置 {position} (checkpoint {checkpoint} lies after the position asked, {position})"
    )]
    CheckpointAfter { checkpoint: u64, position: u64 },
}

/// The read models; see the module docs. A clone shares the state's structure (O(1)) and copies the
/// change log's arrays (about 50 bytes an event).
#[derive(Debug, Clone)]
pub struct ReadModel {
    state: State,
    pub(crate) log: ChangeLog,
    checkpoints: Vec<Checkpoint>,
    every: u64,
}

impl Default for ReadModel {
    fn default() -> Self {
        Self::new()
    }
}

/// Approximate memory of a read model's own structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryReport {
    pub events: usize,
    /// Entries, the time index, history indexes, interned names and kept old values.
    pub change_log_bytes: usize,
    pub checkpoints: usize,
}

impl ReadModel {
    /// An empty model with a checkpoint every [`DEFAULT_CHECKPOINT_EVERY`] positions.
    pub fn new() -> Self {
        Self::with_checkpoints_every(DEFAULT_CHECKPOINT_EVERY)
    }

    /// An empty model with a checkpoint every `n` positions (0: none; every as-of query then folds
    /// from the start).
    pub fn with_checkpoints_every(n: u64) -> Self {
        Self {
            state: State::default(),
            log: ChangeLog::default(),
            checkpoints: Vec::new(),
            every: n,
        }
    }

    /// Folds one stored event (its envelope and decoded payload), in log order: positions increase,
    /// times never decrease; anything else is refused and leaves the model as it was.
    pub fn apply(&mut self, envelope: &Envelope, event: &Event) -> Result<(), ApplyError> {
        self.log.check_order(envelope)?;
        let before = self.log.before(&self.state, event);
        self.state.evolve(&Meta::from_envelope(envelope), event);
        self.log.push(&self.state, envelope, event, before);
        let last = self.checkpoints.last().map_or(0, |c| c.position);
        if checkpoint_due(self.every, last, envelope.position) {
            self.checkpoints.push(Checkpoint {
                position: envelope.position,
                state: self.state.clone(),
            });
        }
        Ok(())
    }

    /// The live domain state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The position of the last event applied (0 before any).
    pub fn position(&self) -> u64 {
        self.log.entries.last().map_or(0, |e| e.position)
    }

    /// How many events were applied.
    pub fn len(&self) -> usize {
        self.log.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.entries.is_empty()
    }

    /// The last position recorded at or before `time` (0 when none was).
    pub fn position_at(&self, time: DateTime<Utc>) -> u64 {
        self.log.position_at(time)
    }

    /// The in-memory checkpoints, oldest first (store them with [`Snapshot::of`]).
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    pub fn checkpoint_every(&self) -> u64 {
        self.every
    }

    /// Adds checkpoints taken elsewhere before the model's first one: a model read back from
    /// storage ([`ReadModel::decode_stored`]) has none before the position it was stored at, and a
    /// fold of that prefix (in the background) supplies them. The caller vouches that each is the
    /// fold of this log's prefix up to its position. Only those before the first checkpoint, at
    /// positions of events this model has applied, in increasing order, are kept; the others are
    /// ignored. Returns how many were added.
    pub fn add_earlier_checkpoints(
        &mut self,
        earlier: impl IntoIterator<Item = Checkpoint>,
    ) -> usize {
        let first = self.checkpoints.first().map_or(u64::MAX, |c| c.position);
        let mut kept: Vec<Checkpoint> = Vec::new();
        for checkpoint in earlier {
            let after_last = kept.last().is_none_or(|c| c.position < checkpoint.position);
            if checkpoint.position < first
                && after_last
                && self.log.entry_at(checkpoint.position).is_some()
            {
                kept.push(checkpoint);
            }
        }
        let added = kept.len();
        kept.append(&mut self.checkpoints);
        self.checkpoints = kept;
        added
    }

    /// The read models now.
    pub fn view(&self) -> View<'_> {
        View {
            model: self,
            state: self.state.clone(),
            cut: self.log.entries.len(),
        }
    }

    /// Plans an as-of query: which state to start from and which events the caller must supply.
    pub fn plan(&self, at: AsOf) -> AsOfPlan {
        let position = match at {
            AsOf::Position(p) => p,
            AsOf::Time(t) => self.log.position_at(t),
        };
        let cut = self.log.cut_at(position);
        let position = cut
            .checked_sub(1)
            .map_or(0, |i| self.log.entries[i].position);
        let base = if position == self.position() {
            position
        } else {
            let i = self.checkpoints.partition_point(|c| c.position <= position);
            i.checked_sub(1).map_or(0, |i| self.checkpoints[i].position)
        };
        AsOfPlan {
            position,
            base,
            events: cut - self.log.cut_at(base),
        }
    }

    /// The read models as of `plan.position`: the plan's base state with `tail` folded onto it.
    /// `tail` must be exactly the events at positions `(plan.base, plan.position]`, in order.
    pub fn view_as_of<'e>(
        &self,
        plan: &AsOfPlan,
        tail: impl IntoIterator<Item = (&'e Envelope, &'e Event)>,
    ) -> Result<View<'_>, AsOfError> {
        let state = if plan.base == 0 {
            State::default()
        } else if plan.base == self.position() {
            self.state.clone()
        } else {
            let i = self.checkpoints.partition_point(|c| c.position < plan.base);
            match self.checkpoints.get(i).filter(|c| c.position == plan.base) {
                Some(c) => c.state.clone(),
                None => {
                    return Err(AsOfError::NoCheckpoint {
                        position: plan.base,
                    });
                }
            }
        };
        self.fold_view(state, plan.base, plan.position, tail)
    }

    /// The read models as of `at`, starting from a checkpoint the caller holds (e.g. a stored
    /// [`Snapshot`] read back with [`Snapshot::decode`]) rather than an in-memory one: `tail` must be
    /// exactly the events after the checkpoint up to the point (`self.plan(at).position`), in order.
    /// A checkpoint after the point is refused.
    pub fn view_from<'e>(
        &self,
        base: Checkpoint,
        at: AsOf,
        tail: impl IntoIterator<Item = (&'e Envelope, &'e Event)>,
    ) -> Result<View<'_>, AsOfError> {
        let position = self.plan(at).position;
        if base.position > position {
            return Err(AsOfError::CheckpointAfter {
                checkpoint: base.position,
                position,
            });
        }
        self.fold_view(base.state, base.position, position, tail)
    }

    fn fold_view<'e>(
        &self,
        mut state: State,
        base: u64,
        position: u64,
        tail: impl IntoIterator<Item = (&'e Envelope, &'e Event)>,
    ) -> Result<View<'_>, AsOfError> {
        let from = self.log.cut_at(base);
        let cut = self.log.cut_at(position);
        let mut expected = self.log.entries.range(from, cut).map(|e| e.position);
        for (envelope, event) in tail {
            let want = expected.next();
            if want != Some(envelope.position) {
                return Err(AsOfError::Tail {
                    expected: want,
                    found: Some(envelope.position),
                });
            }
            state.evolve(&Meta::from_envelope(envelope), event);
        }
        if let Some(want) = expected.next() {
            return Err(AsOfError::Tail {
                expected: Some(want),
                found: None,
            });
        }
        Ok(View {
            model: self,
            state,
            cut,
        })
    }

    /// Renders the change an envelope records (see [`render_change`]).
    pub fn render(&self, envelope: &Envelope) -> Result<ChangeView, RenderError> {
        render_change(self, envelope)
    }

    /// Renders a step of an item's history (see [`render_in_history`]).
    pub fn render_in_history(
        &self,
        envelope: &Envelope,
        period: &PeriodId,
        unit: &UnitId,
        item: &ItemCode,
    ) -> Result<ChangeView, RenderError> {
        render_in_history(self, envelope, period, unit, item)
    }

    /// The memory of the change log and how many checkpoints there are (the state's own memory
    /// depends on what the ledger holds; `READ-MODELS.md` states measured figures).
    pub fn memory(&self) -> MemoryReport {
        MemoryReport {
            events: self.log.entries.len(),
            change_log_bytes: self.log.heap_bytes(),
            checkpoints: self.checkpoints.len(),
        }
    }
}

/// Whether a fold taking a checkpoint every `every` positions, whose last checkpoint is at `last`
/// (0 for none), takes one at `position`: when the position crosses a multiple of `every` (never
/// when `every` is 0). A fold outside the model (the read side's background refold) uses the same
/// rule, so its checkpoints fall where the model's would.
pub fn checkpoint_due(every: u64, last: u64, position: u64) -> bool {
    position.checked_div(every) > last.checked_div(every)
}

/// The read models at one point: now ([`ReadModel::view`]) or as of a past one
/// ([`ReadModel::view_as_of`]). The same queries answer both.
#[derive(Debug, Clone)]
pub struct View<'m> {
    model: &'m ReadModel,
    state: State,
    /// How many change-log entries the view sees.
    cut: usize,
}

impl View<'_> {
    /// The position of the last event the view includes (0 before any).
    pub fn position(&self) -> u64 {
        self.cut
            .checked_sub(1)
            .map_or(0, |i| self.model.log.entries[i].position)
    }

    /// When the last event the view includes was recorded (none before any).
    pub fn recorded_at(&self) -> Option<DateTime<Utc>> {
        let micros = *self.model.log.times.get(self.cut.checked_sub(1)?)?;
        DateTime::from_timestamp_micros(micros)
    }

    /// The domain state at this point.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The periods known at this point, in id order.
    pub fn periods(&self) -> Vec<PeriodId> {
        self.state.periods.keys().cloned().collect()
    }

    /// The standings of a period ([`standings`]).
    pub fn standings(&self, period: &PeriodId) -> Option<PeriodStandings> {
        standings(&self.state, period)
    }

    /// The year's result over `span` ([`annual`]); `None` when the span is not of this point.
    pub fn annual(&self, span: &Span) -> Option<AnnualResult> {
        annual(&self.state, span)
    }

    /// What a responsible person is accountable for within `scope`, overdue judged on `today`.
    pub fn accountability(
        &self,
        person: &PersonId,
        today: NaiveDate,
        scope: &Scope,
    ) -> Accountability {
        accountability(&self.state, person, today, scope)
    }

    /// What is due from `viewer` at this point ([`todo`]), overdue judged on `today`.
    pub fn todo(&self, viewer: Viewer<'_>, today: NaiveDate, horizon_days: i64) -> Todo {
        todo(&self.state, viewer, today, horizon_days)
    }

    /// Every version of a rubric at this point.
    pub fn rubric_versions(&self, rubric: &RubricId) -> Vec<RubricVersion> {
        let log = &self.model.log;
        let position = self.position();
        rubric_versions(&self.state, rubric, |r, version| {
            let id = log.rubric_id(r.as_str())?;
            log.rubric_versions
                .get(&(id, version))
                .copied()
                .filter(|p| *p <= position)
        })
    }

    /// What differs between two versions of a rubric.
    pub fn rubric_diff(&self, rubric: &RubricId, from: u32, to: u32) -> Option<Vec<RubricDiff>> {
        rubric_diff(&self.state, rubric, from, to)
    }

    /// Positions of a sheet's history, oldest first (see [`changes`]); render each envelope.
    pub fn sheet_history(&self, period: &PeriodId, unit: &UnitId) -> Vec<u64> {
        self.model.log.history(self.cut, period, unit, None)
    }

    /// Positions of one item's history on a sheet, oldest first.
    pub fn item_history(&self, period: &PeriodId, unit: &UnitId, item: &ItemCode) -> Vec<u64> {
        self.model.log.history(self.cut, period, unit, Some(item))
    }

    /// One page of the change log, newest first: at most `limit` positions older than `before`
    /// (`None`: from the newest), and the cursor for the next page.
    pub fn changes(&self, filter: &ChangeFilter, before: Option<u64>, limit: usize) -> ChangePage {
        self.model.log.page(self.cut, filter, before, limit)
    }
}
