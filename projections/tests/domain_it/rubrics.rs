//! Rubrics: definition, adjustment into numbered versions, every version kept.

use ledger_projections::domain::{Command, Rejection};
use ledger_projections::rubric::{self, RubricRejection};
use ledger_schemas::events::*;
use ledger_schemas::ids::RubricId;
use ledger_schemas::rubric::{ItemKind, RubricChange};
use ledger_schemas::values::{Points, Text};

use crate::dsl::*;

fn retitle_a1() -> Vec<RubricChange> {
    vec![RubricChange::RetitleItem {
        item: item("A1"),
        title: Text::new("支部设置", "branch set-up"),
    }]
}

fn adjust(from_version: u32, changes: Vec<RubricChange>, approver: &str, reason: &str) -> Command {
    Command::AdjustRubric {
        rubric: rubric_id(),
        from_version,
        changes,
        approver: person(approver),
        reason: reason.into(),
    }
}

/// A valid rubric is defined as version 1; the default template of DOMAIN.md loads with one command.
#[test]
fn rubrics_are_defined() {
    let r2 = RubricId::new("R2").unwrap();
    world()
        .when(
            &admin(),
            Command::DefineRubric {
                rubric: r2.clone(),
                definition: small_rubric(),
            },
        )
        .then([RubricDefined {
            rubric: r2,
            definition: small_rubric(),
        }
        .into()]);
    let (_, after) = world()
        .when(
            &system(),
            Command::DefineRubric {
                rubric: RubricId::new("default").unwrap(),
                definition: rubric::default_template(),
            },
        )
        .accepted();
    let def = after
        .state
        .definition(&RubricId::new("default").unwrap(), 1)
        .unwrap();
    assert_eq!(def.aspects.iter().map(|a| a.items.len()).sum::<usize>(), 33);
}

/// An existing rubric id is refused; an invalid definition is refused with the rubric rule's own
/// rejection and its actual sums.
#[test]
fn rubric_definition_refusals() {
    rejects!(
        world().when(
            &admin(),
            Command::DefineRubric {
                rubric: rubric_id(),
                definition: small_rubric()
            }
        ),
        Rejection::RubricExists { .. }
    );
    let mut bad = small_rubric();
    bad.aspects[0].weight = Some(Points::from_int(50));
    rejects!(
        world().when(
            &admin(),
            Command::DefineRubric {
                rubric: RubricId::new("R3").unwrap(),
                definition: bad
            }
        ),
        Rejection::Rubric(RubricRejection::WeightsDoNotSumTo100 { sum }) if *sum == Points::from_int(90)
    );
}

/// An adjustment of the latest version, with a reason and an approver, yields the next version; every
/// version stays readable.
#[test]
fn an_adjustment_yields_the_next_version() {
    let (decision, after) = world()
        .when(
            &admin(),
            adjust(1, retitle_a1(), "rv1", "集团党委要求 committee decision"),
        )
        .accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(RubricAdjusted {
            rubric: rubric_id(),
            from_version: 1,
            version: 2,
            changes: retitle_a1(),
            approver: person("rv1"),
        })]
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some("集团党委要求 committee decision")
    );
    let v1 = after.state.definition(&rubric_id(), 1).unwrap();
    let v2 = after.state.definition(&rubric_id(), 2).unwrap();
    assert_eq!(v1, &small_rubric());
    assert_eq!(v2.aspects[0].items[0].title.zh, "支部设置");
    assert_eq!(after.state.rubrics[&rubric_id()].latest(), 2);
    assert!(after.state.anomalies.is_empty());
}

