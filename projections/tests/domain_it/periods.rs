//! Periods: opening, the one-step stage machine and its gates, reopening, and moving a running period
//! to a newer rubric version (with what that does to the scores already entered).

use ledger_projections::domain::{Command, Expected, Rejection, ReviewStatus, Standing};
use ledger_projections::scoring::ValueRejection;
use ledger_schemas::events::*;
use ledger_schemas::ids::{PeriodId, RubricId};
use ledger_schemas::rubric::{ItemKind, RubricChange};
use ledger_schemas::values::{Cadence, Points, ReviewDecision, Stage};

use crate::dsl::*;

fn open(period: &str, version: u32, units: &[&str]) -> Command {
    Command::OpenPeriod {
        period: PeriodId::new(period).unwrap(),
        name: "2026年第二季度".into(),
        cadence: Cadence::Quarterly,
        starts_on: date(2026, 4, 1),
        ends_on: date(2026, 6, 30),
        rubric: rubric_id(),
        rubric_version: version,
        units: units.iter().map(|u| unit(u)).collect(),
    }
}

fn reopen(to: Stage, reason: &str) -> Command {
    Command::ReopenPeriod {
        period: period_id(),
        to,
        reason: reason.into(),
        expected_revision: None,
    }
}

fn move_to(version: u32, reason: &str) -> Command {
    Command::MovePeriodRubric {
        period: period_id(),
        to_version: version,
        reason: reason.into(),
        expected_revision: None,
    }
}

/// A period opens against an existing rubric version and existing units, in stage opened.
#[test]
fn a_period_is_opened() {
    let (decision, after) = world()
        .when(&admin(), open("2026Q2", 1, &[SH01, SH03]))
        .accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(PeriodOpened {
            period: PeriodId::new("2026Q2").unwrap(),
            name: "2026年第二季度".into(),
            cadence: Cadence::Quarterly,
            starts_on: date(2026, 4, 1),
            ends_on: date(2026, 6, 30),
            rubric: rubric_id(),
            rubric_version: 1,
            units: vec![unit(SH01), unit(SH03)],
        })]
    );
    assert_eq!(
        after.state.periods[&PeriodId::new("2026Q2").unwrap()].stage,
        Stage::Opened
    );
}

/// Opening is refused for an existing period, a blank name, reversed dates, an unknown rubric or
/// version, no units, unknown units and repeated units.
#[test]
fn period_opening_refusals() {
    rejects!(
        world().when(&admin(), open("2026Q1", 1, &[SH01])),
        Rejection::PeriodExists { .. }
    );
    let mut blank = open("P2", 1, &[SH01]);
    if let Command::OpenPeriod { name, .. } = &mut blank {
        *name = String::new();
    }
    rejects!(world().when(&admin(), blank), Rejection::Missing { .. });
    let mut reversed = open("P2", 1, &[SH01]);
    if let Command::OpenPeriod { ends_on, .. } = &mut reversed {
        *ends_on = date(2026, 3, 1);
    }
    rejects!(
        world().when(&admin(), reversed),
        Rejection::DatesReversed { .. }
    );
    let mut other_rubric = open("P2", 1, &[SH01]);
    if let Command::OpenPeriod { rubric, .. } = &mut other_rubric {
        *rubric = RubricId::new("NOPE").unwrap();
    }
    rejects!(
        world().when(&admin(), other_rubric),
        Rejection::UnknownRubric { .. }
    );
    rejects!(
        world().when(&admin(), open("P2", 2, &[SH01])),
        Rejection::UnknownRubricVersion {
            version: 2,
            latest: 1,
            ..
        }
    );
    rejects!(
        world().when(&admin(), open("P2", 1, &[])),
        Rejection::Missing { .. }
    );
    rejects!(
        world().when(&admin(), open("P2", 1, &["NOPE"])),
        Rejection::UnknownUnit { .. }
    );
    rejects!(
        world().when(&admin(), open("P2", 1, &[SH01, SH01])),
        Rejection::DuplicateUnit { .. }
    );
}

/// Stages move forwards one step at a time: opened → self-assessment → scoring.
#[test]
fn stages_move_forwards_one_step() {
    let (_, after) = world()
        .when(&admin(), advance(Stage::SelfAssessment))
        .accepted();
    after
        .when(&admin(), advance(Stage::Scoring))
        .then([stage_changed(Stage::SelfAssessment, Stage::Scoring)]);
}

