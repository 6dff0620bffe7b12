//! The read models on known logs, field by field: a rendered correction and adjustment, filters on
//! the worked example, accountability with open, overdue and closed rectifications, rubric versions
//! and their differences, and refusals of out-of-order envelopes.

use chrono::{Duration, NaiveDate};
use ledger_projections::domain::Command;
use ledger_projections::domain::ReviewStatus;
use ledger_projections::read::{
    ApplyError, AsOf, ChangeFilter, ChangeKind, ReviewAtTime, Scope, StandingAtTime, accountability,
};
use ledger_projections::rubric::RubricDiff;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::AspectCode;
use ledger_schemas::ids::LevelCode;
use ledger_schemas::rubric::{LadderStep, RubricChange};
use ledger_schemas::values::{Points, ScoreSource, ScoreValue, Stage, Text};

use crate::dsl::*;
use crate::example::example;
use crate::golden::reference_log;
use crate::log::model_of;

fn points(cents: i64) -> ScoreValue {
    ScoreValue::Points {
        points: Points::from_cents(cents),
    }
}

/// A correction renders with everything an auditor asks for: who (person and role), when, old →
/// new as text and as values, why, the source, the aspect and rubric version at the time, and the
/// item's review state and standing right after it.
#[test]
fn a_correction_renders_old_new_reason_and_context() {
    let ex = example();
    let model = model_of(&ex.ledger.log, 16);
    let (envelope, _) = ex
        .ledger
        .log
        .iter()
        .find(|(e, _)| e.event_type == "ScoreCorrected")
        .unwrap();
    let view = model.render(envelope).unwrap();
    assert_eq!(view.event_type, "ScoreCorrected");
    assert_eq!(view.kind_label, "更正得分 score corrected");
    assert_eq!((view.actor.as_str(), view.role), ("as1", Role::Assessor));
    assert_eq!(view.recorded_at, ex.t1 + Duration::minutes(1));
    assert_eq!(view.period, Some(period_id()));
    assert_eq!(view.unit, Some(unit(SH01)));
    assert_eq!(view.item, Some(item("F5")));
    assert_eq!(view.aspect, Some(AspectCode::new("F").unwrap()));
    assert_eq!(view.rubric_version, Some(1));
    assert_eq!(view.summary.zh, "SH-01（2026Q1） F5 更正：3.3 分 → 2.6 分");
    assert_eq!(
        view.summary.en.as_deref(),
        Some("score of F5 for SH-01 (2026Q1) corrected: 3.3 points → 2.6 points")
    );
    let old = view.old.unwrap();
    assert_eq!(
        (old.zh.as_str(), old.en.as_deref()),
        ("3.3 分", Some("3.3 points"))
    );
    assert_eq!(view.new.unwrap().zh, "2.6 分");
    assert_eq!(view.old_value, Some(points(330)));
    assert_eq!(view.new_value, Some(points(260)));
    assert_eq!(view.reason.as_deref(), Some("补充会议记录 minutes found"));
    assert_eq!(view.source, Some(ScoreSource::Manual));
    assert_eq!(view.review, Some(ReviewAtTime::Pending));
    assert_eq!(view.standing, Some(StandingAtTime::Counting));
}

/// The adjustment and the move render as version changes with their reasons; the move carries the
/// period's new version, and a level renders with the ladder's label.
#[test]
fn the_adjustment_and_the_move_render_as_version_changes() {
    let ex = example();
    let model = model_of(&ex.ledger.log, 0);
    let render = |kind: &str| {
        let (e, _) = ex
            .ledger
            .log
            .iter()
            .find(|(e, _)| e.event_type == kind)
            .unwrap();
        model.render(e).unwrap()
    };
    let adjusted = render("RubricAdjusted");
    assert_eq!(adjusted.old.unwrap().zh, "第 1 版");
    assert_eq!(adjusted.new.unwrap().en.as_deref(), Some("version 2"));
    assert_eq!(adjusted.rubric_version, Some(2));
    assert_eq!(
        adjusted.reason.as_deref(),
        Some("加大党建权重 party share raised")
    );
    assert!(
        adjusted.summary.zh.contains("批准人 rv1"),
        "{}",
        adjusted.summary.zh
    );
    let moved = render("PeriodRubricChanged");
    assert_eq!(moved.period, Some(period_id()));
    assert_eq!(moved.rubric_version, Some(2));
    assert_eq!(moved.old.unwrap().en.as_deref(), Some("version 1"));

    let (b3, _) = ex
        .ledger
        .log
        .iter()
        .find(|(e, _)| e.event_type == "ScoreRecorded" && e.payload.contains("\"B3\""))
        .unwrap();
    let level = model.render(b3).unwrap().new.unwrap();
    assert_eq!(level.zh, "较好（75%）");
    assert_eq!(level.en.as_deref(), Some("fairly good (75%)"));
}

