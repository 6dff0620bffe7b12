//! What only the embedded SQLite store promises, beyond the port's contract: gapless positions from
//! 1 that survive a reopen, group commit, readers that never wait for the writer, append-only
//! triggers, migrations, tamper detection, and a clear refusal, naming the file, for every bad file
//! or bad state (not a ledger, newer format, corrupt page, read-only, full disk) with nothing
//! half-written.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ledger::store::sqlite::schema::{APPLICATION_ID, FORMAT_VERSION, create_at_version};
use ledger::store::{
    Direction, EventStore, ExpectedRevision, Progress, ReadFrom, SqliteOptions, SqliteStore,
    StoreError,
};
use ledger_schemas::integrity::ChainBreak;
use rusqlite::Connection;

use crate::store_support::{score, scores, sqlite_store, sqlite_store_with, temp_ledger};

async fn fill(store: &SqliteStore, streams: u64, per_stream: u64) {
    for s in 0..streams {
        let events = scores(s * 1000, per_stream);
        for chunk in events.chunks(50) {
            store
                .append(
                    &format!("sheet-fill~{s}"),
                    ExpectedRevision::Any,
                    chunk.to_vec(),
                )
                .await
                .unwrap();
        }
    }
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Positions run 1, 2, 3, ... without a gap across streams and appends, and the log, its chain and
/// an idempotent retry's answer are the same after closing and reopening the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_are_gapless_from_one_and_survive_reopen() {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).unwrap();
    let retried = scores(0, 3);
    let first = store
        .append("sheet-a", ExpectedRevision::NoStream, retried.clone())
        .await
        .unwrap();
    assert_eq!(first.positions, [1, 2, 3]);
    let second = store
        .append("sheet-b", ExpectedRevision::Any, scores(3, 2))
        .await
        .unwrap();
    assert_eq!(second.positions, [4, 5]);
    store.close().await;
    assert!(matches!(
        store
            .append("sheet-a", ExpectedRevision::Any, vec![score(9)])
            .await,
        Err(StoreError::Closed)
    ));

    let store = SqliteStore::open_existing(&temp.path).unwrap();
    let all = store
        .read_all(Direction::Forwards, ReadFrom::Edge, 100)
        .await
        .unwrap();
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions, [1, 2, 3, 4, 5]);
    assert_eq!(store.head().await.unwrap(), 5);
    let again = store
        .append("sheet-a", ExpectedRevision::NoStream, retried)
        .await
        .unwrap();
    assert_eq!(again, first);
    let next = store
        .append("sheet-c", ExpectedRevision::NoStream, vec![score(7)])
        .await
        .unwrap();
    assert_eq!(next.positions, [6]);
    let report = store.verify(Progress::new()).await.unwrap();
    assert!(report.is_intact() && report.verified == 6, "{report:?}");
    let state = store.state().await.unwrap();
    assert_eq!(
        (state.events, state.head_position, state.format_version),
        (6, 6, FORMAT_VERSION)
    );
    assert_eq!(state.head_hash.unwrap(), report.head.to_hex());
}

