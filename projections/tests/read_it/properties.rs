//! The laws of the read models over random valid logs ([`crate::log`]):
//!
//! - incremental == rebuilt from scratch == as of the end, with and without checkpoints;
//! - as of position `p` == the fold of the prefix up to `p`, for random `p`, with and without
//!   checkpoints (standings, histories, change-log pages, accountability, rubric versions, state);
//! - as of time `t` == as of the last position recorded at or before `t`;
//! - the change log's pages and the histories agree with an independent filter over the events;
//! - checkpoints are isolated snapshots (later events never leak into them) and survive storage.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use ledger_projections::domain::{Meta, State};
use ledger_projections::read::{
    Accountability, AsOf, ChangeFilter, ChangeKind, PeriodStandings, ReadModel, RubricVersion,
    Scope, Snapshot, View,
};
use ledger_projections::rubric::{self, RubricDiff};
use ledger_schemas::envelope::Envelope;
use ledger_schemas::events::Event;
use ledger_schemas::ids::{AspectCode, ItemCode, PeriodId, PersonId, UnitId};
use proptest::prelude::*;

use crate::dsl::*;
use crate::log::*;

/// Everything the read models answer at one point, for comparison.
#[derive(Debug, PartialEq)]
struct Answers {
    position: u64,
    state: State,
    standings: Vec<Option<PeriodStandings>>,
    histories: Vec<Vec<u64>>,
    pages: Vec<Vec<u64>>,
    accountability: Vec<Accountability>,
    versions: Vec<RubricVersion>,
    diffs: Vec<Option<Vec<RubricDiff>>>,
}

fn periods() -> [PeriodId; 2] {
    [period_id(), q2()]
}

/// The filters the properties page through.
fn filters() -> Vec<ChangeFilter> {
    let at = |secs| epoch() + Duration::seconds(secs);
    vec![
        ChangeFilter::default(),
        ChangeFilter {
            actor: Some(person("as1")),
            ..Default::default()
        },
        ChangeFilter {
            actor: Some(person("rv1")),
            kinds: vec![ChangeKind::ItemReviewed, ChangeKind::SheetReviewed],
            ..Default::default()
        },
        ChangeFilter {
            unit: Some(unit(SH01)),
            ..Default::default()
        },
        ChangeFilter {
            period: Some(period_id()),
            unit: Some(unit(SH02)),
            ..Default::default()
        },
        ChangeFilter {
            period: Some(q2()),
            ..Default::default()
        },
        ChangeFilter {
            item: Some(item("A1")),
            ..Default::default()
        },
        ChangeFilter {
            aspect: Some(AspectCode::new("B").unwrap()),
            ..Default::default()
        },
        ChangeFilter {
            kinds: vec![ChangeKind::ScoreCorrected, ChangeKind::RubricAdjusted],
            ..Default::default()
        },
        ChangeFilter {
            from: Some(at(40)),
            to: Some(at(4_000)),
            ..Default::default()
        },
        ChangeFilter {
            unit: Some(unit(SH01)),
            aspect: Some(AspectCode::new("A").unwrap()),
            kinds: vec![ChangeKind::ScoreRecorded, ChangeKind::ScoreCorrected],
            to: Some(at(20_000)),
            ..Default::default()
        },
        ChangeFilter {
            actor: Some(person("nobody")),
            ..Default::default()
        },
    ]
}

