//! What scores are worth: one item's value, and a whole sheet's totals, party-building score, dual
//! combined score and grade. Every figure is an exact decimal, rounded once at the end.
//!
//! `SCORING.md` beside this crate states the formulas and the decisions; in short:
//!
//! - an item of a weighted aspect is worth its points, or `percent × max / 100` for a ladder level;
//! - an aspect's points are the sum of its items, the base the sum of the weighted aspects;
//! - a bonus item counts its largest award (`highest_only`) or the sum of its awards, capped at `cap`;
//! - a deduction item counts `cases × per_case`, capped at `cap` when there is one;
//! - party-building score = base + bonus − deductions, floored at 0 and **not** capped above: the bonus
//!   lies outside the 100-point base, so the score can reach 100 + the sum of the bonus caps;
//! - combined dual score by the rubric's policy; **no business result, no combined score**: the grade is
//!   then taken from the party-building score and the sheet says so ([`GradeBasis::PartyScore`]);
//! - the grade is the band of the reported (rounded) combined score, or party-building score; a veto in
//!   either assessment caps it at the lowest band;
//! - reported figures are rounded once, half away from zero, to two places ([`Points::round_final`]),
//!   from the exact figures; totals are computed from the exact parts, never from rounded parts.

use std::collections::BTreeMap;

use ledger_schemas::ids::{AspectCode, GradeCode, ItemCode, LevelCode};
use ledger_schemas::rubric::{DualPolicy, GradeBand, Item, ItemKind, RubricDefinition};
use ledger_schemas::values::{Points, ScoreValue};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::rubric::find_item;

/// Why a score value does not fit an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueRejection {
    #[error("评分细则中没有子项目 {item} (the rubric has no item {item})")]
    UnknownItem { item: ItemCode },
    /// `expected` is the value shape the item takes: `points`, `level`, `awards`, `cases` or `veto`.
    #[error(
        "子项目 {item} 须以{}评分 (item {item} is scored as {expected})",
        shape_zh(.expected)
    )]
    WrongShape {
        item: ItemCode,
        expected: &'static str,
    },
    #[error(
        "子项目 {item} 的得分 {points} 超出 [0, {max}] (points {points} of item {item} are outside [0, {max}])"
    )]
    OutOfRange {
        item: ItemCode,
        points: Points,
        max: Points,
    },
    #[error(
        "子项目 {item} 的评价等级 {level} 不在评分细则的定性等级中 (level {level} of item {item} is not a level of the rubric's ladder)"
    )]
    UnknownLevel { item: ItemCode, level: LevelCode },
    #[error(
        "子项目 {item} 的加分事项“{title}”分值不能为负, 实际为 {points} (award {title:?} of item {item} cannot be negative, it is {points})"
    )]
    NegativeAward {
        item: ItemCode,
        title: String,
        points: Points,
    },
}

fn shape_zh(shape: &str) -> &'static str {
    match shape {
        "points" => "分值 (定量)",
        "level" => "评价等级 (定性)",
        "awards" => "加分事项",
        "cases" => "扣分起数",
        "veto" => "是否否决",
        _ => "其他方式",
    }
}

/// The value shape an item kind takes: `points`, `level`, `awards`, `cases` or `veto`.
pub fn expected_shape(kind: &ItemKind) -> &'static str {
    match kind {
        ItemKind::Points { .. } => "points",
        ItemKind::Ladder { .. } => "level",
        ItemKind::Bonus { .. } => "awards",
        ItemKind::Deduction { .. } => "cases",
        ItemKind::Veto => "veto",
    }
}

/// Checks that `value` fits `item` of the rubric.
pub fn check_value(
    def: &RubricDefinition,
    item: &ItemCode,
    value: &ScoreValue,
) -> Result<(), ValueRejection> {
    let (_, found) =
        find_item(def, item).ok_or_else(|| ValueRejection::UnknownItem { item: item.clone() })?;
    check_item_value(def, found, value)
}

