//! The application service over the embedded store: commands decided, appended and folded, with
//! concurrent writers racing on real streams.

use std::sync::Arc;

use chrono::NaiveDate;
use ledger::app::{AppError, Clock, Ledger};
use ledger::store::{EventStore, SqliteStore};
use ledger_projections::domain::{Command, Rejection};
use ledger_projections::rubric;
use ledger_schemas::events::Event;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, RubricId, UnitId};
use ledger_schemas::values::{Cadence, Points, ScoreSource, ScoreValue, Stage, UnitKind};
use ledger_schemas::{Actor, Role};

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

fn points(cents: i64) -> ScoreValue {
    ScoreValue::Points {
        points: Points::from_cents(cents),
    }
}

const UNITS: [&str; 6] = ["U1", "U2", "U3", "U4", "U5", "U6"];

/// A ledger with the default rubric, six units, an assessor for all of them, and period `P` in
/// the scoring stage.
async fn ledger_in_scoring(dir: &tempfile::TempDir) -> Ledger<SqliteStore> {
    let store = Arc::new(SqliteStore::open(dir.path().join("ledger.db")).unwrap());
    let app = Ledger::open(store, Clock::System).await.unwrap();
    let system = Actor::system();
    let run = |cmd| app.execute(system.clone(), cmd);
    for unit in UNITS {
        run(Command::RegisterUnit {
            unit: id(unit),
            name: format!("{unit} 党支部"),
            kind: UnitKind::Branch,
            parent: None,
        })
        .await
        .unwrap();
    }
    for (person, role) in [("assessor", Role::Assessor), ("reviewer", Role::Reviewer)] {
        run(Command::RegisterPerson {
            person: id(person),
            name: person.into(),
            unit: None,
        })
        .await
        .unwrap();
        run(Command::GrantAccess {
            person: id(person),
            role,
            units: if role == Role::Assessor {
                UNITS.iter().map(|u| id(u)).collect()
            } else {
                vec![]
            },
            reason: None,
        })
        .await
        .unwrap();
    }
    run(Command::DefineRubric {
        rubric: id("default"),
        definition: rubric::default_template(),
    })
    .await
    .unwrap();
    run(Command::OpenPeriod {
        period: id("P"),
        name: "2026年第四季度".into(),
        cadence: Cadence::Quarterly,
        starts_on: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        rubric: id::<RubricId>("default"),
        rubric_version: 1,
        units: UNITS.iter().map(|u| id(u)).collect(),
    })
    .await
    .unwrap();
    for to in [Stage::SelfAssessment, Stage::Scoring] {
        run(Command::AdvanceStage {
            period: id("P"),
            to,
            expected_revision: None,
        })
        .await
        .unwrap();
    }
    app
}

fn assessor() -> Actor {
    Actor::new(id::<PersonId>("assessor"), Role::Assessor)
}

fn score(unit: &str, item: &str, cents: i64) -> Command {
    Command::RecordScore {
        files: Vec::new(),
        period: id::<PeriodId>("P"),
        unit: id::<UnitId>(unit),
        item: id::<ItemCode>(item),
        value: points(cents),
        note: String::new(),
        evidence: vec![],
        source: ScoreSource::Manual,
        expected_revision: None,
    }
}

/// Scores on different sheets recorded concurrently are all committed, folded, and their positions
/// are distinct: shared commands run side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scores_on_different_sheets_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(ledger_in_scoring(&dir).await);
    let before = app.folded().head;
    let mut tasks = Vec::new();
    for unit in UNITS {
        for item in ["A1", "A4", "C1"] {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                app.execute(assessor(), score(unit, item, 150)).await
            }));
        }
    }
    let mut positions = Vec::new();
    for t in tasks {
        positions.extend(t.await.unwrap().unwrap().positions);
    }
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), UNITS.len() * 3);
    assert_eq!(app.folded().head, before + positions.len() as u64);
    for unit in UNITS {
        let folded = app.folded();
        let sheet = folded.state.sheet(&id("P"), &id(unit)).unwrap();
        assert_eq!(sheet.scores.len(), 3, "unit {unit}");
    }
}