/// Every page of `filter`, `size` at a time, following the cursors; checks that the concatenation is
/// one long page.
fn all_pages(view: &View, filter: &ChangeFilter, size: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = view.changes(filter, cursor, size);
        assert!(page.positions.len() <= size);
        out.extend(&page.positions);
        match page.next {
            Some(next) => {
                assert_eq!(page.positions.len(), size, "only a full page has a next");
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(view.changes(filter, None, usize::MAX).positions, out);
    assert!(out.windows(2).all(|w| w[0] > w[1]), "newest first");
    out
}

fn answers(view: &View) -> Answers {
    let mut histories = Vec::new();
    for p in periods() {
        for u in UNITS {
            histories.push(view.sheet_history(&p, &unit(u)));
            for i in ITEMS {
                histories.push(view.item_history(&p, &unit(u), &item(i)));
            }
        }
    }
    let today = NaiveDate::from_ymd_opt(2026, 4, 20).unwrap();
    Answers {
        position: view.position(),
        state: view.state().clone(),
        standings: periods().iter().map(|p| view.standings(p)).collect(),
        histories,
        pages: filters().iter().map(|f| all_pages(view, f, 7)).collect(),
        accountability: ["resp-a", "resp-b", "rv1"]
            .into_iter()
            .flat_map(|p| {
                [
                    Scope::all(),
                    Scope::period(&period_id()),
                    Scope {
                        period: None,
                        unit: Some(unit(SH02)),
                    },
                ]
                .map(|scope| view.accountability(&person(p), today, &scope))
            })
            .collect(),
        versions: view.rubric_versions(&rubric_id()),
        diffs: [(1, 2), (2, 3), (1, 3), (3, 1)]
            .into_iter()
            .map(|(a, b)| view.rubric_diff(&rubric_id(), a, b))
            .collect(),
    }
}

/// The answers as of `at`, through a plan and the events it asks for.
fn answers_as_of(model: &ReadModel, log: &[Stored], at: AsOf) -> Answers {
    let plan = model.plan(at);
    let tail = log
        .iter()
        .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
        .map(|(e, ev)| (e, ev));
    assert!(plan.events as u64 <= model.checkpoint_every().max(log.len() as u64));
    let view = model
        .view_as_of(&plan, tail)
        .expect("the tail the plan asks for");
    answers(&view)
}

/// The answers of a model fed only the prefix up to `position`.
fn answers_of_prefix(log: &[Stored], position: u64) -> Answers {
    let prefix: Vec<Stored> = log
        .iter()
        .filter(|(e, _)| e.position <= position)
        .cloned()
        .collect();
    let model = model_of(&prefix, 0);
    let expected_state = State::fold(
        prefix
            .iter()
            .map(|(e, ev)| (Meta::from_envelope(e), ev))
            .collect::<Vec<_>>()
            .iter()
            .map(|(m, ev)| (m, *ev)),
    );
    let a = answers(&model.view());
    assert!(
        a.state == expected_state,
        "the read model's state is the domain fold"
    );
    a
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Incremental (with views taken while events arrive) == rebuilt from scratch (with and without
    /// checkpoints) == as of the end; and every view taken along the way still equals the as-of
    /// view of its position afterwards (later events never leak into earlier answers).
    #[test]
    fn incremental_equals_rebuilt_equals_as_of_end(
        ops in ops(20..140),
        every in 1u64..12,
        peeks in prop::collection::vec(any::<prop::sample::Index>(), 1..5),
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let mut peek_at: Vec<usize> = peeks.iter().map(|i| i.index(log.len())).collect();
        peek_at.sort_unstable();
        let mut incremental = ReadModel::with_checkpoints_every(every);
        let mut seen = Vec::new();
        for (n, (envelope, event)) in log.iter().enumerate() {
            incremental.apply(envelope, event).unwrap();
            if peek_at.contains(&n) {
                seen.push(answers(&incremental.view()));
            }
        }
        let now = answers(&incremental.view());
        prop_assert!(now.state == ledger.state, "the read model's state is the decided state");
        let rebuilt = answers(&model_of(log, 0).view());
        let rebuilt_with_checkpoints = answers(&model_of(log, 3).view());
        let end = answers_as_of(&incremental, log, AsOf::Position(u64::MAX));
        prop_assert!(now == rebuilt, "incremental vs rebuilt");
        prop_assert!(rebuilt == rebuilt_with_checkpoints, "rebuilt with checkpoints");
        prop_assert!(now == end, "incremental vs as of the end");
        for earlier in seen {
            let again = answers_as_of(&incremental, log, AsOf::Position(earlier.position));
            prop_assert!(earlier == again, "a view at {} changed afterwards", again.position);
        }
    }

    /// As of position p == the fold of the prefix up to p, for random p (including 0 and
    /// positions between checkpoints), with checkpoints every few events and without any.
    #[test]
    fn as_of_position_equals_the_prefix_fold(
        ops in ops(20..140),
        every in prop_oneof![Just(0u64), 1u64..10, Just(64u64)],
        at in prop::collection::vec(any::<prop::sample::Index>(), 1..5),
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let model = model_of(log, every);
        for index in at {
            let p = index.index(log.len() + 1) as u64;
            let plan = model.plan(AsOf::Position(p));
            prop_assert_eq!(plan.position, p);
            if every > 0 {
                prop_assert!(plan.events as u64 <= every, "{plan:?} folds more than {every}");
            }
            let got = answers_as_of(&model, log, AsOf::Position(p));
            let expected = answers_of_prefix(log, p);
            prop_assert!(got == expected, "as of {p} differs from the prefix fold");
        }
    }

    /// As of time t == as of the last position recorded at or before t (inclusive), for times
    /// before, at, between and after the events' times.
    #[test]
    fn as_of_time_equals_as_of_the_last_position_at_or_before_it(
        ops in ops(20..100),
        offsets in prop::collection::vec(-2i64..40_000, 1..6),
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let model = model_of(log, 5);
        let last = log.last().unwrap().0.recorded_at;
        let mut times: Vec<_> = offsets.iter().map(|s| epoch() + Duration::seconds(*s)).collect();
        // Exactly at some events' times too (several events may share one).
        times.push(log[log.len() / 2].0.recorded_at);
        times.push(last);
        for t in times {
            let expected = log
                .iter()
                .filter(|(e, _)| e.recorded_at <= t)
                .map(|(e, _)| e.position)
                .max()
                .unwrap_or(0);
            prop_assert_eq!(model.position_at(t), expected);
            prop_assert_eq!(model.plan(AsOf::Time(t)).position, expected);
            let by_time = answers_as_of(&model, log, AsOf::Time(t));
            let by_position = answers_as_of(&model, log, AsOf::Position(expected));
            prop_assert!(by_time == by_position, "as of {t} vs as of position {expected}");
        }
    }

    /// Pages and histories agree with an independent filter over the events themselves (period,
    /// unit and item read from the payloads, the aspect from the folded rubric), as of the end and
    /// as of a random earlier position.
    #[test]
    fn pages_and_histories_agree_with_a_filter_over_the_events(
        ops in ops(20..140),
        at in any::<prop::sample::Index>(),
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let model = model_of(log, 6);
        let rows = oracle_rows(log);
        let cut = at.index(log.len() + 1) as u64;
        let plan = model.plan(AsOf::Position(cut));
        let tail = log
            .iter()
            .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
            .map(|(e, ev)| (e, ev));
        let past = model.view_as_of(&plan, tail).unwrap();
        for view in [model.view(), past] {
            let visible: Vec<&Row> = rows.iter().filter(|r| r.position <= view.position()).collect();
            for filter in filters() {
                let expected: Vec<u64> = visible
                    .iter()
                    .rev()
                    .filter(|r| r.matches(&filter))
                    .map(|r| r.position)
                    .collect();
                prop_assert_eq!(all_pages(&view, &filter, 5), expected, "{:?}", filter);
            }
            for p in periods() {
                for u in UNITS {
                    let u = unit(u);
                    let expected: Vec<u64> = visible
                        .iter()
                        .filter(|r| r.period.as_ref() == Some(&p) && (r.unit.as_ref() == Some(&u) || (r.unit.is_none() && r.period_level())))
                        .map(|r| r.position)
                        .collect();
                    prop_assert_eq!(view.sheet_history(&p, &u), expected);
                    for i in ITEMS {
                        let i = item(i);
                        let expected: Vec<u64> = visible
                            .iter()
                            .filter(|r| r.period.as_ref() == Some(&p))
                            .filter(|r| {
                                (r.unit.as_ref() == Some(&u)
                                    && (r.item.as_ref() == Some(&i) || r.kind == ChangeKind::SheetReviewed))
                                    || (r.unit.is_none() && r.kind == ChangeKind::PeriodRubricChanged)
                            })
                            .map(|r| r.position)
                            .collect();
                        prop_assert_eq!(view.item_history(&p, &u, &i), expected);
                    }
                }
            }
        }
    }

    /// Every checkpoint equals the fold of its prefix (structure sharing never lets a later event
    /// into an earlier snapshot), and survives being stored and read back; folding the rest of the
    /// log onto a stored checkpoint gives the live state, and a model without in-memory checkpoints
    /// answers as of a later point from the stored one exactly as from its own fold.
    #[test]
    fn checkpoints_are_isolated_and_survive_storage(
        ops in ops(20..140),
        every in 1u64..9,
        ahead in 0u64..12,
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let model = model_of(log, every);
        let plain = model_of(log, 0);
        prop_assert!(!model.checkpoints().is_empty());
        for checkpoint in model.checkpoints() {
            prop_assert_eq!(checkpoint.position % every, 0);
            let metas: Vec<(Meta, &Event)> = log
                .iter()
                .filter(|(e, _)| e.position <= checkpoint.position)
                .map(|(e, ev)| (Meta::from_envelope(e), ev))
                .collect();
            let expected = State::fold(metas.iter().map(|(m, ev)| (m, *ev)));
            prop_assert!(checkpoint.state == expected, "checkpoint {} leaked", checkpoint.position);
            let bytes = Snapshot::of(checkpoint).encode();
            let back = Snapshot::decode(&bytes).unwrap();
            prop_assert!(&back == checkpoint, "stored checkpoint {} differs", checkpoint.position);
            let at = (checkpoint.position + ahead).min(log.len() as u64);
            let tail = log
                .iter()
                .filter(|(e, _)| e.position > checkpoint.position && e.position <= at)
                .map(|(e, ev)| (e, ev));
            let from_stored = answers(&plain.view_from(back.clone(), AsOf::Position(at), tail).unwrap());
            prop_assert!(from_stored == answers_of_prefix(log, at), "as of {at} from the stored checkpoint");
            let mut state = back.state;
            for (e, ev) in log.iter().filter(|(e, _)| e.position > checkpoint.position) {
                state.evolve(&Meta::from_envelope(e), ev);
            }
            prop_assert!(state == ledger.state);
        }
    }

    /// A whole model stored at a random position and read back (`encode_stored` /
    /// `decode_stored`) and then fed the rest of the log answers exactly as a model that folded
    /// everything: now, as of random positions before and after the stored one, and every change
    /// renders the same. The stored bytes read back as that position's state snapshot too, and
    /// storing the model read back gives the same bytes.
    #[test]
    fn a_stored_model_resumes_as_if_it_had_folded_everything(
        ops in ops(20..140),
        every in prop_oneof![Just(0u64), 1u64..9],
        cut in any::<prop::sample::Index>(),
        at in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let cut = cut.index(log.len() + 1);
        let stored = model_of(&log[..cut], every);
        let bytes = stored.encode_stored();
        let state = Snapshot::decode(&bytes).unwrap();
        prop_assert_eq!(state.position, cut as u64);
        prop_assert!(&state.state == stored.state());
        let mut resumed = ReadModel::decode_stored(&bytes, every).unwrap();
        prop_assert_eq!(resumed.encode_stored(), bytes, "stored again, the bytes differ");
        for (envelope, event) in &log[cut..] {
            resumed.apply(envelope, event).unwrap();
        }
        let full = model_of(log, every);
        prop_assert!(answers(&resumed.view()) == answers(&full.view()), "now");
        for index in at {
            let p = index.index(log.len() + 1) as u64;
            let got = answers_as_of(&resumed, log, AsOf::Position(p));
            prop_assert!(got == answers_as_of(&full, log, AsOf::Position(p)), "as of {p}");
        }
        for (envelope, _) in log {
            prop_assert_eq!(resumed.render(envelope), full.render(envelope));
        }
        // The checkpoints a fold of the prefix takes, added before the stored point, are used by
        // later plans: they then fold at most the interval, and still answer as the full fold.
        if every > 0 {
            let prefix = model_of(&log[..cut], every);
            let before = resumed.checkpoints().len();
            let added = resumed.add_earlier_checkpoints(prefix.checkpoints().iter().cloned());
            prop_assert_eq!(resumed.checkpoints().len(), before + added);
            prop_assert!(resumed.checkpoints().windows(2).all(|w| w[0].position < w[1].position));
            for p in 0..=log.len() as u64 {
                let plan = resumed.plan(AsOf::Position(p));
                prop_assert!(plan.events as u64 <= every, "{plan:?}");
                if p % 7 == 0 {
                    prop_assert!(
                        answers_as_of(&resumed, log, AsOf::Position(p))
                            == answers_as_of(&full, log, AsOf::Position(p)),
                        "as of {p} with the added checkpoints"
                    );
                }
            }
        }
    }

    /// Every event renders, zh-CN first, and "old → new" of a score names the value the ledger held
    /// just before (the state folded up to the previous event).
    #[test]
    fn every_change_renders_with_the_value_it_replaced(ops in ops(20..140)) {
        let ledger = generate(&ops);
        let log = &ledger.log;
        let model = model_of(log, 0);
        let mut state = State::default();
        for (envelope, event) in log {
            let view = model.render(envelope).unwrap();
            prop_assert_eq!(view.position, envelope.position);
            prop_assert!(!view.summary.zh.is_ascii(), "{:?}", view.summary);
            prop_assert!(view.summary.en.as_deref().is_some_and(|en| !en.is_empty()));
            let held = |p: &PeriodId, u: &UnitId, i: &ItemCode| {
                state.sheet(p, u).and_then(|s| s.scores.get(i)).map(|s| s.value.clone())
            };
            match event {
                Event::ScoreRecorded(e) => {
                    prop_assert_eq!(&view.old_value, &held(&e.period, &e.unit, &e.item));
                    prop_assert_eq!(view.new_value.as_ref(), Some(&e.value));
                    prop_assert_eq!(view.source, Some(e.source));
                }
                Event::ScoreCorrected(e) => {
                    prop_assert_eq!(
                        view.old_value.clone(),
                        held(&e.period, &e.unit, &e.item).or(Some(e.previous.clone()))
                    );
                    prop_assert_eq!(view.reason.as_deref(), envelope.reason.as_deref());
                    prop_assert!(view.reason.is_some(), "a correction shows its reason");
                    prop_assert_eq!(&view.evidence, &e.evidence);
                }
                Event::SelfAssessmentRecorded(e) => {
                    let draft = state
                        .sheet(&e.period, &e.unit)
                        .and_then(|s| s.self_assessments.get(&e.item))
                        .map(|d| d.value.clone());
                    prop_assert_eq!(&view.old_value, &draft);
                }
                _ => {}
            }
            state.evolve(&Meta::from_envelope(envelope), event);
            if let Some(item) = &view.item
                && let (Some(p), Some(u)) = (&view.period, &view.unit)
            {
                // The review state shown is the item's right after the event.
                let review = state.sheet(p, u).and_then(|s| s.scores.get(item)).map(|s| s.review.clone());
                let shown = view.review.unwrap();
                prop_assert_eq!(
                    format!("{shown:?}"),
                    match review {
                        None => "NotScored".to_owned(),
                        Some(r) => format!("{r:?}").split([' ', '{']).next().unwrap().to_owned(),
                    }
                );
            }
        }
    }
}

/// One event as the oracle sees it, read from the payloads (and, for appeal decisions and
/// rectification steps, from the appeal or rectification they name).
struct Row {
    position: u64,
    time: chrono::DateTime<chrono::Utc>,
    actor: PersonId,
    kind: ChangeKind,
    period: Option<PeriodId>,
    unit: Option<UnitId>,
    item: Option<ItemCode>,
    aspect: Option<AspectCode>,
}

impl Row {
    fn period_level(&self) -> bool {
        matches!(
            self.kind,
            ChangeKind::PeriodOpened
                | ChangeKind::PeriodStageChanged
                | ChangeKind::PeriodRubricChanged
        )
    }

    fn matches(&self, f: &ChangeFilter) -> bool {
        f.actor.as_ref().is_none_or(|a| a == &self.actor)
            && f.period
                .as_ref()
                .is_none_or(|p| self.period.as_ref() == Some(p))
            && f.unit
                .as_ref()
                .is_none_or(|u| self.unit.as_ref() == Some(u))
            && f.item
                .as_ref()
                .is_none_or(|i| self.item.as_ref() == Some(i))
            && f.aspect
                .as_ref()
                .is_none_or(|a| self.aspect.as_ref() == Some(a))
            && (f.kinds.is_empty() || f.kinds.contains(&self.kind))
            && f.from.is_none_or(|t| self.time >= t)
            && f.to.is_none_or(|t| self.time <= t)
    }
}

fn oracle_rows(log: &[Stored]) -> Vec<Row> {
    type Scope = (PeriodId, UnitId, Option<ItemCode>);
    let mut appeals: BTreeMap<String, Scope> = BTreeMap::new();
    let mut rects: BTreeMap<String, Scope> = BTreeMap::new();
    let mut state = State::default();
    let mut rows = Vec::new();
    for (envelope, event) in log {
        let (period, unit, item): (Option<PeriodId>, Option<UnitId>, Option<ItemCode>) = match event
        {
            Event::UnitRegistered(e) => (None, Some(e.unit.clone()), None),
            Event::UnitUpdated(e) => (None, Some(e.unit.clone()), None),
            Event::PersonRegistered(e) => (None, e.unit.clone(), None),
            Event::PeriodOpened(e) => (Some(e.period.clone()), None, None),
            Event::PeriodStageChanged(e) => (Some(e.period.clone()), None, None),
            Event::PeriodRubricChanged(e) => (Some(e.period.clone()), None, None),
            Event::SelfAssessmentRecorded(e) => (
                Some(e.period.clone()),
                Some(e.unit.clone()),
                Some(e.item.clone()),
            ),
            Event::ScoreRecorded(e) => (
                Some(e.period.clone()),
                Some(e.unit.clone()),
                Some(e.item.clone()),
            ),
            Event::ScoreCorrected(e) => (
                Some(e.period.clone()),
                Some(e.unit.clone()),
                Some(e.item.clone()),
            ),
            Event::ItemReviewed(e) => (
                Some(e.period.clone()),
                Some(e.unit.clone()),
                Some(e.item.clone()),
            ),
            Event::SheetReviewed(e) => (Some(e.period.clone()), Some(e.unit.clone()), None),
            Event::BusinessResultRecorded(e) => {
                (Some(e.period.clone()), Some(e.unit.clone()), None)
            }
            Event::AppealFiled(e) => {
                let scope = (e.period.clone(), e.unit.clone(), e.item.clone());
                appeals.insert(e.appeal.to_string(), scope.clone());
                (Some(scope.0), Some(scope.1), scope.2)
            }
            Event::AppealUpheld(e) => {
                let s = appeals[e.appeal.as_str()].clone();
                (Some(s.0), Some(s.1), s.2)
            }
            Event::AppealDismissed(e) => {
                let s = appeals[e.appeal.as_str()].clone();
                (Some(s.0), Some(s.1), s.2)
            }
            Event::RectificationRaised(e) => {
                let scope = (e.period.clone(), e.unit.clone(), Some(e.item.clone()));
                rects.insert(e.rectification.to_string(), scope.clone());
                (Some(scope.0), Some(scope.1), scope.2)
            }
            Event::RectificationSubmitted(e) => {
                let s = rects[e.rectification.as_str()].clone();
                (Some(s.0), Some(s.1), s.2)
            }
            Event::RectificationVerified(e) => {
                let s = rects[e.rectification.as_str()].clone();
                (Some(s.0), Some(s.1), s.2)
            }
            Event::RectificationSentBack(e) => {
                let s = rects[e.rectification.as_str()].clone();
                (Some(s.0), Some(s.1), s.2)
            }
            Event::BusinessZoneSet(_)
            | Event::AccessGranted(_)
            | Event::AccessRevoked(_)
            | Event::TokenIssued(_)
            | Event::TokenRevoked(_)
            | Event::RubricDefined(_)
            | Event::RubricAdjusted(_) => (None, None, None),
        };
        state.evolve(&Meta::from_envelope(envelope), event);
        let aspect = match (&period, &item) {
            (Some(p), Some(i)) => state
                .period_definition(p)
                .and_then(|def| rubric::find_item(def, i))
                .map(|(a, _)| a.code.clone()),
            _ => None,
        };
        rows.push(Row {
            position: envelope.position,
            time: envelope.recorded_at,
            actor: envelope.actor.person.clone(),
            kind: ChangeKind::from_name(&envelope.event_type).unwrap(),
            period,
            unit,
            item,
            aspect,
        });
    }
    rows
}

/// The random logs are not vacuous: over a fixed sample they reach a second period, rubric
/// adjustments and moves, corrections, approvals, publication, upheld appeals, closed and sent-back
/// rectifications, events sharing a timestamp, and sheets whose scores need re-scoring.
#[test]
fn the_random_logs_reach_the_interesting_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = ops(80..140);
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..40 {
        let ledger = generate(&strategy.new_tree(&mut runner).unwrap().current());
        let mut count = |what| *seen.entry(what).or_default() += 1;
        let kinds: Vec<ChangeKind> = ledger
            .log
            .iter()
            .map(|(e, _)| ChangeKind::from_name(&e.event_type).unwrap())
            .collect();
        for (kind, what) in [
            (ChangeKind::PeriodRubricChanged, "moved"),
            (ChangeKind::RubricAdjusted, "adjusted"),
            (ChangeKind::ScoreCorrected, "corrected"),
            (ChangeKind::SheetReviewed, "sheet reviewed"),
            (ChangeKind::AppealUpheld, "appeal upheld"),
            (ChangeKind::RectificationVerified, "rectification closed"),
            (ChangeKind::RectificationSentBack, "rectification sent back"),
            (ChangeKind::BusinessResultRecorded, "business"),
            (ChangeKind::UnitUpdated, "unit updated"),
            (ChangeKind::TokenRevoked, "token revoked"),
        ] {
            if kinds.contains(&kind) {
                count(what);
            }
        }
        if ledger.state.periods.contains_key(&q2()) {
            count("second period");
        }
        if ledger
            .state
            .periods
            .values()
            .any(|p| p.stage == ledger_schemas::values::Stage::Published)
        {
            count("published");
        }
        if ledger
            .log
            .windows(2)
            .any(|w| w[0].0.recorded_at == w[1].0.recorded_at && w[0].0.reason != w[1].0.reason)
        {
            count("separate decisions share a time");
        }
        if ledger.state.sheets.values().any(|s| {
            s.scores.values().any(|x| {
                matches!(
                    x.standing,
                    ledger_projections::domain::Standing::NeedsRescoring { .. }
                )
            })
        }) {
            count("needs re-scoring");
        }
    }
    eprintln!("coverage over 40 logs: {seen:?}");
    for what in [
        "moved",
        "adjusted",
        "corrected",
        "sheet reviewed",
        "appeal upheld",
        "rectification closed",
        "rectification sent back",
        "business",
        "unit updated",
        "token revoked",
        "second period",
        "published",
        "separate decisions share a time",
        "needs re-scoring",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) > 0,
            "never {what}: {seen:?}"
        );
    }
}