/// Skipping a stage or going back is refused, naming the current stage and the allowed next one.
#[test]
fn a_stage_cannot_be_skipped() {
    let rejection = rejects!(
        world().when(&admin(), advance(Stage::Scoring)),
        Rejection::StageNotNext {
            current: Stage::Opened,
            requested: Stage::Scoring,
            next: Stage::SelfAssessment,
            ..
        }
    );
    let message = rejection.to_string();
    assert!(
        message.contains("已开启") && message.contains("自评"),
        "{message}"
    );
    rejects!(
        world()
            .at(Stage::Scoring)
            .when(&admin(), advance(Stage::SelfAssessment)),
        Rejection::StageNotNext {
            current: Stage::Scoring,
            next: Stage::Review,
            ..
        }
    );
}

/// Review starts only when every sheet of the period is complete; the refusal lists the gaps.
#[test]
fn review_waits_for_complete_sheets() {
    let partial = world()
        .at(Stage::Scoring)
        .by(&as1(), full_sheet(SH01))
        .by(&as1(), [score_recorded(SH02, "A1", pts(10))]);
    let rejection = rejects!(
        partial.when(&admin(), advance(Stage::Review)),
        Rejection::SheetsIncomplete { gaps, .. }
            if gaps.len() == 1 && gaps[0].unit.as_str() == SH02 && gaps[0].items == vec![item("A2"), item("B1"), item("B2")]
    );
    assert!(
        rejection.to_string().contains("SH-02: A2, B1, B2"),
        "{rejection}"
    );
    partial
        .by(
            &as1(),
            [
                score_recorded(SH02, "A2", lvl("ok")),
                score_recorded(SH02, "B1", pts(1)),
                score_recorded(SH02, "B2", pts(2)),
            ],
        )
        .when(&admin(), advance(Stage::Review))
        .then([stage_changed(Stage::Scoring, Stage::Review)]);
}

/// Publication waits until every counting item is approved; then the period is published.
#[test]
fn publication_waits_for_approval() {
    let half = in_review().by(&rv1(), [sheet_reviewed(SH01, ReviewDecision::Approved, "")]);
    rejects!(
        half.when(&admin(), advance(Stage::Published)),
        Rejection::SheetsNotApproved { gaps, .. } if gaps.len() == 1 && gaps[0].unit.as_str() == SH02
    );
    half.by(&rv1(), [sheet_reviewed(SH02, ReviewDecision::Approved, "")])
        .when(&admin(), advance(Stage::Published))
        .then([stage_changed(Stage::Review, Stage::Published)]);
}

/// A published period is frozen: it does not advance, and scores cannot be recorded or corrected.
#[test]
fn a_published_period_is_frozen() {
    rejects!(
        published().when(&admin(), advance(Stage::Published)),
        Rejection::PeriodFrozen { .. }
    );
    rejects!(
        published().when(&as1(), correct(SH01, "A1", pts(25), pts(30), "r")),
        Rejection::PeriodFrozen { .. }
    );
    rejects!(
        published().when(&as1(), record(SH01, "G2", cases(1))),
        Rejection::PeriodFrozen { .. }
    );
}

/// A stale expected revision of the period stream is refused with the current revision; the current
/// one is accepted and the decision expects it.
#[test]
fn stage_changes_check_the_expected_revision() {
    let cmd = |expected| Command::AdvanceStage {
        period: period_id(),
        to: Stage::SelfAssessment,
        expected_revision: Some(expected),
    };
    rejects!(
        world().when(&admin(), cmd(3)),
        Rejection::StaleRevision {
            expected: 3,
            current: Some(0),
            ..
        }
    );
    let decision = world()
        .when(&admin(), cmd(0))
        .then([stage_changed(Stage::Opened, Stage::SelfAssessment)]);
    assert_eq!(decision.expected[0].stream, "period-2026Q1");
    assert_eq!(decision.expected[0].expected, Expected::Revision(0));
}

/// A published period is reopened explicitly, with a reason, back to scoring; it can then be changed
/// and must go through review again.
#[test]
fn a_published_period_is_reopened_with_a_reason() {
    let (decision, after) = published()
        .when(
            &admin(),
            reopen(Stage::Scoring, "巡察发现问题 inspection finding"),
        )
        .accepted();
    assert_eq!(
        decision.events,
        vec![stage_changed(Stage::Published, Stage::Scoring)]
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some("巡察发现问题 inspection finding")
    );
    let period = &after.state.periods[&period_id()];
    assert_eq!((period.stage, period.reopenings), (Stage::Scoring, 1));
    let (_, corrected) = after
        .when(
            &as1(),
            correct(SH01, "A1", pts(25), pts(22), "复查 re-check"),
        )
        .accepted();
    rejects!(
        corrected.at(Stage::Review).when(&admin(), advance(Stage::Published)),
        Rejection::SheetsNotApproved { gaps, .. } if gaps[0].items == vec![item("A1")]
    );
}