/// Opens a raw connection holding the write lock, as another process would.
fn lock_writes(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

/// Appends queued while the writer waits are committed together, in one transaction, and inside it
/// every refused request fails alone while the rest commit: conflicts (refused before writing),
/// single events reusing a stored id (their insert undone by SQLite's statement journal) and
/// three-event appends whose last id is taken (their savepoint rolled back). The log stays gapless
/// and the chain intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_batches_waiting_appends_and_refusals_fail_alone() {
    let (store, temp) = sqlite_store();
    let taken = score(0);
    store
        .append(
            "sheet-warm",
            ExpectedRevision::NoStream,
            vec![taken.clone()],
        )
        .await
        .unwrap();
    let before = store.writer_counts();
    let locker = lock_writes(&temp.path);

    let mut set = tokio::task::JoinSet::new();
    for task in 0..50u64 {
        let (store, taken) = (store.clone(), taken.clone());
        set.spawn(async move {
            let (stream, events) = match task {
                // Ten race for one new stream.
                0..10 => ("sheet-contested".to_owned(), vec![score(task + 1)]),
                // Five reuse a stored id for another event.
                10..15 => {
                    let mut reused = score(task + 1);
                    reused.event_id = taken.event_id;
                    (format!("sheet-reuse-{task}"), vec![reused])
                }
                // Five carry the stored event as the last of three.
                15..20 => {
                    let mut events = scores(100 * task, 2);
                    events.push(taken);
                    (format!("sheet-tail-{task}"), events)
                }
                // The rest have streams of their own, with one or two events.
                _ => (
                    format!("sheet-own-{task}"),
                    scores(100 * task, 1 + task % 2),
                ),
            };
            let count = events.len();
            (
                task,
                count,
                store
                    .append(&stream, ExpectedRevision::NoStream, events)
                    .await,
            )
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        store.writer_counts().transactions,
        before.transactions,
        "nothing commits while another connection holds the write lock"
    );
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);

    let (mut contested_wins, mut written) = (0, 0);
    while let Some(joined) = set.join_next().await {
        let (task, count, result) = joined.unwrap();
        match (task, result) {
            (0..10, Ok(_)) => {
                contested_wins += 1;
                written += count;
            }
            (0..10, Err(StoreError::Conflict { .. })) => {}
            (10..20, Err(StoreError::IdempotencyMismatch { event_id })) => {
                assert_eq!(event_id, taken.event_id)
            }
            (20.., Ok(outcome)) => {
                assert_eq!(outcome.positions.len(), count);
                written += count;
            }
            (task, other) => panic!("task {task}: {other:?}"),
        }
    }
    assert_eq!(contested_wins, 1);
    assert_eq!(written, 1 + 15 + 30);
    let after = store.writer_counts();
    assert_eq!(after.requests - before.requests, 50);
    assert_eq!(after.events - before.events, written as u64);
    assert!(
        after.transactions - before.transactions <= 2,
        "50 queued appends took {} transactions",
        after.transactions - before.transactions
    );
    assert!(after.largest_batch >= 25, "{after:?}");

    let all = store
        .read_all(Direction::Forwards, ReadFrom::Edge, 1000)
        .await
        .unwrap();
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=1 + written as u64).collect::<Vec<_>>());
    assert!(
        all.iter()
            .all(|e| !e.stream.starts_with("sheet-reuse") && !e.stream.starts_with("sheet-tail"))
    );
    let report = store.verify(Progress::new()).await.unwrap();
    assert!(
        report.is_intact() && report.verified == 1 + written as u64,
        "{report:?}"
    );
}

/// Readers never wait for the writer: while another connection holds the write lock with an
/// uncommitted insert, reads answer at once from the last committed state; and an open read
/// transaction elsewhere does not hold up an append.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_the_writer_never_wait_for_each_other() {
    let (store, temp) = sqlite_store();
    store
        .append("sheet-r", ExpectedRevision::NoStream, scores(0, 5))
        .await
        .unwrap();

    let locker = lock_writes(&temp.path);
    let started = Instant::now();
    assert_eq!(store.head().await.unwrap(), 5);
    let page = store
        .read_all(Direction::Forwards, ReadFrom::Edge, 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 5);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "reads waited {:?}",
        started.elapsed()
    );
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);

    let reader = Connection::open(&temp.path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let count: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 5);
    let started = Instant::now();
    store
        .append("sheet-r", ExpectedRevision::Exact(4), vec![score(5)])
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the append waited {:?}",
        started.elapsed()
    );
    // The open read transaction still sees its snapshot.
    let count: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 5);
}