fn check_item_value(
    def: &RubricDefinition,
    item: &Item,
    value: &ScoreValue,
) -> Result<(), ValueRejection> {
    let code = || item.code.clone();
    match (&item.kind, value) {
        (ItemKind::Points { max }, ScoreValue::Points { points }) => {
            if points.is_negative() || points > max {
                return Err(ValueRejection::OutOfRange {
                    item: code(),
                    points: *points,
                    max: *max,
                });
            }
        }
        (ItemKind::Ladder { .. }, ScoreValue::Level { level }) => {
            if !def.ladder.iter().any(|s| &s.level == level) {
                return Err(ValueRejection::UnknownLevel {
                    item: code(),
                    level: level.clone(),
                });
            }
        }
        (ItemKind::Bonus { .. }, ScoreValue::Awards { awards }) => {
            if let Some(bad) = awards.iter().find(|a| a.points.is_negative()) {
                return Err(ValueRejection::NegativeAward {
                    item: code(),
                    title: bad.title.clone(),
                    points: bad.points,
                });
            }
        }
        (ItemKind::Deduction { .. }, ScoreValue::Cases { .. })
        | (ItemKind::Veto, ScoreValue::Veto { .. }) => {}
        (kind, _) => {
            return Err(ValueRejection::WrongShape {
                item: code(),
                expected: expected_shape(kind),
            });
        }
    }
    Ok(())
}

/// What a ladder level is worth on an item of maximum `max`: `percent × max / 100`, exact; `None` when
/// the level is not on the rubric's ladder.
pub fn level_points(def: &RubricDefinition, level: &LevelCode, max: Points) -> Option<Decimal> {
    def.ladder
        .iter()
        .find(|s| &s.level == level)
        .map(|s| s.percent.decimal() * max.decimal() / Decimal::ONE_HUNDRED)
}

/// What a value is worth on its item, exact and signed: base points for a points or ladder item, the
/// counted (capped) bonus for a bonus item, minus the counted (capped) deduction for a deduction item,
/// and 0 for a veto item (a veto acts on the grade, not on the points).
pub fn item_worth(
    def: &RubricDefinition,
    item: &ItemCode,
    value: &ScoreValue,
) -> Result<Decimal, ValueRejection> {
    check_value(def, item, value)?;
    let (_, found) = find_item(def, item).expect("checked above");
    Ok(worth(def, &found.kind, value))
}

/// The worth of a value already checked against its item kind.
fn worth(def: &RubricDefinition, kind: &ItemKind, value: &ScoreValue) -> Decimal {
    match (kind, value) {
        (ItemKind::Points { .. }, ScoreValue::Points { points }) => points.decimal(),
        (ItemKind::Ladder { max }, ScoreValue::Level { level }) => {
            level_points(def, level, *max).unwrap_or_default()
        }
        (ItemKind::Bonus { cap, highest_only }, ScoreValue::Awards { awards }) => {
            bonus_counted(*cap, *highest_only, awards).1
        }
        (ItemKind::Deduction { per_case, cap }, ScoreValue::Cases { cases }) => {
            -deduction_counted(*per_case, *cap, *cases).1
        }
        _ => Decimal::ZERO,
    }
}

/// (claimed, counted) for a bonus item: claimed is the largest award (`highest_only`) or their sum.
fn bonus_counted(
    cap: Points,
    highest_only: bool,
    awards: &[ledger_schemas::values::Award],
) -> (Decimal, Decimal) {
    let amounts = awards.iter().map(|a| a.points.decimal());
    let claimed = if highest_only {
        amounts.max().unwrap_or_default()
    } else {
        amounts.sum()
    };
    (claimed, claimed.min(cap.decimal()))
}

/// (claimed, counted) for a deduction item: claimed is `cases × per_case`.
fn deduction_counted(per_case: Points, cap: Option<Points>, cases: u32) -> (Decimal, Decimal) {
    let claimed = Decimal::from(cases) * per_case.decimal();
    let counted = match cap {
        Some(cap) => claimed.min(cap.decimal()),
        None => claimed,
    };
    (claimed, counted)
}

/// A unit's business result as the dual assessment uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessInput {
    pub score: Points,
    pub vetoed: bool,
}

/// One weighted aspect of a scored sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AspectScore {
    pub aspect: AspectCode,
    /// The sum of its items' worth, rounded for reporting.
    pub points: Decimal,
    /// Its weight: the most its items can be worth.
    pub max: Points,
    /// How many of its items have a value that fits.
    pub scored: usize,
    /// How many items it has.
    pub items: usize,
}

/// One bonus item of a scored sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BonusScore {
    pub item: ItemCode,
    /// The largest award (highest-only items) or the sum of the awards.
    pub claimed: Decimal,
    /// `claimed` capped at the item's cap: what the party-building score receives.
    pub counted: Decimal,
}

/// One deduction item of a scored sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeductionScore {
    pub item: ItemCode,
    pub cases: u32,
    /// `cases × per_case`.
    pub claimed: Decimal,
    /// `claimed` capped at the item's cap, if any: what the party-building score loses.
    pub counted: Decimal,
}

/// Which figure the grade was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeBasis {
    /// The combined dual score.
    Combined,
    /// The party-building score alone, because the business result is missing.
    PartyScore,
}

