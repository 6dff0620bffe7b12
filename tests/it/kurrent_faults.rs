//! The KurrentDB adapter when the network or the server fails: a server restart in the middle of a
//! stream of appends, acknowledgements lost after the server stored the events, an unreachable
//! cluster, and a notary that is not there. What must hold: nothing acknowledged is lost, nothing
//! is stored twice, and a failure is a clear `Unavailable`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledger::store::kurrent::{KurrentOptions, KurrentStore, RetryPolicy};
use ledger::store::{Direction, EventStore, ExpectedRevision, Progress, ReadFrom, StoreError};
use uuid::Uuid;

use crate::kurrent::{connect, kurrent_store, options, test_server};
use crate::store_support::{score, scores, unique_stream};

async fn stream_ids(store: &KurrentStore, stream: &str) -> Vec<Uuid> {
    let events = store
        .read_stream(stream, Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(i, e)| e.revision == i as u64),
        "revisions are gapless"
    );
    events.iter().map(|e| e.event_id).collect()
}

/// What a continuous writer stored: the ids acknowledged per stream, and the errors it got.
pub type Written = (HashMap<usize, Vec<Uuid>>, Vec<StoreError>);

/// Appends `appends` batches of one or two scores round-robin to `streams`, each with the exact
/// expected revision its previous append returned (`Any` for stream `any`), counting
/// acknowledgements in `acked`; errors are kept, not retried.
pub fn continuous_writer(
    store: KurrentStore,
    streams: Vec<String>,
    appends: u64,
    any: Option<usize>,
    acked: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<Written> {
    tokio::spawn(async move {
        let mut last: HashMap<usize, u64> = HashMap::new();
        let mut appended: HashMap<usize, Vec<Uuid>> = HashMap::new();
        let mut failures = Vec::new();
        for i in 0..appends {
            let s = (i % streams.len() as u64) as usize;
            let expected = match (Some(s) == any, last.get(&s)) {
                (true, _) => ExpectedRevision::Any,
                (false, None) => ExpectedRevision::NoStream,
                (false, Some(r)) => ExpectedRevision::Exact(*r),
            };
            let events = scores(i * 2, 1 + i % 2);
            match store.append(&streams[s], expected, events.clone()).await {
                Ok(outcome) => {
                    last.insert(s, outcome.next_expected);
                    appended
                        .entry(s)
                        .or_default()
                        .extend(events.iter().map(|e| e.event_id));
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => failures.push(e),
            }
        }
        (appended, failures)
    })
}

/// The server is stopped and restarted while a writer appends continuously to four streams (three
/// with exact expected revisions, one with `Any`). The adapter rides out the outage with its
/// retries; afterwards every acknowledged event is stored exactly once, in order, each stream's
/// revisions and the log's positions are gapless, and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_stream_loses_nothing_acknowledged() {
    const APPENDS: u64 = 120;
    let server = test_server().await;
    let store = connect(&server, options()).await;
    let streams: Vec<String> = (0..4)
        .map(|i| unique_stream(&format!("restart{i}")))
        .collect();
    let acked = Arc::new(AtomicU64::new(0));

    let writer = continuous_writer(
        store.clone(),
        streams.clone(),
        APPENDS,
        Some(3),
        acked.clone(),
    );

    // Let a third of the appends through, then take the server down for a while.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.load(Ordering::SeqCst) < APPENDS / 3 {
        assert!(
            Instant::now() < deadline,
            "the writer got stuck before the restart"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop().await;
    // An answer to an append the server committed just before it stopped may still be on its way
    // to the writer: let those land, then nothing more may be acknowledged while it is down.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let during = acked.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        acked.load(Ordering::SeqCst),
        during,
        "nothing is acknowledged while the server is down"
    );
    server.restart().await.unwrap();

    let (appended, failures) = writer.await.unwrap();
    assert!(
        failures.is_empty(),
        "the adapter's retries cover a short outage: {failures:?}"
    );
    assert_eq!(acked.load(Ordering::SeqCst), APPENDS);

    let mut all_acked = HashSet::new();
    for (s, ids) in &appended {
        assert_eq!(
            &stream_ids(&store, &streams[*s]).await,
            ids,
            "stream {s} holds exactly what was acknowledged"
        );
        all_acked.extend(ids.iter().copied());
    }
    let log = store
        .read_all(Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        log.len(),
        all_acked.len(),
        "nothing stored twice, nothing extra"
    );
    assert!(
        log.iter()
            .enumerate()
            .all(|(i, e)| e.position == i as u64 + 1)
    );
    assert!(log.iter().all(|e| all_acked.contains(&e.event_id)));
    let report = store.verify(Progress::new()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.verified, log.len() as u64);
}

/// When the server stores an append but the acknowledgement is lost, the adapter's retry with the
/// same event ids is recognised as the same write and stored once: by the server itself for
/// `NoStream`/`Exact` and for `Any` while its cache remembers, and by the adapter's own look at the
/// stream when a restart emptied that cache (the raw client, retrying the same way, stores a
/// duplicate there). Appends refused before storing are simply retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_acknowledgements_are_retried_without_duplicates() {
    let (store, server) = kurrent_store().await;
    let exact = unique_stream("lostexact");
    let any = unique_stream("lostany");
    let refused = unique_stream("refused");

    server.lose_next_acks(1);
    let first = scores(0, 2);
    let outcome = store
        .append(&exact, ExpectedRevision::NoStream, first.clone())
        .await
        .unwrap();
    assert_eq!(outcome.next_expected, 1);
    assert_eq!(stream_ids(&store, &exact).await, ids(&first));

    server.lose_next_acks(1);
    let a = score(10);
    store
        .append(&any, ExpectedRevision::Any, vec![a.clone()])
        .await
        .unwrap();
    server.lose_next_acks_across_restart(1);
    let b = score(11);
    store
        .append(&any, ExpectedRevision::Any, vec![b.clone()])
        .await
        .unwrap();
    assert_eq!(stream_ids(&store, &any).await, vec![a.event_id, b.event_id]);

    server.refuse_next_appends(2);
    let c = scores(12, 2);
    store
        .append(&refused, ExpectedRevision::NoStream, c.clone())
        .await
        .unwrap();
    assert_eq!(stream_ids(&store, &refused).await, ids(&c));

    assert_eq!(store.head().await.unwrap(), 6);
    assert!(store.verify(Progress::new()).await.unwrap().is_intact());

    // What the adapter protects against: the plain client, retrying an `Any` append the same way
    // after the node lost its cache, stores the event twice.
    let raw = kurrentdb::Client::new(server.connection_string().parse().unwrap()).unwrap();
    let dup = unique_stream("rawdup");
    let id = Uuid::now_v7();
    let event = || {
        kurrentdb::EventData::json("Probe", &serde_json::json!({"n": 1}))
            .unwrap()
            .id(id)
    };
    server.lose_next_acks_across_restart(1);
    let any_state = kurrentdb::AppendToStreamOptions::default();
    assert!(
        raw.append_to_stream(dup.as_str(), &any_state, event())
            .await
            .is_err()
    );
    raw.append_to_stream(dup.as_str(), &any_state, event())
        .await
        .unwrap();
    let copies = server
        .records()
        .into_iter()
        .filter(|r| r.event_id == id)
        .count();
    assert_eq!(
        copies, 2,
        "the server alone cannot tell this retry from a new write"
    );
}