/// A plan whose tail is wrong (missing, extra or out of order) is refused, not folded silently.
#[test]
fn a_wrong_tail_is_refused() {
    let mut ledger = Ledger::world();
    for op in [
        Op::Progress { p: 0 },
        Op::Progress { p: 0 },
        Op::Progress { p: 0 },
    ] {
        ledger.step(&op);
    }
    let log = &ledger.log;
    let model = model_of(log, 0);
    let plan = model.plan(AsOf::Position(log.len() as u64 - 1));
    assert!(plan.events > 1, "{plan:?}");
    let tail: Vec<(&Envelope, &Event)> = log
        .iter()
        .filter(|(e, _)| e.position > plan.base && e.position <= plan.position)
        .map(|(e, ev)| (e, ev))
        .collect();
    assert!(model.view_as_of(&plan, tail.iter().copied()).is_ok());
    assert!(model.view_as_of(&plan, tail[1..].iter().copied()).is_err());
    assert!(
        model
            .view_as_of(&plan, tail[..tail.len() - 1].iter().copied())
            .is_err()
    );
    let extra = log.last().map(|(e, ev)| (e, ev)).unwrap();
    assert!(
        model
            .view_as_of(&plan, tail.iter().copied().chain([extra]))
            .is_err()
    );
}

/// A stored model that is not whole or does not hold together is refused with an error (never a
/// panic, never a model that would index out of bounds later): cut short, of another code version,
/// a state snapshot without a change log, entries naming ids the log does not hold, history indexes
/// past the end, a log that ends elsewhere than the snapshot's position.
#[test]
fn a_stored_model_that_does_not_hold_together_is_refused() {
    use ledger_projections::read::SnapshotError;
    let mut ledger = Ledger::world();
    for _ in 0..3 {
        ledger.step(&Op::Progress { p: 0 });
    }
    let model = model_of(&ledger.log, 4);
    let bytes = model.encode_stored();
    assert!(ReadModel::decode_stored(&bytes, 4).is_ok());
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let tampered = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        change(&mut v);
        ReadModel::decode_stored(&serde_json::to_vec(&v).unwrap(), 4)
    };
    assert!(matches!(
        ReadModel::decode_stored(&bytes[..bytes.len() / 2], 4),
        Err(SnapshotError::Unreadable(_))
    ));
    assert!(matches!(
        tampered(&|v| v["code_version"] = 9_999.into()),
        Err(SnapshotError::Stale { found: 9_999, .. })
    ));
    // Another version's form need not read as today's at all: it is still refused as stale.
    assert!(matches!(
        tampered(&|v| {
            v["code_version"] = 9_999.into();
            v["state"] = "a form of another code version".into();
        }),
        Err(SnapshotError::Stale { found: 9_999, .. })
    ));
    assert!(matches!(
        tampered(&|v| v["state"] = "not a state".into()),
        Err(SnapshotError::Unreadable(_))
    ));
    let state_only = Snapshot::of(&model.checkpoints()[0]).encode();
    assert!(matches!(
        ReadModel::decode_stored(&state_only, 4),
        Err(SnapshotError::Invalid(_))
    ));
    for change in [
        &|v: &mut serde_json::Value| v["log"]["entries"][0][1] = 1_000_000.into(),
        &|v: &mut serde_json::Value| v["log"]["entries"][0][7] = 200.into(),
        &|v: &mut serde_json::Value| v["log"]["by_sheet"][0][1] = serde_json::json!([4_000_000]),
        &|v: &mut serde_json::Value| v["log"]["by_period"][0][1] = serde_json::json!([2, 1]),
        &|v: &mut serde_json::Value| v["log"]["times"] = serde_json::json!([]),
        &|v: &mut serde_json::Value| v["log"]["people"][1] = v["log"]["people"][0].clone(),
        &|v: &mut serde_json::Value| v["position"] = 3.into(),
    ] as [&dyn Fn(&mut serde_json::Value); 7]
    {
        assert!(
            matches!(tampered(change), Err(SnapshotError::Invalid(_))),
            "{:?}",
            tampered(change).map(|m| m.position())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// The folded state's revision of every stream is the count of its events less one, looked up
    /// by name, and it holds one revision per stream: the revisions map (ordered by the names'
    /// hashes, looked up by their parts while folding) finds what it stored.
    #[test]
    fn every_streams_revision_counts_its_events(ops in ops(20..140)) {
        let ledger = generate(&ops);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (envelope, event) in &ledger.log {
            prop_assert_eq!(&envelope.stream, &event.stream());
            *counts.entry(event.stream()).or_default() += 1;
        }
        let model = model_of(&ledger.log, 16);
        let state = model.state();
        prop_assert_eq!(state.revisions.len(), counts.len());
        for (stream, count) in &counts {
            prop_assert_eq!(state.revision(stream), Some(count - 1), "{}", stream);
        }
        prop_assert_eq!(state.revision("sheet-nowhere~x"), None);
    }
}
