//! The worked example: one full sheet on the default template, computed by hand in the comments and
//! asserted to the last decimal: every aspect, the base, the bonus (a capped item and a highest-only
//! item), a deduction, the party-building score, the combined score under each of the three dual
//! policies with a business score of 92.5, the grades, and then the vetoes capping the grade.
//!
//! The template (DOMAIN.md): A–F weighted 10/20/20/15/15/20, ladder 好/较好/一般/差 = 100/75/50/0 %,
//! G1 bonus cap 3 (cumulative), G2 bonus cap 2 (highest only), G3 deduction 1 per case (cap 10),
//! G4 veto; bands 优秀 ≥ 90, 良好 ≥ 80, 一般 ≥ 60, 较差 ≥ 0; policy points share, party 30 %.

use std::collections::BTreeMap;

use ledger_projections::rubric::default_template;
use ledger_projections::scoring::{BusinessInput, GradeBasis, SheetScore, score_sheet};
use ledger_schemas::ids::{ItemCode, LevelCode};
use ledger_schemas::rubric::{DualPolicy, RubricDefinition};
use ledger_schemas::values::{Award, Points, ScoreValue};
use rust_decimal::Decimal;

fn points(value: &str) -> ScoreValue {
    ScoreValue::Points {
        points: value.parse().unwrap(),
    }
}
fn level(code: &str) -> ScoreValue {
    ScoreValue::Level {
        level: LevelCode::new(code).unwrap(),
    }
}
fn awards(list: &[(&str, &str)]) -> ScoreValue {
    ScoreValue::Awards {
        awards: list
            .iter()
            .map(|(title, points)| Award {
                title: (*title).into(),
                points: points.parse().unwrap(),
            })
            .collect(),
    }
}
fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}
/// A reported figure, as text: the comparison checks every digit and the scale.
fn shown(value: Decimal) -> String {
    value.to_string()
}
fn business(score: &str, vetoed: bool) -> Option<BusinessInput> {
    Some(BusinessInput {
        score: score.parse::<Points>().unwrap(),
        vetoed,
    })
}
/// The default template with another dual policy.
fn with_policy(policy: DualPolicy) -> RubricDefinition {
    let mut def = default_template();
    def.dual_policy = policy;
    def
}

/// The sheet of the worked example, every one of the 33 items scored.
fn sheet() -> BTreeMap<ItemCode, ScoreValue> {
    let values = [
        // A 组织建设 (weight 10)
        ("A1", points("2")),    // 2
        ("A2", points("2.5")),  // 2.5   (one meeting missed: 3 − 0.5)
        ("A3", points("3")),    // 3
        ("A4", points("1.75")), // 1.75
        //                         A = 2 + 2.5 + 3 + 1.75 = 9.25
        // B 班子建设 (weight 20)
        ("B1", points("3.5")),        // 3.5
        ("B2", level("good")),        // 好   100 % × 5 = 5
        ("B3", level("fairly_good")), // 较好  75 % × 4 = 3
        ("B4", level("fairly_good")), // 较好  75 % × 3 = 2.25
        ("B5", level("average")),     // 一般  50 % × 4 = 2
        //                              B = 3.5 + 5 + 3 + 2.25 + 2 = 15.75
        // C 队伍建设 (weight 20)
        ("C1", points("4")),          // 4
        ("C2", level("fairly_good")), // 较好  75 % × 4 = 3
        ("C3", points("3.5")),        // 3.5
        ("C4", points("4")),          // 4
        ("C5", points("2")),          // 2
        //                              C = 4 + 3 + 3.5 + 4 + 2 = 16.5
        // D 制度执行 (weight 15)
        ("D1", points("3")),   // 3
        ("D2", points("2.5")), // 2.5
        ("D3", level("good")), // 好   100 % × 3 = 3
        ("D4", points("2.8")), // 2.8
        ("D5", points("3")),   // 3
        //                       D = 3 + 2.5 + 3 + 2.8 + 3 = 14.3
        // E 工作保障 (weight 15)
        ("E1", points("3")),          // 3
        ("E2", points("2")),          // 2
        ("E3", points("2.5")),        // 2.5
        ("E4", level("fairly_good")), // 较好  75 % × 3 = 2.25
        ("E5", points("3")),          // 3
        //                              E = 3 + 2 + 2.5 + 2.25 + 3 = 12.75
        // F 纪律监督 (weight 20)
        ("F1", level("good")), // 好   100 % × 4 = 4
        ("F2", points("4")),   // 4
        ("F3", level("poor")), // 差     0 % × 4 = 0
        ("F4", points("3.5")), // 3.5
        ("F5", points("3.3")), // 3.3
        //                       F = 4 + 4 + 0 + 3.5 + 3.3 = 14.8
        //
        // base = 9.25 + 15.75 + 16.5 + 14.3 + 12.75 + 14.8
        //      = 25 + 16.5 + 14.3 + 12.75 + 14.8 = 41.5 + 14.3 + 12.75 + 14.8
        //      = 55.8 + 12.75 + 14.8 = 68.55 + 14.8 = 83.35
        //
        // G 融合发展与加减分 (unweighted)
        // G1 cumulative, cap 3: 1.5 + 2 = 3.5 claimed, capped at 3       → 3
        ("G1", awards(&[("重点项目攻坚", "1.5"), ("提质增效", "2")])),
        // G2 highest only, cap 2: max(1, 1.5, 0.5) = 1.5, under the cap → 1.5
        (
            "G2",
            awards(&[
                ("市级表彰", "1"),
                ("省部级表彰", "1.5"),
                ("集团级表彰", "0.5"),
            ]),
        ),
        //    bonus = 3 + 1.5 = 4.5
        // G3 1 point per case, cap 10: 1 case × 1 = 1                    → deduction 1
        ("G3", ScoreValue::Cases { cases: 1 }),
        // G4 no veto
        ("G4", ScoreValue::Veto { vetoed: false }),
        //
        // party-building score = 83.35 + 4.5 − 1 = 86.85   (≥ 0, so the floor does not act)
        //   grade on the party score alone: 80 ≤ 86.85 < 90 → 良好 good
    ];
    values
        .into_iter()
        .map(|(code, value)| (ItemCode::new(code).unwrap(), value))
        .collect()
}

