//! The KurrentDB adapter over real gRPC: the port's contract suite against the in-memory
//! wire-compatible test server (and against a real server when `LEDGER_TEST_KURRENTDB` names one),
//! conflicts between two application servers, the notary's chain and its verification, and
//! resuming `$all` from checkpoints. Faults (restarts, lost acknowledgements) are in
//! `kurrent_faults.rs`.

use std::collections::HashSet;
use std::time::Duration;

use esdb_testserver::TestServer;
use futures_util::StreamExt;
use kurrentdb::Position;
use ledger::store::kurrent::{KurrentOptions, KurrentStore, NOTARY_STREAM};
use ledger::store::{
    ActualRevision, Direction, EventStore, ExpectedRevision, Progress, ReadFrom, StoreError,
};
use ledger_schemas::integrity::ChainBreak;
use uuid::Uuid;

use crate::store_support::{score, scores, unique_stream};

/// A fresh test server on a random loopback port.
pub async fn test_server() -> TestServer {
    esdb_testserver::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("start the test server")
}

/// Options for tests: the defaults, with a seal timeout that fails a test quickly.
pub fn options() -> KurrentOptions {
    KurrentOptions {
        seal_timeout: Duration::from_secs(5),
        ..KurrentOptions::default()
    }
}

pub async fn connect(server: &TestServer, options: KurrentOptions) -> KurrentStore {
    KurrentStore::connect_with(&server.connection_string(), options)
        .await
        .expect("connect to the test server")
}

/// The adapter on its own test server (the server is the guard: it lives as long as the test).
pub async fn kurrent_store() -> (KurrentStore, TestServer) {
    let server = test_server().await;
    let store = connect(&server, options()).await;
    (store, server)
}

/// The adapter on the real server named by `LEDGER_TEST_KURRENTDB`, or `None` (with a note).
pub async fn real_store() -> Option<KurrentStore> {
    let Ok(url) = std::env::var("LEDGER_TEST_KURRENTDB") else {
        eprintln!(
            "note: LEDGER_TEST_KURRENTDB is not set; skipping this contract test against a real KurrentDB (see README)"
        );
        return None;
    };
    Some(
        KurrentStore::connect_with(&url, options())
            .await
            .expect("connect to the server in LEDGER_TEST_KURRENTDB"),
    )
}

/// The port's contract, against the adapter talking gRPC to the test server.
mod contract_testserver {
    crate::store_contract_tests!(crate::kurrent::kurrent_store().await);
}

/// The port's contract against a real KurrentDB/EventStoreDB when `LEDGER_TEST_KURRENTDB` holds a
/// connection string (run with `--test-threads=1`: some properties compare the shared log's head).
mod contract_real_server {
    crate::store_contract_tests!(match crate::kurrent::real_store().await {
        Some(store) => (store, ()),
        None => return,
    });
}

/// A server without the server-features call (as before 21.10) is still usable: the client falls
/// back to its defaults and appends, reads and subscriptions work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_with_a_server_that_lacks_the_features_call() {
    let server = esdb_testserver::start_with(
        "127.0.0.1:0".parse().unwrap(),
        esdb_testserver::Options {
            server_features: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let store = connect(&server, options()).await;
    let stream = unique_stream("nofeatures");
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, scores(0, 2))
        .await
        .unwrap();
    assert_eq!(outcome.positions, vec![1, 2]);
    let mut sub = store.subscribe_all(0);
    for expected in 1..=2 {
        let event = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(event.position, expected);
    }
}

