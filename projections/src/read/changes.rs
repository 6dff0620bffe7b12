//! The change log ("who changed what and when") and the histories: one compact [`Entry`] per event,
//! in log order, with the indexes that answer filters, pages and histories without reading events.
//!
//! # Memory
//!
//! An entry is 32 bytes (asserted at compile time): the position, the actor, the period, unit, item
//! and aspect as interned numbers, the period's rubric version, the event kind, the actor's role, and
//! four one-byte codes (the transition the event made and the item's review state and standing after
//! it). Beside it the time index keeps 8 bytes (`recorded_at` in microseconds), and every event of a
//! sheet costs 4 more bytes (plus growth slack) in that sheet's history index: **≈ 49 bytes per event
//! measured on 1,000,000 events**, the interned names (a few kilobytes) and the old values that a
//! payload does not name ([`Prior`]: replaced drafts, business results, unit names, access scopes,
//! due dates; only for those events) included. Entries and times live in fixed 64K-element chunks
//! that never reallocate.
//!
//! Everything shown to people (summaries, old → new, reason, note, evidence, source) is rendered on
//! demand from the event itself ([`super::render`]): the caller reads one page of envelopes from the
//! store and renders them.

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::envelope::{Envelope, Role};
use ledger_schemas::events::Event;
use ledger_schemas::ids::{AspectCode, ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::values::{Points, ReviewDecision, ScoreValue};
use serde::{Deserialize, Serialize};

use super::chunked::Chunked;
use super::intern::{FnvMap, Interner};
use crate::domain::{ItemScore, RectificationStatus, ReviewStatus, Standing, State};

/// "No such id" in an entry's interned fields.
pub(crate) const NONE32: u32 = u32::MAX;
pub(crate) const NONE16: u16 = u16::MAX;
/// An item or aspect number beyond the 16-bit range (more than 65,534 distinct codes: never in a real
/// rubric); such entries match a filter on any of those codes.
const OVERFLOW16: u16 = u16::MAX - 1;

/// Every kind of event, in the order of the event registry; the kind is an entry's type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[repr(u8)]
pub enum ChangeKind {
    UnitRegistered,
    UnitUpdated,
    PersonRegistered,
    AccessGranted,
    AccessRevoked,
    TokenIssued,
    TokenRevoked,
    RubricDefined,
    RubricAdjusted,
    PeriodOpened,
    PeriodStageChanged,
    PeriodRubricChanged,
    SelfAssessmentRecorded,
    ScoreRecorded,
    ScoreCorrected,
    ItemReviewed,
    SheetReviewed,
    BusinessResultRecorded,
    AppealFiled,
    AppealUpheld,
    AppealDismissed,
    RectificationRaised,
    RectificationSubmitted,
    RectificationVerified,
    RectificationSentBack,
    /// Last: the kinds are type codes in the stored change log, so a new kind is appended.
    BusinessZoneSet,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 26] = [
        Self::UnitRegistered,
        Self::UnitUpdated,
        Self::PersonRegistered,
        Self::AccessGranted,
        Self::AccessRevoked,
        Self::TokenIssued,
        Self::TokenRevoked,
        Self::RubricDefined,
        Self::RubricAdjusted,
        Self::PeriodOpened,
        Self::PeriodStageChanged,
        Self::PeriodRubricChanged,
        Self::SelfAssessmentRecorded,
        Self::ScoreRecorded,
        Self::ScoreCorrected,
        Self::ItemReviewed,
        Self::SheetReviewed,
        Self::BusinessResultRecorded,
        Self::AppealFiled,
        Self::AppealUpheld,
        Self::AppealDismissed,
        Self::RectificationRaised,
        Self::RectificationSubmitted,
        Self::RectificationVerified,
        Self::RectificationSentBack,
        Self::BusinessZoneSet,
    ];

    pub fn of(event: &Event) -> Self {
        match event {
            Event::UnitRegistered(_) => Self::UnitRegistered,
            Event::UnitUpdated(_) => Self::UnitUpdated,
            Event::PersonRegistered(_) => Self::PersonRegistered,
            Event::AccessGranted(_) => Self::AccessGranted,
            Event::AccessRevoked(_) => Self::AccessRevoked,
            Event::TokenIssued(_) => Self::TokenIssued,
            Event::TokenRevoked(_) => Self::TokenRevoked,
            Event::RubricDefined(_) => Self::RubricDefined,
            Event::RubricAdjusted(_) => Self::RubricAdjusted,
            Event::PeriodOpened(_) => Self::PeriodOpened,
            Event::PeriodStageChanged(_) => Self::PeriodStageChanged,
            Event::PeriodRubricChanged(_) => Self::PeriodRubricChanged,
            Event::SelfAssessmentRecorded(_) => Self::SelfAssessmentRecorded,
            Event::ScoreRecorded(_) => Self::ScoreRecorded,
            Event::ScoreCorrected(_) => Self::ScoreCorrected,
            Event::ItemReviewed(_) => Self::ItemReviewed,
            Event::SheetReviewed(_) => Self::SheetReviewed,
            Event::BusinessResultRecorded(_) => Self::BusinessResultRecorded,
            Event::AppealFiled(_) => Self::AppealFiled,
            Event::AppealUpheld(_) => Self::AppealUpheld,
            Event::AppealDismissed(_) => Self::AppealDismissed,
            Event::RectificationRaised(_) => Self::RectificationRaised,
            Event::RectificationSubmitted(_) => Self::RectificationSubmitted,
            Event::RectificationVerified(_) => Self::RectificationVerified,
            Event::RectificationSentBack(_) => Self::RectificationSentBack,
            Event::BusinessZoneSet(_) => Self::BusinessZoneSet,
        }
    }

    /// The stored event type name (`Event::event_type`).
    pub fn name(self) -> &'static str {
        match self {
            Self::UnitRegistered => "UnitRegistered",
            Self::UnitUpdated => "UnitUpdated",
            Self::PersonRegistered => "PersonRegistered",
            Self::AccessGranted => "AccessGranted",
            Self::AccessRevoked => "AccessRevoked",
            Self::TokenIssued => "TokenIssued",
            Self::TokenRevoked => "TokenRevoked",
            Self::RubricDefined => "RubricDefined",
            Self::RubricAdjusted => "RubricAdjusted",
            Self::PeriodOpened => "PeriodOpened",
            Self::PeriodStageChanged => "PeriodStageChanged",
            Self::PeriodRubricChanged => "PeriodRubricChanged",
            Self::SelfAssessmentRecorded => "SelfAssessmentRecorded",
            Self::ScoreRecorded => "ScoreRecorded",
            Self::ScoreCorrected => "ScoreCorrected",
            Self::ItemReviewed => "ItemReviewed",
            Self::SheetReviewed => "SheetReviewed",
            Self::BusinessResultRecorded => "BusinessResultRecorded",
            Self::AppealFiled => "AppealFiled",
            Self::AppealUpheld => "AppealUpheld",
            Self::AppealDismissed => "AppealDismissed",
            Self::RectificationRaised => "RectificationRaised",
            Self::RectificationSubmitted => "RectificationSubmitted",
            Self::RectificationVerified => "RectificationVerified",
            Self::RectificationSentBack => "RectificationSentBack",
            Self::BusinessZoneSet => "BusinessZoneSet",
        }
    }

    /// What the event is, for people: zh-CN first, then English.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnitRegistered => "登记单位 unit registered",
            Self::UnitUpdated => "更新单位 unit updated",
            Self::PersonRegistered => "登记人员 person registered",
            Self::AccessGranted => "授予权限 access granted",
            Self::AccessRevoked => "撤销权限 access revoked",
            Self::TokenIssued => "签发令牌 token issued",
            Self::TokenRevoked => "吊销令牌 token revoked",
            Self::RubricDefined => "制定考评细则 rubric defined",
            Self::RubricAdjusted => "调整考评细则 rubric adjusted",
            Self::PeriodOpened => "开启考核周期 period opened",
            Self::PeriodStageChanged => "考核阶段变更 period stage changed",
            Self::PeriodRubricChanged => "周期改用新版细则 period moved to a rubric version",
            Self::SelfAssessmentRecorded => "单位自评 self-assessment recorded",
            Self::ScoreRecorded => "考评打分 score recorded",
            Self::ScoreCorrected => "更正得分 score corrected",
            Self::ItemReviewed => "审核子项目 item reviewed",
            Self::SheetReviewed => "审核评分表 sheet reviewed",
            Self::BusinessResultRecorded => "记录经营业绩 business result recorded",
            Self::AppealFiled => "提出申诉 appeal filed",
            Self::AppealUpheld => "申诉成立 appeal upheld",
            Self::AppealDismissed => "申诉驳回 appeal dismissed",
            Self::RectificationRaised => "下达整改 rectification raised",
            Self::RectificationSubmitted => "提交整改 rectification submitted",
            Self::RectificationVerified => "验证整改 rectification verified",
            Self::RectificationSentBack => "退回整改 rectification sent back",
            Self::BusinessZoneSet => "设定业务时区 business zone set",
        }
    }

    /// Parses a stored event type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }

    /// Events on a period as a whole (shown in every sheet history of the period).
    fn is_period_level(self) -> bool {
        matches!(
            self,
            Self::PeriodOpened | Self::PeriodStageChanged | Self::PeriodRubricChanged
        )
    }
}