/// Asserts the figures every policy shares: aspects, base, bonus, deduction, party score.
fn assert_party_figures(score: &SheetScore) {
    let aspects: Vec<(&str, String, String)> = score
        .aspects
        .iter()
        .map(|a| (a.aspect.as_str(), shown(a.points), a.max.to_string()))
        .collect();
    let expect =
        |code: &'static str, points: &str, max: &str| (code, points.to_owned(), max.to_owned());
    assert_eq!(
        aspects,
        vec![
            expect("A", "9.25", "10"),
            expect("B", "15.75", "20"),
            expect("C", "16.5", "20"),
            expect("D", "14.3", "15"),
            expect("E", "12.75", "15"),
            expect("F", "14.8", "20"),
        ]
    );
    assert_eq!(shown(score.base), "83.35");
    assert_eq!(shown(score.base_max), "100");

    let bonuses: Vec<(&str, String, String)> = score
        .bonuses
        .iter()
        .map(|b| (b.item.as_str(), shown(b.claimed), shown(b.counted)))
        .collect();
    assert_eq!(
        bonuses,
        vec![
            ("G1", "3.5".to_owned(), "3".to_owned()),
            ("G2", "1.5".to_owned(), "1.5".to_owned()),
        ]
    );
    assert_eq!(shown(score.bonus), "4.5");
    assert_eq!(score.deductions.len(), 1);
    assert_eq!(score.deductions[0].item.as_str(), "G3");
    assert_eq!(score.deductions[0].cases, 1);
    assert_eq!(shown(score.deductions[0].counted), "1");
    assert_eq!(shown(score.deduction), "1");
    assert_eq!(shown(score.party_score), "86.85");
    assert!(score.complete);
    assert!(score.unscored.is_empty());
    assert!(score.ignored.is_empty());
}