/// Two application servers on one cluster: the second one's append with a stale expectation gets
/// the same `Conflict` (expected and actual revision) that the embedded store gives, and each sees
/// the other's events in its reads and its live subscription, in one gapless order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_between_two_servers_is_the_embedded_stores_conflict() {
    let server = test_server().await;
    let a = connect(&server, options()).await;
    let b = connect(&server, options()).await;
    let mut b_feed = b.subscribe_all(0);
    let stream = unique_stream("shared");

    a.append(&stream, ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    let err = b
        .append(&stream, ExpectedRevision::NoStream, vec![score(2)])
        .await
        .unwrap_err();
    match &err {
        StoreError::Conflict {
            stream: s,
            expected,
            actual,
        } => {
            assert_eq!(s, &stream);
            assert_eq!(*expected, ExpectedRevision::NoStream);
            assert_eq!(*actual, ActualRevision::Exact(0));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Word for word what the embedded store says for the same situation.
    let (sqlite, _dir) = crate::store_support::sqlite_store();
    sqlite
        .append(&stream, ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    let embedded = sqlite
        .append(&stream, ExpectedRevision::NoStream, vec![score(2)])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), embedded.to_string());

    // B re-reads, decides again, and wins the next revision; A is now the stale one.
    let last = b
        .read_stream(&stream, Direction::Backwards, ReadFrom::Edge, 1)
        .await
        .unwrap();
    assert_eq!(last[0].revision, 0);
    b.append(&stream, ExpectedRevision::Exact(0), vec![score(3)])
        .await
        .unwrap();
    let err = a
        .append(&stream, ExpectedRevision::Exact(0), vec![score(4)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                actual: ActualRevision::Exact(1),
                ..
            }
        ),
        "{err:?}"
    );

    // Both see both events in one order, with the same positions.
    let seen_by_a = a
        .read_all(Direction::Forwards, ReadFrom::Edge, 10)
        .await
        .unwrap();
    let seen_by_b = b
        .read_all(Direction::Forwards, ReadFrom::Edge, 10)
        .await
        .unwrap();
    assert_eq!(seen_by_a, seen_by_b);
    assert_eq!(
        seen_by_a.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![1, 2]
    );
    for expected in &seen_by_a {
        let live = tokio::time::timeout(Duration::from_secs(5), b_feed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(&live, expected);
    }
}

/// Several servers, each running a notary, append at once: the notaries take turns through the
/// seal stream's expected revision, so there is one chain, gapless, whose records never overlap,
/// and it verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_servers_and_notaries_build_one_gapless_chain() {
    let server = test_server().await;
    let stores = [
        connect(&server, options()).await,
        connect(&server, options()).await,
        connect(&server, options()).await,
    ];
    let tasks = stores.iter().enumerate().map(|(s, store)| async move {
        let mut positions = Vec::new();
        for i in 0..20u64 {
            let stream = unique_stream(&format!("srv{s}"));
            let outcome = store
                .append(
                    &stream,
                    ExpectedRevision::NoStream,
                    scores(i * 3, 1 + i % 3),
                )
                .await
                .unwrap();
            positions.extend(outcome.positions);
        }
        positions
    });
    let positions: Vec<u64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    let total = positions.len() as u64;
    let unique: HashSet<u64> = positions.iter().copied().collect();
    assert_eq!(unique.len() as u64, total, "no position given twice");
    assert_eq!(
        unique,
        (1..=total).collect::<HashSet<_>>(),
        "positions are 1..=n"
    );

    for store in &stores {
        assert_eq!(store.head().await.unwrap(), total);
        let report = store.verify(Progress::new()).await.unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.verified, total);
    }
    // The seal records follow one another: each starts where the previous one ended.
    let records: Vec<serde_json::Value> = server
        .records()
        .into_iter()
        .filter(|r| r.stream == NOTARY_STREAM)
        .map(|r| serde_json::from_slice(&r.data).unwrap())
        .collect();
    let mut next = 1;
    for record in &records {
        assert_eq!(record["first"], next);
        next += record["entries"].as_array().unwrap().len() as u64;
    }
    assert_eq!(next, total + 1);
}

