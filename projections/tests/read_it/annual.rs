//! The year's result (年度考核), worked by hand in `SCORING.md` ("The year's result") and asserted here
//! to the last decimal, as of two points of the log through the read model.
//!
//! The fixture rubric (`dsl::small_rubric`): A1 points 30, A2 ladder 30 (good 100 %, fair 75 %), B1
//! and B2 points 20; G3 veto; points share with party 30 %; bands excellent ≥ 90, good ≥ 80, fair ≥
//! 60, poor ≥ 0; no annual rule of its own, so the mean. Four quarters of 2026:
//!
//! - **2026Q1** and **2026Q2** assess SH-01 and SH-02; SH-02 is vetoed (G3) in Q2;
//! - **2026Q3** and **2026Q4** also assess **SH-03**, which joined mid-year;
//! - **2026Q4** is opened on version 1 and moved to **version 2**, which weighs the quarters
//!   20/20/20/40 and gives the party-building score 50 %; SH-03 has no business result in Q4.
//!
//! Point A is right after Q3's publication (Q4 not opened yet); point B is the end, Q4 published.

use chrono::Duration;
use ledger_projections::domain::{Meta, State};
use ledger_projections::read::{
    AnnualResult, AsOf, ReadModel, SpanError, annual, periods_span, standings, year_span,
};
use ledger_projections::scoring::GradeBasis;
use ledger_schemas::envelope::Actor;
use ledger_schemas::events::*;
use ledger_schemas::ids::{PeriodId, RubricId};
use ledger_schemas::rubric::{AnnualRule, DualPolicy, PeriodSlot, RubricChange, SlotWeight};
use ledger_schemas::values::*;

use crate::dsl::*;
use proptest::prelude::*;

use crate::log::{Ledger, Stored, generate, model_of, ops};

fn q(n: u32) -> PeriodId {
    PeriodId::new(format!("2026Q{n}")).unwrap()
}

fn p(value: &str) -> ScoreValue {
    ScoreValue::Points {
        points: value.parse().unwrap(),
    }
}

/// One sheet: A1, A2 (a level), B1, B2, the G3 veto, and the business result if any.
struct Sheet {
    unit: &'static str,
    a1: &'static str,
    a2: &'static str,
    b1: &'static str,
    b2: &'static str,
    veto: bool,
    business: Option<&'static str>,
}