/// Points share, party 30 % (the template's policy), business 92.5:
///
/// ```text
/// combined = 0.3 × 86.85 + 0.7 × 92.5
///          = 26.055 + 64.75
///          = 90.805            exact
///          → 90.81             rounded half away from zero (half-to-even would give 90.80)
/// grade: 90.81 ≥ 90 → 优秀 excellent (the party score alone would be 良好 good)
/// ```
#[test]
fn points_share_combines_and_rounds_half_away_from_zero() {
    let score = score_sheet(&default_template(), &sheet(), business("92.5", false));
    assert_party_figures(&score);
    assert_eq!(score.business_score.map(shown).as_deref(), Some("92.5"));
    assert_eq!(score.combined.map(shown).as_deref(), Some("90.81"));
    assert_eq!(score.graded_on, GradeBasis::Combined);
    assert_eq!(score.grade.as_str(), "excellent");
    assert!(!score.capped_by_veto && !score.party_veto && !score.business_veto);

    // In JSON every figure is a decimal string, as points are.
    let json = serde_json::to_value(&score).unwrap();
    assert_eq!(json["combined"], "90.81");
    assert_eq!(json["party_score"], "86.85");
    assert_eq!(json["aspects"][1]["points"], "15.75");
    assert_eq!(json["graded_on"], "combined");
    assert_eq!(json["grade"], "excellent");
}

/// Coefficient, business 92.5:
///
/// ```text
/// combined = 92.5 × 86.85 / 100
///          = 8033.625 / 100    (86.85 × 90 = 7816.5; 86.85 × 2.5 = 217.125; sum 8033.625)
///          = 80.33625          exact
///          → 80.34             rounded
/// grade: 80 ≤ 80.34 < 90 → 良好 good
/// ```
#[test]
fn coefficient_scales_the_business_score() {
    let score = score_sheet(
        &with_policy(DualPolicy::Coefficient),
        &sheet(),
        business("92.5", false),
    );
    assert_party_figures(&score);
    assert_eq!(score.combined.map(shown).as_deref(), Some("80.34"));
    assert_eq!(score.grade.as_str(), "good");
}

/// Veto only, business 92.5: combined = party score = 86.85 → 良好 good.
#[test]
fn veto_only_takes_the_party_score() {
    let score = score_sheet(
        &with_policy(DualPolicy::VetoOnly),
        &sheet(),
        business("92.5", false),
    );
    assert_party_figures(&score);
    assert_eq!(score.combined.map(shown).as_deref(), Some("86.85"));
    assert_eq!(score.graded_on, GradeBasis::Combined);
    assert_eq!(score.grade.as_str(), "good");
}

/// Without a business result there is no combined score under any policy; the grade is read from the
/// party-building score (86.85 → 良好 good) and the sheet says so.
#[test]
fn a_missing_business_result_grades_on_the_party_score() {
    for policy in [
        DualPolicy::PointsShare {
            party_percent: "30".parse().unwrap(),
        },
        DualPolicy::Coefficient,
        DualPolicy::VetoOnly,
    ] {
        let score = score_sheet(&with_policy(policy), &sheet(), None);
        assert_party_figures(&score);
        assert_eq!(score.business_score, None);
        assert_eq!(score.combined, None);
        assert_eq!(score.graded_on, GradeBasis::PartyScore);
        assert_eq!(score.grade.as_str(), "good");
    }
}

/// A party veto (G4) caps the grade at the lowest band, 较差 poor, under every policy, although the
/// figures stay as computed (points share still 90.81, i.e. 优秀 by points).
#[test]
fn a_party_veto_caps_the_grade() {
    let mut values = sheet();
    values.insert(
        ItemCode::new("G4").unwrap(),
        ScoreValue::Veto { vetoed: true },
    );
    for (policy, combined) in [
        (
            DualPolicy::PointsShare {
                party_percent: "30".parse().unwrap(),
            },
            "90.81",
        ),
        (DualPolicy::Coefficient, "80.34"),
        (DualPolicy::VetoOnly, "86.85"),
    ] {
        let score = score_sheet(&with_policy(policy), &values, business("92.5", false));
        assert_party_figures(&score);
        assert_eq!(score.combined.map(shown).as_deref(), Some(combined));
        assert!(score.party_veto && !score.business_veto && score.capped_by_veto);
        assert_eq!(score.vetoed_items, vec![ItemCode::new("G4").unwrap()]);
        assert_eq!(score.grade.as_str(), "poor");
    }
    // The party veto caps the grade even when there is no business result yet.
    let score = score_sheet(&default_template(), &values, None);
    assert_eq!(score.grade.as_str(), "poor");
}

/// A business veto caps the grade at 较差 poor just the same, under every policy, with no party veto.
#[test]
fn a_business_veto_caps_the_grade() {
    for policy in [
        DualPolicy::PointsShare {
            party_percent: "30".parse().unwrap(),
        },
        DualPolicy::Coefficient,
        DualPolicy::VetoOnly,
    ] {
        let score = score_sheet(&with_policy(policy), &sheet(), business("92.5", true));
        assert_party_figures(&score);
        assert!(!score.party_veto && score.business_veto && score.capped_by_veto);
        assert_eq!(score.grade.as_str(), "poor");
    }
}