/// The events table refuses UPDATE and DELETE even from a raw SQLite session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_refuse_update_and_delete() {
    let (store, temp) = sqlite_store();
    store
        .append("sheet-t", ExpectedRevision::NoStream, scores(0, 2))
        .await
        .unwrap();
    let raw = Connection::open(&temp.path).unwrap();
    let err = raw
        .execute("UPDATE events SET payload = '{}' WHERE position = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = raw
        .execute("DELETE FROM events WHERE position = 2", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(store.head().await.unwrap(), 2);
}

/// Changing, removing or reordering a stored event (with the triggers dropped) is found by
/// `verify`, which names the first bad event by position and id and counts the intact prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_the_first_tampered_event() {
    let (store, temp) = sqlite_store();
    store
        .append("sheet-v", ExpectedRevision::NoStream, scores(0, 20))
        .await
        .unwrap();
    let all = store
        .read_all(Direction::Forwards, ReadFrom::Edge, 100)
        .await
        .unwrap();
    let raw = Connection::open(&temp.path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
    )
    .unwrap();

    // A changed payload: the event's own hash no longer matches.
    raw.execute(
        "UPDATE events SET payload = replace(payload, 'entry', 'ENTRY') WHERE position = 12",
        [],
    )
    .unwrap();
    let report = store.verify(Progress::new()).await.unwrap();
    assert_eq!(report.verified, 11);
    match report.broken {
        Some(ChainBreak::HashMismatch {
            position, event_id, ..
        }) => assert_eq!((position, event_id), (12, all[11].event_id)),
        other => panic!("expected a hash mismatch at 12, got {other:?}"),
    }

    // A removed event before it: the gap is found first.
    raw.execute("DELETE FROM events WHERE position = 5", [])
        .unwrap();
    let report = store.verify(Progress::new()).await.unwrap();
    assert_eq!(report.verified, 4);
    assert!(
        matches!(report.broken, Some(ChainBreak::PositionGap { position: 6, expected: 5, event_id }) if event_id == all[5].event_id),
        "{report:?}"
    );
}

/// A file that is not a ledger (a text file, another application's SQLite database, a directory, an
/// empty database when not creating) is refused with `NotALedger` naming the file, and is left
/// exactly as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_ledger_is_refused_and_left_alone() {
    let temp = temp_ledger();
    let dir = temp.dir.path();

    let text = dir.join("notes.txt");
    std::fs::write(&text, "这不是账本 this is not a ledger\n".repeat(200)).unwrap();
    let other = dir.join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT); INSERT INTO invoices VALUES (1, '9.99');")
        .unwrap();
    let foreign = dir.join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234; CREATE TABLE events (x);")
        .unwrap();

    for (path, needle) in [
        (&text, "not a SQLite database"),
        (&other, "invoices"),
        (&foreign, "application_id"),
    ] {
        let before = file_bytes(path);
        let err = SqliteStore::open(path).unwrap_err();
        match &err {
            StoreError::NotALedger { path: p, detail } => {
                assert_eq!(p, path);
                assert!(detail.contains(needle), "{detail}");
            }
            other => panic!("{}: expected NotALedger, got {other:?}", path.display()),
        }
        assert!(err.to_string().contains(&path.display().to_string()));
        assert_eq!(file_bytes(path), before, "{} was changed", path.display());
        assert!(!PathBuf::from(format!("{}-wal", path.display())).exists());
    }

    let err = SqliteStore::open(dir).unwrap_err();
    assert!(matches!(err, StoreError::NotALedger { .. }), "{err:?}");

    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = SqliteStore::open_existing(&empty).unwrap_err();
    assert!(matches!(err, StoreError::NotALedger { .. }), "{err:?}");
    assert_eq!(file_bytes(&empty), b"");
}

/// Opening an absent file without creating it is `Missing`, and creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ledger_is_reported_and_not_created() {
    let temp = temp_ledger();
    let err = SqliteStore::open_existing(&temp.path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Missing { path } if path == &temp.path),
        "{err:?}"
    );
    assert!(err.to_string().contains("ledger init"));
    assert!(!temp.path.exists());
}