const fn sheet(
    unit: &'static str,
    [a1, a2, b1, b2]: [&'static str; 4],
    veto: bool,
    business: Option<&'static str>,
) -> Sheet {
    Sheet {
        unit,
        a1,
        a2,
        b1,
        b2,
        veto,
        business,
    }
}

/// The sheets of each quarter, as SCORING.md tabulates them.
fn quarter(n: u32) -> Vec<Sheet> {
    match n {
        1 => vec![
            sheet(SH01, ["27", "good", "18", "17"], false, Some("80")),
            sheet(SH02, ["24", "fair", "16", "15"], false, Some("90")),
        ],
        2 => vec![
            sheet(SH01, ["28", "good", "19", "18.25"], false, Some("85")),
            sheet(SH02, ["25", "good", "17", "16"], true, Some("92")),
        ],
        3 => vec![
            sheet(SH01, ["29", "good", "20", "19"], false, Some("90")),
            sheet(SH02, ["26", "fair", "18", "17"], false, Some("88")),
            sheet(SH03, ["27", "good", "19", "19"], false, Some("95")),
        ],
        _ => vec![
            sheet(SH01, ["26", "fair", "18", "18"], false, Some("90")),
            sheet(SH02, ["28", "good", "19", "18"], false, Some("91")),
            sheet(SH03, ["24", "good", "18", "17"], false, None),
        ],
    }
}

struct Log {
    ledger: Ledger,
}

impl Log {
    fn add(&mut self, actor: &Actor, reason: Option<&str>, event: Event) {
        self.ledger.clock += Duration::seconds(3);
        self.ledger.stamp(actor, reason.map(str::to_owned), event);
    }

    fn open(&mut self, n: u32) {
        let units = quarter(n).iter().map(|s| unit(s.unit)).collect();
        let starts_on = date(2026, 3 * n - 2, 1);
        let ends_on = date(2026 + i32::from(n == 4), (3 * n) % 12 + 1, 1)
            .pred_opt()
            .unwrap();
        if n > 1 {
            self.add(
                &admin(),
                None,
                PeriodOpened {
                    period: q(n),
                    name: format!("2026年第{n}季度"),
                    cadence: Cadence::Quarterly,
                    starts_on,
                    ends_on,
                    rubric: rubric_id(),
                    rubric_version: 1,
                    units,
                }
                .into(),
            );
        }
    }

    fn stage(&mut self, n: u32, to: Stage) {
        let mut from = self.ledger.state.periods[&q(n)].stage;
        while from < to {
            let next = ledger_projections::domain::next_stage(from).unwrap();
            self.add(
                &admin(),
                None,
                PeriodStageChanged {
                    period: q(n),
                    from,
                    to: next,
                }
                .into(),
            );
            from = next;
        }
    }

    fn score(&mut self, n: u32) {
        for s in quarter(n) {
            let values = [
                ("A1", p(s.a1)),
                ("A2", lvl(s.a2)),
                ("B1", p(s.b1)),
                ("B2", p(s.b2)),
                ("G3", ScoreValue::Veto { vetoed: s.veto }),
            ];
            for (code, value) in values {
                self.add(
                    &as1(),
                    None,
                    ScoreRecorded {
                        files: Vec::new(),
                        period: q(n),
                        unit: unit(s.unit),
                        item: item(code),
                        value,
                        note: String::new(),
                        evidence: Vec::new(),
                        source: ScoreSource::Manual,
                        file_sha256: None,
                    }
                    .into(),
                );
            }
            if let Some(score) = s.business {
                self.add(
                    &admin(),
                    None,
                    BusinessResultRecorded {
                        period: q(n),
                        unit: unit(s.unit),
                        score: score.parse().unwrap(),
                        vetoed: false,
                        source: "经营目标责任书".into(),
                        file_sha256: None,
                    }
                    .into(),
                );
            }
        }
    }

    fn publish(&mut self, n: u32) {
        self.stage(n, Stage::Review);
        for s in quarter(n) {
            self.add(
                &rv1(),
                None,
                SheetReviewed {
                    period: q(n),
                    unit: unit(s.unit),
                    decision: ReviewDecision::Approved,
                    comment: String::new(),
                }
                .into(),
            );
        }
        self.stage(n, Stage::Published);
    }
}

/// Version 2: the quarters weigh 20/20/20/40, and the party-building score 50 %.
fn version_2() -> Vec<RubricChange> {
    let weights = [
        (PeriodSlot::Q1, 20),
        (PeriodSlot::Q2, 20),
        (PeriodSlot::Q3, 20),
        (PeriodSlot::Q4, 40),
    ]
    .into_iter()
    .map(|(slot, w)| SlotWeight {
        slot,
        weight: Points::from_int(w),
    })
    .collect();
    vec![
        RubricChange::ChangeAnnualRule {
            annual_rule: AnnualRule::Weighted { weights },
        },
        RubricChange::ChangeDualPolicy {
            dual_policy: DualPolicy::PointsShare {
                party_percent: Points::from_int(50),
            },
        },
    ]
}

/// The year's log, and its position at point A (right after Q3's publication).
pub fn year_log() -> (Vec<Stored>, u64) {
    let mut log = Log {
        ledger: Ledger::world(),
    };
    for n in 1..=3 {
        log.open(n);
        log.stage(n, Stage::Scoring);
        log.score(n);
        log.publish(n);
    }
    let point_a = log.ledger.log.len() as u64;
    log.open(4);
    log.stage(4, Stage::Scoring);
    log.add(
        &admin(),
        Some("年度考核按季度加权 quarters weighted"),
        RubricAdjusted {
            rubric: rubric_id(),
            from_version: 1,
            version: 2,
            changes: version_2(),
            approver: person("rv1"),
        }
        .into(),
    );
    log.add(
        &admin(),
        Some("四季度执行第2版 Q4 on version 2"),
        PeriodRubricChanged {
            period: q(4),
            from_version: 1,
            to_version: 2,
        }
        .into(),
    );
    log.score(4);
    log.publish(4);
    (log.ledger.log, point_a)
}

/// The year as of `position`, through a plan from a checkpoint and the tail it asks for.
fn year_at(model: &ReadModel, log: &[Stored], position: u64) -> AnnualResult {
    let plan = model.plan(AsOf::Position(position));
    let tail = log
        .iter()
        .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
        .map(|(e, ev)| (e, ev));
    let view = model.view_as_of(&plan, tail).unwrap();
    let span = year_span(view.state(), 2026, None).unwrap();
    view.annual(&span).unwrap()
}

/// (unit, rank, figure, grade, capped by a veto)
type Line = (String, Option<u32>, Option<String>, Option<String>, bool);

fn lines(result: &AnnualResult) -> Vec<Line> {
    result
        .units
        .iter()
        .map(|u| {
            (
                u.unit.to_string(),
                u.rank,
                u.figure.map(|f| f.to_string()),
                u.grade.as_ref().map(ToString::to_string),
                u.capped_by_veto,
            )
        })
        .collect()
}

fn line(unit: &str, rank: u32, figure: &str, grade: &str, capped: bool) -> Line {
    (
        unit.into(),
        Some(rank),
        Some(figure.into()),
        Some(grade.into()),
        capped,
    )
}

/// The period figures SCORING.md computes, unit by unit: (unit, [(period, figure, basis)]).
fn figures(result: &AnnualResult, unit_id: &str) -> Vec<(String, String, GradeBasis)> {
    let u = result
        .units
        .iter()
        .find(|u| u.unit.as_str() == unit_id)
        .unwrap();
    u.periods
        .iter()
        .map(|p| (p.period.to_string(), p.figure.to_string(), p.basis))
        .collect()
}

/// At point A (Q1–Q3 published, on version 1): the mean of the quarters each unit was assessed in.
/// SH-01 (83.6 + 88.08 + 92.4) / 3 = 88.0266… → 88.03, good; SH-02 (86.25 + 90.8 + 86.65) / 3 =
/// 87.9 but vetoed in Q2 → poor; SH-03 joined in Q3: 95 / 1 = 95, excellent.
#[test]
fn the_year_as_of_the_third_quarter_is_the_mean_of_the_published_quarters() {
    let (log, point_a) = year_log();
    let model = model_of(&log, 16);
    let a = year_at(&model, &log, point_a);
    assert_eq!(a.rule, AnnualRule::Mean);
    assert_eq!(a.rule_version, 1);
    assert_eq!(
        a.periods
            .iter()
            .map(|p| p.period.to_string())
            .collect::<Vec<_>>(),
        ["2026Q1", "2026Q2", "2026Q3"]
    );
    assert!(a.complete);
    assert_eq!(
        figures(&a, SH01),
        [
            ("2026Q1".into(), "83.6".into(), GradeBasis::Combined),
            ("2026Q2".into(), "88.08".into(), GradeBasis::Combined),
            ("2026Q3".into(), "92.4".into(), GradeBasis::Combined),
        ]
    );
    assert_eq!(
        lines(&a),
        [
            line(SH03, 1, "95", "excellent", false),
            line(SH01, 2, "88.03", "good", false),
            line(SH02, 3, "87.9", "poor", true),
        ]
    );
    let sh02 = &a.units[2];
    assert_eq!(sh02.vetoed_in, [q(2)]);
    assert!(a.units[0].partial && !a.units[1].partial);
}

/// At the end (Q4 moved to version 2 and published): version 2's rule weighs the quarters
/// 20/20/20/40 and its bands grade the year. SH-01 (20·83.6 + 20·88.08 + 20·92.4 + 40·87.25) / 100
/// = 87.716 → 87.72, good; SH-02 89.94, vetoed in Q2 → poor; SH-03 (20·95 + 40·89) / 60 = 91,
/// excellent, its Q4 figure being its party-building score (no business result).
#[test]
fn the_year_at_its_end_follows_the_rule_of_the_last_quarters_version() {
    let (log, _) = year_log();
    let model = model_of(&log, 16);
    let end = year_at(&model, &log, log.len() as u64);
    assert_eq!(end.rule_version, 2);
    assert!(matches!(end.rule, AnnualRule::Weighted { .. }));
    let weights: Vec<String> = end.periods.iter().map(|p| p.weight.to_string()).collect();
    assert_eq!(weights, ["20", "20", "20", "40"]);
    assert_eq!(end.periods[3].rubric_version, 2);
    assert!(end.complete && end.periods.iter().all(|p| p.counted));
    assert_eq!(
        figures(&end, SH03),
        [
            ("2026Q3".into(), "95".into(), GradeBasis::Combined),
            ("2026Q4".into(), "89".into(), GradeBasis::PartyScore),
        ]
    );
    assert_eq!(figures(&end, SH01)[3].1, "87.25");
    assert_eq!(figures(&end, SH02)[3].1, "93");
    assert_eq!(
        lines(&end),
        [
            line(SH03, 1, "91", "excellent", false),
            line(SH01, 2, "87.72", "good", false),
            line(SH02, 3, "89.94", "poor", true),
        ]
    );
}

/// Between the points: Q4 open on version 1 does not count yet and the year is not complete; once Q4
/// moved to version 2 the rule is version 2's, over the published quarters only (20/20/20: the same
/// figures as the mean).
#[test]
fn an_unpublished_quarter_is_listed_but_does_not_count() {
    let (log, point_a) = year_log();
    let model = model_of(&log, 0);
    let opened = year_at(&model, &log, point_a + 1);
    assert_eq!(opened.periods.len(), 4);
    assert!(!opened.complete && !opened.periods[3].counted);
    assert_eq!(opened.rule_version, 1);
    let moved_at = log
        .iter()
        .find(|(e, _)| e.event_type == "PeriodRubricChanged")
        .unwrap()
        .0
        .position;
    let moved = year_at(&model, &log, moved_at);
    assert_eq!(moved.rule_version, 2);
    assert_eq!(
        lines(&moved)
            .into_iter()
            .map(|l| l.2.unwrap())
            .collect::<Vec<_>>(),
        ["95", "88.03", "87.9"]
    );
    assert!(!moved.units[0].periods[1].counted, "SH-03's Q4 waits");
}

/// The span of a year names its rubric when periods of several rubrics end in it, and refuses a
/// year without periods; a span of named periods must use one rubric.
#[test]
fn a_span_is_of_one_rubric() {
    let (log, _) = year_log();
    let model = model_of(&log, 0);
    let view = model.view();
    assert_eq!(
        year_span(view.state(), 2025, None),
        Err(SpanError::NoPeriodsInYear { year: 2025 })
    );
    let other = RubricId::new("R2").unwrap();
    assert_eq!(
        year_span(view.state(), 2026, Some(&other)),
        Err(SpanError::NoPeriodsOfRubric {
            year: 2026,
            rubric: other.clone()
        })
    );
    let span = periods_span(view.state(), &[q(4), q(3), q(4)], None).unwrap();
    assert_eq!(span.periods, [q(3), q(4)]);
    assert!(matches!(
        periods_span(view.state(), &[PeriodId::new("X").unwrap()], None),
        Err(SpanError::UnknownPeriod { .. })
    ));
    assert_eq!(
        periods_span(view.state(), &[], None),
        Err(SpanError::NoPeriods)
    );

    // A second rubric with a period ending in 2026.
    let mut state = view.state().clone();
    let meta = Meta {
        position: state.position + 1,
        actor: system(),
        recorded_at: log.last().unwrap().0.recorded_at,
    };
    state.evolve(
        &meta,
        &RubricDefined {
            rubric: other.clone(),
            definition: small_rubric(),
        }
        .into(),
    );
    let branch_q4 = PeriodId::new("2026Q4-branches").unwrap();
    state.evolve(
        &meta,
        &PeriodOpened {
            period: branch_q4.clone(),
            name: "支部 2026 四季度".into(),
            cadence: Cadence::Quarterly,
            starts_on: date(2026, 10, 1),
            ends_on: date(2026, 12, 31),
            rubric: other.clone(),
            rubric_version: 1,
            units: vec![unit(SH03)],
        }
        .into(),
    );
    let several = year_span(&state, 2026, None).unwrap_err();
    assert_eq!(
        several,
        SpanError::SeveralRubrics {
            year: 2026,
            rubrics: vec![rubric_id(), other.clone()]
        }
    );
    assert!(
        several
            .to_string()
            .starts_with("2026 年的考核周期分属多套考评细则 R1, R2")
    );
    assert_eq!(
        year_span(&state, 2026, Some(&other)).unwrap().periods,
        std::slice::from_ref(&branch_q4)
    );
    assert!(matches!(
        periods_span(&state, &[q(4), branch_q4.clone()], None),
        Err(SpanError::MixedRubrics { .. })
    ));
    assert_eq!(
        periods_span(&state, std::slice::from_ref(&branch_q4), Some(&rubric_id())),
        Err(SpanError::MixedRubrics {
            period: branch_q4,
            rubric: other,
            expected: rubric_id()
        })
    );
    assert_eq!(
        periods_span(&state, &[], Some(&rubric_id())),
        Err(SpanError::NoPeriods)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A span of one published period, under the mean, is that period's standings: the same figure,
    /// grade, veto and rank for every unit, at every position of a random log.
    #[test]
    fn one_published_period_reads_as_its_standings(ops in ops(20..120)) {
        let ledger = generate(&ops);
        let mut state = State::default();
        for (envelope, event) in &ledger.log {
            state.evolve(&Meta::from_envelope(envelope), event);
            for (period, p) in state.periods.iter() {
                let span = periods_span(&state, std::slice::from_ref(period), None).unwrap();
                let year = annual(&state, &span).unwrap();
                let table = standings(&state, period).unwrap();
                prop_assert_eq!(year.units.len(), table.units.len());
                for row in &table.units {
                    let u = year.units.iter().find(|u| u.unit == row.unit).unwrap();
                    if p.stage == Stage::Published {
                        prop_assert_eq!(u.figure, Some(row.ranked_score));
                        prop_assert_eq!(u.grade.as_ref(), Some(&row.score.grade));
                        prop_assert_eq!(u.capped_by_veto, row.score.capped_by_veto);
                        prop_assert_eq!(u.rank, Some(row.rank));
                    } else {
                        prop_assert_eq!(u.figure, None);
                        prop_assert_eq!(u.rank, None);
                    }
                }
            }
        }
    }
}
