//! 待办 and 预警: what is due from whom, derived from the state at a point, never recorded.
//!
//! For one signed-in person in one role ([`Viewer`]), [`todo`] gathers:
//!
//! - **unscored**: sheets of periods in scoring or review with items still lacking a counting score
//!   (已评 n/m), and items a reviewer sent back;
//! - **awaiting review**: sheets of periods in review with counting scores not yet approved;
//! - **appeals awaiting decision**: appeals filed and not yet upheld or dismissed;
//! - **rectifications**: open ones due within `horizon_days` of `today` (待办), overdue ones with
//!   their days past due (预警), and submitted ones awaiting verification.
//!
//! Which of these are a role's own work follows the roles' rights (DOMAIN.md): assessors score,
//! reviewers review, decide appeals and verify, units and responsible persons rectify, the office
//! (admin) and the auditors oversee everything. [`Viewer::units`] narrows every list to the units
//! the caller may read; a rectification whose responsible person is the caller is always theirs.
//!
//! Overdue is judged on the `today` the caller passes (the business day of the point read), as in
//! [`super::accountability`], so a read as of a past time shows what was due then.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::{AppealId, ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::rubric::ItemKind;
use ledger_schemas::values::Stage;
use serde::Serialize;

use super::accountability::{RectificationLine, line};
use crate::domain::{RectificationStatus, ReviewStatus, State};

/// How many days ahead an open rectification counts as due soon, unless the caller says otherwise.
pub const DEFAULT_HORIZON_DAYS: i64 = 7;
/// The furthest a caller may look ahead (a year and a bit: a bound, not a policy).
pub const MAX_HORIZON_DAYS: i64 = 400;

/// Who is asking: the person, the role they signed in with, and the units they may read (`None`:
/// every unit).
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub person: &'a PersonId,
    pub role: Role,
    pub units: Option<&'a BTreeSet<UnitId>>,
}

impl Viewer<'_> {
    fn reads(&self, unit: &UnitId) -> bool {
        self.units.is_none_or(|units| units.contains(unit))
    }

    fn scores(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Assessor | Role::Reviewer | Role::Auditor
        )
    }

    fn reviews(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Reviewer | Role::Auditor)
    }

    fn sees_appeals(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Reviewer | Role::Auditor | Role::Unit
        )
    }
}

/// A sheet with items still to score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetGap {
    pub period: PeriodId,
    pub unit: UnitId,
    pub stage: Stage,
    /// Base items with a counting score.
    pub scored: usize,
    /// Base items of the period's rubric version (33 in the default template).
    pub items: usize,
    /// The items that keep the sheet incomplete, in rubric order.
    pub missing: Vec<ItemCode>,
    /// Items a reviewer sent back, to be re-scored by a correction.
    pub rejected: Vec<ItemCode>,
}

/// A sheet with counting scores awaiting approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetAwaiting {
    pub period: PeriodId,
    pub unit: UnitId,
    /// Counting scores not yet approved.
    pub unapproved: usize,
    /// Counting scores in all.
    pub counting: usize,
}

/// An appeal filed and not yet decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppealAwaiting {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    pub filed_by: PersonId,
}

/// What is due from one viewer at one point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Todo {
    pub today: NaiveDate,
    pub horizon_days: i64,
    pub unscored: Vec<SheetGap>,
    pub awaiting_review: Vec<SheetAwaiting>,
    pub appeals: Vec<AppealAwaiting>,
    /// Open rectifications due from today to `today + horizon_days`, earliest first (待办).
    pub due_soon: Vec<RectificationLine>,
    /// Rectifications not closed and past due, most days overdue first (预警).
    pub overdue: Vec<RectificationLine>,
    /// Submitted rectifications awaiting verification, earliest due first.
    pub awaiting_verification: Vec<RectificationLine>,
}

impl Todo {
    /// Whether nothing at all is due.
    pub fn is_empty(&self) -> bool {
        self.unscored.is_empty()
            && self.awaiting_review.is_empty()
            && self.appeals.is_empty()
            && self.due_soon.is_empty()
            && self.overdue.is_empty()
            && self.awaiting_verification.is_empty()
    }
}