/// The grade is read from the reported, rounded figure. With F5 = 2.6 and three G3 cases:
///
/// ```text
/// F = 4 + 4 + 0 + 3.5 + 2.6 = 14.1; base = 83.35 − 0.7 = 82.65
/// party = 82.65 + 4.5 − 3 × 1 = 84.15
/// combined = 0.3 × 84.15 + 0.7 × 92.5 = 25.245 + 64.75 = 89.995 → 90.00 → shown as 90
/// grade: 90 ≥ 90 → 优秀 excellent (the exact 89.995 would have been 良好 good)
/// ```
#[test]
fn the_grade_follows_the_rounded_figure() {
    let mut values = sheet();
    values.insert(ItemCode::new("F5").unwrap(), points("2.6"));
    values.insert(ItemCode::new("G3").unwrap(), ScoreValue::Cases { cases: 3 });
    let score = score_sheet(&default_template(), &values, business("92.5", false));
    assert_eq!(shown(score.aspects[5].points), "14.1");
    assert_eq!(shown(score.base), "82.65");
    assert_eq!(shown(score.deduction), "3");
    assert_eq!(shown(score.party_score), "84.15");
    assert_eq!(score.combined, Some(d("90")));
    assert_eq!(shown(score.combined.unwrap()), "90");
    assert_eq!(score.grade.as_str(), "excellent");
}

/// The deduction cap and the floor at zero: twelve G3 cases claim 12 points but count 10 (the cap);
/// on an empty sheet the party score is max(0, 0 + 0 − 10) = 0, not −10, and the sheet is incomplete
/// with all 29 weighted items (33 − the 4 of G) unscored.
#[test]
fn deductions_are_capped_and_the_party_score_floored() {
    let mut values = BTreeMap::new();
    values.insert(
        ItemCode::new("G3").unwrap(),
        ScoreValue::Cases { cases: 12 },
    );
    let score = score_sheet(&default_template(), &values, business("50", false));
    assert_eq!(shown(score.deductions[0].claimed), "12");
    assert_eq!(shown(score.deductions[0].counted), "10");
    assert_eq!(shown(score.deduction), "10");
    assert_eq!(shown(score.base), "0");
    assert_eq!(shown(score.party_score), "0");
    // 0.3 × 0 + 0.7 × 50 = 35 → 35 < 60 → 较差 poor, without any veto.
    assert_eq!(score.combined.map(shown).as_deref(), Some("35"));
    assert_eq!(score.grade.as_str(), "poor");
    assert!(!score.capped_by_veto);
    assert!(!score.complete);
    assert_eq!(score.unscored.len(), 29);

    // With the whole worked sheet and 12 cases: 83.35 + 4.5 − 10 = 77.85 → 一般 fair on its own.
    let mut values = sheet();
    values.insert(
        ItemCode::new("G3").unwrap(),
        ScoreValue::Cases { cases: 12 },
    );
    let score = score_sheet(&default_template(), &values, None);
    assert_eq!(shown(score.party_score), "77.85");
    assert_eq!(score.grade.as_str(), "fair");
}

/// Values that do not fit the rubric count as nothing and are listed in `ignored`: a level on a
/// points item, and an item the rubric does not have. An item with an ignored value is not also
/// `unscored` (the lists partition the rubric's items), but the sheet is not complete until it is
/// re-scored.
#[test]
fn values_that_do_not_fit_are_ignored() {
    let mut values = sheet();
    values.insert(ItemCode::new("A1").unwrap(), level("good"));
    values.insert(ItemCode::new("Z9").unwrap(), points("1"));
    let score = score_sheet(&default_template(), &values, None);
    // A loses A1's 2 points: 9.25 − 2 = 7.25; party 86.85 − 2 = 84.85.
    assert_eq!(shown(score.aspects[0].points), "7.25");
    assert_eq!(shown(score.party_score), "84.85");
    assert_eq!(
        score.ignored,
        vec![ItemCode::new("A1").unwrap(), ItemCode::new("Z9").unwrap()]
    );
    assert!(score.unscored.is_empty());
    assert!(!score.complete);
}
