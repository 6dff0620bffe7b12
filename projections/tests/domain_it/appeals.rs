//! Appeals: filed by the unit after publication, decided once, an upheld one revising the score in the
//! same decision.

use ledger_projections::domain::{
    AppealOutcome, Command, Expected, Rejection, ReviewStatus, Revision, StreamExpectation,
};
use ledger_projections::scoring::ValueRejection;
use ledger_schemas::events::*;
use ledger_schemas::values::{ReviewDecision, ScoreSource, ScoreValue, Stage};

use crate::dsl::*;

fn file(id: &str, u: &str, i: Option<&str>) -> Command {
    Command::FileAppeal {
        files: Vec::new(),
        appeal: appeal_id(id),
        period: period_id(),
        unit: unit(u),
        item: i.map(item),
        grounds: "会议记录齐全, 不应扣分 minutes are complete".into(),
        evidence: vec!["minutes.pdf".into()],
    }
}

fn uphold(id: &str, revised: Option<(&str, ScoreValue)>) -> Command {
    Command::UpholdAppeal {
        appeal: appeal_id(id),
        decision: "经复核, 申诉成立 upheld on review".into(),
        revised: revised.map(|(i, value)| Revision {
            item: item(i),
            value,
            note: "复核".into(),
            evidence: vec!["review-note.pdf".into()],
        }),
    }
}

fn dismiss(id: &str) -> Command {
    Command::DismissAppeal {
        appeal: appeal_id(id),
        decision: "理由不成立 grounds not established".into(),
    }
}

fn appealed() -> crate::dsl::Given {
    published().run(&sec1(), file("AP-1", SH01, Some("A1")))
}

/// The unit appeals against one of its published scores.
#[test]
fn a_unit_appeals_a_published_score() {
    published()
        .when(&sec1(), file("AP-1", SH01, Some("A1")))
        .then([AppealFiled {
            files: Vec::new(),
            appeal: appeal_id("AP-1"),
            period: period_id(),
            unit: unit(SH01),
            item: Some(item("A1")),
            grounds: "会议记录齐全, 不应扣分 minutes are complete".into(),
            evidence: vec!["minutes.pdf".into()],
        }
        .into()]);
}

/// Appeals are refused before publication, for another unit, without grounds, on an unscored item,
/// with an existing id, and while the same score's appeal is pending.
#[test]
fn appeal_filing_refusals() {
    rejects!(
        in_review().when(&sec1(), file("AP-1", SH01, Some("A1"))),
        Rejection::WrongStage {
            current: Stage::Review,
            ..
        }
    );
    rejects!(
        published().when(&sec1(), file("AP-1", SH02, Some("A1"))),
        Rejection::NotYourUnit { .. }
    );
    let mut no_grounds = file("AP-1", SH01, None);
    if let Command::FileAppeal { grounds, .. } = &mut no_grounds {
        grounds.clear();
    }
    rejects!(
        published().when(&sec1(), no_grounds),
        Rejection::Missing { .. }
    );
    rejects!(
        published().when(&sec1(), file("AP-1", SH01, Some("G1"))),
        Rejection::NotScored { .. }
    );
    rejects!(
        appealed().when(&sec2(), file("AP-1", SH02, None)),
        Rejection::AppealExists { .. }
    );
    rejects!(
        appealed().when(&sec1(), file("AP-2", SH01, Some("A1"))),
        Rejection::AppealPending { appeal } if appeal.as_str() == "AP-1"
    );
}

/// Upholding an item appeal records the decision and, in the same decision, the revised score as a
/// correction with source appeal linked to the appeal, naming the value it replaces; the decision text
/// is the reason. The published period stays published and the revised score stands approved.
#[test]
fn an_upheld_appeal_revises_the_score() {
    let (decision, after) = appealed()
        .when(&rv1(), uphold("AP-1", Some(("A1", pts(30)))))
        .accepted();
    assert_eq!(
        decision.events,
        vec![
            Event::from(AppealUpheld {
                appeal: appeal_id("AP-1"),
                decision: "经复核, 申诉成立 upheld on review".into(),
            }),
            Event::from(ScoreCorrected {
                files: Vec::new(),
                period: period_id(),
                unit: unit(SH01),
                item: item("A1"),
                previous: pts(25),
                value: pts(30),
                note: "复核".into(),
                evidence: vec!["review-note.pdf".into()],
                source: ScoreSource::Appeal,
                appeal: Some(appeal_id("AP-1")),
                file_sha256: None,
            }),
        ]
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some("经复核, 申诉成立 upheld on review")
    );
    assert_eq!(
        decision.expected,
        vec![
            StreamExpectation {
                stream: "appeal-AP-1".into(),
                expected: Expected::Revision(0)
            },
            StreamExpectation {
                stream: "sheet-2026Q1~SH-01".into(),
                expected: Expected::Revision(
                    after.state.revision("sheet-2026Q1~SH-01").unwrap() - 1
                )
            },
        ]
    );
    assert_eq!(after.state.periods[&period_id()].stage, Stage::Published);
    let a1 = &after.state.sheet(&period_id(), &unit(SH01)).unwrap().scores[&item("A1")];
    assert_eq!(a1.value, pts(30));
    assert_eq!(a1.appeal, Some(appeal_id("AP-1")));
    assert!(matches!(a1.review, ReviewStatus::Approved { .. }));
    let outcome = after.state.appeals[&appeal_id("AP-1")]
        .outcome
        .clone()
        .unwrap();
    assert_eq!(outcome.0, AppealOutcome::Upheld);
}

