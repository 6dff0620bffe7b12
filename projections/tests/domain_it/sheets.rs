//! Score sheets: self-assessment, scores, corrections, reviews (with separation of duties), business
//! results.

use ledger_projections::domain::{Command, Expected, Rejection, ReviewStatus};
use ledger_projections::scoring::ValueRejection;
use ledger_schemas::events::*;
use ledger_schemas::ids::PeriodId;
use ledger_schemas::values::{Points, ReviewDecision, ScoreSource, ScoreValue, Stage};

use crate::dsl::*;

fn self_assess(u: &str, i: &str, value: ScoreValue) -> Command {
    Command::RecordSelfAssessment {
        files: Vec::new(),
        period: period_id(),
        unit: unit(u),
        item: item(i),
        value,
        note: "自评说明".into(),
        evidence: vec!["minutes-2026-01.pdf".into()],
        expected_revision: None,
    }
}

fn business(u: &str, score: Points, reason: Option<&str>) -> Command {
    Command::RecordBusinessResult {
        period: period_id(),
        unit: unit(u),
        score,
        vetoed: false,
        source: "经营目标责任书 第3条".into(),
        reason: reason.map(Into::into),
        expected_revision: None,
    }
}

fn scoring() -> crate::dsl::Given {
    world().at(Stage::Scoring)
}

// ---- self-assessment ----

/// The unit assesses itself in stage self-assessment; the entry is kept beside the scores and never
/// counts.
#[test]
fn a_unit_assesses_itself() {
    let (decision, after) = world()
        .at(Stage::SelfAssessment)
        .when(&sec1(), self_assess(SH01, "A2", lvl("good")))
        .accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(SelfAssessmentRecorded {
            files: Vec::new(),
            period: period_id(),
            unit: unit(SH01),
            item: item("A2"),
            value: lvl("good"),
            note: "自评说明".into(),
            evidence: vec!["minutes-2026-01.pdf".into()],
        })]
    );
    let sheet = after.state.sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(sheet.self_assessments[&item("A2")].by, person("sec1"));
    assert!(sheet.counting_values().is_empty());
}

/// Self-assessment is refused for another unit, outside its stage, with a value that does not fit,
/// for a unit outside the period, and for an unknown period.
#[test]
fn self_assessment_refusals() {
    let stage = world().at(Stage::SelfAssessment);
    rejects!(
        stage.when(&sec1(), self_assess(SH02, "A1", pts(1))),
        Rejection::NotYourUnit { unit, .. } if unit.as_str() == SH02
    );
    rejects!(
        scoring().when(&sec1(), self_assess(SH01, "A1", pts(1))),
        Rejection::WrongStage {
            current: Stage::Scoring,
            ..
        }
    );
    rejects!(
        stage.when(&sec1(), self_assess(SH01, "A1", pts(31))),
        Rejection::Value(ValueRejection::OutOfRange { .. })
    );
    rejects!(
        stage.when(&system(), self_assess(SH03, "A1", pts(1))),
        Rejection::UnitNotInPeriod { .. }
    );
    let mut unknown = self_assess(SH01, "A1", pts(1));
    if let Command::RecordSelfAssessment { period, .. } = &mut unknown {
        *period = PeriodId::new("NOPE").unwrap();
    }
    rejects!(
        stage.when(&sec1(), unknown),
        Rejection::UnknownPeriod { .. }
    );
}

// ---- scores ----

/// The assigned assessor records a score in stage scoring, on the sheet's stream.
#[test]
fn an_assessor_records_a_score() {
    let decision = scoring()
        .when(&as1(), record(SH01, "A1", pts(25)))
        .then([score_recorded(SH01, "A1", pts(25))]);
    assert_eq!(decision.expected[0].stream, "sheet-2026Q1~SH-01");
    assert_eq!(decision.expected[0].expected, Expected::NoStream);
    assert_eq!(decision.reason, None);
}