/// Two assessors racing to correct the same score: both decided against the same value, the store
/// lets one append and refuses the other's expected revision; the loser is decided again against
/// the winner's value and refused by the domain, naming the value now on record. One correction is
/// recorded, never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_corrections_record_exactly_one() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(ledger_in_scoring(&dir).await);
    app.execute(assessor(), score("U1", "A2", 300))
        .await
        .unwrap();
    let correction = |cents| Command::CorrectScore {
        files: Vec::new(),
        period: id("P"),
        unit: id("U1"),
        item: id("A2"),
        previous: points(300),
        value: points(cents),
        note: String::new(),
        evidence: vec![],
        source: ScoreSource::Manual,
        reason: "复核会议记录后更正 corrected after checking the minutes".into(),
        expected_revision: None,
    };
    let mut tasks = Vec::new();
    for cents in [250, 200, 150, 100] {
        let app = app.clone();
        let cmd = correction(cents);
        tasks.push(tokio::spawn(
            async move { app.execute(assessor(), cmd).await },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(AppError::Rejected(Rejection::StaleValue {
                named, on_record, ..
            })) => {
                assert_eq!(named, points(300));
                assert_ne!(
                    on_record,
                    points(300),
                    "the loser is told the value that won"
                );
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one correction wins");
    let page = app
        .store()
        .read_all(
            ledger::store::Direction::Forwards,
            ledger::store::ReadFrom::At(1),
            10_000,
        )
        .await
        .unwrap();
    let corrections = page
        .iter()
        .filter(|e| matches!(e.decode().unwrap(), Event::ScoreCorrected(_)))
        .count();
    assert_eq!(corrections, 1);
}

/// Once the period has left scoring (an exclusive command), a score is refused and nothing is
/// recorded for it: the gate keeps stage changes and scores from interleaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_after_the_stage_moved_on_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = ledger_in_scoring(&dir).await;
    // Fill every weighted item of every unit so the period may enter review.
    let def = rubric::default_template();
    for unit in UNITS {
        for aspect in def.aspects.iter().filter(|a| a.weight.is_some()) {
            for item in &aspect.items {
                let value = match &item.kind {
                    ledger_schemas::rubric::ItemKind::Points { .. } => points(100),
                    _ => ScoreValue::Level { level: id("good") },
                };
                app.execute(
                    assessor(),
                    Command::RecordScore {
                        files: Vec::new(),
                        period: id("P"),
                        unit: id(unit),
                        item: item.code.clone(),
                        value,
                        note: String::new(),
                        evidence: vec![],
                        source: ScoreSource::Manual,
                        expected_revision: None,
                    },
                )
                .await
                .unwrap();
            }
        }
    }
    app.execute(
        Actor::system(),
        Command::AdvanceStage {
            period: id("P"),
            to: Stage::Review,
            expected_revision: None,
        },
    )
    .await
    .unwrap();
    let head = app.folded().head;
    let err = app
        .execute(assessor(), score("U1", "G1", 100))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Rejected(_)), "{err}");
    assert_eq!(app.store().head().await.unwrap(), head, "nothing recorded");
}

/// Reopening the ledger folds the same state from the log alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_folds_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let app = ledger_in_scoring(&dir).await;
    app.execute(assessor(), score("U2", "A1", 200))
        .await
        .unwrap();
    let (head, sheet) = {
        let f = app.folded();
        (f.head, f.state.sheet(&id("P"), &id("U2")).cloned())
    };
    app.store().close().await;
    drop(app);
    let store = Arc::new(SqliteStore::open(dir.path().join("ledger.db")).unwrap());
    let reopened = Ledger::open(store, Clock::System).await.unwrap();
    let f = reopened.folded();
    assert_eq!(f.head, head);
    assert_eq!(f.state.sheet(&id("P"), &id("U2")).cloned(), sheet);
}