/// Filters on the worked example: by aspect and kind, by item, by actor and kind, and by an
/// inclusive time range; newest first.
#[test]
fn filters_select_by_aspect_item_actor_kind_and_time() {
    let ex = example();
    let log = &ex.ledger.log;
    let model = model_of(log, 16);
    let view = model.view();
    let position_of = |pred: &dyn Fn(&ledger_schemas::envelope::Envelope) -> bool| {
        log.iter()
            .filter(|(e, _)| pred(e))
            .map(|(e, _)| e.position)
            .collect::<Vec<_>>()
    };
    let corrections = position_of(&|e| e.event_type == "ScoreCorrected");
    assert_eq!(corrections.len(), 2);

    let f_corrections = view.changes(
        &ChangeFilter {
            aspect: Some(AspectCode::new("F").unwrap()),
            kinds: vec![ChangeKind::ScoreCorrected],
            ..Default::default()
        },
        None,
        10,
    );
    assert_eq!(
        f_corrections.positions,
        vec![corrections[0]],
        "F5 is in F, G3 is not"
    );

    let g3 = view.changes(
        &ChangeFilter {
            item: Some(item("G3")),
            ..Default::default()
        },
        None,
        10,
    );
    let mut expected = position_of(&|e| e.payload.contains("\"item\":\"G3\""));
    expected.reverse();
    assert_eq!(g3.positions, expected);
    assert_eq!(g3.positions.len(), 4, "three scores and one correction");

    let adjustments = view.changes(
        &ChangeFilter {
            actor: Some(person("admin")),
            kinds: vec![ChangeKind::RubricAdjusted, ChangeKind::PeriodRubricChanged],
            ..Default::default()
        },
        None,
        10,
    );
    assert_eq!(adjustments.positions.len(), 2);

    let between = view.changes(
        &ChangeFilter {
            from: Some(ex.t1),
            to: Some(ex.t2),
            ..Default::default()
        },
        None,
        10,
    );
    // SH-03's business result (recorded exactly at t1) and the two corrections (the last exactly at
    // t2): both ends are inclusive.
    assert_eq!(between.positions.len(), 3);
    assert_eq!(between.positions[0], corrections[1]);

    // Two pages of two, then the rest.
    let page = view.changes(&ChangeFilter::default(), None, 2);
    assert_eq!(page.positions, vec![log.len() as u64, log.len() as u64 - 1]);
    let next = view.changes(&ChangeFilter::default(), page.next, 2);
    assert_eq!(
        next.positions,
        vec![log.len() as u64 - 2, log.len() as u64 - 3]
    );
}

/// Accountability on the reference log: resp-b's items under the period's version 2 (B1, B2, G1,
/// G2; G3 was removed), the scores on them, and the rectifications split by `today`: RC-2 (due
/// 2026-04-03) is open on the 2nd and overdue by two days on the 5th; RC-1 is closed.
#[test]
fn accountability_splits_open_overdue_and_closed_work() {
    let log = reference_log();
    let model = model_of(&log, 8);
    let view = model.view();
    let on_the_5th = view.accountability(
        &person("resp-b"),
        NaiveDate::from_ymd_opt(2026, 4, 5).unwrap(),
        &Scope::all(),
    );
    let items: Vec<&str> = on_the_5th.items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(items, ["B1", "B2", "G1", "G2"]);
    assert!(on_the_5th.items.iter().all(|i| i.rubric_version == 2));
    let b2 = &on_the_5th.items[1];
    let sh01 = b2.scores.iter().find(|s| s.unit.as_str() == SH01).unwrap();
    assert_eq!(sh01.value, pts(20));
    assert_eq!(sh01.source, ScoreSource::Appeal);
    assert_eq!(sh01.worth, Some(rust_decimal::Decimal::from(20)));
    let sh02 = b2.scores.iter().find(|s| s.unit.as_str() == SH02).unwrap();
    assert!(matches!(sh02.review, ReviewStatus::Rejected { .. }));
    assert_eq!(on_the_5th.overdue.len(), 1);
    assert_eq!(on_the_5th.overdue[0].rectification.as_str(), "RC-2");
    assert_eq!(on_the_5th.overdue[0].days_overdue, 2);
    assert!(on_the_5th.open.is_empty());
    assert_eq!(on_the_5th.closed.len(), 1);
    assert_eq!(on_the_5th.closed[0].rectification.as_str(), "RC-1");
    assert_eq!(on_the_5th.closed[0].sent_back, 1);

    let on_the_2nd = view.accountability(
        &person("resp-b"),
        NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
        &Scope::all(),
    );
    assert_eq!(on_the_2nd.open.len(), 1);
    assert!(on_the_2nd.overdue.is_empty());

    let other_unit = view.accountability(
        &person("resp-b"),
        NaiveDate::from_ymd_opt(2026, 4, 5).unwrap(),
        &Scope {
            period: None,
            unit: Some(unit(SH01)),
        },
    );
    assert!(other_unit.overdue.is_empty() && other_unit.closed.is_empty());
    assert!(
        other_unit.items[1]
            .scores
            .iter()
            .all(|s| s.unit.as_str() == SH01)
    );
}

