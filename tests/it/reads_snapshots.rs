//! Read-model snapshots kept beside the log (`projection_snapshots`, written by `ledger rebuild`):
//! a new read side starts from the latest one and folds only the events after it; as-of queries
//! before it start from the stored state snapshot at or before the point; and a snapshot that is of
//! another code version, corrupt, or not of this log is never used (the models fold from the first
//! event instead). None of it touches the hash chain.
//!
//! The read side is given a store that counts the events it reads, so that "folds only the tail" is
//! measured, not assumed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressDrawTarget;
use ledger::app::reads::{CHECKPOINT_EVERY, ReadAt, ReadSide};
use ledger::cli::rebuild::{
    KEPT_STATE_SNAPSHOTS, rebuild_model, rebuild_model_every, write_snapshots,
    write_snapshots_keeping,
};
use ledger::store::{
    AppendOutcome, ChainReport, Direction, EventStore, ExpectedRevision, Progress, ReadFrom,
    SnapshotEntry, SnapshotSelection, SqliteStore, StoreError, StoredSnapshot, Subscription,
};
use ledger_projections::domain::State;
use ledger_projections::read::{
    ChangeFilter, ChangePage, PROJECTION_CODE_VERSION, PeriodStandings, View,
};
use ledger_schemas::checkpoint::LogSigningKey;
use ledger_schemas::events::UnitRegistered;
use ledger_schemas::ids::{PeriodId, UnitId};
use ledger_schemas::values::UnitKind;
use ledger_schemas::{Actor, Envelope, Event, ProposedEvent};
use rusqlite::Connection;
use uuid::Uuid;

use crate::cli_support::{demo_copy, json, ledger, ok, stdout};
use crate::reads_as_of::{EVENTS, name_at, renamed_log};

/// The snapshot interval of these tests: small, so that the demo ledger holds many of them.
const EVERY: u64 = 64;
/// Events appended after the rebuild, so that a restored read side has a tail to fold.
const TAIL: u64 = 5;

/// A SQLite store that counts the events its reads return.
#[derive(Clone)]
struct Counting {
    inner: SqliteStore,
    read: Arc<AtomicU64>,
}

impl Counting {
    fn open(path: &Path) -> Self {
        Self {
            inner: SqliteStore::open_existing(path).unwrap(),
            read: Arc::new(AtomicU64::new(0)),
        }
    }