/// Where an item's score stood in review when an event was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAtTime {
    /// The item had no score.
    NotScored,
    Pending,
    Approved,
    Rejected,
}

impl ReviewAtTime {
    pub const fn label(self) -> &'static str {
        match self {
            Self::NotScored => "未评分 not scored",
            Self::Pending => "待审核 pending",
            Self::Approved => "已通过 approved",
            Self::Rejected => "已退回 rejected",
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::NotScored => 1,
            Self::Pending => 2,
            Self::Approved => 3,
            Self::Rejected => 4,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::NotScored),
            2 => Some(Self::Pending),
            3 => Some(Self::Approved),
            4 => Some(Self::Rejected),
            _ => None,
        }
    }

    fn of(score: Option<&ItemScore>) -> Self {
        match score.map(|s| &s.review) {
            None => Self::NotScored,
            Some(ReviewStatus::Pending) => Self::Pending,
            Some(ReviewStatus::Approved { .. }) => Self::Approved,
            Some(ReviewStatus::Rejected { .. }) => Self::Rejected,
        }
    }
}

/// Where an item's score stood against the period's rubric version when an event was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandingAtTime {
    NotScored,
    Counting,
    NeedsRescoring,
    Removed,
}

impl StandingAtTime {
    pub const fn label(self) -> &'static str {
        match self {
            Self::NotScored => "未评分 not scored",
            Self::Counting => "计分 counting",
            Self::NeedsRescoring => "须重新评分 needs re-scoring",
            Self::Removed => "子项目已删除 item removed",
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::NotScored => 1,
            Self::Counting => 2,
            Self::NeedsRescoring => 3,
            Self::Removed => 4,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::NotScored),
            2 => Some(Self::Counting),
            3 => Some(Self::NeedsRescoring),
            4 => Some(Self::Removed),
            _ => None,
        }
    }

    fn of(score: Option<&ItemScore>) -> Self {
        match score.map(|s| &s.standing) {
            None => Self::NotScored,
            Some(Standing::Counting) => Self::Counting,
            Some(Standing::NeedsRescoring { .. }) => Self::NeedsRescoring,
            Some(Standing::Removed { .. }) => Self::Removed,
        }
    }
}

pub(crate) fn rectification_code(status: Option<RectificationStatus>) -> u8 {
    match status {
        None => 0,
        Some(RectificationStatus::Open) => 1,
        Some(RectificationStatus::Submitted) => 2,
        Some(RectificationStatus::Closed) => 3,
    }
}