/// A ledger whose format version is newer than this program's is refused with `NewerFormat`, naming
/// both versions and the file, and is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_from_a_newer_version_is_refused_untouched() {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).unwrap();
    store
        .append("sheet-n", ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    store.close().await;
    Connection::open(&temp.path)
        .unwrap()
        .pragma_update(None, "user_version", FORMAT_VERSION + 1)
        .unwrap();
    let before = file_bytes(&temp.path);
    let err = SqliteStore::open(&temp.path).unwrap_err();
    match &err {
        StoreError::NewerFormat {
            path,
            found,
            supported,
        } => {
            assert_eq!(path, &temp.path);
            assert_eq!((*found, *supported), (FORMAT_VERSION + 1, FORMAT_VERSION));
        }
        other => panic!("expected NewerFormat, got {other:?}"),
    }
    assert!(err.to_string().contains("upgrade"));
    assert_eq!(file_bytes(&temp.path), before);
}

/// A ledger at an older format version is migrated on open, step by step, to the current one: here a
/// version-1 file gains the append-only triggers of version 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_ledger_is_migrated_on_open() {
    let temp = temp_ledger();
    create_at_version(&temp.path, 1).unwrap();
    let raw = Connection::open(&temp.path).unwrap();
    let triggers: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0);
    drop(raw);

    let store = SqliteStore::open(&temp.path).unwrap();
    assert_eq!(store.state().await.unwrap().format_version, FORMAT_VERSION);
    store
        .append("sheet-m", ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    let raw = Connection::open(&temp.path).unwrap();
    let (app_id, version): (i32, i64) = (
        raw.pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap(),
        raw.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap(),
    );
    assert_eq!((app_id, version), (APPLICATION_ID, FORMAT_VERSION));
    let err = raw.execute("DELETE FROM events", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

/// A version-4 file's read-model snapshots carry no seal, so migrating it to version 5 drops them
/// (derived data: the next start folds from the first event) and the table takes only sealed rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_drops_the_unsealed_snapshots() {
    let temp = temp_ledger();
    create_at_version(&temp.path, 4).unwrap();
    let raw = Connection::open(&temp.path).unwrap();
    raw.execute(
        "INSERT INTO projection_snapshots (code_version, position, event_hash, bytes) \
         VALUES (2, 1, zeroblob(32), x'7b7d')",
        [],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&temp.path).unwrap();
    assert_eq!(store.state().await.unwrap().format_version, FORMAT_VERSION);
    assert!(store.list_snapshots().await.unwrap().is_empty());
    store.close().await;
    let raw = Connection::open(&temp.path).unwrap();
    let unsealed = raw.execute(
        "INSERT INTO projection_snapshots (code_version, position, event_hash, seal, bytes) \
         VALUES (2, 1, zeroblob(32), zeroblob(3), x'7b7d')",
        [],
    );
    assert!(unsealed.is_err(), "a seal is 68 bytes");
}

/// The leaf pages of the events table, from SQLite's own page map.
fn event_leaf_pages(path: &Path) -> Vec<i64> {
    let raw = Connection::open(path).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
}

/// A corrupt page in the middle of the log is reported as `Corrupt`, naming the file, by the reads
/// and the verification that reach it; the schema page corrupt makes the open itself fail so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_page_is_reported_as_corrupt() {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).unwrap();
    fill(&store, 4, 500).await;
    store.close().await;
    drop(store);
    assert!(
        !PathBuf::from(format!("{}-wal", temp.path.display())).exists(),
        "checkpointed on close"
    );

    let leaves = event_leaf_pages(&temp.path);
    assert!(leaves.len() > 50, "{} leaf pages", leaves.len());
    let victim = leaves[leaves.len() / 2];
    overwrite(&temp.path, (victim as u64 - 1) * 4096, &[0xA5; 4096]);

    let store = SqliteStore::open(&temp.path).unwrap();
    let err = store.verify(Progress::new()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { path, .. } if path == &temp.path),
        "{err:?}"
    );
    assert!(err.to_string().contains("corrupt"));
    let mut reached = None;
    let mut from = 1;
    loop {
        match store
            .read_all(Direction::Forwards, ReadFrom::At(from), 100)
            .await
        {
            Ok(page) if page.is_empty() => break,
            Ok(page) => from = page.last().unwrap().position + 1,
            Err(err) => {
                reached = Some(err);
                break;
            }
        }
    }
    assert!(
        matches!(reached, Some(StoreError::Corrupt { .. })),
        "{reached:?}"
    );
    store.close().await;
    drop(store);

    // The schema lives on page 1 after the 100-byte header.
    overwrite(&temp.path, 100, &[0x5A; 3996]);
    let err = SqliteStore::open(&temp.path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { path, .. } if path == &temp.path),
        "{err:?}"
    );
}

