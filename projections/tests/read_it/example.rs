//! The hand-computed example, read back through the standings at three points in time: after the
//! committee's first reading (t1), after a correction (t2), and after a rubric adjustment moved into
//! the period (t3, now). Every figure is computed by hand in the comments and asserted to the last
//! decimal, through as-of queries by time that start from a checkpoint.
//!
//! The template (DOMAIN.md): A–F weighted 10/20/20/15/15/20, ladder 好/较好/一般/差 = 100/75/50/0 %,
//! G1 bonus cap 3 (cumulative), G2 bonus cap 2 (highest only), G3 deduction 1 per case (cap 10),
//! G4 veto; bands 优秀 ≥ 90, 良好 ≥ 80, 一般 ≥ 60, 较差 ≥ 0; policy points share, party 30 %.
//!
//! Three units, period 2026Q1 on the default template, version 1:
//!
//! - **SH-01**: the worked example of `tests/worked_example.rs` (party score 86.85), business 92.5;
//! - **SH-02**: the same sheet with F5 = 2.6 and three G3 cases (party score 84.15), business 92.5;
//! - **SH-03**: a strong party sheet (party score 95), business 85.

use chrono::{DateTime, Duration, Utc};
use ledger_projections::read::{AsOf, PeriodStandings, ReadModel};
use ledger_projections::rubric::default_template;
use ledger_projections::scoring::GradeBasis;
use ledger_schemas::envelope::Actor;
use ledger_schemas::events::*;
use ledger_schemas::ids::{PeriodId, RubricId};
use ledger_schemas::rubric::{DualPolicy, RubricChange};
use ledger_schemas::values::*;

use crate::dsl::*;
use crate::log::{Ledger, epoch};

