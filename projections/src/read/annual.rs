//! The year's result (年度考核): for a span of periods (a year, or any periods of one rubric), each
//! unit's period figures combined by the rubric's annual rule, with its own grade and rank. This is
//! what the business target responsibility letter (经营目标责任书) uses. `SCORING.md` ("The year's
//! result") states the rules and works examples by hand.
//!
//! In short:
//!
//! - a period **counts** once it is **published** (its figures are then final; one not published yet,
//!   or reopened, is listed but does not count until it is published again);
//! - a period's figure for a unit is its **ranked figure** in that period's standings (the combined
//!   dual score, or the party-building score without a business result), as reported (rounded);
//! - the rule is the one of the rubric version of the span's **last period** (the rule in force at
//!   the span's end), and so are the grade bands; each period weighs 1 under the mean, or its slot's
//!   weight under a weighted rule (0 when the slot is not listed: it does not count);
//! - a unit's figure is Σ weight × figure / Σ weight over the counted periods **that assess it**: a
//!   unit that joined (or left) during the span is judged on the periods it was assessed in;
//! - a veto (一票否决) that capped a unit's grade in any counted period caps its year's grade at the
//!   lowest band;
//! - ranks as in the standings: not capped by a veto first, then the reported figure, highest first,
//!   equal figures sharing a rank ("1224"); a unit with no counted period has no figure and no rank.

use chrono::{Datelike, NaiveDate};
use ledger_schemas::ids::{GradeCode, PeriodId, RubricId, UnitId};
use ledger_schemas::rubric::{AnnualRule, PeriodSlot, RubricDefinition};
use ledger_schemas::values::{Cadence, Points, Stage, Text};
use rust_decimal::Decimal;
use serde::Serialize;

use super::standings::{PeriodStandings, competition_ranks, standings};
use crate::domain::State;
use crate::scoring::{GradeBasis, band_for, lowest_band};

/// The periods a result is read over: of one rubric, in order (end date, start date, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub rubric: RubricId,
    pub periods: Vec<PeriodId>,
}

/// Why a span cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("{year} 年没有结束于该年的考核周期 (no period ends in {year})")]
    NoPeriodsInYear { year: i32 },
    #[error(
        "{year} 年没有考评细则 {rubric} 的考核周期 (no period of rubric {rubric} ends in {year})"
    )]
    NoPeriodsOfRubric { year: i32, rubric: RubricId },
    #[error(
        "{year} 年的考核周期分属多套考评细则 {}, 请指定其一 (the periods ending in {year} use several rubrics, {}: name one)",
        list(.rubrics), list(.rubrics)
    )]
    SeveralRubrics { year: i32, rubrics: Vec<RubricId> },
    #[error("没有考核周期 {period} (there is no period {period})")]
    UnknownPeriod { period: PeriodId },
    #[error("请至少指定一个考核周期 (name at least one period)")]
    NoPeriods,
    #[error(
        "考核周期 {period} 使用考评细则 {rubric}, 与 {expected} 不同; 一个年度结果只合并同一套细则的周期 (period {period} uses rubric {rubric}, not {expected}: a span combines periods of one rubric)"
    )]
    MixedRubrics {
        period: PeriodId,
        rubric: RubricId,
        expected: RubricId,
    },
}

fn list(items: &[impl std::fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One period of the span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpanPeriod {
    pub period: PeriodId,
    pub name: String,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub stage: Stage,
    /// The rubric version the period is scored against now.
    pub rubric_version: u32,
    /// Its place in the year, which a weighted rule weighs.
    pub slot: PeriodSlot,
    /// Its weight under the rule: 1 for the mean, its slot's weight (0 when not listed) otherwise.
    pub weight: Decimal,
    /// It counts: published, with a weight above 0.
    pub counted: bool,
}

/// One period of a unit's year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitPeriod {
    pub period: PeriodId,
    /// The unit's ranked figure in that period, as reported there.
    pub figure: Decimal,
    /// Which figure it is: the combined dual score, or the party-building score.
    pub basis: GradeBasis,
    pub grade: GradeCode,
    pub grade_label: Text,
    pub capped_by_veto: bool,
    /// The unit's rank in that period's standings.
    pub rank: u32,
    /// The period counts for the year (see [`SpanPeriod::counted`]).
    pub counted: bool,
}

/// One unit's year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnualUnit {
    pub unit: UnitId,
    /// Competition rank among the units with a figure; none without one.
    pub rank: Option<u32>,
    /// Σ weight × figure / Σ weight over its counted periods, rounded once to two places; none when
    /// no period of the span counts for it yet.
    pub figure: Option<Decimal>,
    pub grade: Option<GradeCode>,
    pub grade_label: Option<Text>,
    /// A veto capped its grade in a counted period, so the year's grade is the lowest band.
    pub capped_by_veto: bool,
    /// The counted periods in which a veto capped its grade.
    pub vetoed_in: Vec<PeriodId>,
    /// The periods of the span that assess the unit, in span order.
    pub periods: Vec<UnitPeriod>,
    /// Not every period of the span assesses the unit (it joined or left during the span): its
    /// figure is over the periods it was assessed in.
    pub partial: bool,
}