pub(crate) fn rectification_from_code(code: u8) -> Option<RectificationStatus> {
    match code {
        1 => Some(RectificationStatus::Open),
        2 => Some(RectificationStatus::Submitted),
        3 => Some(RectificationStatus::Closed),
        _ => None,
    }
}

/// One event in the change log: 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub position: u64,
    pub actor: u32,
    pub period: u32,
    pub unit: u32,
    pub item: u16,
    pub aspect: u16,
    /// The period's rubric version after the event (for rubric events, the version they made); 0
    /// when there is none.
    pub version: u16,
    pub kind: ChangeKind,
    pub role: Role,
    /// The transition the event made, by kind: review codes for scores and item reviews,
    /// rectification codes for rectification steps; 0 when not applicable.
    pub before: u8,
    pub after: u8,
    /// The item's review state and standing after the event (0 when the event names no item).
    pub review: u8,
    pub standing: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 32);

/// An old value that the event's payload does not name, kept for rendering "old → new".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Prior {
    /// The score or self-assessment draft that the event replaced (when the payload does not name
    /// it: a score recorded over an existing one, a correction whose `previous` is not what the
    /// ledger held, a replaced draft).
    Value(ScoreValue),
    Business {
        score: Points,
        vetoed: bool,
    },
    Unit {
        name: String,
        parent: Option<UnitId>,
    },
    Units(Vec<UnitId>),
    Due(NaiveDate),
}

/// A score's standing on a sheet: `(unit, item, standing code)`, interned.
type ItemStanding = (u32, u16, u8);

/// What is captured of the state before an event is folded.
pub(crate) struct Before {
    period: u32,
    unit: u32,
    item: u16,
    review: u8,
    rectification: u8,
    prior: Option<Prior>,
    /// For a rubric move: every live score of the period as `(unit, item, standing code)`.
    standings: Vec<ItemStanding>,
}

/// Why an envelope cannot be applied to a read model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "事件位置 {position} 不在已处理的位置 {last} 之后 (position {position} does not follow the last applied position {last})"
    )]
    OutOfOrder { position: u64, last: u64 },
    #[error(
        "事件 {position} 的记录时间 {recorded_at} 早于前一事件的 {previous} (event {position} was recorded at {recorded_at}, before the previous event's {previous})"
    )]
    TimeWentBack {
        position: u64,
        recorded_at: DateTime<Utc>,
        previous: DateTime<Utc>,
    },
}

/// What to look for in the change log. Every field narrows; `None` (or an empty list) leaves it open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeFilter {
    /// Who recorded the event (the envelope's actor).
    pub actor: Option<PersonId>,
    pub period: Option<PeriodId>,
    pub unit: Option<UnitId>,
    pub item: Option<ItemCode>,
    /// The item's aspect under the period's rubric version at the time of the event.
    pub aspect: Option<AspectCode>,
    /// Event kinds; empty means every kind.
    pub kinds: Vec<ChangeKind>,
    /// Recorded at or after (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before (inclusive).
    pub to: Option<DateTime<Utc>>,
}

/// One page of the change log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangePage {
    /// Positions of the matching events, newest first; read these envelopes and render them.
    pub positions: Vec<u64>,
    /// The cursor for the next (older) page, `None` when there is nothing older that matches.
    pub next: Option<u64>,
}

/// A filter resolved to interned numbers; `None` when it names something the log never saw.
struct Resolved {
    actor: u32,
    period: u32,
    unit: u32,
    item: u16,
    aspect: u16,
    kinds: u32,
}

impl Resolved {
    fn matches(&self, e: &Entry) -> bool {
        (self.actor == NONE32 || e.actor == self.actor)
            && (self.period == NONE32 || e.period == self.period)
            && (self.unit == NONE32 || e.unit == self.unit)
            && (self.item == NONE16 || e.item == self.item || e.item == OVERFLOW16)
            && (self.aspect == NONE16 || e.aspect == self.aspect || e.aspect == OVERFLOW16)
            && (self.kinds & e.kind.bit() != 0)
    }
}

/// The change log: entries, the time index, the interned names and the history indexes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChangeLog {
    pub entries: Chunked<Entry>,
    /// `recorded_at` of each entry, in microseconds since the epoch; never decreasing.
    pub times: Chunked<i64>,
    pub people: Interner,
    pub periods: Interner,
    pub units: Interner,
    pub items: Interner,
    pub aspects: Interner,
    rubrics: Interner,
    /// Entry indexes of each sheet's events, by (period, unit).
    by_sheet: FnvMap<(u32, u32), Vec<u32>>,
    /// Entry indexes of each period's period-level events.
    by_period: FnvMap<u32, Vec<u32>>,
    /// Item number → aspect number, per (rubric, version), built on first use.
    aspect_tables: FnvMap<(u32, u32), Vec<u16>>,
    pub priors: FnvMap<u64, Prior>,
    /// For each rubric move (by position), the live scores whose standing it changed:
    /// `(unit, item, standing code after)`.
    moves: FnvMap<u64, Vec<ItemStanding>>,
    /// The position of the event that made each rubric version.
    pub rubric_versions: FnvMap<(u32, u32), u64>,
}

fn narrow(id: u32) -> u16 {
    u16::try_from(id).map_or(OVERFLOW16, |n| n.min(OVERFLOW16))
}

impl ChangeLog {
    /// Refuses an envelope that does not follow the last one in position and time.
    pub fn check_order(&self, envelope: &Envelope) -> Result<(), ApplyError> {
        if let Some(last) = self.entries.last()
            && envelope.position <= last.position
        {
            return Err(ApplyError::OutOfOrder {
                position: envelope.position,
                last: last.position,
            });
        }
        if let Some(&previous) = self.times.last()
            && envelope.recorded_at.timestamp_micros() < previous
        {
            return Err(ApplyError::TimeWentBack {
                position: envelope.position,
                recorded_at: envelope.recorded_at,
                previous: DateTime::from_timestamp_micros(previous).unwrap_or_default(),
            });
        }
        Ok(())
    }

