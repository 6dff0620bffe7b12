//! Accountability (责任落实): for one responsible person (责任人), the items they own in every period
//! (under the period's current rubric version), the scores on those items, and their rectification
//! work (整改) across periods, split into open, overdue and closed.
//!
//! [`Scope`] narrows the answer to one period or one unit.
//!
//! Overdue is derived from the `today` the caller passes (the ledger's calendar day), never
//! recorded: due before today and not closed ([`RectificationState::is_overdue`]).

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{
    AspectCode, ItemCode, PeriodId, PersonId, RectificationId, RubricId, UnitId,
};
use ledger_schemas::rubric::ItemKind;
use ledger_schemas::values::{Points, ScoreSource, ScoreValue, Stage, Text};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{RectificationState, RectificationStatus, ReviewStatus, Standing, State};
use crate::scoring;

/// What one person is accountable for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accountability {
    pub person: PersonId,
    /// The person's name, if they are registered.
    pub name: Option<String>,
    pub today: NaiveDate,
    /// The items they are responsible for, by period (in period id order) and rubric order.
    pub items: Vec<OwnedItem>,
    /// Rectifications not closed and not overdue, earliest due first.
    pub open: Vec<RectificationLine>,
    /// Rectifications not closed and due before `today`, earliest due first.
    pub overdue: Vec<RectificationLine>,
    /// Verified (closed) rectifications, earliest due first.
    pub closed: Vec<RectificationLine>,
}

/// An item a person is responsible for in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedItem {
    pub period: PeriodId,
    pub stage: Stage,
    pub rubric: RubricId,
    pub rubric_version: u32,
    pub aspect: AspectCode,
    pub item: ItemCode,
    pub title: Text,
    pub kind: ItemKind,
    /// The score of every unit of the period that has one, in unit order.
    pub scores: Vec<OwnedScore>,
}

/// One unit's score on an owned item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedScore {
    pub unit: UnitId,
    pub value: ScoreValue,
    pub source: ScoreSource,
    /// What the value is worth on the item when it counts (signed: deductions are negative), as a
    /// reported figure: rounded once to two places, without trailing zeros (SCORING.md).
    pub worth: Option<Decimal>,
    pub standing: Standing,
    pub review: ReviewStatus,
}

/// One rectification item, as its responsible person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RectificationLine {
    pub rectification: RectificationId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub finding: String,
    pub origin: RectificationOrigin,
    pub status: RectificationStatus,
    pub due_on: NaiveDate,
    /// Days past the due date (0 unless overdue).
    pub days_overdue: i64,
    pub raised_at: DateTime<Utc>,
    pub sent_back: u32,
}

pub(crate) fn line(
    id: &RectificationId,
    r: &RectificationState,
    today: NaiveDate,
) -> RectificationLine {
    RectificationLine {
        rectification: id.clone(),
        period: r.period.clone(),
        unit: r.unit.clone(),
        item: r.item.clone(),
        finding: r.finding.clone(),
        origin: r.origin,
        status: r.status,
        due_on: r.due_on,
        days_overdue: if r.is_overdue(today) {
            (today - r.due_on).num_days()
        } else {
            0
        },
        raised_at: r.raised_at,
        sent_back: r.sent_back,
    }
}

/// Which part of a person's accountability to gather: every period and unit by default, or one
/// period, or one unit. The answer over every period grows with the ledger's history (items × units
/// × periods); a screen shows one period at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub period: Option<PeriodId>,
    pub unit: Option<UnitId>,
}

impl Scope {
    /// Every period and unit.
    pub fn all() -> Self {
        Self::default()
    }

    /// One period, every unit.
    pub fn period(period: &PeriodId) -> Self {
        Self {
            period: Some(period.clone()),
            unit: None,
        }
    }

    fn covers(&self, period: &PeriodId, unit: &UnitId) -> bool {
        self.period.as_ref().is_none_or(|p| p == period)
            && self.unit.as_ref().is_none_or(|u| u == unit)
    }
}

/// What `person` is accountable for in `state` within `scope`, with overdue judged on `today`.
pub fn accountability(
    state: &State,
    person: &PersonId,
    today: NaiveDate,
    scope: &Scope,
) -> Accountability {
    let mut items = Vec::new();
    let periods: Box<dyn Iterator<Item = (&PeriodId, &crate::domain::state::PeriodState)>> =
        match &scope.period {
            Some(p) => Box::new(state.periods.get(p).map(|state| (p, state)).into_iter()),
            None => Box::new(state.periods.iter()),
        };
    for (period_id, period) in periods {
        let Some(def) = state.definition(&period.rubric, period.rubric_version) else {
            continue;
        };
        for aspect in &def.aspects {
            for item in aspect.items.iter().filter(|i| &i.responsible == person) {
                let scores = period
                    .units
                    .iter()
                    .filter(|unit| scope.covers(period_id, unit))
                    .filter_map(|unit| {
                        let score = state.sheet(period_id, unit)?.live(&item.code)?;
                        Some(OwnedScore {
                            unit: unit.clone(),
                            value: score.value.clone(),
                            source: score.source,
                            worth: (score.standing == Standing::Counting)
                                .then(|| scoring::item_worth(def, &item.code, &score.value).ok())
                                .flatten()
                                .map(Points::round_final),
                            standing: score.standing.clone(),
                            review: score.review.clone(),
                        })
                    })
                    .collect();
                items.push(OwnedItem {
                    period: period_id.clone(),
                    stage: period.stage,
                    rubric: period.rubric.clone(),
                    rubric_version: period.rubric_version,
                    aspect: aspect.code.clone(),
                    item: item.code.clone(),
                    title: item.title.clone(),
                    kind: item.kind.clone(),
                    scores,
                });
            }
        }
    }
    let (mut open, mut overdue, mut closed) = (Vec::new(), Vec::new(), Vec::new());
    for (id, r) in state
        .rectifications
        .iter()
        .filter(|(_, r)| &r.responsible == person && scope.covers(&r.period, &r.unit))
    {
        let list = if r.status == RectificationStatus::Closed {
            &mut closed
        } else if r.is_overdue(today) {
            &mut overdue
        } else {
            &mut open
        };
        list.push(line(id, r, today));
    }
    for list in [&mut open, &mut overdue, &mut closed] {
        list.sort_by(|a, b| {
            a.due_on
                .cmp(&b.due_on)
                .then_with(|| a.rectification.cmp(&b.rectification))
        });
    }
    Accountability {
        person: person.clone(),
        name: state.people.get(person).map(|p| p.name.clone()),
        today,
        items,
        open,
        overdue,
        closed,
    }
}