/// Reopening needs a reason, a published period, and a target of scoring or review.
#[test]
fn reopening_refusals() {
    rejects!(
        published().when(&admin(), reopen(Stage::Scoring, "")),
        Rejection::ReasonRequired { .. }
    );
    rejects!(
        in_review().when(&admin(), reopen(Stage::Scoring, "r")),
        Rejection::NotPublished {
            current: Stage::Review,
            ..
        }
    );
    rejects!(
        published().when(&admin(), reopen(Stage::Opened, "r")),
        Rejection::ReopenTarget {
            requested: Stage::Opened
        }
    );
}

/// Version 2 of the fixture rubric: A2 becomes a points item (kind changed), B1 is removed and B2
/// carries B's 40 points, A1's maximum drops to 20 and the new A3 carries the other 10.
fn version_2() -> Vec<RubricChange> {
    let mut a3 = small_rubric().aspects[0].items[0].clone();
    a3.code = item("A3");
    a3.kind = ItemKind::Points {
        max: Points::from_int(10),
    };
    vec![
        RubricChange::RepointItem {
            item: item("A2"),
            kind: ItemKind::Points {
                max: Points::from_int(30),
            },
        },
        RubricChange::RemoveItem { item: item("B1") },
        RubricChange::RepointItem {
            item: item("B2"),
            kind: ItemKind::Points {
                max: Points::from_int(40),
            },
        },
        RubricChange::RepointItem {
            item: item("A1"),
            kind: ItemKind::Points {
                max: Points::from_int(20),
            },
        },
        RubricChange::AddItem {
            aspect: ledger_schemas::ids::AspectCode::new("A").unwrap(),
            item: a3,
        },
    ]
}

fn with_version_2(given: crate::dsl::Given) -> crate::dsl::Given {
    given.run(
        &admin(),
        Command::AdjustRubric {
            rubric: rubric_id(),
            from_version: 1,
            changes: version_2(),
            approver: person("rv1"),
            reason: "动态调整 adjustment".into(),
        },
    )
}

/// Moving a running period to a newer version keeps scores that still fit (B2 18 of now 40), stops
/// counting scores on removed items (B1) while keeping them in the history, and flags scores that no
/// longer fit (A1 25 above the new max 20; A2's level now that A2 takes points) as awaiting
/// re-scoring: the sheet is incomplete (also for the new A3) until they are corrected.
#[test]
fn moving_to_a_newer_rubric_version_keeps_flags_or_drops_scores() {
    let before = with_version_2(
        in_review().by(&rv1(), [sheet_reviewed(SH01, ReviewDecision::Approved, "")]),
    );
    let (decision, after) = before
        .when(&admin(), move_to(2, "执行新细则 new rules"))
        .accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(PeriodRubricChanged {
            period: period_id(),
            from_version: 1,
            to_version: 2,
        })]
    );
    assert_eq!(decision.reason.as_deref(), Some("执行新细则 new rules"));
    assert_eq!(after.state.periods[&period_id()].rubric_version, 2);

    let sheet = after.state.sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(sheet.scores[&item("B2")].standing, Standing::Counting);
    assert_eq!(
        sheet.scores[&item("B1")].standing,
        Standing::Removed { version: 2 }
    );
    assert_eq!(
        sheet.scores[&item("B1")].value,
        pts(20),
        "kept in the history"
    );
    assert!(matches!(
        sheet.scores[&item("A1")].standing,
        Standing::NeedsRescoring {
            why: ValueRejection::OutOfRange { .. }
        }
    ));
    assert!(matches!(
        sheet.scores[&item("A2")].standing,
        Standing::NeedsRescoring {
            why: ValueRejection::WrongShape { .. }
        }
    ));
    let def = after.state.period_definition(&period_id()).unwrap();
    assert_eq!(sheet.gaps(def), vec![item("A1"), item("A2"), item("A3")]);
    assert_eq!(
        sheet.counting_values().keys().collect::<Vec<_>>(),
        vec![&item("B2")]
    );
    let totals = after.state.score_sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(
        totals.base.to_string(),
        "18",
        "only B2 counts until re-scored"
    );

    // Publication is blocked until the flagged items are re-scored and reviewed again, although the
    // sheet was approved before the move.
    rejects!(
        after.when(&admin(), advance(Stage::Published)),
        Rejection::SheetsIncomplete { gaps, .. } if gaps[0].unit.as_str() == SH01
    );
    // A flagged score cannot be approved, but may be corrected in review even though it was approved;
    // an approved score that still fits stands until a reviewer rejects it.
    rejects!(
        after.when(
            &rv2(),
            review_item(SH01, "A1", ReviewDecision::Approved, "")
        ),
        Rejection::NeedsRescoring { .. }
    );
    rejects!(
        after.when(&as1(), correct(SH01, "B2", pts(18), pts(30), "r")),
        Rejection::ItemApproved { .. }
    );
    let (_, rescored) = after
        .when(
            &as1(),
            correct(SH01, "A1", pts(25), pts(18), "按新细则重评 re-scored"),
        )
        .accepted();
    let a1 = &rescored
        .state
        .sheet(&period_id(), &unit(SH01))
        .unwrap()
        .scores[&item("A1")];
    assert_eq!(
        (a1.standing.clone(), a1.review.clone()),
        (Standing::Counting, ReviewStatus::Pending)
    );
    // A removed item is no longer in the rubric: it cannot be corrected.
    rejects!(
        after.when(&as1(), correct(SH01, "B1", pts(20), pts(19), "r")),
        Rejection::Value(ValueRejection::UnknownItem { .. })
    );
}