    fn scope(
        &mut self,
        before: &mut Before,
        period: &PeriodId,
        unit: &UnitId,
        item: Option<&ItemCode>,
    ) {
        before.period = self.periods.intern(period.as_str());
        before.unit = self.units.intern(unit.as_str());
        if let Some(item) = item {
            before.item = narrow(self.items.intern(item.as_str()));
        }
    }

    /// Captures what the event will change, before it is folded into `state`.
    pub fn before(&mut self, state: &State, event: &Event) -> Before {
        let mut before = Before {
            period: NONE32,
            unit: NONE32,
            item: NONE16,
            review: 0,
            rectification: 0,
            prior: None,
            standings: Vec::new(),
        };
        let score = |period: &PeriodId, unit: &UnitId, item: &ItemCode| {
            state.sheet(period, unit).and_then(|s| s.scores.get(item))
        };
        match event {
            Event::UnitRegistered(e) => before.unit = self.units.intern(e.unit.as_str()),
            Event::UnitUpdated(e) => {
                before.unit = self.units.intern(e.unit.as_str());
                if let Some(unit) = state.units.get(&e.unit) {
                    before.prior = Some(Prior::Unit {
                        name: unit.name.clone(),
                        parent: unit.parent.clone(),
                    });
                }
            }
            Event::PersonRegistered(e) => {
                if let Some(unit) = &e.unit {
                    before.unit = self.units.intern(unit.as_str());
                }
            }
            Event::AccessGranted(e) => {
                if let Some(units) = state
                    .people
                    .get(&e.person)
                    .and_then(|p| p.roles.get(&e.role))
                {
                    before.prior = Some(Prior::Units(units.iter().cloned().collect()));
                }
            }
            Event::PeriodOpened(e) => before.period = self.periods.intern(e.period.as_str()),
            Event::PeriodStageChanged(e) => before.period = self.periods.intern(e.period.as_str()),
            Event::PeriodRubricChanged(e) => {
                before.period = self.periods.intern(e.period.as_str());
                // A move re-judges every live score of the period; what it changes is kept, so an
                // item's history can show its standing after the move (`item_state_at`).
                for unit in state.periods.get(&e.period).map_or(&[][..], |p| &p.units) {
                    let Some(sheet) = state.sheet(&e.period, unit) else {
                        continue;
                    };
                    let u = self.units.intern(unit.as_str());
                    for (code, score) in sheet.scores.iter().filter(|(_, s)| s.is_live()) {
                        let i = narrow(self.items.intern(code.as_str()));
                        let standing = StandingAtTime::of(Some(score)).code();
                        before.standings.push((u, i, standing));
                    }
                }
            }
            Event::SelfAssessmentRecorded(e) => {
                self.scope(&mut before, &e.period, &e.unit, Some(&e.item));
                if let Some(draft) = state
                    .sheet(&e.period, &e.unit)
                    .and_then(|s| s.self_assessments.get(&e.item))
                {
                    before.prior = Some(Prior::Value(draft.value.clone()));
                }
            }
            Event::ScoreRecorded(e) => {
                self.scope(&mut before, &e.period, &e.unit, Some(&e.item));
                // A removed score is no old value: an item brought back by a later version is a new
                // item that starts unscored (DOMAIN-RULES).
                let existing = score(&e.period, &e.unit, &e.item).filter(|s| s.is_live());
                before.review = ReviewAtTime::of(existing).code();
                before.prior = existing.map(|s| Prior::Value(s.value.clone()));
            }
            Event::ScoreCorrected(e) => {
                self.scope(&mut before, &e.period, &e.unit, Some(&e.item));
                let existing = score(&e.period, &e.unit, &e.item);
                before.review = ReviewAtTime::of(existing).code();
                before.prior = existing
                    .filter(|s| s.value != e.previous)
                    .map(|s| Prior::Value(s.value.clone()));
            }
            Event::ItemReviewed(e) => {
                self.scope(&mut before, &e.period, &e.unit, Some(&e.item));
                before.review = ReviewAtTime::of(score(&e.period, &e.unit, &e.item)).code();
            }
            Event::SheetReviewed(e) => self.scope(&mut before, &e.period, &e.unit, None),
            Event::BusinessResultRecorded(e) => {
                self.scope(&mut before, &e.period, &e.unit, None);
                if let Some(b) = state
                    .sheet(&e.period, &e.unit)
                    .and_then(|s| s.business.as_ref())
                {
                    before.prior = Some(Prior::Business {
                        score: b.score,
                        vetoed: b.vetoed,
                    });
                }
            }
            Event::AppealFiled(e) => self.scope(&mut before, &e.period, &e.unit, e.item.as_ref()),
            Event::AppealUpheld(e) => {
                if let Some(a) = state.appeals.get(&e.appeal) {
                    self.scope(&mut before, &a.period, &a.unit, a.item.as_ref());
                }
            }
            Event::AppealDismissed(e) => {
                if let Some(a) = state.appeals.get(&e.appeal) {
                    self.scope(&mut before, &a.period, &a.unit, a.item.as_ref());
                }
            }
            Event::RectificationRaised(e) => {
                self.scope(&mut before, &e.period, &e.unit, Some(&e.item))
            }
            Event::RectificationSubmitted(e) => {
                if let Some(r) = state.rectifications.get(&e.rectification) {
                    self.scope(&mut before, &r.period, &r.unit, Some(&r.item));
                    before.rectification = rectification_code(Some(r.status));
                }
            }
            Event::RectificationVerified(e) => {
                if let Some(r) = state.rectifications.get(&e.rectification) {
                    self.scope(&mut before, &r.period, &r.unit, Some(&r.item));
                    before.rectification = rectification_code(Some(r.status));
                }
            }
            Event::RectificationSentBack(e) => {
                if let Some(r) = state.rectifications.get(&e.rectification) {
                    self.scope(&mut before, &r.period, &r.unit, Some(&r.item));
                    before.rectification = rectification_code(Some(r.status));
                    if e.due_on.is_some() {
                        before.prior = Some(Prior::Due(r.due_on));
                    }
                }
            }
            Event::BusinessZoneSet(_)
            | Event::AccessRevoked(_)
            | Event::TokenIssued(_)
            | Event::TokenRevoked(_)
            | Event::RubricDefined(_)
            | Event::RubricAdjusted(_) => {}
        }
        before
    }