/// Scores are refused from an unassigned assessor, with the appeal source, outside scoring and review,
/// on an item already scored (naming the value on record), with a value that does not fit the item,
/// and on an item the rubric does not have.
#[test]
fn score_refusals() {
    rejects!(
        scoring().when(&as2(), record(SH01, "A1", pts(25))),
        Rejection::NotAssignedToUnit { unit, .. } if unit.as_str() == SH01
    );
    let mut appeal = record(SH01, "A1", pts(25));
    if let Command::RecordScore { source, .. } = &mut appeal {
        *source = ScoreSource::Appeal;
    }
    rejects!(
        scoring().when(&as1(), appeal),
        Rejection::AppealSourceReserved
    );
    rejects!(
        world()
            .at(Stage::SelfAssessment)
            .when(&as1(), record(SH01, "A1", pts(25))),
        Rejection::WrongStage {
            current: Stage::SelfAssessment,
            ..
        }
    );
    let scored = scoring().by(&as1(), [score_recorded(SH01, "A1", pts(25))]);
    let rejection = rejects!(
        scored.when(&as1(), record(SH01, "A1", pts(20))),
        Rejection::AlreadyScored { value, .. } if *value == pts(25)
    );
    assert!(rejection.to_string().contains("25 分"), "{rejection}");
    rejects!(
        scoring().when(&as1(), record(SH01, "A2", pts(20))),
        Rejection::Value(ValueRejection::WrongShape {
            expected: "level",
            ..
        })
    );
    rejects!(
        scoring().when(&as1(), record(SH01, "Z9", pts(1))),
        Rejection::Value(ValueRejection::UnknownItem { .. })
    );
}

/// A stale expected revision of the sheet is refused with the sheet's current revision, so two
/// assessors never overwrite each other unknowingly; the current revision is accepted.
#[test]
fn sheet_commands_check_the_expected_revision() {
    let scored = scoring().by(&as1(), [score_recorded(SH01, "A1", pts(25))]);
    let with_expected = |expected| Command::RecordScore {
        files: Vec::new(),
        period: period_id(),
        unit: unit(SH01),
        item: item("B1"),
        value: pts(10),
        note: String::new(),
        evidence: vec![],
        source: ScoreSource::Import,
        expected_revision: Some(expected),
    };
    let rejection = rejects!(
        scored.when(&as1(), with_expected(5)),
        Rejection::StaleRevision {
            expected: 5,
            current: Some(0),
            ..
        }
    );
    assert!(
        rejection.to_string().contains("sheet-2026Q1~SH-01"),
        "{rejection}"
    );
    let decision = scored.when(&as1(), with_expected(0)).accepted().0;
    assert_eq!(decision.expected[0].expected, Expected::Revision(0));
}

// ---- corrections ----

/// A correction names the value it replaces, carries a reason (on the envelope), and becomes the
/// current value, pending review.
#[test]
fn a_score_is_corrected() {
    let scored = scoring().by(&as1(), [score_recorded(SH01, "A1", pts(25))]);
    let (decision, after) = scored
        .when(
            &as1(),
            correct(SH01, "A1", pts(25), pts(27), "补充材料 evidence found"),
        )
        .accepted();
    assert_eq!(
        decision.events,
        vec![score_corrected(SH01, "A1", pts(25), pts(27))]
    );
    assert_eq!(decision.reason.as_deref(), Some("补充材料 evidence found"));
    let score = &after.state.sheet(&period_id(), &unit(SH01)).unwrap().scores[&item("A1")];
    assert_eq!(
        (score.value.clone(), score.review.clone()),
        (pts(27), ReviewStatus::Pending)
    );
}

/// Corrections are refused without a reason, naming a value that is not the one on record (which the
/// refusal shows), changing nothing, on an unscored item, with a value that does not fit, with the
/// appeal source, and before scoring.
#[test]
fn correction_refusals() {
    let scored = scoring().by(&as1(), [score_recorded(SH01, "A1", pts(25))]);
    rejects!(
        scored.when(&as1(), correct(SH01, "A1", pts(25), pts(27), "")),
        Rejection::ReasonRequired { .. }
    );
    let rejection = rejects!(
        scored.when(&as1(), correct(SH01, "A1", pts(20), pts(27), "r")),
        Rejection::StaleValue { named, on_record, .. } if *named == pts(20) && *on_record == pts(25)
    );
    assert!(rejection.to_string().contains("25 分"), "{rejection}");
    rejects!(
        scored.when(&as1(), correct(SH01, "A1", pts(25), pts(25), "r")),
        Rejection::NothingToCorrect { .. }
    );
    rejects!(
        scored.when(&as1(), correct(SH01, "B1", pts(1), pts(2), "r")),
        Rejection::NotScored { .. }
    );
    rejects!(
        scored.when(&as1(), correct(SH01, "A1", pts(25), pts(31), "r")),
        Rejection::Value(ValueRejection::OutOfRange { .. })
    );
    let mut appeal = correct(SH01, "A1", pts(25), pts(27), "r");
    if let Command::CorrectScore { source, .. } = &mut appeal {
        *source = ScoreSource::Appeal;
    }
    rejects!(scored.when(&as1(), appeal), Rejection::AppealSourceReserved);
    rejects!(
        world()
            .at(Stage::SelfAssessment)
            .when(&as1(), correct(SH01, "A1", pts(25), pts(27), "r")),
        Rejection::WrongStage { .. }
    );
}

// ---- reviews ----