/// The folded state after a move equals a fold of the same events from scratch (the move's effect is
/// a pure function of the log).
#[test]
fn a_rubric_move_rebuilds_identically() {
    let (_, after) = with_version_2(in_review())
        .when(&admin(), move_to(2, "r"))
        .accepted();
    let rebuilt = ledger_projections::domain::State::fold(after.log.iter().map(|(m, e)| (m, e)));
    assert_eq!(rebuilt, after.state);
}

/// Moving needs a reason, a running period, a newer version, and a version that exists.
#[test]
fn rubric_move_refusals() {
    let v2 = with_version_2(world());
    rejects!(
        v2.when(&admin(), move_to(2, "")),
        Rejection::ReasonRequired { .. }
    );
    rejects!(
        with_version_2(published()).when(&admin(), move_to(2, "r")),
        Rejection::PeriodFrozen { .. }
    );
    rejects!(
        v2.when(&admin(), move_to(1, "r")),
        Rejection::NotNewerVersion {
            current: 1,
            requested: 1,
            ..
        }
    );
    rejects!(
        v2.when(&admin(), move_to(3, "r")),
        Rejection::UnknownRubricVersion {
            version: 3,
            latest: 2,
            ..
        }
    );
    rejects!(
        world().when(
            &admin(),
            Command::MovePeriodRubric {
                period: PeriodId::new("NOPE").unwrap(),
                to_version: 2,
                reason: "r".into(),
                expected_revision: None
            }
        ),
        Rejection::UnknownPeriod { .. }
    );
}

/// SCORING.md: a value that no longer fits after a move counts as nothing and is listed in
/// `ignored`, both when its item left the rubric (B1) and when it no longer fits its item (A1 above
/// the new maximum, A2's level now that A2 takes points). Such items are not `unscored` (they hold a
/// value); only the new A3 is. Once A1 is re-scored it counts and leaves `ignored`.
#[test]
fn values_that_no_longer_fit_after_a_move_are_listed_as_ignored() {
    let given = with_version_2(in_review());
    let before = given.state.score_sheet(&period_id(), &unit(SH01)).unwrap();
    assert!(before.ignored.is_empty() && before.unscored.is_empty());

    let (_, moved) = given.when(&admin(), move_to(2, "r")).accepted();
    let totals = moved.state.score_sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(totals.ignored, vec![item("A1"), item("A2"), item("B1")]);
    assert_eq!(totals.unscored, vec![item("A3")]);
    assert!(!totals.complete);
    assert_eq!(totals.base.to_string(), "18", "only B2 counts");

    let (_, rescored) = moved
        .when(
            &as1(),
            correct(SH01, "A1", pts(25), pts(18), "重评 re-scored"),
        )
        .accepted();
    let totals = rescored
        .state
        .score_sheet(&period_id(), &unit(SH01))
        .unwrap();
    assert_eq!(totals.ignored, vec![item("A2"), item("B1")]);
    assert_eq!(totals.base.to_string(), "36");
}