/// Makes a directory or file read-only for the test's user, restoring it when dropped. As root,
/// permission bits do not stop writes, so the immutable attribute (`chattr +i`) is used instead.
struct ReadOnly {
    path: PathBuf,
    immutable: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let is_dir = path.is_dir();
        let mode = if is_dir { 0o555 } else { 0o444 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        let probe_dir = if is_dir {
            path.to_owned()
        } else {
            path.parent().unwrap().to_owned()
        };
        let writable = if is_dir {
            let probe = probe_dir.join("probe");
            let ok = std::fs::write(&probe, b"x").is_ok();
            let _ = std::fs::remove_file(&probe);
            ok
        } else {
            std::fs::OpenOptions::new().append(true).open(path).is_ok()
        };
        if !writable {
            return Self {
                path: path.to_owned(),
                immutable: false,
            };
        }
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .expect("running as root: chattr is needed to make a path read-only");
        assert!(status.success(), "chattr +i {} failed", path.display());
        Self {
            path: path.to_owned(),
            immutable: true,
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        }
        let mode = if self.path.is_dir() { 0o755 } else { 0o644 };
        let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(mode));
    }
}

/// A read-only directory (a new ledger cannot be created, an existing one cannot get its WAL
/// files) and a read-only ledger file are refused with `ReadOnly` naming the file; nothing is
/// created or changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_directory_or_file_is_refused() {
    let temp = temp_ledger();
    let existing = temp.dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    let ledger = existing.join("ledger.db");
    let store = SqliteStore::open(&ledger).unwrap();
    store
        .append("sheet-ro", ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    store.close().await;
    drop(store);
    let before = file_bytes(&ledger);

    let empty_dir = temp.dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    {
        let _guard = ReadOnly::make(&empty_dir);
        let new = empty_dir.join("new.db");
        let err = SqliteStore::open(&new).unwrap_err();
        assert!(
            matches!(&err, StoreError::ReadOnly { path, .. } if path == &new),
            "{err:?}"
        );
        assert!(!new.exists());
    }
    {
        let _guard = ReadOnly::make(&existing);
        let err = SqliteStore::open(&ledger).unwrap_err();
        assert!(
            matches!(&err, StoreError::ReadOnly { path, .. } if path == &ledger),
            "{err:?}"
        );
        assert!(err.to_string().contains(&ledger.display().to_string()));
    }
    {
        let _guard = ReadOnly::make(&ledger);
        let err = SqliteStore::open(&ledger).unwrap_err();
        assert!(
            matches!(&err, StoreError::ReadOnly { path, .. } if path == &ledger),
            "{err:?}"
        );
    }
    assert_eq!(file_bytes(&ledger), before);
    let store = SqliteStore::open(&ledger).unwrap();
    assert_eq!(store.head().await.unwrap(), 1);
}