    /// Records the event after it was folded into `state`.
    pub fn push(&mut self, state: &State, envelope: &Envelope, event: &Event, before: Before) {
        let kind = ChangeKind::of(event);
        let index = u32::try_from(self.entries.len()).expect("fewer than 2^32 events");
        let mut entry = Entry {
            position: envelope.position,
            actor: self.people.intern(envelope.actor.person.as_str()),
            period: before.period,
            unit: before.unit,
            item: before.item,
            aspect: NONE16,
            version: 0,
            kind,
            role: envelope.actor.role,
            before: 0,
            after: 0,
            review: 0,
            standing: 0,
        };
        if let Some(prior) = before.prior {
            self.priors.insert(envelope.position, prior);
        }
        // The period's rubric version after the event, and the item's aspect under it.
        let period = (entry.period != NONE32)
            .then(|| self.periods.name(entry.period))
            .flatten()
            .and_then(|name| state.periods.get_by(|k| k.as_str().cmp(name)));
        if let Some(p) = period {
            entry.version = u16::try_from(p.rubric_version).unwrap_or(u16::MAX);
            if entry.item != NONE16 && entry.item != OVERFLOW16 {
                let rubric = self.rubrics.intern(p.rubric.as_str());
                entry.aspect = self.aspect_of(state, rubric, p, entry.item);
            }
        }
        // The item's review state and standing after the event.
        if entry.item != NONE16
            && let (Some(period), Some(unit), Some(item)) = (
                self.periods.name(entry.period),
                self.units.name(entry.unit),
                self.items.name(u32::from(entry.item)),
            )
        {
            let score = state
                .sheets
                .get_by(|k| {
                    k.period
                        .as_str()
                        .cmp(period)
                        .then_with(|| k.unit.as_str().cmp(unit))
                })
                .and_then(|s| s.scores.get_by(|k| k.as_str().cmp(item)));
            entry.review = ReviewAtTime::of(score).code();
            entry.standing = StandingAtTime::of(score).code();
        }
        match event {
            Event::ScoreRecorded(_) | Event::ScoreCorrected(_) | Event::ItemReviewed(_) => {
                entry.before = before.review;
                entry.after = entry.review;
            }
            Event::SheetReviewed(e) => {
                // The review state every live score of the sheet took (an approval leaves those
                // approved before as they were: approved).
                entry.after = match e.decision {
                    ReviewDecision::Approved => ReviewAtTime::Approved.code(),
                    ReviewDecision::Rejected => ReviewAtTime::Rejected.code(),
                };
            }
            Event::PeriodRubricChanged(e) => {
                let mut changed = Vec::new();
                for (u, i, was) in before.standings {
                    let (Some(unit), Some(code)) =
                        (self.units.name(u), self.items.name(u32::from(i)))
                    else {
                        continue;
                    };
                    let now = state
                        .sheets
                        .get_by(|k| {
                            k.period
                                .as_str()
                                .cmp(e.period.as_str())
                                .then_with(|| k.unit.as_str().cmp(unit))
                        })
                        .and_then(|s| s.scores.get_by(|k| k.as_str().cmp(code)));
                    let now = StandingAtTime::of(now).code();
                    if now != was {
                        changed.push((u, i, now));
                    }
                }
                if !changed.is_empty() {
                    self.moves.insert(envelope.position, changed);
                }
            }
            Event::RectificationRaised(e) => {
                entry.after = rectification_code(
                    state.rectifications.get(&e.rectification).map(|r| r.status),
                );
            }
            Event::RectificationSubmitted(e) => {
                entry.before = before.rectification;
                entry.after = rectification_code(
                    state.rectifications.get(&e.rectification).map(|r| r.status),
                );
            }
            Event::RectificationVerified(e) => {
                entry.before = before.rectification;
                entry.after = rectification_code(
                    state.rectifications.get(&e.rectification).map(|r| r.status),
                );
            }
            Event::RectificationSentBack(e) => {
                entry.before = before.rectification;
                entry.after = rectification_code(
                    state.rectifications.get(&e.rectification).map(|r| r.status),
                );
            }
            Event::RubricDefined(e) => {
                let rubric = self.rubrics.intern(e.rubric.as_str());
                // A redefinition replaces every version: forget the aspect tables built for it.
                self.aspect_tables.retain(|(r, _), _| *r != rubric);
                self.rubric_versions.retain(|(r, _), _| *r != rubric);
                self.rubric_versions.insert((rubric, 1), envelope.position);
                entry.version = 1;
            }
            Event::RubricAdjusted(e) => {
                let rubric = self.rubrics.intern(e.rubric.as_str());
                if let Some(r) = state.rubrics.get(&e.rubric) {
                    self.rubric_versions
                        .insert((rubric, r.latest()), envelope.position);
                    entry.version = u16::try_from(r.latest()).unwrap_or(u16::MAX);
                }
            }
            _ => {}
        }
        if entry.period != NONE32 {
            if entry.unit != NONE32 {
                self.by_sheet
                    .entry((entry.period, entry.unit))
                    .or_default()
                    .push(index);
            } else if kind.is_period_level() {
                self.by_period.entry(entry.period).or_default().push(index);
            }
        }
        self.entries.push(entry);
        self.times.push(envelope.recorded_at.timestamp_micros());
    }

