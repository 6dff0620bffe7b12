//! The law of a scored sheet's lists (SCORING.md): for every sheet of every period at every position
//! of a random log, `ignored`, `unscored` and the counted items partition the rubric's items, and
//! each list says what the scores' standings say.
//!
//! The random logs are [`crate::log`]'s, extended so that an item leaves and comes back: after the
//! first random steps, rubric version 3 (which removes B2) is made if it does not exist yet and the
//! running periods move to it; more random steps; then version 4 brings B2 back, the running periods
//! move to it, and more random steps follow.

use std::collections::BTreeSet;

use ledger_projections::domain::{Command, Meta, Standing, State};
use ledger_projections::rubric;
use ledger_schemas::ids::{AspectCode, ItemCode};
use ledger_schemas::rubric::{ItemKind, RubricChange};
use ledger_schemas::values::{Points, Stage};
use proptest::prelude::*;

use crate::dsl::*;
use crate::log::*;

/// What one check saw, to show that the random logs reach the cases that matter.
#[derive(Debug, Default)]
struct Seen {
    removed: usize,
    needs_rescoring: usize,
    returned_unscored: usize,
    returned_rescored: usize,
}

/// Every period not yet published, on a version before `version`, moves to it.
fn move_running_to(ledger: &mut Ledger, version: u32) {
    for period in [period_id(), q2()] {
        let running = ledger
            .state
            .periods
            .get(&period)
            .is_some_and(|p| p.stage != Stage::Published && p.rubric_version < version);
        if running {
            ledger.run(
                &admin(),
                Command::MovePeriodRubric {
                    period,
                    to_version: version,
                    reason: "执行新版细则 new rules".into(),
                    expected_revision: None,
                },
            );
        }
    }
}

fn latest(ledger: &Ledger) -> u32 {
    ledger.state.rubrics[&rubric_id()].latest()
}

/// Version 4: B2 back with 20, B1 down to 20 (applies to version 3).
fn bring_b2_back(ledger: &mut Ledger) {
    let b2 = small_rubric().aspects[1].items[1].clone();
    let adjusted = ledger.run(
        &admin(),
        Command::AdjustRubric {
            rubric: rubric_id(),
            from_version: 3,
            changes: vec![
                RubricChange::RepointItem {
                    item: item("B1"),
                    kind: ItemKind::Points {
                        max: Points::from_int(20),
                    },
                },
                RubricChange::AddItem {
                    aspect: AspectCode::new("B").unwrap(),
                    item: b2,
                },
            ],
            approver: person("rv1"),
            reason: "恢复 B2 B2 back".into(),
        },
    );
    assert!(adjusted, "version 4 applies to version 3");
}