/// A full disk (simulated with a page cap, `PRAGMA max_page_count`, which makes SQLite fail exactly
/// as it does on ENOSPC, with SQLITE_FULL) refuses the append with `DiskFull` naming the file,
/// writes none of its events, leaves the chain intact, and the same append succeeds once there is
/// room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_the_append_and_writes_nothing() {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).unwrap();
    fill(&store, 1, 100).await;
    store.close().await;
    drop(store);
    let pages: i64 = Connection::open(&temp.path)
        .unwrap()
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();

    let store = sqlite_store_with(
        &temp,
        SqliteOptions {
            max_pages: Some(pages as u64 + 2),
            ..SqliteOptions::default()
        },
    );
    // About 60 pages of events: far past the cap.
    let mut big = scores(500, 40);
    for event in &mut big {
        event.payload["note"] = serde_json::Value::String("满 full ".repeat(800));
    }
    let err = store
        .append("sheet-full", ExpectedRevision::NoStream, big.clone())
        .await
        .unwrap_err();
    match &err {
        StoreError::DiskFull { path, detail } => {
            assert_eq!(path, &temp.path);
            assert!(detail.contains("full"), "{detail}");
        }
        other => panic!("expected DiskFull, got {other:?}"),
    }
    assert!(err.to_string().contains("nothing was written"));
    assert_eq!(store.head().await.unwrap(), 100);
    assert!(
        store
            .read_stream("sheet-full", Direction::Forwards, ReadFrom::Edge, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.verify(Progress::new()).await.unwrap().is_intact());
    store.close().await;
    drop(store);

    let store = SqliteStore::open(&temp.path).unwrap();
    let outcome = store
        .append("sheet-full", ExpectedRevision::NoStream, big)
        .await
        .unwrap();
    assert_eq!(outcome.positions.first(), Some(&101));
    let report = store.verify(Progress::new()).await.unwrap();
    assert!(report.is_intact() && report.verified == 140, "{report:?}");
}

/// The whole-log stream reads the next page ahead on another thread and still yields every event
/// once in order, stopping at the head; dropping it early stops the reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_all_yields_every_event_once_in_order() {
    use futures_util::StreamExt;
    let (store, _temp) = sqlite_store();
    fill(&store, 3, 120).await;
    let positions: Vec<u64> = store
        .stream_all(0, 50)
        .map(|e| e.unwrap().position)
        .collect()
        .await;
    assert_eq!(positions, (1..=360).collect::<Vec<_>>());
    let tail: Vec<u64> = store
        .stream_all(355, 2)
        .map(|e| e.unwrap().position)
        .collect()
        .await;
    assert_eq!(tail, [356, 357, 358, 359, 360]);
    let first_three: Vec<u64> = store
        .stream_all(0, 10)
        .take(3)
        .map(|e| e.unwrap().position)
        .collect()
        .await;
    assert_eq!(first_three, [1, 2, 3]);
    // The pool still has readers after an abandoned walk.
    assert_eq!(store.head().await.unwrap(), 360);
}

/// Under a flood of concurrent appends the WAL is copied back into the database file while the
/// ledger is open (by the background checkpoint thread, or by the writer past the limit) and starts
/// over from its beginning, so the `-wal` file stays near its limit instead of holding the whole
/// flood; every event is there and the chain is intact, and closing folds the WAL in and removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_a_flood_of_appends() {
    const TASKS: u64 = 16;
    const PER_TASK: u64 = 400;
    const LIMIT: u32 = 512;
    // One frame is a page plus a 24-byte header, after a 32-byte file header. One commit may pass
    // the limit before the check after it: here 16 events of at most 2 pages each, plus the indexes.
    let bound = 32 + (u64::from(LIMIT) + 3 * TASKS) * (4096 + 24);
    let temp = temp_ledger();
    let store = sqlite_store_with(
        &temp,
        SqliteOptions {
            wal_limit_pages: LIMIT,
            ..SqliteOptions::default()
        },
    );
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            let mut expected = ExpectedRevision::NoStream;
            for i in 0..PER_TASK {
                // A note of about 3.5 KiB: every event takes a table page of its own.
                let mut event = score(task * 10_000 + i);
                event.payload["note"] = serde_json::Value::String("洪 flood ".repeat(350));
                let outcome = store
                    .append(&format!("sheet-flood~{task}"), expected, vec![event])
                    .await
                    .unwrap();
                expected = ExpectedRevision::Exact(outcome.next_expected);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }
    let events = TASKS * PER_TASK;
    // Every event wrote at least its own table page as a frame: the flood is many times the limit.
    assert!(events > 10 * u64::from(LIMIT));
    let wal = temp.path.with_extension("db-wal");
    let wal_bytes = std::fs::metadata(&wal).unwrap().len();
    assert!(wal_bytes <= bound, "WAL {wal_bytes} bytes, bound {bound}");
    let db_bytes = std::fs::metadata(&temp.path).unwrap().len();
    assert!(
        db_bytes >= events * 3500 / 2,
        "checkpoints ran while open: database file {db_bytes} bytes for {events} events"
    );
    let report = store.verify(Progress::new()).await.unwrap();
    assert!(
        report.is_intact() && report.verified == events,
        "{report:?}"
    );
    store.close().await;
    assert!(!wal.exists(), "closing folds the WAL in and removes it");
    let store = SqliteStore::open(&temp.path).unwrap();
    assert_eq!(store.head().await.unwrap(), events);
}

