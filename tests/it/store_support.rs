//! Helpers shared by the store tests: temporary ledgers and proposed events.

use std::path::PathBuf;

use ledger::store::{SqliteOptions, SqliteStore};
use ledger_schemas::events::ScoreRecorded;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::values::{Points, ScoreSource, ScoreValue};
use ledger_schemas::{Actor, Event, ProposedEvent, Role};
use uuid::Uuid;

/// A temporary directory holding one ledger path; removed when dropped.
pub struct TempLedger {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn temp_ledger() -> TempLedger {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.db");
    TempLedger { dir, path }
}

/// A fresh SQLite store in its own temporary directory (the guard keeps the directory alive).
pub fn sqlite_store() -> (SqliteStore, TempLedger) {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).expect("open a fresh ledger");
    (store, temp)
}

/// Opens with options (e.g. a page cap).
pub fn sqlite_store_with(temp: &TempLedger, options: SqliteOptions) -> SqliteStore {
    SqliteStore::open_with(&temp.path, options).expect("open ledger")
}

/// A stream name no other test uses, so the contract suite can run against a shared backend.
pub fn unique_stream(label: &str) -> String {
    format!("test{label}-{}", Uuid::now_v7().simple())
}

pub fn assessor() -> Actor {
    Actor::new(PersonId::new("P-7").unwrap(), Role::Assessor)
}

/// The `n`-th score of a test: distinct payloads, a fresh UUID v7, a reason on every third and a
/// causation id on every fifth, so every envelope field is exercised.
pub fn score(n: u64) -> ProposedEvent {
    let event = ScoreRecorded {
        files: Vec::new(),
        period: PeriodId::new("2026Q1").unwrap(),
        unit: UnitId::new(format!("SH-{:02}", n % 7)).unwrap(),
        item: ItemCode::new(format!("A{}", n % 4 + 1)).unwrap(),
        value: ScoreValue::Points {
            points: Points::from_cents((n % 300) as i64),
        },
        note: format!("第 {n} 条 entry {n}"),
        evidence: vec![format!("minutes/{n}.pdf")],
        source: ScoreSource::Manual,
        file_sha256: None,
    };
    let mut proposed = ProposedEvent::new(
        &Event::ScoreRecorded(event),
        assessor(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    if n.is_multiple_of(3) {
        proposed = proposed.with_reason(format!("更正 correction {n}"));
    }
    if n.is_multiple_of(5) {
        proposed = proposed.caused_by(Uuid::now_v7());
    }
    proposed
}

pub fn scores(from: u64, count: u64) -> Vec<ProposedEvent> {
    (from..from + count).map(score).collect()
}