/// A whole sheet scored. Every `Decimal` is a reported figure, rounded once from the exact one; in JSON
/// every figure is a decimal string, like [`Points`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetScore {
    /// The weighted aspects, in rubric order.
    pub aspects: Vec<AspectScore>,
    /// The sum of the weighted aspects' points.
    pub base: Decimal,
    /// The sum of the weights (100 for a valid rubric).
    pub base_max: Decimal,
    /// Bonus items, in rubric order.
    pub bonuses: Vec<BonusScore>,
    /// The total counted bonus.
    pub bonus: Decimal,
    /// Deduction items, in rubric order.
    pub deductions: Vec<DeductionScore>,
    /// The total counted deduction.
    pub deduction: Decimal,
    /// The veto items that apply.
    pub vetoed_items: Vec<ItemCode>,
    /// A veto of the party-building assessment applies.
    pub party_veto: bool,
    /// The business assessment's veto applies.
    pub business_veto: bool,
    /// base + bonus − deduction, floored at 0.
    pub party_score: Decimal,
    /// The business score as used (floored at 0); `None` when there is no business result.
    pub business_score: Option<Decimal>,
    /// The combined dual score by the rubric's policy; `None` when there is no business result.
    pub combined: Option<Decimal>,
    /// Which figure the grade was read from.
    pub graded_on: GradeBasis,
    pub grade: GradeCode,
    /// The grade was capped at the lowest band by a veto (of either assessment).
    pub capped_by_veto: bool,
    /// Every item of the weighted aspects has a value that fits, and no value on an item of the
    /// rubric is ignored (awaits re-scoring).
    pub complete: bool,
    /// Items of the weighted aspects without any value, in rubric order.
    pub unscored: Vec<ItemCode>,
    /// Items whose value does not fit the rubric (unknown item, wrong shape, out of range, unknown
    /// level) and so counts as nothing, in item code order: after a period moved to a newer rubric
    /// version, the items removed from it and those whose value needs re-scoring. `unscored`, the
    /// items of `ignored` that are in the rubric, and the rest of the rubric's items (counted; bonus,
    /// deduction and veto items without a value count as nothing) partition the rubric's items.
    pub ignored: Vec<ItemCode>,
}

/// The band a score falls in: the band with the highest minimum at or below it, or else the lowest.
///
/// # Panics
///
/// When the rubric has no grade bands, which [`crate::rubric::validate`] refuses.
pub fn band_for(def: &RubricDefinition, score: Decimal) -> &GradeBand {
    def.grade_bands
        .iter()
        .filter(|b| b.min.decimal() <= score)
        .max_by_key(|b| b.min)
        .unwrap_or_else(|| lowest_band(def))
}

/// The lowest band: the one a veto caps the grade at.
///
/// # Panics
///
/// When the rubric has no grade bands, which [`crate::rubric::validate`] refuses.
pub fn lowest_band(def: &RubricDefinition) -> &GradeBand {
    def.grade_bands
        .iter()
        .min_by_key(|b| b.min)
        .expect("a valid rubric has grade bands")
}

/// The combined dual score by `policy`, exact: `PointsShare` p·party + (1 − p)·business with
/// p = party_percent / 100; `Coefficient` business × party / 100; `VetoOnly` the party score.
pub fn combine(policy: &DualPolicy, party: Decimal, business: Decimal) -> Decimal {
    match policy {
        DualPolicy::PointsShare { party_percent } => {
            let p = party_percent.decimal() / Decimal::ONE_HUNDRED;
            p * party + (Decimal::ONE - p) * business
        }
        DualPolicy::Coefficient => business * party / Decimal::ONE_HUNDRED,
        DualPolicy::VetoOnly => party,
    }
}