/// Checks every sheet of every period of `state`.
fn check_sheets(state: &State, seen: &mut Seen) -> Result<(), TestCaseError> {
    for (period, p) in state.periods.iter() {
        let def = state.definition(&p.rubric, p.rubric_version).unwrap();
        let items: Vec<(ItemCode, bool)> = def
            .aspects
            .iter()
            .flat_map(|a| &a.items)
            .map(|i| {
                let base = matches!(i.kind, ItemKind::Points { .. } | ItemKind::Ladder { .. });
                (i.code.clone(), base)
            })
            .collect();
        let in_rubric = |code: &ItemCode| rubric::find_item(def, code).is_some();
        for unit in &p.units {
            let sheet = state.sheet(period, unit).cloned().unwrap_or_default();
            let score = state.score_sheet(period, unit).unwrap();
            // What the standings say.
            let expected_ignored: Vec<ItemCode> = sheet
                .scores
                .iter()
                .filter(|(code, s)| match s.standing {
                    Standing::Counting => false,
                    Standing::NeedsRescoring { .. } => true,
                    Standing::Removed { .. } => !in_rubric(code),
                })
                .map(|(code, _)| code.clone())
                .collect();
            let expected_unscored: Vec<ItemCode> = items
                .iter()
                .filter(|(code, base)| *base && sheet.live(code).is_none())
                .map(|(code, _)| code.clone())
                .collect();
            let counted: BTreeSet<&ItemCode> = items
                .iter()
                .filter(|(code, base)| match sheet.live(code) {
                    Some(s) => s.standing == Standing::Counting,
                    None => !base,
                })
                .map(|(code, _)| code)
                .collect();
            prop_assert_eq!(&score.ignored, &expected_ignored, "{} {}", period, unit);
            prop_assert_eq!(&score.unscored, &expected_unscored, "{} {}", period, unit);

            // The partition of the rubric's items.
            let unscored: BTreeSet<&ItemCode> = score.unscored.iter().collect();
            let ignored_in: BTreeSet<&ItemCode> =
                score.ignored.iter().filter(|c| in_rubric(c)).collect();
            let all: BTreeSet<&ItemCode> = items.iter().map(|(code, _)| code).collect();
            prop_assert!(counted.is_disjoint(&unscored), "counted ∩ unscored");
            prop_assert!(counted.is_disjoint(&ignored_in), "counted ∩ ignored");
            prop_assert!(unscored.is_disjoint(&ignored_in), "unscored ∩ ignored");
            let union: BTreeSet<&ItemCode> = counted
                .iter()
                .chain(&unscored)
                .chain(&ignored_in)
                .copied()
                .collect();
            prop_assert_eq!(&union, &all, "the three cover the rubric");
            // Outside the rubric, `ignored` names removed scores only.
            for code in score.ignored.iter().filter(|c| !in_rubric(c)) {
                let removed = matches!(sheet.scores[code].standing, Standing::Removed { .. });
                prop_assert!(removed, "{} is ignored outside the rubric", code);
            }
            prop_assert_eq!(score.complete, sheet.gaps(def).is_empty(), "complete");

            seen.removed += score.ignored.len() - ignored_in.len();
            seen.needs_rescoring += ignored_in.len();
            let returned = |code: &ItemCode| {
                in_rubric(code)
                    && sheet
                        .scores
                        .get(code)
                        .is_some_and(|s| matches!(s.standing, Standing::Removed { .. }))
            };
            seen.returned_unscored += score.unscored.iter().filter(|c| returned(c)).count();
        }
    }
    Ok(())
}

/// The random log, extended as the module docs say.
fn extended(first: &[Op], middle: &[Op], then: &[Op]) -> Ledger {
    let mut ledger = generate(first);
    while latest(&ledger) < 3 {
        ledger.step(&Op::Adjust);
    }
    move_running_to(&mut ledger, 3);
    for op in middle {
        ledger.step(op);
    }
    bring_b2_back(&mut ledger);
    move_running_to(&mut ledger, 4);
    for op in then {
        ledger.step(op);
    }
    ledger
}

/// Folds the log event by event and checks every sheet after each.
fn check_every_position(ledger: &Ledger, seen: &mut Seen) -> Result<(), TestCaseError> {
    let mut state = State::default();
    for (envelope, event) in &ledger.log {
        if let ledger_schemas::events::Event::ScoreRecorded(e) = event {
            let removed = state
                .sheet(&e.period, &e.unit)
                .and_then(|s| s.scores.get(&e.item))
                .is_some_and(|s| !s.is_live());
            seen.returned_rescored += usize::from(removed);
        }
        state.evolve(&Meta::from_envelope(envelope), event);
        check_sheets(&state, seen)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// For every sheet at every position: the counted items (a value that fits, or an optional item
    /// without a value), `unscored` (base items without a value) and the items of `ignored` in the
    /// rubric (values awaiting re-scoring) are disjoint and cover the rubric's items; `ignored` also
    /// names the removed items the rubric no longer has, and nothing else; a returning item is
    /// unscored, never ignored; `complete` agrees with the review gate.
    #[test]
    fn ignored_unscored_and_counted_partition_the_rubric(
        first in ops(10..80),
        middle in ops(0..40),
        then in ops(0..40),
    ) {
        check_every_position(&extended(&first, &middle, &then), &mut Seen::default())?;
    }
}

/// The random logs reach what the law is about: scores removed with their item, scores awaiting
/// re-scoring, a returning item left unscored, and one scored afresh.
#[test]
fn the_random_logs_reach_every_kind_of_ignored_value() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = (ops(10..60), ops(10..40), ops(10..40));
    let mut seen = Seen::default();
    for _ in 0..24 {
        let (first, middle, then) = strategy.new_tree(&mut runner).unwrap().current();
        check_every_position(&extended(&first, &middle, &then), &mut seen).unwrap();
    }
    assert!(seen.removed > 0, "{seen:?}");
    assert!(seen.needs_rescoring > 0, "{seen:?}");
    assert!(seen.returned_unscored > 0, "{seen:?}");
    assert!(seen.returned_rescored > 0, "{seen:?}");
}