/// `verify` walks `$all` against the notary's seals: intact after normal appends; an event whose
/// payload is changed in the server's storage afterwards is reported as a hash mismatch at its
/// position, and so is a sealed event that disappears (scavenged away) — the event after it no
/// longer fits the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notary_chain_verifies_and_detects_tampering() {
    let (store, server) = kurrent_store().await;
    let stream = unique_stream("audit");
    let doomed = unique_stream("doomed");
    store
        .append(&stream, ExpectedRevision::NoStream, scores(0, 10))
        .await
        .unwrap();
    store
        .append(&doomed, ExpectedRevision::NoStream, scores(10, 2))
        .await
        .unwrap();
    store
        .append(&stream, ExpectedRevision::Exact(9), scores(12, 5))
        .await
        .unwrap();
    let progress = Progress::new();
    let report = store.verify(progress.clone()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.verified, 17);
    assert_eq!(progress.get(), 17);
    let last = store
        .read_all(Direction::Backwards, ReadFrom::Edge, 1)
        .await
        .unwrap();
    assert_eq!(report.head, last[0].hash);

    // Someone with access to the server's storage removes the two events of one stream.
    assert_eq!(server.scavenge_stream(&doomed), 2);
    let report = store.verify(Progress::new()).await.unwrap();
    match report.broken {
        Some(ChainBreak::HashMismatch { position, .. }) => assert_eq!(position, 11),
        other => panic!("expected the event after the gap not to fit, got {other:?}"),
    }
    assert_eq!(report.verified, 10);

    // On a fresh server: someone changes a recorded score's payload.
    let (store, server) = kurrent_store().await;
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, scores(0, 5))
        .await
        .unwrap();
    let victim = store
        .read_stream(&stream, Direction::Forwards, ReadFrom::At(3), 1)
        .await
        .unwrap()
        .remove(0);
    assert!(server.tamper(victim.event_id, |record| {
        let text = String::from_utf8(record.data.clone()).unwrap();
        record.data = text.replacen("SH-", "XX-", 1).into_bytes();
    }));
    let report = store.verify(Progress::new()).await.unwrap();
    match report.broken {
        Some(ChainBreak::HashMismatch {
            position, event_id, ..
        }) => {
            assert_eq!(position, outcome.positions[3]);
            assert_eq!(event_id, victim.event_id);
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    assert_eq!(report.verified, 3);
}

/// A raw `$all` follower resumes from a stored checkpoint that lies past the last record (the
/// record it named — a server statistics event — has since been scavenged): it does not fail,
/// delivers nothing at or before the checkpoint, and delivers what is appended afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_all_from_a_checkpoint_past_the_last_event_skips_instead_of_failing() {
    let (store, server) = kurrent_store().await;
    store
        .append(&unique_stream("early"), ExpectedRevision::Any, scores(0, 3))
        .await
        .unwrap();
    let stats = "$stats-127.0.0.1:2113";
    let checkpoint = server.append_system_event(stats, "$statsCollected");
    assert_eq!(server.scavenge_stream(stats), 1);
    assert!(
        server.last_position().unwrap() < checkpoint,
        "the checkpoint now lies past the last record"
    );

    let mut feed = Box::pin(store.follow_all(Some(Position {
        commit: checkpoint,
        prepare: checkpoint,
    })));
    let quiet = tokio::time::timeout(Duration::from_millis(300), feed.next()).await;
    assert!(
        quiet.is_err(),
        "nothing at or before the checkpoint, got {quiet:?}"
    );

    let stream = unique_stream("late");
    let late = scores(10, 2);
    store
        .append(&stream, ExpectedRevision::NoStream, late.clone())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .expect("the new events arrive")
            .unwrap()
            .unwrap();
        assert!(event.position.commit > checkpoint);
        if event.stream_id() == stream {
            seen.push(event.id);
        }
    }
    assert_eq!(seen, late.iter().map(|e| e.event_id).collect::<Vec<Uuid>>());
}

/// A read model whose stored checkpoint is past the head (restored from a newer backup, say)
/// subscribes without error, skips what it already has, and receives only what comes after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_from_a_checkpoint_past_the_head_skips_up_to_it() {
    let (store, _server) = kurrent_store().await;
    store
        .append(&unique_stream("a"), ExpectedRevision::Any, scores(0, 2))
        .await
        .unwrap();
    let mut sub = store.subscribe_all(4);
    let quiet = tokio::time::timeout(Duration::from_millis(300), sub.next()).await;
    assert!(quiet.is_err());
    let outcome = store
        .append(&unique_stream("b"), ExpectedRevision::Any, scores(2, 4))
        .await
        .unwrap();
    assert_eq!(outcome.positions, vec![3, 4, 5, 6]);
    let mut got = Vec::new();
    while got.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.push(event.position);
    }
    assert_eq!(got, vec![5, 6]);
}

/// The mapping is the documented one: the stream name and event type as they are (so `$ce-` and
/// `$et-` projections work), the canonical payload bytes as JSON data, the envelope's fields in the
/// JSON metadata under KurrentDB's own `$correlationId`/`$causationId` names, and the event id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_stored_in_the_documented_shape() {
    let (store, server) = kurrent_store().await;
    let stream = format!("sheet-2026Q1~SH-{}", Uuid::now_v7().simple());
    // The 15th test score has a reason and a causation id.
    let event = score(15);
    store
        .append(&stream, ExpectedRevision::NoStream, vec![event.clone()])
        .await
        .unwrap();
    let stored = server
        .records()
        .into_iter()
        .find(|r| r.event_id == event.event_id)
        .unwrap();
    assert_eq!(stored.stream, stream);
    assert_eq!(stored.event_type, "ScoreRecorded");
    assert_eq!(stored.content_type, "application/json");
    assert_eq!(
        String::from_utf8(stored.data).unwrap(),
        ledger_schemas::integrity::canonical_json(&event.payload)
    );
    let meta: serde_json::Value = serde_json::from_slice(&stored.custom_metadata).unwrap();
    assert_eq!(meta["ledger"], 1);
    assert_eq!(meta["schemaVersion"], event.schema_version);
    assert_eq!(meta["actor"]["person"], "P-7");
    assert_eq!(meta["actor"]["role"], "assessor");
    assert_eq!(meta["$correlationId"], event.correlation_id.to_string());
    assert_eq!(
        meta["$causationId"],
        event.causation_id.unwrap().to_string()
    );
    assert_eq!(meta["reason"], event.reason.unwrap());
    assert_eq!(meta["contentHash"].as_str().unwrap().len(), 64);
}

