//! The code-version tripwire: the serialised form of a fixed reference snapshot is fingerprinted and
//! compared with the fingerprint recorded next to `PROJECTION_CODE_VERSION`
//! (`src/read/checkpoint.rs`). When the fold or the state's form changes, this test fails until the
//! version is bumped and the new `(version, fingerprint)` appended: a stored snapshot of the old code
//! is then refused instead of served.
//!
//! The reference log below is fixed text, not generated: it exercises every event type, every
//! standing (counting, needs re-scoring, removed), every rectification status, both appeal outcomes,
//! and the fold's anomalies.

use chrono::{Duration, NaiveDate};
use ledger_projections::domain::{Meta, Standing, State};
use ledger_projections::read::{
    ChangeKind, Checkpoint, PROJECTION_CODE_VERSION, SNAPSHOT_FINGERPRINTS, Snapshot,
    SnapshotError, fnv1a64,
};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::*;
use ledger_schemas::integrity::Digest;
use ledger_schemas::rubric::{ItemKind, RubricChange};
use ledger_schemas::values::*;

use crate::dsl::*;
use crate::log::{Ledger, Stored};

/// The reference log: the fixture world, then one of everything.
pub fn reference_log() -> Vec<Stored> {
    let mut ledger = Ledger::world();
    let mut add = |actor: Actor, reason: Option<&str>, event: Event| {
        ledger.clock += Duration::seconds(7);
        ledger.stamp(&actor, reason.map(str::to_owned), event);
    };
    // Recorded first in a real ledger (`ledger init --zone`); the fold takes it anywhere.
    add(
        admin(),
        None,
        BusinessZoneSet {
            zone: "Asia/Tokyo".into(),
        }
        .into(),
    );
    add(
        admin(),
        None,
        stage_changed(Stage::Opened, Stage::SelfAssessment),
    );
    add(
        sec1(),
        None,
        SelfAssessmentRecorded {
            files: Vec::new(),
            period: period_id(),
            unit: unit(SH01),
            item: item("A1"),
            value: pts(28),
            note: "自评".into(),
            evidence: vec!["self.pdf".into()],
        }
        .into(),
    );
    add(
        admin(),
        None,
        stage_changed(Stage::SelfAssessment, Stage::Scoring),
    );
    for event in full_sheet(SH01).into_iter().chain(full_sheet(SH02)) {
        add(as1(), None, event);
    }
    add(
        as1(),
        None,
        score_recorded(
            SH01,
            "G1",
            ScoreValue::Awards {
                awards: vec![Award {
                    title: "表彰".into(),
                    points: Points::from_cents(150),
                }],
            },
        ),
    );
    add(as1(), None, score_recorded(SH01, "G2", cases(2)));
    add(
        as1(),
        None,
        score_recorded(SH01, "G3", ScoreValue::Veto { vetoed: false }),
    );
    add(
        as1(),
        Some("更正 correction"),
        score_corrected(SH01, "A1", pts(25), pts(27)),
    );
    add(
        admin(),
        None,
        BusinessResultRecorded {
            period: period_id(),
            unit: unit(SH01),
            score: Points::from_cents(8550),
            vetoed: false,
            source: "责任书".into(),
            file_sha256: None,
        }
        .into(),
    );
    add(admin(), None, stage_changed(Stage::Scoring, Stage::Review));
    add(
        rv1(),
        None,
        item_reviewed(SH01, "A1", ReviewDecision::Approved, ""),
    );
    add(
        rv2(),
        None,
        item_reviewed(SH02, "B2", ReviewDecision::Rejected, "依据不足"),
    );
    add(
        rv1(),
        None,
        sheet_reviewed(SH01, ReviewDecision::Approved, ""),
    );
    // Version 2: A2 becomes points (its level needs re-scoring), G3 is removed (its veto score is
    // removed).
    add(
        admin(),
        Some("动态调整"),
        RubricAdjusted {
            rubric: rubric_id(),
            from_version: 1,
            version: 2,
            changes: vec![
                RubricChange::RepointItem {
                    item: item("A2"),
                    kind: ItemKind::Points {
                        max: Points::from_int(30),
                    },
                },
                RubricChange::RemoveItem { item: item("G3") },
            ],
            approver: person("rv1"),
        }
        .into(),
    );
    add(
        admin(),
        Some("执行新版细则"),
        PeriodRubricChanged {
            period: period_id(),
            from_version: 1,
            to_version: 2,
        }
        .into(),
    );
    // Anomalies: an adjustment claiming the wrong version, an update of an unknown unit.
    add(
        admin(),
        Some("错误版本"),
        RubricAdjusted {
            rubric: rubric_id(),
            from_version: 1,
            version: 2,
            changes: vec![RubricChange::RemoveItem { item: item("B1") }],
            approver: person("rv1"),
        }
        .into(),
    );
    add(
        admin(),
        None,
        UnitUpdated {
            unit: unit("ZZ"),
            name: "不存在".into(),
            parent: None,
        }
        .into(),
    );
    add(
        admin(),
        Some("改名"),
        UnitUpdated {
            unit: unit(SH03),
            name: "第三支部".into(),
            parent: Some(unit(HQ)),
        }
        .into(),
    );
    add(
        admin(),
        None,
        AccessRevoked {
            person: person("as2"),
            role: Role::Assessor,
        }
        .into(),
    );
    add(
        admin(),
        None,
        TokenIssued {
            token: token_id("t1"),
            person: person("rv1"),
            role: Role::Reviewer,
            secret_sha256: Digest([7; 32]),
            expires_at: Some(now() + Duration::days(30)),
        }
        .into(),
    );
    add(
        admin(),
        Some("离岗"),
        TokenRevoked {
            token: token_id("t1"),
        }
        .into(),
    );
    add(
        admin(),
        None,
        stage_changed(Stage::Review, Stage::Published),
    );
    add(
        sec1(),
        None,
        AppealFiled {
            files: Vec::new(),
            appeal: appeal_id("AP-1"),
            period: period_id(),
            unit: unit(SH01),
            item: Some(item("B2")),
            grounds: "理由".into(),
            evidence: vec!["a.pdf".into()],
        }
        .into(),
    );
    add(
        rv2(),
        Some("申诉成立"),
        AppealUpheld {
            appeal: appeal_id("AP-1"),
            decision: "申诉成立".into(),
        }
        .into(),
    );
    add(
        rv2(),
        Some("申诉成立"),
        ScoreCorrected {
            files: Vec::new(),
            period: period_id(),
            unit: unit(SH01),
            item: item("B2"),
            previous: pts(18),
            value: pts(20),
            note: String::new(),
            evidence: vec![],
            source: ScoreSource::Appeal,
            appeal: Some(appeal_id("AP-1")),
            file_sha256: None,
        }
        .into(),
    );
    add(
        sec2(),
        None,
        AppealFiled {
            files: Vec::new(),
            appeal: appeal_id("AP-2"),
            period: period_id(),
            unit: unit(SH02),
            item: None,
            grounds: "整表".into(),
            evidence: vec![],
        }
        .into(),
    );
    add(
        rv1(),
        Some("不成立"),
        AppealDismissed {
            appeal: appeal_id("AP-2"),
            decision: "不成立".into(),
        }
        .into(),
    );
    for (id, due) in [("RC-1", 10), ("RC-2", 3)] {
        add(
            rv1(),
            None,
            RectificationRaised {
                rectification: rect_id(id),
                period: period_id(),
                unit: unit(SH02),
                item: item("B2"),
                responsible: person("resp-b"),
                due_on: NaiveDate::from_ymd_opt(2026, 4, due).unwrap(),
                finding: "问题".into(),
                origin: RectificationOrigin::Review,
            }
            .into(),
        );
    }
    let submit = || -> Event {
        RectificationSubmitted {
            files: Vec::new(),
            rectification: rect_id("RC-1"),
            note: "已整改".into(),
            evidence: vec!["fix.pdf".into()],
        }
        .into()
    };
    add(sec2(), None, submit());
    add(
        rv1(),
        None,
        RectificationSentBack {
            rectification: rect_id("RC-1"),
            comment: "补充".into(),
            due_on: Some(NaiveDate::from_ymd_opt(2026, 4, 20).unwrap()),
        }
        .into(),
    );
    add(sec2(), None, submit());
    add(
        rv2(),
        None,
        RectificationVerified {
            rectification: rect_id("RC-1"),
            comment: "已核实".into(),
        }
        .into(),
    );
    add(
        admin(),
        Some("复查"),
        PeriodStageChanged {
            period: period_id(),
            from: Stage::Published,
            to: Stage::Scoring,
        }
        .into(),
    );
    ledger.log
}