    fn open_new(path: &Path) -> Self {
        Self {
            inner: SqliteStore::open(path).unwrap(),
            read: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Events read since the last call.
    fn take(&self) -> u64 {
        self.read.swap(0, Ordering::Relaxed)
    }
}

impl EventStore for Counting {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: Vec<ProposedEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        self.inner.append(stream, expected, events).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        self.inner.read_stream(stream, direction, from, max).await
    }

    async fn read_all(
        &self,
        direction: Direction,
        from: ReadFrom,
        max: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        let page = self.inner.read_all(direction, from, max).await?;
        self.read.fetch_add(page.len() as u64, Ordering::Relaxed);
        Ok(page)
    }

    async fn head(&self) -> Result<u64, StoreError> {
        self.inner.head().await
    }

    fn subscribe_all(&self, after: u64) -> Subscription {
        self.inner.subscribe_all(after)
    }

    async fn verify(&self, progress: Progress) -> Result<ChainReport, StoreError> {
        self.inner.verify(progress).await
    }

    async fn save_snapshot(&self, snapshot: StoredSnapshot) -> Result<bool, StoreError> {
        self.inner.save_snapshot(snapshot).await
    }

    async fn load_snapshot(
        &self,
        code_version: u32,
        at_or_before: u64,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        self.inner.load_snapshot(code_version, at_or_before).await
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotEntry>, StoreError> {
        self.inner.list_snapshots().await
    }

    fn seal_key(&self) -> Result<Option<LogSigningKey>, StoreError> {
        self.inner.seal_key()
    }

    async fn delete_snapshots(&self, which: SnapshotSelection) -> Result<u64, StoreError> {
        self.inner.delete_snapshots(which).await
    }
}

/// Everything compared between a read side that started from a snapshot and one that folded the
/// whole log.
#[derive(Debug, PartialEq)]
struct Answers {
    position: u64,
    state: State,
    standings: Vec<Option<PeriodStandings>>,
    page: ChangePage,
    histories: Vec<Vec<u64>>,
}

fn periods() -> Vec<PeriodId> {
    ["2026Q3", "2026Q4"]
        .into_iter()
        .map(|p| PeriodId::new(p).unwrap())
        .collect()
}

fn answers(view: &View<'_>) -> Answers {
    let units: Vec<UnitId> = view.state().units.keys().cloned().collect();
    Answers {
        position: view.position(),
        state: view.state().clone(),
        standings: periods().iter().map(|p| view.standings(p)).collect(),
        page: view.changes(&ChangeFilter::default(), None, 50),
        histories: periods()
            .iter()
            .flat_map(|p| units.iter().map(|u| view.sheet_history(p, u)))
            .collect(),
    }
}

async fn answers_at<S: EventStore>(reads: &ReadSide<S>, at: ReadAt) -> Answers {
    reads.query(at, answers).await.unwrap()
}

/// Folds the copy with a checkpoint every [`EVERY`] positions and keeps the snapshots, then appends
/// [`TAIL`] events after them; returns the head at the snapshot and after the tail.
async fn snapshot_then_append(store: &Counting) -> (u64, u64) {
    let (model, _) = rebuild_model_every(store, ProgressDrawTarget::hidden(), EVERY)
        .await
        .unwrap();
    let report = write_snapshots_keeping(store, &model, usize::MAX)
        .await
        .unwrap();
    let head = model.position();
    assert!(head > 4 * EVERY, "the demo is long enough: {head}");
    let mut expected: Vec<u64> = (1..=head / EVERY).map(|k| k * EVERY).collect();
    if head % EVERY != 0 {
        expected.push(head);
    }
    assert_eq!(report.positions, expected);
    assert_eq!(report.written, expected.len());
    for n in 0..TAIL {
        let event = Event::UnitRegistered(UnitRegistered {
            unit: UnitId::new(format!("SNAP-{n}")).unwrap(),
            name: format!("快照后登记 registered after the snapshot {n}"),
            kind: UnitKind::Branch,
            parent: None,
        });
        store
            .append(
                &event.stream(),
                ExpectedRevision::NoStream,
                vec![ProposedEvent::new(
                    &event,
                    Actor::system(),
                    Uuid::now_v7(),
                    Uuid::now_v7(),
                )],
            )
            .await
            .unwrap();
    }
    (head, head + TAIL)
}

/// The read side that folds the whole log itself (`ledger rebuild`'s pipeline, no snapshots).
async fn full_fold(store: &Counting) -> ReadSide<Counting> {
    let (model, _) = rebuild_model(store, ProgressDrawTarget::hidden())
        .await
        .unwrap();
    ReadSide::from_model(Arc::new(store.clone()), model)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

/// Proves that after the snapshots are kept, a new read side reads only the event at the snapshot
/// (to check its hash) and the tail after it, and answers exactly as a full fold, now and as of
/// positions before, at and between the stored snapshots; an as-of query before the restored point
/// reads at most one interval (plus the hash check), not the prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_read_side_starts_from_the_latest_snapshot_and_answers_as_a_full_fold() {
    let (_dir, path) = demo_copy();
    let store = Counting::open(&path);
    let (at_snapshot, head) = snapshot_then_append(&store).await;
    let full = full_fold(&store).await;

    store.take();
    let reads = ReadSide::new(Arc::new(store.clone()));
    let now = answers_at(&reads, ReadAt::Head).await;
    assert_eq!(reads.restored_from(), at_snapshot);
    assert_eq!(reads.position(), head);
    assert!(
        store.take() <= 1 + TAIL,
        "the start read more than the snapshot's event and the tail"
    );
    assert_eq!(now, answers_at(&full, ReadAt::Head).await, "now");

    let mut positions = vec![
        1,
        EVERY - 1,
        EVERY,
        EVERY + 1,
        2 * EVERY + EVERY / 2,
        3 * EVERY,
        at_snapshot - 1,
        at_snapshot,
        at_snapshot + 2,
        head,
    ];
    positions.push((at_snapshot / EVERY) * EVERY + 1);
    for p in positions {
        store.take();
        let got = answers_at(&reads, ReadAt::Position(p)).await;
        let read = store.take();
        assert!(
            read <= EVERY + 1,
            "as of {p}: read {read} events, more than one interval"
        );
        assert_eq!(
            got,
            answers_at(&full, ReadAt::Position(p)).await,
            "as of {p}"
        );
        assert_eq!(got.position, p);
    }
    // As of a time: the moment of an event well inside the log.
    let middle = store
        .inner
        .read_all(Direction::Forwards, ReadFrom::At(at_snapshot / 2), 1)
        .await
        .unwrap()
        .remove(0)
        .recorded_at;
    assert_eq!(
        answers_at(&reads, ReadAt::Time(middle)).await,
        answers_at(&full, ReadAt::Time(middle)).await,
        "as of {middle}"
    );
    // After the backfill (shorter than one live interval here: no checkpoint to add) the answers
    // come from the read side's own plan, the same.
    reads.backfill().await;
    assert_eq!(reads.restored_from(), 0);
    for p in [EVERY + 1, at_snapshot - 1, head] {
        assert_eq!(
            answers_at(&reads, ReadAt::Position(p)).await,
            answers_at(&full, ReadAt::Position(p)).await,
            "as of {p} after the backfill"
        );
    }
    store.inner.close().await;
}

/// Proves that snapshots of another projection code version are never used: neither rows tagged
/// with another version (the read side folds the whole log) nor a row tagged with this version
/// whose content says another (refused on decoding); and that `write_snapshots` prunes the former.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_another_code_version_is_not_used() {
    let (_dir, path) = demo_copy();
    let store = Counting::open(&path);
    let (_, head) = snapshot_then_append(&store).await;
    let full = full_fold(&store).await;
    let expected = answers_at(&full, ReadAt::Head).await;
    let before = answers_at(&full, ReadAt::Position(2 * EVERY + 3)).await;

    // Rows re-tagged as another version: not even loaded.
    let rows = raw(&path)
        .execute(
            "UPDATE projection_snapshots SET code_version = code_version + 1",
            [],
        )
        .unwrap();
    assert!(rows > 1);
    store.take();
    let reads = ReadSide::new(Arc::new(store.clone()));
    assert_eq!(answers_at(&reads, ReadAt::Head).await, expected);
    assert_eq!(reads.restored_from(), 0);
    assert!(store.take() >= head, "it folded the whole log");
    assert_eq!(
        answers_at(&reads, ReadAt::Position(2 * EVERY + 3)).await,
        before
    );

    // This version's tag, another version inside: refused when decoded.
    raw(&path)
        .execute(
            "UPDATE projection_snapshots SET code_version = code_version - 1",
            [],
        )
        .unwrap();
    let latest = store
        .load_snapshot(PROJECTION_CODE_VERSION, u64::MAX)
        .await
        .unwrap()
        .unwrap();
    let mut content: serde_json::Value = serde_json::from_slice(&latest.bytes).unwrap();
    content["code_version"] = (PROJECTION_CODE_VERSION + 1).into();
    store
        .save_snapshot(StoredSnapshot {
            bytes: serde_json::to_vec(&content).unwrap(),
            ..latest
        })
        .await
        .unwrap();
    let reads = ReadSide::new(Arc::new(store.clone()));
    assert_eq!(answers_at(&reads, ReadAt::Head).await, expected);
    assert_eq!(reads.restored_from(), 0);

    // Rows of another version are pruned by the next write.
    raw(&path)
        .execute(
            "INSERT INTO projection_snapshots (code_version, position, event_hash, seal, bytes) \
             VALUES (?1, 7, zeroblob(32), zeroblob(68), x'00')",
            [i64::from(PROJECTION_CODE_VERSION) + 1],
        )
        .unwrap();
    let (model, _) = rebuild_model_every(&store, ProgressDrawTarget::hidden(), EVERY)
        .await
        .unwrap();
    let report = write_snapshots(&store, &model).await.unwrap();
    assert_eq!(report.pruned_other_versions, 1);
    let others: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM projection_snapshots WHERE code_version <> ?1",
            [i64::from(PROJECTION_CODE_VERSION)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(others, 0);
    let reads = ReadSide::new(Arc::new(store.clone()));
    assert_eq!(answers_at(&reads, ReadAt::Head).await, expected);
    assert_eq!(reads.restored_from(), head);
    store.inner.close().await;
}

/// Proves that a corrupt snapshot is ignored, not served and not a crash: garbage bytes, a cut-off
/// blob, a blob whose change log does not hold together, and a snapshot whose recorded event hash
/// is not the log's; at the head (the read side folds from the first event) and in the middle (an
/// as-of query falls back to its own plan).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_foreign_snapshot_is_ignored_and_the_log_refolded() {
    let (_dir, path) = demo_copy();
    let store = Counting::open(&path);
    let (at_snapshot, _) = snapshot_then_append(&store).await;
    let full = full_fold(&store).await;
    let expected = answers_at(&full, ReadAt::Head).await;
    let latest = store
        .load_snapshot(PROJECTION_CODE_VERSION, u64::MAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.position, at_snapshot);
    let mut broken_log: serde_json::Value = serde_json::from_slice(&latest.bytes).unwrap();
    broken_log["log"]["by_sheet"][0][1] = serde_json::json!([u32::MAX - 7]);
    let cases: Vec<(&str, StoredSnapshot)> = vec![
        (
            "garbage",
            StoredSnapshot {
                bytes: b"\x00\xffnot a snapshot".to_vec(),
                ..latest.clone()
            },
        ),
        (
            "cut off",
            StoredSnapshot {
                bytes: latest.bytes[..latest.bytes.len() / 3].to_vec(),
                ..latest.clone()
            },
        ),
        (
            "change log does not hold together",
            StoredSnapshot {
                bytes: serde_json::to_vec(&broken_log).unwrap(),
                ..latest.clone()
            },
        ),
        (
            "another log's event",
            StoredSnapshot {
                event_hash: ledger_schemas::integrity::Digest([7; 32]),
                ..latest.clone()
            },
        ),
    ];
    for (what, bad) in cases {
        store.save_snapshot(bad).await.unwrap();
        let reads = ReadSide::new(Arc::new(store.clone()));
        assert_eq!(answers_at(&reads, ReadAt::Head).await, expected, "{what}");
        assert_eq!(reads.restored_from(), 0, "{what}: the snapshot was used");
    }

    // Restored from a good head snapshot, with a corrupt state snapshot in the middle.
    store.save_snapshot(latest.clone()).await.unwrap();
    let middle = 2 * EVERY;
    let row = store
        .load_snapshot(PROJECTION_CODE_VERSION, middle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.position, middle);
    store
        .save_snapshot(StoredSnapshot {
            bytes: b"{\"code_version\":1,\"position\":".to_vec(),
            ..row
        })
        .await
        .unwrap();
    let reads = ReadSide::new(Arc::new(store.clone()));
    for p in [middle, middle + 1, middle + EVERY - 1] {
        assert_eq!(
            answers_at(&reads, ReadAt::Position(p)).await,
            answers_at(&full, ReadAt::Position(p)).await,
            "as of {p}"
        );
    }
    assert_eq!(reads.restored_from(), at_snapshot);
    store.inner.close().await;
}

/// Proves that `ledger rebuild` keeps snapshots and says so (with the code version and the
/// snapshots of other versions it pruned), replaces them when run again (the table has no
/// append-only triggers), and that a new read side on the ledger starts from them: `ledger
/// standings` answers the same with and without snapshots.
#[test]
fn ledger_rebuild_keeps_snapshots_and_says_so() {
    let (_dir, path) = demo_copy();
    let path_str = path.to_str().unwrap();
    let standings = |p: &str| {
        stdout(ok(&ledger(
            Path::new(path_str),
            &["standings", "--period", p, "--json"],
        )))
    };
    let without = [standings("2026Q3"), standings("2026Q4")];
    raw(&path)
        .execute(
            "INSERT INTO projection_snapshots (code_version, position, event_hash, seal, bytes) \
             VALUES (?1, 1, zeroblob(32), zeroblob(68), x'00')",
            [i64::from(PROJECTION_CODE_VERSION) + 5],
        )
        .unwrap();
    let report = json(&ledger(&path, &["rebuild", "--json"]));
    let snapshots = &report["snapshots"];
    assert_eq!(snapshots["code_version"], PROJECTION_CODE_VERSION);
    assert_eq!(snapshots["pruned_other_versions"], 1, "{report}");
    let written = snapshots["written"].as_u64().unwrap();
    assert!(written >= 1, "{report}");
    let positions = snapshots["positions"].as_array().unwrap();
    assert_eq!(positions.last().unwrap(), &report["events"], "{report}");
    let count = |path: &Path| -> i64 {
        raw(path)
            .query_row("SELECT count(*) FROM projection_snapshots", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(count(&path) as u64, written);

    let text = stdout(ok(&ledger(&path, &["rebuild"])));
    assert!(
        text.contains("已保存读模型快照 kept read-model snapshots")
            && text.contains("pruned snapshots of other code versions: 0"),
        "{text}"
    );
    assert_eq!(count(&path) as u64, written, "replaced, not added");
    assert_eq!([standings("2026Q3"), standings("2026Q4")], without);
}

/// Proves that `ledger verify` checks the snapshot table beside the chain, not as part of it: the
/// rebuild's snapshots are listed (how many, which positions) as valid and verify passes; a junk
/// row fails verify, named by its position, while the chain is still reported intact; with every
/// row deleted verify passes again with none checked.
#[test]
fn verify_checks_the_snapshots_beside_the_chain() {
    let (_dir, path) = demo_copy();
    let verify = || {
        let out = ledger(&path, &["verify", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.success(), report["passed"] == true, "{report}");
        report
    };
    let before = verify();
    assert_eq!(before["passed"], true, "{before}");
    assert_eq!(before["snapshots"]["checked"], 0, "{before}");
    let rebuilt = json(&ledger(&path, &["rebuild", "--json"]));
    let kept = verify();
    assert_eq!(kept["passed"], true, "{kept}");
    let written = &rebuilt["snapshots"]["positions"];
    assert_eq!(
        kept["snapshots"]["checked"],
        written.as_array().unwrap().len()
    );
    assert_eq!(kept["snapshots"]["valid"], kept["snapshots"]["checked"]);
    let positions: Vec<&serde_json::Value> = kept["snapshots"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["position"])
        .collect();
    assert_eq!(serde_json::json!(positions), *written, "{kept}");

    raw(&path)
        .execute(
            "INSERT INTO projection_snapshots (code_version, position, event_hash, seal, bytes) \
             VALUES (?1, 3, randomblob(32), randomblob(68), randomblob(100))",
            [i64::from(PROJECTION_CODE_VERSION)],
        )
        .unwrap();
    let junk = verify();
    assert_eq!(junk["intact"], true, "the chain itself holds: {junk}");
    assert_eq!(junk["passed"], false, "{junk}");
    let bad: Vec<&serde_json::Value> = junk["snapshots"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["valid"] == false)
        .collect();
    assert_eq!(bad.len(), 1, "{junk}");
    assert_eq!(bad[0]["position"], 3);
    assert!(
        bad[0]["fault"]
            .as_str()
            .unwrap()
            .contains("the read-model snapshot at position 3"),
        "{junk}"
    );
    raw(&path)
        .execute("DELETE FROM projection_snapshots", [])
        .unwrap();
    let none = verify();
    assert_eq!(none["passed"], true, "{none}");
    assert_eq!(none["snapshots"]["checked"], 0);
}

/// Proves that a read side started from the snapshots of a log longer than two live checkpoint
/// intervals gets its in-memory checkpoints before the start point back from `backfill` (which
/// `follow` runs): before it, an as-of query there loads a stored state snapshot; after it, none is
/// loaded and the query reads at most one interval of events; the answers are the prefix's
/// throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_restores_the_checkpoints_before_the_start_point() {
    let temp = crate::store_support::temp_ledger();
    let store = Counting::open_new(&temp.path);
    ledger::audit::ensure_key(&temp.path).unwrap(); // snapshots are kept only with a key to seal them
    renamed_log(&store).await;
    let (model, _) = rebuild_model(&store, ProgressDrawTarget::hidden())
        .await
        .unwrap();
    write_snapshots(&store, &model).await.unwrap();
    drop(model);
    let reads = ReadSide::new(Arc::new(store.clone()));
    reads.catch_up().await.unwrap();
    assert_eq!(reads.restored_from(), EVENTS);
    let p = CHECKPOINT_EVERY + CHECKPOINT_EVERY / 2;
    assert_eq!(name_at(&reads, p).await, format!("n{p}"));
    reads.backfill().await;
    assert_eq!(reads.restored_from(), 0);
    // Every stored snapshot gone: the checkpoints in memory are all that can help now.
    raw(&temp.path)
        .execute("DELETE FROM projection_snapshots", [])
        .unwrap();
    for p in [
        1,
        CHECKPOINT_EVERY - 1,
        CHECKPOINT_EVERY + 3,
        2 * CHECKPOINT_EVERY + 9,
        EVENTS,
    ] {
        store.take();
        assert_eq!(name_at(&reads, p).await, format!("n{p}"), "as of {p}");
        let read = store.take();
        assert!(read <= CHECKPOINT_EVERY, "as of {p}: read {read} events");
    }
    store.inner.close().await;
}

fn row(code_version: u32, position: u64, bytes: &[u8]) -> StoredSnapshot {
    StoredSnapshot {
        code_version,
        position,
        event_hash: ledger_schemas::integrity::Digest([position as u8; 32]),
        seal: vec![position as u8; 68],
        bytes: bytes.to_vec(),
    }
}

/// Proves the port's snapshot methods on the embedded store: the latest of a code version at or
/// before a position (never another version's), replacement of a row, and deletion of other
/// versions and of a version's rows but the listed ones; and that the KurrentDB adapter keeps none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_replaces_and_prunes_snapshots() {
    let (store, _temp) = crate::store_support::sqlite_store();
    for r in [row(1, 10, b"a"), row(1, 20, b"b"), row(2, 15, b"c")] {
        assert!(store.save_snapshot(r).await.unwrap());
    }
    let load = |v: u32, at: u64| {
        let store = store.clone();
        async move { store.load_snapshot(v, at).await.unwrap() }
    };
    assert_eq!(load(1, 9).await, None);
    assert_eq!(load(1, 10).await, Some(row(1, 10, b"a")));
    assert_eq!(load(1, 19).await, Some(row(1, 10, b"a")));
    assert_eq!(load(1, u64::MAX).await, Some(row(1, 20, b"b")));
    assert_eq!(load(2, u64::MAX).await, Some(row(2, 15, b"c")));
    assert_eq!(load(3, u64::MAX).await, None);
    assert!(store.save_snapshot(row(1, 20, b"B")).await.unwrap());
    assert_eq!(load(1, 20).await, Some(row(1, 20, b"B")));
    assert_eq!(
        store
            .delete_snapshots(SnapshotSelection::OtherVersions(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(load(2, u64::MAX).await, None);
    assert_eq!(
        store
            .delete_snapshots(SnapshotSelection::VersionExcept(1, vec![20]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(load(1, 19).await, None);
    assert_eq!(load(1, 20).await, Some(row(1, 20, b"B")));
    // Listed for an audit without their bytes, which are hashed instead.
    let listed = store.list_snapshots().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].position, listed[0].size, &listed[0].seal),
        (20, 1, &row(1, 20, b"B").seal)
    );
    assert_eq!(
        listed[0].content,
        ledger_schemas::seal::content_digest(b"B")
    );
    assert!(
        store.seal_key().unwrap().is_none(),
        "a ledger without FILE.key"
    );
    store.close().await;

    let (kurrent, _server) = crate::kurrent::kurrent_store().await;
    assert!(!kurrent.save_snapshot(row(1, 1, b"x")).await.unwrap());
    assert_eq!(kurrent.load_snapshot(1, u64::MAX).await.unwrap(), None);
    assert!(kurrent.list_snapshots().await.unwrap().is_empty());
    assert!(kurrent.seal_key().unwrap().is_none());
    assert_eq!(
        kurrent
            .delete_snapshots(SnapshotSelection::OtherVersions(1))
            .await
            .unwrap(),
        0
    );
}

/// `ledger rebuild`'s default keeps the whole model at the head and the states of only the most
/// recent checkpoints below it, so the table does not grow with the square of the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_keeps_only_the_most_recent_states() {
    let (_dir, path) = demo_copy();
    let store = Counting::open(&path);
    let every = 50;
    let (model, _) = rebuild_model_every(&store, ProgressDrawTarget::hidden(), every)
        .await
        .unwrap();
    let head = model.position();
    let below: Vec<u64> = (1..=head / every)
        .map(|k| k * every)
        .filter(|p| *p < head)
        .collect();
    assert!(
        below.len() > KEPT_STATE_SNAPSHOTS,
        "enough checkpoints to drop some"
    );
    let report = write_snapshots(&store, &model).await.unwrap();
    let mut expected = below[below.len() - KEPT_STATE_SNAPSHOTS..].to_vec();
    expected.push(head);
    assert_eq!(report.positions, expected);
    assert_eq!(report.written, KEPT_STATE_SNAPSHOTS + 1);
    // An earlier rebuild's older rows are gone too, not left behind.
    let again = write_snapshots_keeping(&store, &model, 2).await.unwrap();
    assert_eq!(again.positions.len(), 3);
    let rows: i64 = raw(&path)
        .query_row("SELECT COUNT(*) FROM projection_snapshots", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 3);
}

/// The snapshot of the whole model kept beside `path`'s log, if any: its position.
async fn kept_head_snapshot(path: &Path) -> Option<u64> {
    let store = SqliteStore::open_existing(path).unwrap();
    let found = store
        .load_snapshot(PROJECTION_CODE_VERSION, u64::MAX)
        .await
        .unwrap()
        .map(|s| s.position);
    store.close().await;
    found
}

/// A running `ledger serve` keeps snapshots beside the log by itself (no `ledger rebuild`): once
/// `every` events were folded since the last, while it serves; a new read side then starts from the
/// head it kept and folds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_keeps_snapshots_of_the_models() {
    use ledger::server::{ServeConfig, SnapshotPolicy, serve};
    let (_dir, path) = demo_copy();
    let head = crate::cli_support::events(&path);
    assert_eq!(kept_head_snapshot(&path).await, None, "the demo keeps none");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let spec = path.to_string_lossy().into_owned();
    let policy = SnapshotPolicy {
        every: 1,
        min_interval: std::time::Duration::ZERO,
        check: std::time::Duration::from_millis(20),
    };
    let server = tokio::spawn(async move {
        let config = ServeConfig {
            checkpoints: ledger::audit::auto::CheckpointPolicy {
                every: 0,
                interval: None,
            },
            snapshots: policy,
            ..ServeConfig::new(spec, "127.0.0.1:0")
        };
        serve(
            &config,
            async {
                let _ = stopped.await;
            },
            |_| {},
        )
        .await
    });
    // Kept while serving, not only on the way out.
    let mut kept = None;
    for _ in 0..500 {
        kept = kept_head_snapshot(&path).await;
        if kept.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        kept,
        Some(head),
        "a snapshot of the whole model at the head, while serving"
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let store = Arc::new(SqliteStore::open_existing(&path).unwrap());
    let reads = ReadSide::new(store.clone());
    assert_eq!(reads.catch_up().await.unwrap(), head);
    assert_eq!(
        reads.restored_from(),
        head,
        "started from the kept snapshot"
    );
    store.close().await;
}

/// `ledger serve` keeps snapshots when it stops (SIGTERM), so the next start folds nothing; with
/// `--snapshot-every 0` it keeps none.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_serve_keeps_snapshots_when_it_stops_unless_told_not_to() {
    use crate::http_serve_cli::{spawn_serve, stop_cleanly};
    for (args, expect_kept) in [(&[][..], true), (&["--snapshot-every", "0"][..], false)] {
        let (_dir, path) = demo_copy();
        let head = crate::cli_support::events(&path);
        let mut all = vec!["--ledger", path.to_str().unwrap()];
        all.extend_from_slice(args);
        let (child, _addr) = spawn_serve(&all).await;
        stop_cleanly(child).await;
        let kept = kept_head_snapshot(&path).await;
        assert_eq!(kept, expect_kept.then_some(head), "{args:?}");
    }
}