    /// The aspect number of `item` under the period's current rubric version.
    fn aspect_of(
        &mut self,
        state: &State,
        rubric: u32,
        period: &crate::domain::state::PeriodState,
        item: u16,
    ) -> u16 {
        let key = (rubric, period.rubric_version);
        if !self.aspect_tables.contains_key(&key) {
            let mut table = Vec::new();
            if let Some(def) = state.definition(&period.rubric, period.rubric_version) {
                for aspect in &def.aspects {
                    let a = narrow(self.aspects.intern(aspect.code.as_str()));
                    for i in &aspect.items {
                        let i = self.items.intern(i.code.as_str()) as usize;
                        if table.len() <= i {
                            table.resize(i + 1, NONE16);
                        }
                        table[i] = a;
                    }
                }
            }
            self.aspect_tables.insert(key, table);
        }
        self.aspect_tables[&key]
            .get(usize::from(item))
            .copied()
            .unwrap_or(NONE16)
    }

    /// The number of entries at or before `position`.
    pub fn cut_at(&self, position: u64) -> usize {
        self.entries.partition_point(|e| e.position <= position)
    }

    /// The entry of the event at `position`.
    pub fn entry_at(&self, position: u64) -> Option<&Entry> {
        let i = self.cut_at(position).checked_sub(1)?;
        self.entries.get(i).filter(|e| e.position == position)
    }

    /// The last position recorded at or before `time` (0 when none was).
    pub fn position_at(&self, time: DateTime<Utc>) -> u64 {
        let micros = time.timestamp_micros();
        let n = self.times.partition_point(|t| *t <= micros);
        n.checked_sub(1).map_or(0, |i| self.entries[i].position)
    }

    fn resolve(&self, filter: &ChangeFilter) -> Option<Resolved> {
        fn id(interner: &Interner, name: Option<&str>) -> Option<u32> {
            match name {
                None => Some(NONE32),
                Some(name) => interner.get(name),
            }
        }
        let kinds = if filter.kinds.is_empty() {
            u32::MAX
        } else {
            filter.kinds.iter().fold(0, |bits, k| bits | k.bit())
        };
        Some(Resolved {
            actor: id(&self.people, filter.actor.as_ref().map(PersonId::as_str))?,
            period: id(&self.periods, filter.period.as_ref().map(PeriodId::as_str))?,
            unit: id(&self.units, filter.unit.as_ref().map(UnitId::as_str))?,
            item: match &filter.item {
                None => NONE16,
                Some(item) => narrow(self.items.get(item.as_str())?),
            },
            aspect: match &filter.aspect {
                None => NONE16,
                Some(aspect) => narrow(self.aspects.get(aspect.as_str())?),
            },
            kinds,
        })
    }

    /// A page of matching entries among the first `cut`, older than `before`, newest first.
    pub fn page(
        &self,
        cut: usize,
        filter: &ChangeFilter,
        before: Option<u64>,
        limit: usize,
    ) -> ChangePage {
        let empty = ChangePage {
            positions: Vec::new(),
            next: None,
        };
        let Some(resolved) = self.resolve(filter) else {
            return empty;
        };
        let lo = filter.from.map_or(0, |from| {
            let t = from.timestamp_micros();
            self.times.partition_point(|x| *x < t).min(cut)
        });
        let mut hi = filter.to.map_or(cut, |to| {
            let t = to.timestamp_micros();
            self.times.partition_point(|x| *x <= t).min(cut)
        });
        if let Some(before) = before {
            hi = hi.min(self.entries.partition_point(|e| e.position < before));
        }
        if lo >= hi || limit == 0 {
            return empty;
        }
        let mut positions = Vec::with_capacity(limit.min(1024));
        let mut more = false;
        let mut take = |e: &Entry| {
            if positions.len() == limit {
                more = true;
                return false;
            }
            positions.push(e.position);
            true
        };
        if resolved.period != NONE32 && resolved.unit != NONE32 {
            // A sheet's own index is far shorter than the whole log.
            let indexes: &[u32] = self
                .by_sheet
                .get(&(resolved.period, resolved.unit))
                .map_or(&[], Vec::as_slice);
            let start = indexes.partition_point(|i| (*i as usize) < lo);
            let end = indexes.partition_point(|i| (*i as usize) < hi);
            for &i in indexes[start..end].iter().rev() {
                let e = &self.entries[i as usize];
                if resolved.matches(e) && !take(e) {
                    break;
                }
            }
        } else {
            for e in self.entries.range(lo, hi).rev() {
                if resolved.matches(e) && !take(e) {
                    break;
                }
            }
        }
        let next = more.then(|| *positions.last().expect("a full page"));
        ChangePage { positions, next }
    }

    pub fn rubric_id(&self, rubric: &str) -> Option<u32> {
        self.rubrics.get(rubric)
    }

    fn period_id(&self, period: &PeriodId) -> Option<u32> {
        self.periods.get(period.as_str())
    }

    /// Positions of a sheet's history among the first `cut` entries, oldest first: the sheet's own
    /// events (scores, corrections, reviews, self-assessments, business results, appeals and
    /// rectification steps on it) merged with its period's events (opening, stage changes, rubric
    /// moves). `item` narrows to the events that name that item, the whole-sheet reviews (which
    /// change every live item's review state) and the period's rubric moves (which change its
    /// standing).
    pub fn history(
        &self,
        cut: usize,
        period: &PeriodId,
        unit: &UnitId,
        item: Option<&ItemCode>,
    ) -> Vec<u64> {
        self.history_entries(cut, period, unit, item)
            .into_iter()
            .map(|i| self.entries[i as usize].position)
            .collect()
    }

