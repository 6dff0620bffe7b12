//! The closed loop: raise → submit → verify or send back; overdue derived from the calendar.

use ledger_projections::domain::{Command, RectificationStatus, Rejection};
use ledger_projections::scoring::ValueRejection;
use ledger_schemas::events::*;
use ledger_schemas::values::ReviewDecision;

use crate::dsl::*;

fn raise(id: &str, i: &str, origin: RectificationOrigin, due_on: chrono::NaiveDate) -> Command {
    Command::RaiseRectification {
        rectification: rect_id(id),
        period: period_id(),
        unit: unit(SH01),
        item: item(i),
        due_on,
        finding: "三会一课少开1次 one meeting missed".into(),
        origin,
    }
}

fn submit(id: &str) -> Command {
    Command::SubmitRectification {
        files: Vec::new(),
        rectification: rect_id(id),
        note: "已补开 held".into(),
        evidence: vec!["minutes-2026-04.pdf".into()],
    }
}

fn verify(id: &str) -> Command {
    Command::VerifyRectification {
        rectification: rect_id(id),
        comment: "已核实 verified".into(),
    }
}

fn send_back(id: &str, due_on: Option<chrono::NaiveDate>) -> Command {
    Command::SendBackRectification {
        rectification: rect_id(id),
        comment: "材料不全 evidence incomplete".into(),
        due_on,
    }
}

/// A1 was scored 25 of 30: a deduction.
fn raised() -> crate::dsl::Given {
    published().run(
        &rv1(),
        raise(
            "RC-1",
            "A1",
            RectificationOrigin::Deduction,
            date(2026, 4, 30),
        ),
    )
}

/// A deduction raises a rectification for the item's responsible person named by the rubric.
#[test]
fn a_deduction_raises_a_rectification() {
    published()
        .when(
            &rv1(),
            raise(
                "RC-1",
                "A1",
                RectificationOrigin::Deduction,
                date(2026, 4, 30),
            ),
        )
        .then([RectificationRaised {
            rectification: rect_id("RC-1"),
            period: period_id(),
            unit: unit(SH01),
            item: item("A1"),
            responsible: person("resp-a"),
            due_on: date(2026, 4, 30),
            finding: "三会一课少开1次 one meeting missed".into(),
            origin: RectificationOrigin::Deduction,
        }
        .into()]);
}

/// A rejected review raises a rectification too, in review, by the assessor of the unit.
#[test]
fn a_rejected_review_raises_a_rectification() {
    in_review()
        .run(
            &rv1(),
            review_item(SH01, "B1", ReviewDecision::Rejected, "无佐证 no evidence"),
        )
        .when(
            &as1(),
            raise("RC-2", "B1", RectificationOrigin::Review, date(2026, 5, 1)),
        )
        .accepted();
}

/// Raising is refused without a finding of that origin (full marks; an item not rejected), with a past
/// due date, a blank finding, an existing id, an item the rubric does not have, and by an assessor of
/// another unit.
#[test]
fn raising_refusals() {
    rejects!(
        published().when(
            &rv1(),
            raise(
                "RC-1",
                "B1",
                RectificationOrigin::Deduction,
                date(2026, 4, 30)
            )
        ),
        Rejection::NoFinding {
            origin: RectificationOrigin::Deduction,
            ..
        }
    );
    rejects!(
        published().when(
            &rv1(),
            raise("RC-1", "A1", RectificationOrigin::Review, date(2026, 4, 30))
        ),
        Rejection::NoFinding {
            origin: RectificationOrigin::Review,
            ..
        }
    );
    rejects!(
        published().when(
            &rv1(),
            raise(
                "RC-1",
                "A1",
                RectificationOrigin::Deduction,
                date(2026, 3, 31)
            )
        ),
        Rejection::DueDateInPast { .. }
    );
    let mut blank = raise(
        "RC-1",
        "A1",
        RectificationOrigin::Deduction,
        date(2026, 4, 30),
    );
    if let Command::RaiseRectification { finding, .. } = &mut blank {
        finding.clear();
    }
    rejects!(published().when(&rv1(), blank), Rejection::Missing { .. });
    rejects!(
        raised().when(
            &rv1(),
            raise(
                "RC-1",
                "A1",
                RectificationOrigin::Deduction,
                date(2026, 4, 30)
            )
        ),
        Rejection::RectificationExists { .. }
    );
    rejects!(
        published().when(
            &rv1(),
            raise(
                "RC-1",
                "Z9",
                RectificationOrigin::Deduction,
                date(2026, 4, 30)
            )
        ),
        Rejection::Value(ValueRejection::UnknownItem { .. })
    );
    rejects!(
        published().when(
            &as2(),
            raise(
                "RC-1",
                "A1",
                RectificationOrigin::Deduction,
                date(2026, 4, 30)
            )
        ),
        Rejection::NotAssignedToUnit { .. }
    );
}