/// A reviewer approves an item that someone else scored.
#[test]
fn a_reviewer_approves_an_item() {
    let (_, after) = in_review()
        .when(
            &rv1(),
            review_item(SH01, "A1", ReviewDecision::Approved, "材料齐全"),
        )
        .accepted();
    let score = &after.state.sheet(&period_id(), &unit(SH01)).unwrap().scores[&item("A1")];
    assert_eq!(score.review, ReviewStatus::Approved { by: person("rv1") });
}

/// Separation of duties: whoever recorded a score, or corrected it since, may not approve it, even
/// when they also hold the reviewer role.
#[test]
fn nobody_approves_their_own_score() {
    let recorded = world()
        .at(Stage::Scoring)
        .by(&dual_assessor(), full_sheet(SH01))
        .by(&as1(), full_sheet(SH02))
        .at(Stage::Review);
    rejects!(
        recorded.when(&dual_reviewer(), review_item(SH01, "A1", ReviewDecision::Approved, "")),
        Rejection::SelfApproval { person, items } if person.as_str() == "dual" && items == &vec![item("A1")]
    );
    // dual corrects as1's score on SH-01 after a rejection: now dual may not approve it either.
    let corrected = world()
        .at(Stage::Scoring)
        .by(&as1(), full_sheet(SH01))
        .by(&as1(), full_sheet(SH02))
        .at(Stage::Review)
        .by(
            &rv1(),
            [item_reviewed(
                SH01,
                "B2",
                ReviewDecision::Rejected,
                "证据不足",
            )],
        )
        .run(
            &dual_assessor(),
            correct(SH01, "B2", pts(18), pts(15), "按审核意见"),
        );
    rejects!(
        corrected.when(&dual_reviewer(), review_sheet(SH01, ReviewDecision::Approved, "")),
        Rejection::SelfApproval { items, .. } if items == &vec![item("B2")]
    );
    // Another reviewer may.
    corrected
        .when(&rv2(), review_sheet(SH01, ReviewDecision::Approved, ""))
        .then([sheet_reviewed(SH01, ReviewDecision::Approved, "")]);
}

/// A rejected item goes back to scoring: in review it may be re-scored by a correction, which makes it
/// pending again; an approved item may not be changed in review.
#[test]
fn a_rejected_item_goes_back_to_scoring() {
    let rejected = in_review()
        .run(
            &rv1(),
            review_item(SH01, "A1", ReviewDecision::Rejected, "扣分依据不足"),
        )
        .run(
            &rv1(),
            review_item(SH01, "B1", ReviewDecision::Approved, ""),
        );
    let a1 = &rejected
        .state
        .sheet(&period_id(), &unit(SH01))
        .unwrap()
        .scores[&item("A1")];
    assert!(
        matches!(&a1.review, ReviewStatus::Rejected { comment, .. } if comment == "扣分依据不足")
    );
    let (_, rescored) = rejected
        .when(&as1(), correct(SH01, "A1", pts(25), pts(28), "补充依据"))
        .accepted();
    let a1 = &rescored
        .state
        .sheet(&period_id(), &unit(SH01))
        .unwrap()
        .scores[&item("A1")];
    assert_eq!(a1.review, ReviewStatus::Pending);
    rejects!(
        rejected.when(&as1(), correct(SH01, "B1", pts(20), pts(19), "r")),
        Rejection::ItemApproved { .. }
    );
}

/// Item reviews are refused outside review, on unscored items, without a comment when rejecting, and
/// when they repeat the item's current decision.
#[test]
fn item_review_refusals() {
    rejects!(
        scoring().by(&as1(), full_sheet(SH01)).when(
            &rv1(),
            review_item(SH01, "A1", ReviewDecision::Approved, "")
        ),
        Rejection::WrongStage {
            current: Stage::Scoring,
            ..
        }
    );
    rejects!(
        in_review().when(
            &rv1(),
            review_item(SH01, "G1", ReviewDecision::Approved, "")
        ),
        Rejection::NotScored { .. }
    );
    rejects!(
        in_review().when(
            &rv1(),
            review_item(SH01, "A1", ReviewDecision::Rejected, " ")
        ),
        Rejection::Missing { .. }
    );
    let approved = in_review().run(
        &rv1(),
        review_item(SH01, "A1", ReviewDecision::Approved, ""),
    );
    rejects!(
        approved.when(
            &rv2(),
            review_item(SH01, "A1", ReviewDecision::Approved, "")
        ),
        Rejection::AlreadyReviewed {
            decision: ReviewDecision::Approved,
            ..
        }
    );
    let rejected = in_review().run(
        &rv1(),
        review_item(SH01, "A1", ReviewDecision::Rejected, "x"),
    );
    rejects!(
        rejected.when(
            &rv2(),
            review_item(SH01, "A1", ReviewDecision::Rejected, "y")
        ),
        Rejection::AlreadyReviewed {
            decision: ReviewDecision::Rejected,
            ..
        }
    );
}