    /// [`ChangeLog::history`] as entry indexes.
    fn history_entries(
        &self,
        cut: usize,
        period: &PeriodId,
        unit: &UnitId,
        item: Option<&ItemCode>,
    ) -> Vec<u32> {
        let Some(p) = self.period_id(period) else {
            return Vec::new();
        };
        // `Some(None)`: an item the log never named, whose history is only the sheet-wide events.
        let item: Option<Option<u16>> = item.map(|code| self.items.get(code.as_str()).map(narrow));
        let own: &[u32] = self
            .units
            .get(unit.as_str())
            .and_then(|u| self.by_sheet.get(&(p, u)))
            .map_or(&[], Vec::as_slice);
        let shared: &[u32] = self.by_period.get(&p).map_or(&[], Vec::as_slice);
        let keep_own = |e: &Entry| match item {
            None => true,
            Some(i) => {
                e.kind == ChangeKind::SheetReviewed
                    || i.is_some_and(|i| e.item == i || e.item == OVERFLOW16)
            }
        };
        let keep_shared = |e: &Entry| item.is_none() || e.kind == ChangeKind::PeriodRubricChanged;
        let mut out = Vec::new();
        let (mut a, mut b) = (0, 0);
        let cut = u32::try_from(cut).unwrap_or(u32::MAX);
        loop {
            let next_own = own.get(a).filter(|i| **i < cut);
            let next_shared = shared.get(b).filter(|i| **i < cut);
            let (index, keep) = match (next_own, next_shared) {
                (None, None) => break,
                (Some(x), Some(y)) if x < y => {
                    a += 1;
                    (*x, keep_own(&self.entries[*x as usize]))
                }
                (Some(x), None) => {
                    a += 1;
                    (*x, keep_own(&self.entries[*x as usize]))
                }
                (_, Some(y)) => {
                    b += 1;
                    (*y, keep_shared(&self.entries[*y as usize]))
                }
            };
            if keep {
                out.push(index);
            }
        }
        out
    }

    /// An item's review state and standing right after the event at `position` (codes of
    /// [`ReviewAtTime`] and [`StandingAtTime`]), carried along the item's history: an event that
    /// names the item recorded them; a whole-sheet review gives every live score its decision; a
    /// rubric move changes the standings it kept in `moves`. `None` when the log holds no event
    /// at `position`.
    pub fn item_state_at(
        &self,
        position: u64,
        period: &PeriodId,
        unit: &UnitId,
        item: &ItemCode,
    ) -> Option<(u8, u8)> {
        self.entry_at(position)?;
        let (Some(u), Some(i)) = (
            self.units.get(unit.as_str()),
            self.items.get(item.as_str()).map(narrow),
        ) else {
            let none = ReviewAtTime::NotScored.code();
            return Some((none, StandingAtTime::NotScored.code()));
        };
        let mut review = ReviewAtTime::NotScored.code();
        let mut standing = StandingAtTime::NotScored.code();
        for index in self.history_entries(self.cut_at(position), period, unit, Some(item)) {
            let e = &self.entries[index as usize];
            match e.kind {
                ChangeKind::SheetReviewed => {
                    let live = matches!(
                        StandingAtTime::from_code(standing),
                        Some(StandingAtTime::Counting | StandingAtTime::NeedsRescoring)
                    );
                    if live {
                        review = e.after;
                    }
                }
                ChangeKind::PeriodRubricChanged => {
                    let changed = self
                        .moves
                        .get(&e.position)
                        .and_then(|m| m.iter().find(|(mu, mi, _)| *mu == u && *mi == i));
                    if let Some((_, _, now)) = changed {
                        standing = *now;
                    }
                }
                _ if e.item == i => (review, standing) = (e.review, e.standing),
                _ => {}
            }
        }
        Some((review, standing))
    }

    /// Heap bytes of the log and its indexes (entries, times, history indexes, interned names and
    /// priors), approximately: capacities, not lengths.
    pub fn heap_bytes(&self) -> usize {
        let index: usize = self
            .by_sheet
            .values()
            .chain(self.by_period.values())
            .map(|v| v.capacity() * 4 + 24 + 16)
            .sum();
        self.entries.heap_bytes()
            + self.times.heap_bytes()
            + index
            + self.priors.capacity() * (8 + std::mem::size_of::<Prior>() + 1)
            + self
                .moves
                .values()
                .map(|m| 8 + 24 + 1 + m.capacity() * 8)
                .sum::<usize>()
            + self.people.heap_bytes()
            + self.periods.heap_bytes()
            + self.units.heap_bytes()
            + self.items.heap_bytes()
            + self.aspects.heap_bytes()
    }
}

/// An entry as stored: `(position, actor, period, unit, item, aspect, version, kind, role, before,
/// after, review, standing)`, the kind and the role as their indexes in `ChangeKind::ALL` and
/// `Role::ALL`.
type EntryImage = (u64, u32, u32, u32, u16, u16, u16, u8, u8, u8, u8, u8, u8);

/// The change log as stored beside the log (inside a stored read model, see
/// [`super::ReadModel::encode_stored`]): every part of [`ChangeLog`] in plain vectors, maps sorted by
/// key so that equal logs give equal bytes.
#[derive(Serialize, Deserialize)]
pub(crate) struct LogImage {
    entries: Vec<EntryImage>,
    times: Vec<i64>,
    people: Vec<String>,
    periods: Vec<String>,
    units: Vec<String>,
    items: Vec<String>,
    aspects: Vec<String>,
    rubrics: Vec<String>,
    by_sheet: Vec<((u32, u32), Vec<u32>)>,
    by_period: Vec<(u32, Vec<u32>)>,
    aspect_tables: Vec<((u32, u32), Vec<u16>)>,
    priors: Vec<(u64, Prior)>,
    rubric_versions: Vec<((u32, u32), u64)>,
    moves: Vec<(u64, Vec<ItemStanding>)>,
}