/// SCORING.md: every derived figure is rounded once, to two places, and shown without trailing
/// zeros (the API's `Figure`). An item's worth in accountability is such a figure: a level of 33.33 %
/// on A2 (max 30) is worth 9.999, shown 10; one of 80 % is worth 24, not 24.00; a deduction item with
/// no cases is worth 0, not −0.
#[test]
fn accountability_worth_is_a_reported_figure() {
    let ladder = [
        ("good", "100"),
        ("fair", "80"),
        ("ok", "33.33"),
        ("poor", "0"),
    ]
    .into_iter()
    .map(|(code, percent)| LadderStep {
        level: LevelCode::new(code).unwrap(),
        label: Text::new(code, code),
        percent: percent.parse().unwrap(),
    })
    .collect();
    let given = world()
        .run(
            &admin(),
            Command::AdjustRubric {
                rubric: rubric_id(),
                from_version: 1,
                changes: vec![RubricChange::ChangeLadder { ladder }],
                approver: person("rv1"),
                reason: "等级比例调整 ladder".into(),
            },
        )
        .run(
            &admin(),
            Command::MovePeriodRubric {
                period: period_id(),
                to_version: 2,
                reason: "执行新版细则 new rules".into(),
                expected_revision: None,
            },
        )
        .at(Stage::Scoring)
        .by(
            &as1(),
            [
                score_recorded(SH01, "A2", lvl("ok")),
                score_recorded(SH02, "A2", lvl("fair")),
                score_recorded(SH01, "G2", cases(0)),
                score_recorded(SH02, "G2", cases(2)),
            ],
        );
    let worth = |person_id: &str, code: &str, unit_id: &str| {
        let a = accountability(&given.state, &person(person_id), today(), &Scope::all());
        let owned = a.items.iter().find(|i| i.item.as_str() == code).unwrap();
        let score = owned
            .scores
            .iter()
            .find(|s| s.unit.as_str() == unit_id)
            .unwrap();
        score.worth.unwrap().to_string()
    };
    assert_eq!(worth("resp-a", "A2", SH01), "10");
    assert_eq!(worth("resp-a", "A2", SH02), "24");
    assert_eq!(worth("resp-b", "G2", SH01), "0");
    assert_eq!(worth("resp-b", "G2", SH02), "-2");
}

/// Rubric versions as they stood, the event that made each, the periods on each, and their
/// differences; as of before the adjustment there is only version 1.
#[test]
fn rubric_versions_and_their_differences() {
    let log = reference_log();
    let model = model_of(&log, 8);
    let view = model.view();
    let versions = view.rubric_versions(&rubric_id());
    assert_eq!(versions.len(), 3);
    let made: Vec<&str> = versions
        .iter()
        .map(|v| {
            let position = v.made_at.unwrap();
            log[position as usize - 1].0.event_type.as_str()
        })
        .collect();
    assert_eq!(made, ["RubricDefined", "RubricAdjusted", "RubricAdjusted"]);
    assert_eq!(versions[1].periods, vec![period_id()]);
    assert!(versions[0].periods.is_empty());

    let diff = view.rubric_diff(&rubric_id(), 1, 2).unwrap();
    assert_eq!(diff.len(), 2, "{diff:?}");
    assert!(matches!(&diff[0], RubricDiff::ItemRemoved { item: i, .. } if i.as_str() == "G3"));
    assert!(matches!(&diff[1], RubricDiff::ItemRepointed { item: i, .. } if i.as_str() == "A2"));
    assert!(view.rubric_diff(&rubric_id(), 1, 4).is_none());

    let adjusted_at = versions[1].made_at.unwrap();
    let plan = model.plan(AsOf::Position(adjusted_at - 1));
    let tail = log
        .iter()
        .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
        .map(|(e, ev)| (e, ev));
    let before = model.view_as_of(&plan, tail).unwrap();
    let versions = before.rubric_versions(&rubric_id());
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].periods, vec![period_id()]);
}

/// An envelope out of order (a position already applied, or a time before the previous event's)
/// is refused and leaves the model as it was.
#[test]
fn out_of_order_envelopes_are_refused() {
    let log = reference_log();
    let mut model = model_of(&log, 8);
    let (last, event) = log.last().unwrap();
    assert!(matches!(
        model.apply(last, event),
        Err(ApplyError::OutOfOrder { .. })
    ));
    let mut early = last.clone();
    early.position += 1;
    early.recorded_at -= Duration::seconds(1);
    assert!(matches!(
        model.apply(&early, event),
        Err(ApplyError::TimeWentBack { .. })
    ));
    assert_eq!(model.len(), log.len());
    assert_eq!(model.position(), last.position);
    let mut same_time = last.clone();
    same_time.position += 5;
    assert!(
        model.apply(&same_time, event).is_ok(),
        "equal times and gaps are fine"
    );
}
