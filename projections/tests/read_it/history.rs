//! An item's history across rubric moves and whole-sheet reviews: every step shows the item's review
//! state and standing right after it, and an item that left the rubric and came back starts afresh.

use chrono::Duration;
use ledger_projections::domain::Command;
use ledger_projections::read::{ChangeView, ReviewAtTime, StandingAtTime};
use ledger_schemas::ids::AspectCode;
use ledger_schemas::rubric::{ItemKind, RubricChange};
use ledger_schemas::values::{Points, ReviewDecision, Stage};

use crate::dsl::*;
use crate::log::{Ledger, Stored, model_of};

fn adjust(from_version: u32, changes: Vec<RubricChange>) -> Command {
    Command::AdjustRubric {
        rubric: rubric_id(),
        from_version,
        changes,
        approver: person("rv1"),
        reason: "动态调整 adjustment".into(),
    }
}

fn move_to(to_version: u32) -> Command {
    Command::MovePeriodRubric {
        period: period_id(),
        to_version,
        reason: "执行新版细则 new rules".into(),
        expected_revision: None,
    }
}

fn points_kind(max: i64) -> ItemKind {
    ItemKind::Points {
        max: Points::from_int(max),
    }
}

/// Both sheets scored in full and in review, SH-01's sheet rejected as a whole; version 2 (A2 takes
/// points, so its level needs re-scoring; B1 removed, B2 carries B's 40) and the move to it;
/// version 3 (B1 back with 20, B2 20 again) and the move to it; then B1 of SH-01 scored 15 afresh.
pub fn returning_item_log() -> Vec<Stored> {
    let mut ledger = Ledger::world();
    let mut stage = Stage::Opened;
    while stage < Stage::Scoring {
        let next = ledger_projections::domain::next_stage(stage).unwrap();
        ledger.clock += Duration::seconds(5);
        ledger.stamp(&admin(), None, stage_changed(stage, next));
        stage = next;
    }
    for event in full_sheet(SH01).into_iter().chain(full_sheet(SH02)) {
        ledger.clock += Duration::seconds(5);
        ledger.stamp(&as1(), None, event);
    }
    ledger.stamp(&admin(), None, stage_changed(Stage::Scoring, Stage::Review));
    let mut b1 = small_rubric().aspects[1].items[0].clone();
    b1.kind = points_kind(20);
    let steps = [
        (
            rv1(),
            review_sheet(SH01, ReviewDecision::Rejected, "整体重评 redo"),
        ),
        (
            admin(),
            adjust(
                1,
                vec![
                    RubricChange::RepointItem {
                        item: item("A2"),
                        kind: points_kind(30),
                    },
                    RubricChange::RemoveItem { item: item("B1") },
                    RubricChange::RepointItem {
                        item: item("B2"),
                        kind: points_kind(40),
                    },
                ],
            ),
        ),
        (admin(), move_to(2)),
        (
            admin(),
            adjust(
                2,
                vec![
                    RubricChange::RepointItem {
                        item: item("B2"),
                        kind: points_kind(20),
                    },
                    RubricChange::AddItem {
                        aspect: AspectCode::new("B").unwrap(),
                        item: b1,
                    },
                ],
            ),
        ),
        (admin(), move_to(3)),
        (as1(), record(SH01, "B1", pts(15))),
    ];
    for (actor, command) in steps {
        ledger.clock += Duration::seconds(5);
        let label = command.label();
        assert!(ledger.run(&actor, command), "{label} refused");
    }
    ledger.log
}

/// The item's history on SH-01, each step rendered in that history.
fn history(log: &[Stored], code: &str) -> Vec<ChangeView> {
    let model = model_of(log, 4);
    let view = model.view();
    view.item_history(&period_id(), &unit(SH01), &item(code))
        .into_iter()
        .map(|position| {
            let (envelope, _) = &log[position as usize - 1];
            model
                .render_in_history(envelope, &period_id(), &unit(SH01), &item(code))
                .unwrap()
        })
        .collect()
}

fn steps(history: &[ChangeView]) -> Vec<(&str, Option<ReviewAtTime>, Option<StandingAtTime>)> {
    history
        .iter()
        .map(|c| (c.event_type, c.review, c.standing))
        .collect()
}

/// A rubric move and a whole-sheet review appear in an item's timeline with the item's review state
/// and standing after them: A2's level is rejected with the sheet, and the move to version 2 (where
/// A2 takes points) makes it need re-scoring, which the move to version 3 does not change.
#[test]
fn an_item_history_shows_the_state_after_moves_and_sheet_reviews() {
    use ReviewAtTime::{Pending, Rejected};
    use StandingAtTime::{Counting, NeedsRescoring};
    let log = returning_item_log();
    assert_eq!(
        steps(&history(&log, "A2")),
        [
            ("ScoreRecorded", Some(Pending), Some(Counting)),
            ("SheetReviewed", Some(Rejected), Some(Counting)),
            ("PeriodRubricChanged", Some(Rejected), Some(NeedsRescoring)),
            ("PeriodRubricChanged", Some(Rejected), Some(NeedsRescoring)),
        ]
    );
    // B2 still fits both versions: the moves leave it counting.
    assert_eq!(
        steps(&history(&log, "B2"))[2..],
        [
            ("PeriodRubricChanged", Some(Rejected), Some(Counting)),
            ("PeriodRubricChanged", Some(Rejected), Some(Counting)),
        ]
    );
}

/// DOMAIN-RULES: an item removed from the rubric and brought back by a later version is a new item
/// that starts unscored. Its first score afresh names no old value, although the removed score is
/// still in the history (removed, as the move left it).
#[test]
fn a_returning_item_starts_unscored() {
    use ReviewAtTime::{Pending, Rejected};
    use StandingAtTime::{Counting, Removed};
    let log = returning_item_log();
    let history = history(&log, "B1");
    assert_eq!(
        steps(&history),
        [
            ("ScoreRecorded", Some(Pending), Some(Counting)),
            ("SheetReviewed", Some(Rejected), Some(Counting)),
            ("PeriodRubricChanged", Some(Rejected), Some(Removed)),
            ("PeriodRubricChanged", Some(Rejected), Some(Removed)),
            ("ScoreRecorded", Some(Pending), Some(Counting)),
        ]
    );
    let afresh = history.last().unwrap();
    assert_eq!(afresh.new_value, Some(pts(15)));
    assert_eq!(
        afresh.old_value, None,
        "a returning item names no old value"
    );
    assert_eq!(afresh.old, None);
    // The same event in the change log, rendered on its own.
    let model = model_of(&log, 0);
    let (envelope, _) = log.last().unwrap();
    assert_eq!(model.render(envelope).unwrap().old_value, None);
}