fn sorted<K: Ord + Copy, V: Clone>(map: &FnvMap<K, V>) -> Vec<(K, V)> {
    let mut out: Vec<(K, V)> = map.iter().map(|(k, v)| (*k, v.clone())).collect();
    out.sort_unstable_by_key(|(k, _)| *k);
    out
}

impl ChangeLog {
    /// The stored form of the log.
    pub fn image(&self) -> LogImage {
        let names = |i: &Interner| i.names().map(str::to_owned).collect::<Vec<_>>();
        LogImage {
            entries: self
                .entries
                .range(0, self.entries.len())
                .map(|e| {
                    (
                        e.position,
                        e.actor,
                        e.period,
                        e.unit,
                        e.item,
                        e.aspect,
                        e.version,
                        e.kind as u8,
                        Role::ALL.iter().position(|r| *r == e.role).unwrap_or(0) as u8,
                        e.before,
                        e.after,
                        e.review,
                        e.standing,
                    )
                })
                .collect(),
            times: self.times.range(0, self.times.len()).copied().collect(),
            people: names(&self.people),
            periods: names(&self.periods),
            units: names(&self.units),
            items: names(&self.items),
            aspects: names(&self.aspects),
            rubrics: names(&self.rubrics),
            by_sheet: sorted(&self.by_sheet),
            by_period: sorted(&self.by_period),
            aspect_tables: sorted(&self.aspect_tables),
            priors: sorted(&self.priors),
            rubric_versions: sorted(&self.rubric_versions),
            moves: sorted(&self.moves),
        }
    }

    /// The log a stored image describes, checked so that every number in it names something: an
    /// image that does not hold together is refused (with what is wrong), never trusted to index.
    pub fn from_image(image: LogImage) -> Result<Self, String> {
        let interner = |names: Vec<String>, what: &str| {
            Interner::from_names(names).ok_or_else(|| format!("{what}: a name appears twice"))
        };
        let people = interner(image.people, "people")?;
        let periods = interner(image.periods, "periods")?;
        let units = interner(image.units, "units")?;
        let items = interner(image.items, "items")?;
        let aspects = interner(image.aspects, "aspects")?;
        let rubrics = interner(image.rubrics, "rubrics")?;
        if image.entries.len() != image.times.len() {
            return Err(format!(
                "{} entries but {} times",
                image.entries.len(),
                image.times.len()
            ));
        }
        let in32 = |id: u32, interner: &Interner| id == NONE32 || (id as usize) < interner.count();
        let in16 = |id: u16, interner: &Interner| {
            id == NONE16 || id == OVERFLOW16 || usize::from(id) < interner.count()
        };
        let mut log = ChangeLog {
            people,
            periods,
            units,
            items,
            aspects,
            rubrics,
            ..ChangeLog::default()
        };
        let (mut last_position, mut last_time) = (0, i64::MIN);
        for (i, (image, time)) in image.entries.into_iter().zip(image.times).enumerate() {
            let (position, actor, period, unit, item, aspect, version, kind, role) = (
                image.0, image.1, image.2, image.3, image.4, image.5, image.6, image.7, image.8,
            );
            let (Some(kind), Some(role)) = (
                ChangeKind::ALL.get(usize::from(kind)).copied(),
                Role::ALL.get(usize::from(role)).copied(),
            ) else {
                return Err(format!("entry {i}: unknown kind or role"));
            };
            if position <= last_position || time < last_time {
                return Err(format!("entry {i}: out of order"));
            }
            if (actor as usize) >= log.people.count()
                || !in32(period, &log.periods)
                || !in32(unit, &log.units)
                || !in16(item, &log.items)
                || !in16(aspect, &log.aspects)
            {
                return Err(format!("entry {i}: names an id the log does not hold"));
            }
            (last_position, last_time) = (position, time);
            log.entries.push(Entry {
                position,
                actor,
                period,
                unit,
                item,
                aspect,
                version,
                kind,
                role,
                before: image.9,
                after: image.10,
                review: image.11,
                standing: image.12,
            });
            log.times.push(time);
        }
        let len = log.entries.len();
        let indexes = |list: &[u32]| {
            list.windows(2).all(|w| w[0] < w[1]) && list.last().is_none_or(|i| (*i as usize) < len)
        };
        for ((period, unit), list) in image.by_sheet {
            if period == NONE32
                || unit == NONE32
                || !in32(period, &log.periods)
                || !in32(unit, &log.units)
                || !indexes(&list)
            {
                return Err(format!(
                    "the history of sheet ({period}, {unit}) does not fit"
                ));
            }
            log.by_sheet.insert((period, unit), list);
        }
        for (period, list) in image.by_period {
            if period == NONE32 || !in32(period, &log.periods) || !indexes(&list) {
                return Err(format!("the history of period {period} does not fit"));
            }
            log.by_period.insert(period, list);
        }
        for ((rubric, version), table) in image.aspect_tables {
            if (rubric as usize) >= log.rubrics.count()
                || !table.iter().all(|a| in16(*a, &log.aspects))
            {
                return Err(format!("the aspect table of rubric {rubric} does not fit"));
            }
            log.aspect_tables.insert((rubric, version), table);
        }
        for ((rubric, version), position) in image.rubric_versions {
            if (rubric as usize) >= log.rubrics.count() {
                return Err(format!(
                    "rubric version ({rubric}, {version}) names no rubric"
                ));
            }
            log.rubric_versions.insert((rubric, version), position);
        }
        for (position, changed) in image.moves {
            let fits = changed.iter().all(|(u, i, standing)| {
                (*u as usize) < log.units.count()
                    && in16(*i, &log.items)
                    && StandingAtTime::from_code(*standing).is_some()
            });
            if !fits
                || log.entry_at(position).map(|e| e.kind) != Some(ChangeKind::PeriodRubricChanged)
            {
                return Err(format!("the rubric move at {position} does not fit"));
            }
            log.moves.insert(position, changed);
        }
        log.priors = image.priors.into_iter().collect();
        Ok(log)
    }
}
