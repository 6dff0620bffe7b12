//! Standings per period: every unit's scored sheet ([`scoring::score_sheet`] under the period's
//! current rubric version, via [`State::score_sheet`]), its rank, and a ranking per weighted aspect.
//!
//! # Ranking
//!
//! Standard competition ranking ("1224"): a unit's rank is one more than the number of units placed
//! strictly before it, so equal figures share a rank and the next rank is skipped. The order:
//!
//! 1. units whose grade is **not** capped by a veto (一票否决, of either assessment) come first: a veto
//!    fails the assessment whatever the points;
//! 2. then by the **ranked figure**, highest first: the combined dual score when the unit has a
//!    business result, else its party-building score (the same figure its grade is read from,
//!    [`GradeBasis`]); every figure is the reported one, rounded to two places, so two units that
//!    show the same figure share a rank;
//! 3. units that tie keep one rank and are listed by unit id (a display order only).
//!
//! Per-aspect rankings use the aspect's points alone (vetoes do not apply), with the same tie rule.

use ledger_schemas::ids::{AspectCode, PeriodId, RubricId, UnitId};
use ledger_schemas::values::{Points, Stage, Text};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::State;
use crate::scoring::{GradeBasis, SheetScore};

/// The standings of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodStandings {
    pub period: PeriodId,
    pub name: String,
    pub stage: Stage,
    pub rubric: RubricId,
    pub rubric_version: u32,
    /// The position of the last event these standings include.
    pub as_of: u64,
    /// Every unit of the period, in rank order.
    pub units: Vec<UnitStanding>,
    /// One ranking per weighted aspect, in rubric order.
    pub aspects: Vec<AspectRanking>,
}

/// One unit's line in the standings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitStanding {
    pub unit: UnitId,
    /// Competition rank, from 1.
    pub rank: u32,
    /// Which figure the rank (and the grade) is read from.
    pub ranked_on: GradeBasis,
    /// That figure: the combined score, or the party-building score without a business result.
    pub ranked_score: Decimal,
    /// The grade's label from the rubric version, zh-CN first.
    pub grade_label: Text,
    /// Aspects, base, bonus, deductions, vetoes, party score, business score, combined, grade.
    pub score: SheetScore,
}

/// The ranking of one weighted aspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AspectRanking {
    pub aspect: AspectCode,
    pub title: Text,
    pub weight: Points,
    /// Every unit, in rank order.
    pub units: Vec<AspectRank>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AspectRank {
    pub unit: UnitId,
    pub points: Decimal,
    pub rank: u32,
}

/// Competition ranks of keys already sorted best first: equal keys share a rank.
pub(crate) fn competition_ranks<K: PartialEq>(sorted: &[K]) -> Vec<u32> {
    let mut ranks = Vec::with_capacity(sorted.len());
    for (i, key) in sorted.iter().enumerate() {
        let rank = if i > 0 && sorted[i - 1] == *key {
            ranks[i - 1]
        } else {
            u32::try_from(i + 1).unwrap_or(u32::MAX)
        };
        ranks.push(rank);
    }
    ranks
}

/// The standings of `period` in `state`; `None` when the period, or its rubric version, is unknown.
pub fn standings(state: &State, period: &PeriodId) -> Option<PeriodStandings> {
    let p = state.periods.get(period)?;
    let def = state.definition(&p.rubric, p.rubric_version)?;
    let mut rows: Vec<UnitStanding> = Vec::with_capacity(p.units.len());
    for unit in &p.units {
        let score = state.score_sheet(period, unit)?;
        let (ranked_on, ranked_score) = match score.combined {
            Some(combined) => (GradeBasis::Combined, combined),
            None => (GradeBasis::PartyScore, score.party_score),
        };
        let grade_label = def
            .grade_bands
            .iter()
            .find(|b| b.grade == score.grade)
            .map_or_else(
                || Text::new(score.grade.as_str(), score.grade.as_str()),
                |b| b.label.clone(),
            );
        rows.push(UnitStanding {
            unit: unit.clone(),
            rank: 0,
            ranked_on,
            ranked_score,
            grade_label,
            score,
        });
    }
    // Best first: not vetoed, then the higher figure; ties by unit id for display.
    let key = |r: &UnitStanding| (!r.score.capped_by_veto, r.ranked_score);
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.unit.cmp(&b.unit)));
    let keys: Vec<_> = rows.iter().map(key).collect();
    for (row, rank) in rows.iter_mut().zip(competition_ranks(&keys)) {
        row.rank = rank;
    }

    let mut aspects = Vec::new();
    for (index, aspect) in def
        .aspects
        .iter()
        .filter(|a| a.weight.is_some())
        .enumerate()
    {
        let mut units: Vec<AspectRank> = rows
            .iter()
            .map(|r| AspectRank {
                unit: r.unit.clone(),
                points: r
                    .score
                    .aspects
                    .get(index)
                    .filter(|a| a.aspect == aspect.code)
                    .map_or(Decimal::ZERO, |a| a.points),
                rank: 0,
            })
            .collect();
        units.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.unit.cmp(&b.unit)));
        let keys: Vec<Decimal> = units.iter().map(|u| u.points).collect();
        for (u, rank) in units.iter_mut().zip(competition_ranks(&keys)) {
            u.rank = rank;
        }
        aspects.push(AspectRanking {
            aspect: aspect.code.clone(),
            title: aspect.title.clone(),
            weight: aspect.weight.unwrap_or_default(),
            units,
        });
    }

    Some(PeriodStandings {
        period: period.clone(),
        name: p.name.clone(),
        stage: p.stage,
        rubric: p.rubric.clone(),
        rubric_version: p.rubric_version,
        as_of: state.position,
        units: rows,
        aspects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal keys share a rank and the next rank is skipped: 1, 2, 2, 4.
    #[test]
    fn competition_ranking_skips_after_ties() {
        assert_eq!(competition_ranks(&[9, 7, 7, 5]), vec![1, 2, 2, 4]);
        assert_eq!(competition_ranks(&[3, 3, 3]), vec![1, 1, 1]);
        assert_eq!(competition_ranks::<u8>(&[]), Vec::<u32>::new());
    }
}