/// The year's result (or any span's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnualResult {
    pub rubric: RubricId,
    /// The version whose annual rule and grade bands judge the span: the current version of the
    /// span's last period.
    pub rule_version: u32,
    pub rule: AnnualRule,
    pub periods: Vec<SpanPeriod>,
    /// Every period of the span is published: the result is final.
    pub complete: bool,
    /// The position of the last event the result includes.
    pub as_of: u64,
    /// Every unit of the span's periods, in rank order; units without a figure last, by id.
    pub units: Vec<AnnualUnit>,
}

/// A period's place in its year, from its cadence and first day.
pub fn period_slot(cadence: Cadence, starts_on: NaiveDate) -> PeriodSlot {
    let month = starts_on.month0() as usize;
    match cadence {
        Cadence::Quarterly => PeriodSlot::QUARTERS[month / 3],
        Cadence::Monthly => PeriodSlot::MONTHS[month],
        Cadence::Annual => PeriodSlot::Y,
    }
}

/// A slot's weight under a rule: 1 for the mean; the listed weight, or 0, for a weighted rule.
pub fn slot_weight(rule: &AnnualRule, slot: PeriodSlot) -> Decimal {
    match rule {
        AnnualRule::Mean => Decimal::ONE,
        AnnualRule::Weighted { weights } => weights
            .iter()
            .find(|w| w.slot == slot)
            .map_or(Decimal::ZERO, |w| w.weight.decimal()),
    }
}

/// Sorts periods into span order: end date, start date, id.
fn in_span_order(state: &State, periods: &mut [PeriodId]) {
    periods.sort_by(|a, b| {
        let (pa, pb) = (&state.periods[a], &state.periods[b]);
        (pa.ends_on, pa.starts_on, a).cmp(&(pb.ends_on, pb.starts_on, b))
    });
}

/// The span of a year: the periods whose end date falls in `year`, of `rubric`, or of the one rubric
/// they all use when none is named.
pub fn year_span(state: &State, year: i32, rubric: Option<&RubricId>) -> Result<Span, SpanError> {
    let in_year: Vec<(&PeriodId, &RubricId)> = state
        .periods
        .iter()
        .filter(|(_, p)| p.ends_on.year() == year)
        .map(|(id, p)| (id, &p.rubric))
        .collect();
    if in_year.is_empty() {
        return Err(SpanError::NoPeriodsInYear { year });
    }
    let rubric = match rubric {
        Some(r) => r.clone(),
        None => {
            let mut rubrics: Vec<RubricId> = in_year.iter().map(|(_, r)| (*r).clone()).collect();
            rubrics.sort();
            rubrics.dedup();
            if rubrics.len() > 1 {
                return Err(SpanError::SeveralRubrics { year, rubrics });
            }
            rubrics.remove(0)
        }
    };
    let mut periods: Vec<PeriodId> = in_year
        .into_iter()
        .filter(|(_, r)| **r == rubric)
        .map(|(id, _)| id.clone())
        .collect();
    if periods.is_empty() {
        return Err(SpanError::NoPeriodsOfRubric { year, rubric });
    }
    in_span_order(state, &mut periods);
    Ok(Span { rubric, periods })
}

/// The span of the periods named (repeats ignored), which must exist and use one rubric: `rubric`
/// when it is named.
pub fn periods_span(
    state: &State,
    periods: &[PeriodId],
    rubric: Option<&RubricId>,
) -> Result<Span, SpanError> {
    let mut out: Vec<PeriodId> = Vec::with_capacity(periods.len());
    let mut rubric: Option<RubricId> = rubric.cloned();
    for period in periods {
        let p = state
            .periods
            .get(period)
            .ok_or_else(|| SpanError::UnknownPeriod {
                period: period.clone(),
            })?;
        match &rubric {
            Some(expected) if *expected != p.rubric => {
                return Err(SpanError::MixedRubrics {
                    period: period.clone(),
                    rubric: p.rubric.clone(),
                    expected: expected.clone(),
                });
            }
            Some(_) => {}
            None => rubric = Some(p.rubric.clone()),
        }
        if !out.contains(period) {
            out.push(period.clone());
        }
    }
    let (Some(rubric), false) = (rubric, out.is_empty()) else {
        return Err(SpanError::NoPeriods);
    };
    in_span_order(state, &mut out);
    Ok(Span {
        rubric,
        periods: out,
    })
}