/// Scores a sheet: `values` are the current values by item (unscored items count as nothing; values
/// that do not fit the rubric are listed in [`SheetScore::ignored`] and count as nothing, and their
/// items are not `unscored`).
///
/// The rubric is expected to be valid ([`crate::rubric::validate`]); a rubric without grade bands
/// panics.
pub fn score_sheet(
    def: &RubricDefinition,
    values: &BTreeMap<ItemCode, ScoreValue>,
    business: Option<BusinessInput>,
) -> SheetScore {
    let fits = |item: &Item| {
        values
            .get(&item.code)
            .filter(|v| check_item_value(def, item, v).is_ok())
    };
    let ignored: Vec<ItemCode> = values
        .iter()
        .filter(|(code, value)| check_value(def, code, value).is_err())
        .map(|(code, _)| code.clone())
        .collect();
    // An ignored value on an item of the rubric awaits re-scoring: the sheet is not complete until
    // it is corrected. One on an item the rubric no longer has keeps nothing open.
    let awaits_rescoring = ignored
        .iter()
        .any(|code| crate::rubric::find_item(def, code).is_some());

    let mut aspects = Vec::new();
    let mut unscored = Vec::new();
    let mut bonuses = Vec::new();
    let mut deductions = Vec::new();
    let mut vetoed_items = Vec::new();
    let (mut base, mut base_max, mut bonus, mut deduction) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);

    for aspect in &def.aspects {
        if let Some(weight) = aspect.weight {
            let mut points = Decimal::ZERO;
            let mut scored = 0;
            for item in &aspect.items {
                match fits(item) {
                    Some(value) => {
                        points += worth(def, &item.kind, value);
                        scored += 1;
                    }
                    // A value that does not fit is listed in `ignored`, not here.
                    None if values.contains_key(&item.code) => {}
                    None => unscored.push(item.code.clone()),
                }
            }
            base += points;
            base_max += weight.decimal();
            aspects.push(AspectScore {
                aspect: aspect.code.clone(),
                points: Points::round_final(points),
                max: weight,
                scored,
                items: aspect.items.len(),
            });
            continue;
        }
        for item in &aspect.items {
            let value = fits(item);
            match (&item.kind, value) {
                (ItemKind::Bonus { cap, highest_only }, value) => {
                    let awards = match value {
                        Some(ScoreValue::Awards { awards }) => awards.as_slice(),
                        _ => &[],
                    };
                    let (claimed, counted) = bonus_counted(*cap, *highest_only, awards);
                    bonus += counted;
                    bonuses.push(BonusScore {
                        item: item.code.clone(),
                        claimed: Points::round_final(claimed),
                        counted: Points::round_final(counted),
                    });
                }
                (ItemKind::Deduction { per_case, cap }, value) => {
                    let cases = match value {
                        Some(ScoreValue::Cases { cases }) => *cases,
                        _ => 0,
                    };
                    let (claimed, counted) = deduction_counted(*per_case, *cap, cases);
                    deduction += counted;
                    deductions.push(DeductionScore {
                        item: item.code.clone(),
                        cases,
                        claimed: Points::round_final(claimed),
                        counted: Points::round_final(counted),
                    });
                }
                (ItemKind::Veto, Some(ScoreValue::Veto { vetoed: true })) => {
                    vetoed_items.push(item.code.clone());
                }
                // An unweighted aspect holding points or ladder items is refused by validation;
                // should one slip through it adds nothing.
                _ => {}
            }
        }
    }

    let party_exact = (base + bonus - deduction).max(Decimal::ZERO);
    let business_exact = business.map(|b| b.score.decimal().max(Decimal::ZERO));
    let combined_exact = business_exact.map(|b| combine(&def.dual_policy, party_exact, b));

    let party_score = Points::round_final(party_exact);
    let combined = combined_exact.map(Points::round_final);
    let (graded_on, graded_score) = match combined {
        Some(c) => (GradeBasis::Combined, c),
        None => (GradeBasis::PartyScore, party_score),
    };
    let party_veto = !vetoed_items.is_empty();
    let business_veto = business.is_some_and(|b| b.vetoed);
    let capped_by_veto = party_veto || business_veto;
    let band = if capped_by_veto {
        lowest_band(def)
    } else {
        band_for(def, graded_score)
    };

    SheetScore {
        aspects,
        base: Points::round_final(base),
        base_max: Points::round_final(base_max),
        bonuses,
        bonus: Points::round_final(bonus),
        deductions,
        deduction: Points::round_final(deduction),
        vetoed_items,
        party_veto,
        business_veto,
        party_score,
        business_score: business_exact.map(Points::round_final),
        combined,
        graded_on,
        grade: band.grade.clone(),
        capped_by_veto,
        complete: unscored.is_empty() && !awaits_rescoring,
        unscored,
        ignored,
    }
}

#[cfg(test)]
mod tests {
    //! `check_value` against every item kind of the default template.

    use ledger_schemas::values::Award;

    use super::*;
    use crate::rubric::default_template;

    fn code(code: &str) -> ItemCode {
        ItemCode::new(code).unwrap()
    }
    fn pts(text: &str) -> ScoreValue {
        ScoreValue::Points {
            points: text.parse().unwrap(),
        }
    }
    fn level(text: &str) -> ScoreValue {
        ScoreValue::Level {
            level: LevelCode::new(text).unwrap(),
        }
    }