/// The unit's secretary, or the responsible person in whatever role, submits with evidence.
#[test]
fn the_unit_or_the_responsible_person_submits() {
    let decision = raised()
        .when(&sec1(), submit("RC-1"))
        .then([RectificationSubmitted {
            files: Vec::new(),
            rectification: rect_id("RC-1"),
            note: "已补开 held".into(),
            evidence: vec!["minutes-2026-04.pdf".into()],
        }
        .into()]);
    assert_eq!(decision.reason, None);
    let responsible = raised().with([granted(
        "resp-a",
        ledger_schemas::envelope::Role::Unit,
        &[SH02],
    )]);
    responsible
        .when(
            &actor("resp-a", ledger_schemas::envelope::Role::Unit),
            submit("RC-1"),
        )
        .accepted();
}

/// Submission is refused from another unit, without evidence, when already submitted or closed, and
/// for an unknown rectification.
#[test]
fn submission_refusals() {
    rejects!(
        raised().when(&sec2(), submit("RC-1")),
        Rejection::NotYourRectification { responsible, .. } if responsible.as_str() == "resp-a"
    );
    let no_evidence = Command::SubmitRectification {
        files: Vec::new(),
        rectification: rect_id("RC-1"),
        note: "n".into(),
        evidence: vec![" ".into()],
    };
    rejects!(
        raised().when(&sec1(), no_evidence),
        Rejection::Missing { .. }
    );
    let submitted = raised().run(&sec1(), submit("RC-1"));
    rejects!(
        submitted.when(&sec1(), submit("RC-1")),
        Rejection::RectificationNotOpen {
            status: RectificationStatus::Submitted,
            ..
        }
    );
    rejects!(
        raised().when(&sec1(), submit("NOPE")),
        Rejection::UnknownRectification { .. }
    );
}

/// A reviewer verifies the submission: the loop is closed and the item is no longer overdue.
#[test]
fn verification_closes_the_loop() {
    let (_, closed) = raised()
        .run(&sec1(), submit("RC-1"))
        .when(&rv1(), verify("RC-1"))
        .accepted();
    let r = &closed.state.rectifications[&rect_id("RC-1")];
    assert_eq!(r.status, RectificationStatus::Closed);
    assert!(
        closed
            .state
            .overdue_rectifications(date(2026, 6, 1))
            .is_empty()
    );
    assert!(
        closed
            .state
            .open_rectifications_of(&person("resp-a"))
            .is_empty()
    );
}

/// Verification is refused with nothing submitted, and for the person who submitted it.
#[test]
fn verification_refusals() {
    rejects!(
        raised().when(&rv1(), verify("RC-1")),
        Rejection::RectificationNotSubmitted {
            status: RectificationStatus::Open,
            ..
        }
    );
    let by_system = raised().run(&system(), submit("RC-1"));
    rejects!(
        by_system.when(&system(), verify("RC-1")),
        Rejection::OwnSubmission { .. }
    );
}

/// A submission sent back is open again with its new due date; the comment is the reason.
#[test]
fn a_submission_is_sent_back() {
    let (decision, after) = raised()
        .run(&sec1(), submit("RC-1"))
        .when(&rv1(), send_back("RC-1", Some(date(2026, 5, 15))))
        .accepted();
    assert_eq!(
        decision.reason.as_deref(),
        Some("材料不全 evidence incomplete")
    );
    let r = &after.state.rectifications[&rect_id("RC-1")];
    assert_eq!(
        (r.status, r.due_on, r.sent_back),
        (RectificationStatus::Open, date(2026, 5, 15), 1)
    );
    after.when(&sec1(), submit("RC-1")).accepted();
}

/// Sending back needs a submission, a comment and a due date not in the past.
#[test]
fn send_back_refusals() {
    rejects!(
        raised().when(&rv1(), send_back("RC-1", None)),
        Rejection::RectificationNotSubmitted { .. }
    );
    let submitted = raised().run(&sec1(), submit("RC-1"));
    let blank = Command::SendBackRectification {
        rectification: rect_id("RC-1"),
        comment: "".into(),
        due_on: None,
    };
    rejects!(submitted.when(&rv1(), blank), Rejection::Missing { .. });
    rejects!(
        submitted.when(&rv1(), send_back("RC-1", Some(date(2026, 3, 1)))),
        Rejection::DueDateInPast { .. }
    );
}

/// Overdue is derived: due before today and not closed; a submission does not stop the clock, a new
/// due date does, and nothing is ever recorded for it.
#[test]
fn overdue_is_derived_from_the_calendar() {
    let given = raised();
    let log_len = given.log.len();
    assert!(
        given
            .state
            .overdue_rectifications(date(2026, 4, 30))
            .is_empty()
    );
    let overdue = given.state.overdue_rectifications(date(2026, 5, 1));
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].0, &rect_id("RC-1"));
    let submitted = given.run(&sec1(), submit("RC-1"));
    assert_eq!(
        submitted
            .state
            .overdue_rectifications(date(2026, 5, 1))
            .len(),
        1
    );
    let extended = submitted.run(&rv1(), send_back("RC-1", Some(date(2026, 5, 31))));
    assert!(
        extended
            .state
            .overdue_rectifications(date(2026, 5, 1))
            .is_empty()
    );
    assert_eq!(
        extended
            .state
            .open_rectifications_of(&person("resp-a"))
            .len(),
        1
    );
    assert_eq!(
        extended.log.len(),
        log_len + 2,
        "no event for being overdue"
    );
}