/// One append at a time, the WAL is checkpointed and started over about every
/// `WAL_CHECKPOINT_PAGES` pages, as SQLite's own automatic checkpoint does, not left to grow to the
/// limit: a growing WAL makes every commit extend the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_append_at_a_time_restarts_the_wal_at_sqlites_threshold() {
    use ledger::store::sqlite::{WAL_CHECKPOINT_PAGES, WAL_LIMIT_PAGES};
    let (store, temp) = sqlite_store();
    let mut expected = ExpectedRevision::NoStream;
    let appends = 2 * u64::from(WAL_CHECKPOINT_PAGES) + 200;
    for i in 0..appends {
        // A note of about 3.5 KiB: every commit writes at least one table page.
        let mut event = score(i);
        event.payload["note"] = serde_json::Value::String("单 single ".repeat(300));
        let outcome = store
            .append("sheet-single", expected, vec![event])
            .await
            .unwrap();
        expected = ExpectedRevision::Exact(outcome.next_expected);
    }
    let wal_bytes = std::fs::metadata(temp.path.with_extension("db-wal"))
        .unwrap()
        .len();
    // One commit here writes at most 3 pages (a table leaf, two index leaves) plus a split.
    let bound = 32 + (u64::from(WAL_CHECKPOINT_PAGES) + 8) * (4096 + 24);
    assert!(u64::from(WAL_LIMIT_PAGES) > 4 * u64::from(WAL_CHECKPOINT_PAGES));
    assert!(wal_bytes <= bound, "WAL {wal_bytes} bytes, bound {bound}");
}

/// A live subscription sees appends made to the same file through another store (another process,
/// as far as this store can tell: its own connections and writer), without any append of its own,
/// within a second; and a closed store ends its subscriptions instead of leaving them waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_sees_appends_made_by_another_writer_on_the_same_file() {
    use futures_util::StreamExt as _;
    let (store, temp) = sqlite_store();
    store
        .append("sheet-here", ExpectedRevision::Any, scores(0, 2))
        .await
        .unwrap();
    let mut live = store.subscribe_all(2);
    let other = SqliteStore::open(&temp.path).unwrap();
    other
        .append("sheet-there", ExpectedRevision::Any, scores(2, 3))
        .await
        .unwrap();
    for want in 3..=5 {
        let next = tokio::time::timeout(Duration::from_secs(1), live.next())
            .await
            .unwrap_or_else(|_| panic!("position {want} from the other writer not seen within 1 s"))
            .expect("the subscription goes on")
            .expect("an event");
        assert_eq!(next.position, want);
        assert_eq!(next.stream, "sheet-there");
    }
    other.close().await;
    store.close().await;
    let ended = tokio::time::timeout(Duration::from_secs(2), live.next())
        .await
        .expect("a closed store ends its subscriptions");
    assert!(
        matches!(ended, Some(Err(StoreError::Closed)) | None),
        "{ended:?}"
    );
}