    /// Points are accepted within [0, max] inclusive and refused just outside, with the item's max.
    #[test]
    fn points_must_lie_within_zero_and_max() {
        let def = default_template();
        for ok in ["0", "0.01", "2.99", "3"] {
            assert_eq!(check_value(&def, &code("A2"), &pts(ok)), Ok(()), "{ok}");
        }
        for bad in ["-0.01", "3.01", "100"] {
            let err = check_value(&def, &code("A2"), &pts(bad)).unwrap_err();
            assert_eq!(
                err,
                ValueRejection::OutOfRange {
                    item: code("A2"),
                    points: bad.parse().unwrap(),
                    max: "3".parse().unwrap(),
                }
            );
        }
        assert_eq!(
            check_value(&def, &code("A2"), &pts("3.01"))
                .unwrap_err()
                .to_string(),
            "子项目 A2 的得分 3.01 超出 [0, 3] (points 3.01 of item A2 are outside [0, 3])"
        );
    }

    /// Each item kind takes exactly one value shape, and a refusal names the shape it takes.
    #[test]
    fn the_value_shape_must_match_the_item_kind() {
        let def = default_template();
        let values = [
            pts("1"),
            level("good"),
            ScoreValue::Awards { awards: vec![] },
            ScoreValue::Cases { cases: 2 },
            ScoreValue::Veto { vetoed: true },
        ];
        // (item, index of the one value it accepts, the shape it names)
        for (item, accepted, shape) in [
            ("A1", 0, "points"),
            ("B2", 1, "level"),
            ("G1", 2, "awards"),
            ("G3", 3, "cases"),
            ("G4", 4, "veto"),
        ] {
            for (index, value) in values.iter().enumerate() {
                let result = check_value(&def, &code(item), value);
                if index == accepted {
                    assert_eq!(result, Ok(()), "{item} accepts {value:?}");
                } else {
                    assert_eq!(
                        result,
                        Err(ValueRejection::WrongShape {
                            item: code(item),
                            expected: shape,
                        }),
                        "{item} refuses {value:?}"
                    );
                }
            }
        }
        assert_eq!(
            check_value(&def, &code("B2"), &pts("5"))
                .unwrap_err()
                .to_string(),
            "子项目 B2 须以评价等级 (定性)评分 (item B2 is scored as level)"
        );
    }

    /// A level must be one of the rubric's ladder; an award cannot be negative (zero is accepted); an
    /// unknown item is refused.
    #[test]
    fn levels_awards_and_items_must_exist_and_make_sense() {
        let def = default_template();
        assert_eq!(
            check_value(&def, &code("B2"), &level("excellent")),
            Err(ValueRejection::UnknownLevel {
                item: code("B2"),
                level: LevelCode::new("excellent").unwrap(),
            })
        );
        let award = |title: &str, points: &str| Award {
            title: title.into(),
            points: points.parse().unwrap(),
        };
        let awards = ScoreValue::Awards {
            awards: vec![award("市级", "1"), award("无", "0"), award("冲减", "-0.5")],
        };
        assert_eq!(
            check_value(&def, &code("G2"), &awards),
            Err(ValueRejection::NegativeAward {
                item: code("G2"),
                title: "冲减".into(),
                points: "-0.5".parse().unwrap(),
            })
        );
        let fine = ScoreValue::Awards {
            awards: vec![award("市级", "1"), award("无", "0"), award("超上限", "9")],
        };
        assert_eq!(check_value(&def, &code("G2"), &fine), Ok(()));
        assert_eq!(
            check_value(&def, &code("Z1"), &pts("1")),
            Err(ValueRejection::UnknownItem { item: code("Z1") })
        );
    }

    /// An item's worth: points as given, a ladder level as percent × max / 100, a bonus capped, a
    /// deduction negative and capped, a veto nothing.
    #[test]
    fn item_worth_follows_the_kind() {
        let def = default_template();
        let worth = |item: &str, value: &ScoreValue| {
            item_worth(&def, &code(item), value).unwrap().to_string()
        };
        assert_eq!(worth("A4", &pts("1.75")), "1.75");
        assert_eq!(worth("B4", &level("fairly_good")), "2.25");
        assert_eq!(worth("B5", &level("average")), "2");
        assert_eq!(
            worth(
                "G1",
                &ScoreValue::Awards {
                    awards: vec![Award {
                        title: "x".into(),
                        points: "4".parse().unwrap()
                    }]
                }
            ),
            "3"
        );
        assert_eq!(worth("G3", &ScoreValue::Cases { cases: 11 }), "-10");
        assert_eq!(worth("G4", &ScoreValue::Veto { vetoed: true }), "0");
        assert!(item_worth(&def, &code("A4"), &pts("2.01")).is_err());
    }
}