fn p(value: &str) -> ScoreValue {
    ScoreValue::Points {
        points: value.parse().unwrap(),
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

/// The worked example's sheet (tests/worked_example.rs), every item, with the hand computation:
/// A 9.25, B 15.75, C 16.5, D 14.3, E 12.75, F 14.8 → base 83.35; bonus 3 + 1.5 = 4.5; G3 1 case → 1;
/// party 83.35 + 4.5 − 1 = 86.85.
fn worked_sheet() -> Vec<(&'static str, ScoreValue)> {
    vec![
        ("A1", p("2")),
        ("A2", p("2.5")),
        ("A3", p("3")),
        ("A4", p("1.75")),
        ("B1", p("3.5")),
        ("B2", lvl("good")),
        ("B3", lvl("fairly_good")),
        ("B4", lvl("fairly_good")),
        ("B5", lvl("average")),
        ("C1", p("4")),
        ("C2", lvl("fairly_good")),
        ("C3", p("3.5")),
        ("C4", p("4")),
        ("C5", p("2")),
        ("D1", p("3")),
        ("D2", p("2.5")),
        ("D3", lvl("good")),
        ("D4", p("2.8")),
        ("D5", p("3")),
        ("E1", p("3")),
        ("E2", p("2")),
        ("E3", p("2.5")),
        ("E4", lvl("fairly_good")),
        ("E5", p("3")),
        ("F1", lvl("good")),
        ("F2", p("4")),
        ("F3", lvl("poor")),
        ("F4", p("3.5")),
        ("F5", p("3.3")),
        ("G1", awards(&[("重点项目攻坚", "1.5"), ("提质增效", "2")])),
        (
            "G2",
            awards(&[
                ("市级表彰", "1"),
                ("省部级表彰", "1.5"),
                ("集团级表彰", "0.5"),
            ]),
        ),
        ("G3", cases(1)),
        ("G4", ScoreValue::Veto { vetoed: false }),
    ]
}

/// SH-02: the worked sheet with F5 = 2.6 and three G3 cases:
/// F = 4 + 4 + 0 + 3.5 + 2.6 = 14.1; base = 83.35 − 0.7 = 82.65; party = 82.65 + 4.5 − 3 = 84.15.
fn second_sheet() -> Vec<(&'static str, ScoreValue)> {
    worked_sheet()
        .into_iter()
        .map(|(code, value)| match code {
            "F5" => (code, p("2.6")),
            "G3" => (code, cases(3)),
            _ => (code, value),
        })
        .collect()
}

/// SH-03: every base item at its maximum except five:
///
/// ```text
/// A: A1 2, A2 2.5, A3 3, A4 2                                = 9.5
/// B: B1 4, B2 好 5, B3 较好 75 % × 4 = 3, B4 好 3, B5 好 4      = 19
/// C: C1 4, C2 较好 75 % × 4 = 3, C3 4, C4 4, C5 4             = 19
/// D: D1 3, D2 3, D3 好 3, D4 3, D5 3                          = 15
/// E: E1 3, E2 3, E3 2.5, E4 好 3, E5 3                        = 14.5
/// F: F1 好 4, F2 4, F3 一般 50 % × 4 = 2, F4 4, F5 4           = 18
/// base = 9.5 + 19 + 19 + 15 + 14.5 + 18 = 95
/// bonus: G1 one award of 2 (cap 3) → 2; G2 unscored → 0;      bonus = 2
/// deduction: G3 2 cases × 1                                   = 2
/// party = 95 + 2 − 2 = 95
/// ```
fn third_sheet() -> Vec<(&'static str, ScoreValue)> {
    vec![
        ("A1", p("2")),
        ("A2", p("2.5")),
        ("A3", p("3")),
        ("A4", p("2")),
        ("B1", p("4")),
        ("B2", lvl("good")),
        ("B3", lvl("fairly_good")),
        ("B4", lvl("good")),
        ("B5", lvl("good")),
        ("C1", p("4")),
        ("C2", lvl("fairly_good")),
        ("C3", p("4")),
        ("C4", p("4")),
        ("C5", p("4")),
        ("D1", p("3")),
        ("D2", p("3")),
        ("D3", lvl("good")),
        ("D4", p("3")),
        ("D5", p("3")),
        ("E1", p("3")),
        ("E2", p("3")),
        ("E3", p("2.5")),
        ("E4", lvl("good")),
        ("E5", p("3")),
        ("F1", lvl("good")),
        ("F2", p("4")),
        ("F3", lvl("average")),
        ("F4", p("4")),
        ("F5", p("4")),
        ("G1", awards(&[("集团表彰", "2")])),
        ("G3", cases(2)),
        ("G4", ScoreValue::Veto { vetoed: false }),
    ]
}

fn template_id() -> RubricId {
    RubricId::new("DT").unwrap()
}
fn q1() -> PeriodId {
    period_id()
}

/// The example's log, and the times t1 (first reading), t2 (after the correction), t3 (after the
/// adjustment). Events are a minute apart.
pub struct Example {
    pub ledger: Ledger,
    pub t1: DateTime<Utc>,
    pub t2: DateTime<Utc>,
    pub t3: DateTime<Utc>,
}

pub fn example() -> Example {
    let mut ledger = Ledger {
        state: Default::default(),
        log: Vec::new(),
        clock: epoch(),
        today: today(),
    };
    let at = |ledger: &mut Ledger, actor: &Actor, reason: Option<&str>, event: Event| {
        ledger.clock += Duration::minutes(1);
        ledger.stamp(actor, reason.map(str::to_owned), event);
    };
    for u in [SH01, SH02, SH03] {
        at(&mut ledger, &system(), None, unit_registered(u, None));
    }
    at(
        &mut ledger,
        &admin(),
        None,
        RubricDefined {
            rubric: template_id(),
            definition: default_template(),
        }
        .into(),
    );
    at(
        &mut ledger,
        &admin(),
        None,
        PeriodOpened {
            period: q1(),
            name: "2026年第一季度 2026 Q1".into(),
            cadence: Cadence::Quarterly,
            starts_on: date(2026, 1, 1),
            ends_on: date(2026, 3, 31),
            rubric: template_id(),
            rubric_version: 1,
            units: vec![unit(SH01), unit(SH02), unit(SH03)],
        }
        .into(),
    );
    for (from, to) in [
        (Stage::Opened, Stage::SelfAssessment),
        (Stage::SelfAssessment, Stage::Scoring),
    ] {
        at(&mut ledger, &admin(), None, stage_changed(from, to));
    }
    for (u, sheet, business) in [
        (SH01, worked_sheet(), "92.5"),
        (SH02, second_sheet(), "92.5"),
        (SH03, third_sheet(), "85"),
    ] {
        for (code, value) in sheet {
            at(&mut ledger, &as1(), None, score_recorded(u, code, value));
        }
        at(
            &mut ledger,
            &admin(),
            None,
            BusinessResultRecorded {
                period: q1(),
                unit: unit(u),
                score: business.parse().unwrap(),
                vetoed: false,
                source: "经营目标责任书 business target letter".into(),
                file_sha256: None,
            }
            .into(),
        );
    }
    let t1 = ledger.clock;
    // The correction: SH-01's F5 3.3 → 2.6 and G3 1 → 3 cases (the minutes of two more lapses
    // turned up), which makes SH-01's sheet equal to SH-02's.
    at(
        &mut ledger,
        &as1(),
        Some("补充会议记录 minutes found"),
        score_corrected(SH01, "F5", p("3.3"), p("2.6")),
    );
    at(
        &mut ledger,
        &as1(),
        Some("补充会议记录 minutes found"),
        score_corrected(SH01, "G3", cases(1), cases(3)),
    );
    let t2 = ledger.clock;
    // The adjustment: the party-building share of the dual score goes from 30 % to 50 %, and the
    // running period moves to version 2.
    at(
        &mut ledger,
        &admin(),
        Some("加大党建权重 party share raised"),
        RubricAdjusted {
            rubric: template_id(),
            from_version: 1,
            version: 2,
            changes: vec![RubricChange::ChangeDualPolicy {
                dual_policy: DualPolicy::PointsShare {
                    party_percent: Points::from_int(50),
                },
            }],
            approver: person("rv1"),
        }
        .into(),
    );
    at(
        &mut ledger,
        &admin(),
        Some("执行新版细则 new rules"),
        PeriodRubricChanged {
            period: q1(),
            from_version: 1,
            to_version: 2,
        }
        .into(),
    );
    let t3 = ledger.clock;
    Example { ledger, t1, t2, t3 }
}

/// The standings as of `time`, through a checkpoint and the events after it.
fn standings_at(
    model: &ReadModel,
    log: &[crate::log::Stored],
    time: DateTime<Utc>,
) -> PeriodStandings {
    let plan = model.plan(AsOf::Time(time));
    let tail = log
        .iter()
        .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
        .map(|(e, ev)| (e, ev));
    model
        .view_as_of(&plan, tail)
        .unwrap()
        .standings(&q1())
        .unwrap()
}

/// (unit, rank, ranked figure, grade) in rank order, as text.
fn table(s: &PeriodStandings) -> Vec<(String, u32, String, String)> {
    s.units
        .iter()
        .map(|u| {
            (
                u.unit.to_string(),
                u.rank,
                u.ranked_score.to_string(),
                u.score.grade.to_string(),
            )
        })
        .collect()
}

fn row(unit: &str, rank: u32, figure: &str, grade: &str) -> (String, u32, String, String) {
    (unit.into(), rank, figure.into(), grade.into())
}

/// Per-aspect ranks as (aspect, [(unit, points, rank)]).
fn aspect_ranks(s: &PeriodStandings, aspect: &str) -> Vec<(String, String, u32)> {
    s.aspects
        .iter()
        .find(|a| a.aspect.as_str() == aspect)
        .unwrap()
        .units
        .iter()
        .map(|u| (u.unit.to_string(), u.points.to_string(), u.rank))
        .collect()
}

fn ar(unit: &str, points: &str, rank: u32) -> (String, String, u32) {
    (unit.into(), points.into(), rank)
}

/// t1, the first reading (policy 30 %):
///
/// ```text
/// SH-01 combined = 0.3 × 86.85 + 0.7 × 92.5 = 26.055 + 64.75 = 90.805 → 90.81  优秀   rank 1
/// SH-02 combined = 0.3 × 84.15 + 0.7 × 92.5 = 25.245 + 64.75 = 89.995 → 90     优秀   rank 2
/// SH-03 combined = 0.3 × 95    + 0.7 × 85   = 28.5   + 59.5  = 88              良好   rank 3
/// ```
///
/// Aspects: SH-03 leads every one; SH-01 and SH-02 tie on A–E (rank 2, 2) and SH-02 is third on F
/// (14.1 < 14.8).
#[test]
fn standings_at_the_first_reading() {
    let Example { ledger, t1, .. } = example();
    let model = crate::log::model_of(&ledger.log, 16);
    let s = standings_at(&model, &ledger.log, t1);
    assert_eq!(s.rubric_version, 1);
    assert_eq!(
        table(&s),
        vec![
            row(SH01, 1, "90.81", "excellent"),
            row(SH02, 2, "90", "excellent"),
            row(SH03, 3, "88", "good"),
        ]
    );
    let sh01 = &s.units[0].score;
    let aspects: Vec<String> = sh01.aspects.iter().map(|a| a.points.to_string()).collect();
    assert_eq!(aspects, ["9.25", "15.75", "16.5", "14.3", "12.75", "14.8"]);
    assert_eq!(sh01.base.to_string(), "83.35");
    assert_eq!(sh01.bonus.to_string(), "4.5");
    assert_eq!(sh01.deduction.to_string(), "1");
    assert_eq!(sh01.party_score.to_string(), "86.85");
    assert_eq!(sh01.business_score.unwrap().to_string(), "92.5");
    assert_eq!(s.units[0].ranked_on, GradeBasis::Combined);
    assert_eq!(s.units[0].grade_label.zh, "优秀");

    let sh02 = &s.units[1].score;
    assert_eq!(sh02.aspects[5].points.to_string(), "14.1");
    assert_eq!(sh02.base.to_string(), "82.65");
    assert_eq!(sh02.deduction.to_string(), "3");
    assert_eq!(sh02.party_score.to_string(), "84.15");

    let sh03 = &s.units[2].score;
    let aspects: Vec<String> = sh03.aspects.iter().map(|a| a.points.to_string()).collect();
    assert_eq!(aspects, ["9.5", "19", "19", "15", "14.5", "18"]);
    assert_eq!(sh03.base.to_string(), "95");
    assert_eq!(sh03.bonus.to_string(), "2");
    assert_eq!(sh03.deduction.to_string(), "2");
    assert_eq!(sh03.party_score.to_string(), "95");
    assert_eq!(sh03.combined.unwrap().to_string(), "88");
    assert_eq!(s.units[2].grade_label.zh, "良好");
    assert!(sh01.complete && sh02.complete && sh03.complete);

    assert_eq!(
        aspect_ranks(&s, "A"),
        vec![ar(SH03, "9.5", 1), ar(SH01, "9.25", 2), ar(SH02, "9.25", 2)]
    );
    assert_eq!(
        aspect_ranks(&s, "F"),
        vec![ar(SH03, "18", 1), ar(SH01, "14.8", 2), ar(SH02, "14.1", 3)]
    );
}

/// t2, after the correction (SH-01: F5 3.3 → 2.6, G3 1 → 3 cases):
///
/// ```text
/// SH-01 = SH-02: F 14.1, base 82.65, party 84.15, combined 89.995 → 90   优秀   rank 1, 1
/// SH-03 unchanged: 88                                                    良好   rank 3 (not 2)
/// ```
///
/// The tie is a shared rank and the next rank is skipped; SH-01 is listed before SH-02 by unit id.
#[test]
fn standings_after_the_correction_tie_and_skip_a_rank() {
    let Example { ledger, t2, .. } = example();
    let model = crate::log::model_of(&ledger.log, 16);
    let s = standings_at(&model, &ledger.log, t2);
    assert_eq!(
        table(&s),
        vec![
            row(SH01, 1, "90", "excellent"),
            row(SH02, 1, "90", "excellent"),
            row(SH03, 3, "88", "good"),
        ]
    );
    assert_eq!(s.units[0].score.party_score.to_string(), "84.15");
    assert_eq!(s.units[0].score.deduction.to_string(), "3");
    assert_eq!(
        aspect_ranks(&s, "F"),
        vec![ar(SH03, "18", 1), ar(SH01, "14.1", 2), ar(SH02, "14.1", 2)]
    );
}

/// t3, now, after the adjustment (party share 30 % → 50 %, period moved to version 2):
///
/// ```text
/// SH-03 combined = 0.5 × 95    + 0.5 × 85   = 47.5   + 42.5  = 90             优秀   rank 1
/// SH-01 combined = 0.5 × 84.15 + 0.5 × 92.5 = 42.075 + 46.25 = 88.325 → 88.33 良好   rank 2
/// SH-02 the same                                                 88.33        良好   rank 2
/// ```
///
/// The live standings equal the as-of standings of t3, and the standings of t1 are still those of
/// the first reading (read back as of t1 from the same model).
#[test]
fn standings_after_the_adjustment_reorder_the_units() {
    let Example { ledger, t1, t3, .. } = example();
    let model = crate::log::model_of(&ledger.log, 16);
    let now = model.view().standings(&q1()).unwrap();
    assert_eq!(now, standings_at(&model, &ledger.log, t3));
    assert_eq!(now.rubric_version, 2);
    assert_eq!(
        table(&now),
        vec![
            row(SH03, 1, "90", "excellent"),
            row(SH01, 2, "88.33", "good"),
            row(SH02, 2, "88.33", "good"),
        ]
    );
    // Party figures do not depend on the dual policy.
    assert_eq!(now.units[1].score.party_score.to_string(), "84.15");
    assert_eq!(now.units[0].score.party_score.to_string(), "95");

    // A minute before t1's last event, SH-03's business result was not there yet: its rank was read
    // on the party score alone (95), the others on their combined scores.
    let before_business = standings_at(&model, &ledger.log, t1 - Duration::seconds(30));
    assert_eq!(
        table(&before_business),
        vec![
            row(SH03, 1, "95", "excellent"),
            row(SH01, 2, "90.81", "excellent"),
            row(SH02, 3, "90", "excellent"),
        ]
    );
    assert_eq!(before_business.units[0].ranked_on, GradeBasis::PartyScore);
    assert_eq!(
        table(&standings_at(&model, &ledger.log, t1)),
        vec![
            row(SH01, 1, "90.81", "excellent"),
            row(SH02, 2, "90", "excellent"),
            row(SH03, 3, "88", "good"),
        ]
    );
    // The plan starts from a checkpoint and folds fewer than 16 events.
    let plan = model.plan(AsOf::Time(t1));
    assert!(plan.base > 0 && plan.events < 16, "{plan:?}");
}

/// A veto ranks a unit last whatever its points: with G4 vetoed, SH-03 keeps its combined 90 but
/// is graded 较差 and ranked third, behind the two 88.33s.
#[test]
fn a_veto_ranks_last_whatever_the_points() {
    let Example { mut ledger, .. } = example();
    ledger.clock += Duration::minutes(1);
    ledger.stamp(
        &as1(),
        Some("违纪事项 veto item applies".into()),
        score_corrected(
            SH03,
            "G4",
            ScoreValue::Veto { vetoed: false },
            ScoreValue::Veto { vetoed: true },
        ),
    );
    let model = crate::log::model_of(&ledger.log, 16);
    let now = model.view().standings(&q1()).unwrap();
    assert_eq!(
        table(&now),
        vec![
            row(SH01, 1, "88.33", "good"),
            row(SH02, 1, "88.33", "good"),
            row(SH03, 3, "90", "poor"),
        ]
    );
    assert!(now.units[2].score.capped_by_veto);
    assert_eq!(now.units[2].grade_label.zh, "较差");
}