/// A whole-sheet appeal may be upheld without a revision (the remedy is then an explicit reopening).
#[test]
fn a_sheet_appeal_is_upheld_without_revision() {
    published()
        .run(&sec1(), file("AP-1", SH01, None))
        .when(&rv1(), uphold("AP-1", None))
        .then([AppealUpheld {
            appeal: appeal_id("AP-1"),
            decision: "经复核, 申诉成立 upheld on review".into(),
        }
        .into()]);
}

/// An appeal is dismissed with a reason.
#[test]
fn an_appeal_is_dismissed() {
    let decision = appealed()
        .when(&rv1(), dismiss("AP-1"))
        .then([AppealDismissed {
            appeal: appeal_id("AP-1"),
            decision: "理由不成立 grounds not established".into(),
        }
        .into()]);
    assert_eq!(
        decision.reason.as_deref(),
        Some("理由不成立 grounds not established")
    );
}

/// Deciding is refused for an unknown appeal, a second decision either way, a blank decision, an item
/// appeal without a revision or with one for another item, a revision that changes nothing or does not
/// fit, and a revision of an unscored item.
#[test]
fn appeal_decision_refusals() {
    rejects!(
        published().when(&rv1(), dismiss("NOPE")),
        Rejection::UnknownAppeal { .. }
    );
    let dismissed = appealed().run(&rv1(), dismiss("AP-1"));
    rejects!(
        dismissed.when(&rv2(), uphold("AP-1", Some(("A1", pts(30))))),
        Rejection::AppealDecided {
            outcome: AppealOutcome::Dismissed,
            ..
        }
    );
    let upheld = appealed().run(&rv1(), uphold("AP-1", Some(("A1", pts(30)))));
    rejects!(
        upheld.when(&rv2(), dismiss("AP-1")),
        Rejection::AppealDecided {
            outcome: AppealOutcome::Upheld,
            ..
        }
    );
    let blank = Command::DismissAppeal {
        appeal: appeal_id("AP-1"),
        decision: "".into(),
    };
    rejects!(appealed().when(&rv1(), blank), Rejection::Missing { .. });
    rejects!(
        appealed().when(&rv1(), uphold("AP-1", None)),
        Rejection::RevisionRequired { .. }
    );
    rejects!(
        appealed().when(&rv1(), uphold("AP-1", Some(("B1", pts(10))))),
        Rejection::RevisionItemMismatch { .. }
    );
    rejects!(
        appealed().when(&rv1(), uphold("AP-1", Some(("A1", pts(25))))),
        Rejection::NothingToCorrect { .. }
    );
    rejects!(
        appealed().when(&rv1(), uphold("AP-1", Some(("A1", pts(31))))),
        Rejection::Value(ValueRejection::OutOfRange { .. })
    );
    let sheet_appeal = published().run(&sec1(), file("AP-2", SH01, None));
    rejects!(
        sheet_appeal.when(
            &rv1(),
            uphold("AP-2", Some(("G1", ScoreValue::Awards { awards: vec![] })))
        ),
        Rejection::NotScored { .. }
    );
}

/// AP-1 upheld by rv2 (A1 revised to 30), the period reopened to scoring, B2 corrected by
/// `corrector`, and the period in review again.
fn reopened_after_appeal(corrector: &ledger_schemas::envelope::Actor) -> crate::dsl::Given {
    appealed()
        .run(&rv2(), uphold("AP-1", Some(("A1", pts(30)))))
        .run(
            &admin(),
            Command::ReopenPeriod {
                period: period_id(),
                to: Stage::Scoring,
                reason: "复查 re-check".into(),
                expected_revision: None,
            },
        )
        .run(
            corrector,
            correct(SH01, "B2", pts(18), pts(16), "复查 re-check"),
        )
        .at(Stage::Review)
}

/// DOMAIN-RULES: an upheld appeal's revision stands approved, and approving a whole sheet approves the
/// scores not approved yet, with separation of duties on those. So after a reopening the reviewer who
/// revised A1 through the appeal (rv2) approves the sheet, as they could approve each pending item
/// one by one; the scores approved before keep their approver; and an author of a pending score
/// still may not approve the sheet.
#[test]
fn the_reviewer_of_an_upheld_appeal_approves_the_sheet_after_a_reopening() {
    let reopened = reopened_after_appeal(&as1());
    // Item by item: A1 stands approved, B2 (as1's) is rv2's to approve.
    rejects!(
        reopened.when(
            &rv2(),
            review_item(SH01, "A1", ReviewDecision::Approved, "")
        ),
        Rejection::AlreadyReviewed { .. }
    );
    reopened
        .when(
            &rv2(),
            review_item(SH01, "B2", ReviewDecision::Approved, ""),
        )
        .then([item_reviewed(SH01, "B2", ReviewDecision::Approved, "")]);
    // The whole sheet: the same rule.
    let (_, approved) = reopened
        .when(&rv2(), review_sheet(SH01, ReviewDecision::Approved, ""))
        .accepted();
    let scores = &approved
        .state
        .sheet(&period_id(), &unit(SH01))
        .unwrap()
        .scores;
    let approver = |i: &str| match &scores[&item(i)].review {
        ReviewStatus::Approved { by } => by.to_string(),
        other => panic!("{i} is {other:?}"),
    };
    assert_eq!(
        ["A1", "A2", "B1", "B2"].map(approver),
        ["rv2", "rv1", "rv1", "rv2"],
        "approvals stand with their approver; the sheet approval approved B2"
    );

    // The author of a pending score may not approve the sheet, whatever else stands approved.
    rejects!(
        reopened_after_appeal(&dual_assessor())
            .when(&dual_reviewer(), review_sheet(SH01, ReviewDecision::Approved, "")),
        Rejection::SelfApproval { items, .. } if items == &vec![item("B2")]
    );
}