/// What is due from `viewer` in `state`, judged on `today`, looking `horizon_days` ahead.
pub fn todo(state: &State, viewer: Viewer<'_>, today: NaiveDate, horizon_days: i64) -> Todo {
    let horizon_days = horizon_days.clamp(0, MAX_HORIZON_DAYS);
    let mut unscored = Vec::new();
    let mut awaiting_review = Vec::new();
    for (period_id, period) in state.periods.iter() {
        if !matches!(period.stage, Stage::Scoring | Stage::Review) {
            continue;
        }
        let Some(def) = state.definition(&period.rubric, period.rubric_version) else {
            continue;
        };
        // The base items (points or ladder): the ones 已评 n/m counts.
        let base: Vec<&ItemCode> = def
            .aspects
            .iter()
            .flat_map(|a| &a.items)
            .filter(|i| matches!(i.kind, ItemKind::Points { .. } | ItemKind::Ladder { .. }))
            .map(|i| &i.code)
            .collect();
        for unit in period.units.iter().filter(|u| viewer.reads(u)) {
            let sheet = state.sheet(period_id, unit);
            // A bonus item awaiting re-scoring is a gap too, but only base items count in n/m.
            let missing = sheet.map_or_else(
                || base.iter().map(|i| (*i).clone()).collect(),
                |s| s.gaps(def),
            );
            let rejected: Vec<ItemCode> = sheet
                .map(|s| {
                    s.scores
                        .iter()
                        .filter(|(_, sc)| sc.is_live())
                        .filter(|(_, sc)| matches!(sc.review, ReviewStatus::Rejected { .. }))
                        .map(|(item, _)| item.clone())
                        .collect()
                })
                .unwrap_or_default();
            if viewer.scores() && (!missing.is_empty() || !rejected.is_empty()) {
                let missing_base = missing.iter().filter(|m| base.contains(m)).count();
                unscored.push(SheetGap {
                    period: period_id.clone(),
                    unit: unit.clone(),
                    stage: period.stage,
                    scored: base.len() - missing_base,
                    items: base.len(),
                    missing,
                    rejected,
                });
            }
            let in_review = viewer.reviews() && period.stage == Stage::Review;
            if let Some(sheet) = sheet.filter(|_| in_review) {
                let unapproved = sheet.unapproved().len();
                if unapproved > 0 {
                    awaiting_review.push(SheetAwaiting {
                        period: period_id.clone(),
                        unit: unit.clone(),
                        unapproved,
                        counting: sheet.counting_values().len(),
                    });
                }
            }
        }
    }
    let appeals = if viewer.sees_appeals() {
        state
            .appeals
            .iter()
            .filter(|(_, a)| a.outcome.is_none() && viewer.reads(&a.unit))
            .map(|(id, a)| AppealAwaiting {
                appeal: id.clone(),
                period: a.period.clone(),
                unit: a.unit.clone(),
                item: a.item.clone(),
                filed_by: a.filed_by.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (mut due_soon, mut overdue, mut awaiting_verification) =
        (Vec::new(), Vec::new(), Vec::new());
    let until = today + Duration::days(horizon_days);
    let verifies = matches!(viewer.role, Role::Admin | Role::Reviewer | Role::Auditor);
    // A responsible person answers for their own rectifications only; every other role for those of
    // the units it reads, and for its own as well.
    let own_only = viewer.role == Role::Responsible;
    for (id, r) in state.rectifications.iter() {
        let mine = &r.responsible == viewer.person;
        if !(mine || (!own_only && viewer.reads(&r.unit))) {
            continue;
        }
        if r.is_overdue(today) {
            overdue.push(line(id, r, today));
        } else if r.status == RectificationStatus::Open && r.due_on <= until {
            due_soon.push(line(id, r, today));
        }
        if r.status == RectificationStatus::Submitted && verifies {
            awaiting_verification.push(line(id, r, today));
        }
    }
    due_soon.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then(a.rectification.cmp(&b.rectification))
    });
    overdue.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then(a.rectification.cmp(&b.rectification))
    });
    awaiting_verification.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then(a.rectification.cmp(&b.rectification))
    });
    Todo {
        today,
        horizon_days,
        unscored,
        awaiting_review,
        appeals,
        due_soon,
        overdue,
        awaiting_verification,
    }
}