fn ids(events: &[ledger_schemas::ProposedEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.event_id).collect()
}

/// An unreachable cluster is a clear `Unavailable` naming the address, within the retry budget, at
/// connect time and for an open store whose server went away; nothing is claimed stored. When the
/// server is back, the same store works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_is_unavailable_within_the_retry_budget() {
    let quick = KurrentOptions {
        retry: RetryPolicy {
            budget: Duration::from_millis(300),
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            call_timeout: Duration::from_secs(2),
        },
        ..options()
    };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("kurrentdb://127.0.0.1:{port}?tls=false");
    let started = Instant::now();
    let err = KurrentStore::connect_with(&url, quick.clone())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    match &err {
        StoreError::Unavailable(message) => {
            assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
            assert!(message.contains("attempts over"), "{message}");
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(err.is_transient());

    let server = test_server().await;
    let store = connect(&server, quick).await;
    let stream = unique_stream("outage");
    server.stop().await;
    let batch = scores(0, 2);
    let started = Instant::now();
    let err = store
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    server.restart().await.unwrap();
    assert!(
        stream_ids(&store, &stream).await.is_empty(),
        "a failed append stored nothing"
    );
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(outcome.next_expected, 1);
    assert_eq!(stream_ids(&store, &stream).await, ids(&batch));
}

/// With no notary running, an append is stored but cannot be sealed: it answers `Unavailable`
/// (never a success for an event outside the chain). Once a notary runs, the same append retried
/// with the same ids gets its positions and nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsealed_append_is_unavailable_and_safe_to_retry() {
    let server = test_server().await;
    let writer = connect(
        &server,
        KurrentOptions {
            notary: false,
            seal_timeout: Duration::from_millis(600),
            ..options()
        },
    )
    .await;
    let stream = unique_stream("unsealed");
    let batch = scores(0, 2);
    let err = writer
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(ref m) if m.contains("notary")),
        "{err:?}"
    );
    assert_eq!(
        server
            .records()
            .iter()
            .filter(|r| r.stream == stream)
            .count(),
        2,
        "the events are stored"
    );

    let _notary = connect(&server, options()).await;
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match writer
                .append(&stream, ExpectedRevision::NoStream, batch.clone())
                .await
            {
                Ok(outcome) => break outcome,
                Err(StoreError::Unavailable(_)) => continue,
                Err(other) => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("sealed once a notary runs");
    assert_eq!(outcome.positions, vec![1, 2]);
    assert_eq!(outcome.next_expected, 1);
    assert_eq!(stream_ids(&writer, &stream).await, ids(&batch));
}