/// A whole sheet is approved (every live item approved) or rejected (every live item sent back).
#[test]
fn a_whole_sheet_is_reviewed() {
    let (_, approved) = in_review()
        .when(&rv1(), review_sheet(SH01, ReviewDecision::Approved, "同意"))
        .accepted();
    let sheet = approved.state.sheet(&period_id(), &unit(SH01)).unwrap();
    assert!(sheet.unapproved().is_empty());
    let (_, rejected) = approved
        .when(
            &rv2(),
            review_sheet(SH01, ReviewDecision::Rejected, "整体重评"),
        )
        .accepted();
    let sheet = rejected.state.sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(sheet.unapproved().len(), 4);
    assert!(
        sheet
            .scores
            .values()
            .all(|s| matches!(s.review, ReviewStatus::Rejected { .. }))
    );
}

/// A sheet is approved only when complete; rejecting it needs a comment; it happens only in review.
#[test]
fn sheet_review_refusals() {
    // SH-01 lacks B2 in review (folded directly: a new item after a rubric move leaves such a gap).
    let incomplete = world()
        .at(Stage::Scoring)
        .by(&as1(), full_sheet(SH01)[..3].to_vec())
        .at(Stage::Review);
    rejects!(
        incomplete.when(&rv1(), review_sheet(SH01, ReviewDecision::Approved, "")),
        Rejection::SheetsIncomplete { gaps, .. } if gaps[0].items == vec![item("B2")]
    );
    rejects!(
        in_review().when(&rv1(), review_sheet(SH01, ReviewDecision::Rejected, "")),
        Rejection::Missing { .. }
    );
    rejects!(
        scoring().when(&rv1(), review_sheet(SH01, ReviewDecision::Approved, "")),
        Rejection::WrongStage { .. }
    );
}

// ---- business results ----

/// A business result (0–100, with its source) is recorded for a unit; replacing it needs a reason.
#[test]
fn business_results_are_recorded() {
    let (decision, after) = scoring()
        .when(&admin(), business(SH01, Points::from_cents(8650), None))
        .accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(BusinessResultRecorded {
            period: period_id(),
            unit: unit(SH01),
            score: Points::from_cents(8650),
            vetoed: false,
            source: "经营目标责任书 第3条".into(),
            file_sha256: None,
        })]
    );
    rejects!(
        after.when(&admin(), business(SH01, Points::from_int(90), None)),
        Rejection::ReasonRequired { .. }
    );
    let replaced = after
        .when(
            &admin(),
            business(SH01, Points::from_int(90), Some("审计调整 audit")),
        )
        .accepted()
        .0;
    assert_eq!(replaced.reason.as_deref(), Some("审计调整 audit"));
}

/// Business results are refused outside 0–100, without a source, after publication, and from an
/// assessor of another unit.
#[test]
fn business_result_refusals() {
    rejects!(
        scoring().when(&admin(), business(SH01, Points::from_cents(10001), None)),
        Rejection::BusinessScoreOutOfRange { .. }
    );
    rejects!(
        scoring().when(&admin(), business(SH01, Points::from_int(-1), None)),
        Rejection::BusinessScoreOutOfRange { .. }
    );
    let mut no_source = business(SH01, Points::from_int(80), None);
    if let Command::RecordBusinessResult { source, .. } = &mut no_source {
        source.clear();
    }
    rejects!(
        scoring().when(&admin(), no_source),
        Rejection::Missing { .. }
    );
    rejects!(
        published().when(&admin(), business(SH01, Points::from_int(80), None)),
        Rejection::PeriodFrozen { .. }
    );
    rejects!(
        scoring().when(&as2(), business(SH01, Points::from_int(80), None)),
        Rejection::NotAssignedToUnit { .. }
    );
}

/// The combined score of a sheet reflects the business result by the rubric's dual policy (30 % party
/// share): party 25 + 30 + 20 + 18 = 93; combined 0.3 × 93 + 0.7 × 80 = 83.9.
#[test]
fn the_sheet_total_combines_the_business_result() {
    let given = in_review().with([BusinessResultRecorded {
        period: period_id(),
        unit: unit(SH01),
        score: Points::from_int(80),
        vetoed: false,
        source: "s".into(),
        file_sha256: None,
    }
    .into()]);
    let totals = given.state.score_sheet(&period_id(), &unit(SH01)).unwrap();
    assert_eq!(totals.party_score.to_string(), "93");
    assert_eq!(totals.combined.map(|c| c.to_string()), Some("83.9".into()));
}