/// Adjustments are refused for an unknown rubric or version, a version that is not the latest, a
/// missing reason, an unknown approver, no changes, and changes the rubric rules refuse.
#[test]
fn rubric_adjustment_refusals() {
    let v2 = world().run(&admin(), adjust(1, retitle_a1(), "rv1", "r"));
    rejects!(
        world().when(
            &admin(),
            Command::AdjustRubric {
                rubric: RubricId::new("NOPE").unwrap(),
                from_version: 1,
                changes: retitle_a1(),
                approver: person("rv1"),
                reason: "r".into()
            }
        ),
        Rejection::UnknownRubric { .. }
    );
    rejects!(
        world().when(&admin(), adjust(5, retitle_a1(), "rv1", "r")),
        Rejection::UnknownRubricVersion {
            version: 5,
            latest: 1,
            ..
        }
    );
    rejects!(
        v2.when(&admin(), adjust(1, retitle_a1(), "rv1", "r")),
        Rejection::StaleRubricVersion {
            from_version: 1,
            latest: 2,
            ..
        }
    );
    rejects!(
        world().when(&admin(), adjust(1, retitle_a1(), "rv1", " ")),
        Rejection::ReasonRequired { .. }
    );
    rejects!(
        world().when(&admin(), adjust(1, retitle_a1(), "nobody", "r")),
        Rejection::UnknownPerson { .. }
    );
    rejects!(
        world().when(&admin(), adjust(1, vec![], "rv1", "r")),
        Rejection::NoChanges { .. }
    );
    let repoint = vec![RubricChange::RepointItem {
        item: item("A1"),
        kind: ItemKind::Points {
            max: Points::from_int(20),
        },
    }];
    rejects!(
        world().when(&admin(), adjust(1, repoint, "rv1", "r")),
        Rejection::Rubric(RubricRejection::ItemMaximaDoNotMatchWeight { sum, .. }) if *sum == Points::from_int(50)
    );
}

/// The fold is total: an adjustment in the log that does not apply (here: it removes an item twice)
/// still makes its version exist, unchanged, so later version numbers stay right, and the fold
/// records an anomaly naming the event's position instead of failing.
#[test]
fn a_broken_adjustment_in_the_log_is_an_anomaly() {
    let broken = RubricAdjusted {
        rubric: rubric_id(),
        from_version: 1,
        version: 2,
        changes: vec![
            RubricChange::RemoveItem { item: item("B1") },
            RubricChange::RemoveItem { item: item("B1") },
        ],
        approver: person("rv1"),
    };
    let given = world().with([broken.into()]);
    assert_eq!(given.state.rubrics[&rubric_id()].latest(), 2);
    assert_eq!(
        given.state.definition(&rubric_id(), 2),
        Some(&small_rubric())
    );
    assert_eq!(given.state.anomalies.len(), 1);
    assert_eq!(given.state.anomalies[0].position, given.log.len() as u64);
    assert!(given.state.anomalies[0].what.contains("R1"));
}

/// The annual rule is part of the rubric: changing it is an adjustment like any other, refused
/// with the rubric rule's own rejection when the weights do not make sense.
#[test]
fn the_annual_rule_is_adjusted_like_the_rest_of_the_rubric() {
    use ledger_schemas::rubric::{AnnualRule, PeriodSlot, SlotWeight};
    let rule = |weight: i64| AnnualRule::Weighted {
        weights: vec![
            SlotWeight {
                slot: PeriodSlot::Q4,
                weight: Points::from_int(weight),
            },
            SlotWeight {
                slot: PeriodSlot::Q1,
                weight: Points::from_int(1),
            },
        ],
    };
    let changes = vec![RubricChange::ChangeAnnualRule {
        annual_rule: rule(2),
    }];
    let (_, after) = world()
        .when(
            &admin(),
            adjust(1, changes, "rv1", "四季度加倍 Q4 counts twice"),
        )
        .accepted();
    let v2 = after.state.definition(&rubric_id(), 2).unwrap();
    assert_eq!(v2.annual_rule, rule(2));
    assert_eq!(
        after.state.definition(&rubric_id(), 1).unwrap().annual_rule,
        AnnualRule::Mean
    );
    rejects!(
        world().when(
            &admin(),
            adjust(
                1,
                vec![RubricChange::ChangeAnnualRule {
                    annual_rule: rule(0)
                }],
                "rv1",
                "r"
            )
        ),
        Rejection::Rubric(RubricRejection::NonPositiveSlotWeight {
            slot: PeriodSlot::Q4,
            ..
        })
    );
}