fn label_of(def: &RubricDefinition, grade: &GradeCode) -> Text {
    def.grade_bands
        .iter()
        .find(|b| &b.grade == grade)
        .map_or_else(
            || Text::new(grade.as_str(), grade.as_str()),
            |b| b.label.clone(),
        )
}

/// The result of `span` in `state`. `None` when the span is empty or one of its periods, or the
/// rubric version of its last period, is not in `state` (a span from [`year_span`] or
/// [`periods_span`] of the same state always reads).
pub fn annual(state: &State, span: &Span) -> Option<AnnualResult> {
    let last = state.periods.get(span.periods.last()?)?;
    let rule_version = last.rubric_version;
    let def = state.definition(&span.rubric, rule_version)?;
    let rule = def.annual_rule.clone();

    let mut periods = Vec::with_capacity(span.periods.len());
    let mut tables: Vec<PeriodStandings> = Vec::with_capacity(span.periods.len());
    for id in &span.periods {
        let p = state.periods.get(id)?;
        let slot = period_slot(p.cadence, p.starts_on);
        let weight = slot_weight(&rule, slot);
        periods.push(SpanPeriod {
            period: id.clone(),
            name: p.name.clone(),
            cadence: p.cadence,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            stage: p.stage,
            rubric_version: p.rubric_version,
            slot,
            weight,
            counted: p.stage == Stage::Published && weight > Decimal::ZERO,
        });
        tables.push(standings(state, id)?);
    }

    let mut unit_ids: Vec<UnitId> = tables
        .iter()
        .flat_map(|t| t.units.iter().map(|u| u.unit.clone()))
        .collect();
    unit_ids.sort();
    unit_ids.dedup();

    let mut units: Vec<AnnualUnit> = unit_ids
        .into_iter()
        .map(|unit| {
            let mut lines = Vec::new();
            let (mut weighted, mut weights) = (Decimal::ZERO, Decimal::ZERO);
            let mut vetoed_in = Vec::new();
            for (period, table) in periods.iter().zip(&tables) {
                let Some(row) = table.units.iter().find(|u| u.unit == unit) else {
                    continue;
                };
                if period.counted {
                    weighted += period.weight * row.ranked_score;
                    weights += period.weight;
                    if row.score.capped_by_veto {
                        vetoed_in.push(period.period.clone());
                    }
                }
                lines.push(UnitPeriod {
                    period: period.period.clone(),
                    figure: row.ranked_score,
                    basis: row.ranked_on,
                    grade: row.score.grade.clone(),
                    grade_label: row.grade_label.clone(),
                    capped_by_veto: row.score.capped_by_veto,
                    rank: row.rank,
                    counted: period.counted,
                });
            }
            let figure = (weights > Decimal::ZERO).then(|| Points::round_final(weighted / weights));
            let capped_by_veto = !vetoed_in.is_empty();
            let grade = figure.map(|f| {
                if capped_by_veto {
                    lowest_band(def).grade.clone()
                } else {
                    band_for(def, f).grade.clone()
                }
            });
            AnnualUnit {
                partial: lines.len() < periods.len(),
                grade_label: grade.as_ref().map(|g| label_of(def, g)),
                unit,
                rank: None,
                figure,
                grade,
                capped_by_veto,
                vetoed_in,
                periods: lines,
            }
        })
        .collect();

    // Best first: a figure, then not vetoed, then the higher figure; ties by unit id for display.
    let key = |u: &AnnualUnit| (u.figure.is_some(), !u.capped_by_veto, u.figure);
    units.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.unit.cmp(&b.unit)));
    let ranked = units.iter().take_while(|u| u.figure.is_some()).count();
    let keys: Vec<_> = units[..ranked].iter().map(key).collect();
    for (u, rank) in units.iter_mut().zip(competition_ranks(&keys)) {
        u.rank = Some(rank);
    }

    Some(AnnualResult {
        rubric: span.rubric.clone(),
        rule_version,
        rule,
        complete: periods.iter().all(|p| p.stage == Stage::Published),
        periods,
        as_of: state.position,
        units,
    })
}