fn reference_state(log: &[Stored]) -> State {
    let metas: Vec<(Meta, &Event)> = log
        .iter()
        .map(|(e, ev)| (Meta::from_envelope(e), ev))
        .collect();
    State::fold(metas.iter().map(|(m, ev)| (m, *ev)))
}

/// The reference log is what it claims to be: every event type, every standing, both appeal
/// outcomes, every rectification status, and anomalies.
#[test]
fn the_reference_log_exercises_every_part_of_the_state() {
    let log = reference_log();
    for kind in ChangeKind::ALL {
        assert!(
            log.iter().any(|(e, _)| e.event_type == kind.name()),
            "no {kind:?} in the reference log"
        );
    }
    let state = reference_state(&log);
    assert!(state.anomalies.len() >= 2, "{:?}", state.anomalies);
    let sheet = state.sheet(&period_id(), &unit(SH01)).unwrap();
    assert!(matches!(
        sheet.scores[&item("A2")].standing,
        Standing::NeedsRescoring { .. }
    ));
    assert!(matches!(
        sheet.scores[&item("G3")].standing,
        Standing::Removed { .. }
    ));
    assert_eq!(sheet.scores[&item("B2")].standing, Standing::Counting);
    assert_eq!(state.rubrics[&rubric_id()].latest(), 3);
    let statuses: Vec<_> = state.rectifications.values().map(|r| r.status).collect();
    assert_eq!(statuses.len(), 2);
    assert!(state.appeals.values().all(|a| a.outcome.is_some()));
    assert_eq!(state.zone.as_deref(), Some("Asia/Tokyo"));
}