/// Fault cases against the real server or cluster named by `LEDGER_TEST_KURRENTDB` (skipped with
/// a note without it). They need no test hooks: what they check is what a real server must show.
mod real_server_faults {
    use std::collections::HashSet;
    use std::time::Duration;

    use ledger::store::kurrent::KurrentStore;
    use ledger::store::{Direction, EventStore, ExpectedRevision, Progress, ReadFrom, StoreError};
    use uuid::Uuid;

    use crate::store_support::{score, scores, unique_stream};

    /// The same append again gets the first outcome and stores nothing; the same ids with other
    /// content are refused, whichever way the server answered the repeat (a real server answers
    /// with the original write's position).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_repeated_append_is_checked_against_what_the_server_stored() {
        let Some(store) = crate::kurrent::real_store().await else {
            return;
        };
        let stream = unique_stream("realrepeat");
        let batch = scores(0, 3);
        let first = store
            .append(&stream, ExpectedRevision::NoStream, batch.clone())
            .await
            .unwrap();
        let again = store
            .append(&stream, ExpectedRevision::NoStream, batch.clone())
            .await
            .unwrap();
        assert_eq!(again, first);
        let mut changed = batch.clone();
        changed[0].reason = Some("另一内容 other content".into());
        let err = store
            .append(&stream, ExpectedRevision::NoStream, changed)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::IdempotencyMismatch { .. }),
            "{err:?}"
        );
        let stored = store
            .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, 10)
            .await
            .unwrap();
        assert_eq!(stored.len(), 3);
    }

    /// The sealed log's recorded times never go back (whatever the nodes' clocks did), and its
    /// chain verifies.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sealed_log_never_goes_back_in_time() {
        let Some(store) = crate::kurrent::real_store().await else {
            return;
        };
        store
            .append(
                &unique_stream("realtime"),
                ExpectedRevision::NoStream,
                scores(0, 2),
            )
            .await
            .unwrap();
        let log = store
            .read_all(Direction::Forwards, ReadFrom::Edge, usize::MAX)
            .await
            .unwrap();
        assert!(log.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
        assert!(store.verify(Progress::new()).await.unwrap().is_intact());
    }

    /// With `LEDGER_TEST_KURRENTDB_RESIGN=1` (a cluster): the leader resigns (the client's
    /// `resign_node`, as an operator would) while appends run; every acknowledged event is stored
    /// once and the chain verifies.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_across_a_leader_resignation_lose_and_duplicate_nothing() {
        if std::env::var("LEDGER_TEST_KURRENTDB_RESIGN").as_deref() != Ok("1") {
            eprintln!("note: LEDGER_TEST_KURRENTDB_RESIGN is not 1; skipping the resignation case");
            return;
        }
        let Some(store) = crate::kurrent::real_store().await else {
            return;
        };
        let url = std::env::var("LEDGER_TEST_KURRENTDB").unwrap();
        let operator = kurrentdb::operations::Client::new(url.parse().unwrap()).unwrap();
        let stream = unique_stream("resign");
        let mut acked = Vec::new();
        let mut next = ExpectedRevision::NoStream;
        for i in 0..60u64 {
            if i == 20 {
                operator
                    .resign_node(&kurrentdb::operations::OperationalOptions::default())
                    .await
                    .expect("the leader resigns");
            }
            let event = score(i);
            let outcome = store
                .append(&stream, next, vec![event.clone()])
                .await
                .expect("the retries outlast the election");
            next = ExpectedRevision::Exact(outcome.next_expected);
            acked.push(event.event_id);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stored: Vec<Uuid> = store
            .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, usize::MAX)
            .await
            .unwrap()
            .iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(stored, acked);
        assert_eq!(stored.iter().collect::<HashSet<_>>().len(), 60);
        assert!(store.verify(Progress::new()).await.unwrap().is_intact());
    }

    /// With `LEDGER_TEST_KURRENTDB_LIMITED` (a connection string for a user who may not read
    /// `$all`): the store refuses to start, saying so, within seconds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_user_who_may_not_read_all_is_refused_at_start_up() {
        let Ok(url) = std::env::var("LEDGER_TEST_KURRENTDB_LIMITED") else {
            eprintln!("note: LEDGER_TEST_KURRENTDB_LIMITED is not set; skipping");
            return;
        };
        let started = std::time::Instant::now();
        let err = KurrentStore::connect(&url).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(err.to_string().contains("$all"), "{err}");
    }
}