/// The serialised reference snapshot has the fingerprint recorded for the current
/// `PROJECTION_CODE_VERSION`; the list of fingerprints only grows, with increasing versions and
/// distinct fingerprints.
#[test]
fn the_snapshot_form_matches_the_code_version() {
    let log = reference_log();
    let state = reference_state(&log);
    let snapshot = Snapshot::of(&Checkpoint {
        position: state.position,
        state,
    });
    let fingerprint = fnv1a64(&snapshot.encode());
    let &(version, recorded) = SNAPSHOT_FINGERPRINTS.last().expect("at least one entry");
    assert_eq!(
        version, PROJECTION_CODE_VERSION,
        "the last fingerprint entry must be for the current PROJECTION_CODE_VERSION"
    );
    assert!(
        fingerprint == recorded,
        "the serialised form of the reference snapshot changed (fingerprint {fingerprint:#018x}, \
         recorded {recorded:#018x} for version {version}): the fold or the state's form changed. \
         Bump PROJECTION_CODE_VERSION and append ({}, {fingerprint:#018x}) to SNAPSHOT_FINGERPRINTS \
         in projections/src/read/checkpoint.rs.",
        PROJECTION_CODE_VERSION + 1
    );
    for pair in SNAPSHOT_FINGERPRINTS.windows(2) {
        assert!(pair[0].0 < pair[1].0, "versions increase");
        assert_ne!(pair[0].1, pair[1].1, "a new version has a new fingerprint");
    }
}

/// A stored snapshot reads back equal, and one made by another code version is refused as stale.
#[test]
fn snapshots_round_trip_and_stale_ones_are_refused() {
    let log = reference_log();
    let state = reference_state(&log);
    let checkpoint = Checkpoint {
        position: state.position,
        state,
    };
    let mut snapshot = Snapshot::of(&checkpoint);
    assert_eq!(Snapshot::decode(&snapshot.encode()).unwrap(), checkpoint);
    snapshot.code_version = PROJECTION_CODE_VERSION + 1;
    match Snapshot::decode(&snapshot.encode()) {
        Err(SnapshotError::Stale { found, current }) => {
            assert_eq!(
                (found, current),
                (PROJECTION_CODE_VERSION + 1, PROJECTION_CODE_VERSION)
            );
        }
        other => panic!("a stale snapshot must be refused: {other:?}"),
    }
    // Today's version, but no state: unreadable, not stale.
    let truncated = format!("{{\"code_version\": {PROJECTION_CODE_VERSION}, \"position\": 3}}");
    assert!(matches!(
        Snapshot::decode(truncated.as_bytes()),
        Err(SnapshotError::Unreadable(_))
    ));
}
