//! The KurrentDB adapter against what only a real cluster shows, through the test server's fault
//! hooks: the leader moving (and crashing) while appends and a subscription run, a connection
//! string that names a follower, the leader's clock stepping back, a user who may not read `$all`,
//! credentials and TLS, a repeated append whose ids another write already used, and appends that
//! the client cancels half-way.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use esdb_testserver::{Options, User};
use futures_util::StreamExt;
use ledger::store::kurrent::{KurrentOptions, KurrentStore};
use ledger::store::{Direction, EventStore, ExpectedRevision, Progress, ReadFrom, StoreError};
use ledger_schemas::Envelope;
use uuid::Uuid;

use crate::kurrent::{connect, options, test_server};
use crate::store_support::{score, scores, unique_stream};

/// Waits for the next `n` events of a subscription.
async fn next_events(sub: &mut ledger::store::Subscription, n: usize) -> Vec<Envelope> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let event = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("the subscription delivers")
            .expect("the subscription does not end");
        match event {
            Ok(event) => got.push(event),
            // Reported while the cluster is electing; the subscription carries on.
            Err(StoreError::Unavailable(_)) => continue,
            Err(other) => panic!("{other:?}"),
        }
    }
    got
}

/// A 3-node cluster moves its leader twice while one application server appends continuously
/// (its connection string names a follower, so every loop must follow the leader redirect) and
/// another follows the log live (its string names every node); the second move crashes the old
/// leader. Every acknowledged event is stored exactly once, the subscription delivers every
/// position once and in order, and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_change_during_appends_and_a_subscription_loses_and_duplicates_nothing() {
    const APPENDS: u64 = 60;
    let cluster = esdb_testserver::start_cluster(3, Options::default())
        .await
        .unwrap();
    assert_eq!(cluster.leader(), 0);
    let writer_store = KurrentStore::connect_with(&cluster.node(1).connection_string(), options())
        .await
        .expect("a follower's connection string is redirected to the leader");
    let reader_store = KurrentStore::connect_with(&cluster.connection_string(), options())
        .await
        .unwrap();
    let mut live = reader_store.subscribe_all(0);
    let streams: Vec<String> = (0..3).map(|i| unique_stream(&format!("lead{i}"))).collect();
    let acked = Arc::new(AtomicU64::new(0));

    let writer = crate::kurrent_faults::continuous_writer(
        writer_store.clone(),
        streams.clone(),
        APPENDS,
        None,
        acked.clone(),
    );
    let wait_for = |n: u64| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while acked.load(Ordering::SeqCst) < n {
                assert!(Instant::now() < deadline, "the writer got stuck before {n}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    wait_for(APPENDS / 3).await;
    // An election: node 1 (the one the writer's string names) now leads.
    cluster.move_leader(1);
    wait_for(2 * APPENDS / 3).await;
    // The leader crashes and node 2 is elected; the crashed node comes back as a follower.
    cluster.node(1).stop().await;
    cluster.move_leader(2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.node(1).restart().await.unwrap();

    let (appended, failures) = writer.await.unwrap();
    assert!(
        failures.is_empty(),
        "the retries outlast the elections: {failures:?}"
    );
    let all_acked: HashSet<Uuid> = appended.values().flatten().copied().collect();
    for (s, ids) in &appended {
        let stored: Vec<Uuid> = reader_store
            .read_stream(
                &streams[*s],
                Direction::Forwards,
                ReadFrom::Edge,
                usize::MAX,
            )
            .await
            .unwrap()
            .iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(
            &stored, ids,
            "stream {s} holds exactly what was acknowledged"
        );
    }
    let log = reader_store
        .read_all(Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        log.len(),
        all_acked.len(),
        "nothing stored twice, nothing extra"
    );
    let delivered = next_events(&mut live, log.len()).await;
    assert_eq!(
        delivered, log,
        "the subscription delivered the log, once, in order"
    );
    let report = writer_store.verify(Progress::new()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.verified, log.len() as u64);
}

/// The leader's clock steps back 10 minutes between two batches of appends (an NTP correction, or
/// a failover to a node whose clock is behind). The server's own stamps go back; the recorded
/// times the ledger shows never do, the read models fold every event (they refuse time going
/// back), and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_step_back_on_the_server_never_shows_as_time_going_back() {
    let (store, server) = crate::kurrent::kurrent_store().await;
    let stream = unique_stream("clock");
    store
        .append(&stream, ExpectedRevision::NoStream, scores(0, 3))
        .await
        .unwrap();
    server.step_clock_back(Duration::from_secs(600));
    store
        .append(&stream, ExpectedRevision::Exact(2), scores(3, 3))
        .await
        .unwrap();

    let stamps: Vec<i64> = server
        .records()
        .iter()
        .filter(|r| r.stream == stream)
        .map(|r| r.created_ticks)
        .collect();
    assert!(
        stamps[3] < stamps[2] - 9 * 60 * 10_000_000,
        "the server's stamps went back: {stamps:?}"
    );
    let log = store
        .read_all(Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert_eq!(log.len(), 6);
    assert!(
        log.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at),
        "recorded times never decrease"
    );
    let mut model = ledger_projections::read::ReadModel::new();
    for envelope in &log {
        model
            .apply(envelope, &envelope.decode().unwrap())
            .expect("the read side folds every event");
    }
    assert_eq!(model.position(), 6);
    // A stream read shows the same (sealed) times as the log.
    let read = store
        .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, 10)
        .await
        .unwrap();
    assert_eq!(read, log);
    assert!(store.verify(Progress::new()).await.unwrap().is_intact());
}

fn secured(tls: bool) -> Options {
    Options {
        users: vec![
            User::admin("admin", "changeit"),
            User::ordinary("ledger", "s3cret"),
        ],
        tls: tls.then(esdb_testserver::test_tls_identity),
        ..Options::default()
    }
}

/// A user who may not read `$all` (only `$admins` may, by default) is told so at start-up, within
/// seconds and without retrying for the whole budget, in words that say what to change; so is a
/// wrong password. The right user connects over TLS (certificate checked against the test CA) with
/// the credentials of the connection string, and appends and reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_tls_and_a_user_who_may_not_read_all() {
    let server = esdb_testserver::start_with("127.0.0.1:0".parse().unwrap(), secured(true))
        .await
        .unwrap();
    let ca = esdb_testserver::TEST_CA_FILE;

    let started = Instant::now();
    let denied = KurrentStore::connect_with(
        &server.connection_string_with(Some(("ledger", "s3cret")), Some(ca)),
        options(),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = denied.to_string();
    assert!(
        message.contains("$all") && message.contains("$admins"),
        "{message}"
    );
    assert!(
        !message.contains("s3cret"),
        "no password in messages: {message}"
    );
    assert!(!denied.is_transient());

    let wrong = KurrentStore::connect_with(
        &server.connection_string_with(Some(("admin", "wrong")), Some(ca)),
        options(),
    )
    .await
    .unwrap_err();
    assert!(wrong.to_string().contains("password"), "{wrong}");

    let store = KurrentStore::connect_with(
        &server.connection_string_with(Some(("admin", "changeit")), Some(ca)),
        options(),
    )
    .await
    .expect("the admin connects over TLS");
    assert!(!store.url().contains("changeit"), "{}", store.url());
    let stream = unique_stream("tls");
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, scores(0, 2))
        .await
        .unwrap();
    assert_eq!(outcome.positions, vec![1, 2]);
    assert!(store.verify(Progress::new()).await.unwrap().is_intact());

    // Plain HTTP/2 to a TLS server is not a silent success either.
    let quick = KurrentOptions {
        retry: ledger::store::kurrent::RetryPolicy {
            budget: Duration::from_millis(500),
            ..Default::default()
        },
        ..options()
    };
    let plain = KurrentStore::connect_with(
        &server.connection_string_with(Some(("admin", "changeit")), None),
        quick,
    )
    .await
    .unwrap_err();
    assert!(plain.is_transient(), "{plain:?}");
}

/// An append whose ids another write stored a moment earlier with other content (here: written
/// by hand before any notary ran, so the adapter's index cannot know them yet) is acknowledged by
/// the server as a repeat, by its ids alone, and with the original write's position; the adapter
/// checks what was sealed and refuses it. The same append with the same content is the first
/// outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_with_the_same_ids_is_checked_against_what_was_sealed() {
    let server = test_server().await;
    let stream = unique_stream("repeat");
    let original = score(1);
    // The original write, by a writer without a notary (nothing sealed yet).
    let first = connect(
        &server,
        KurrentOptions {
            notary: false,
            seal_timeout: Duration::from_millis(300),
            ..options()
        },
    )
    .await;
    assert!(matches!(
        first
            .append(&stream, ExpectedRevision::NoStream, vec![original.clone()])
            .await,
        Err(StoreError::Unavailable(_))
    ));
    let writer = connect(
        &server,
        KurrentOptions {
            notary: false,
            ..options()
        },
    )
    .await;
    let mut changed = original.clone();
    changed.reason = Some("另一内容 other content".into());
    let repeat = tokio::spawn({
        let writer = writer.clone();
        let stream = stream.clone();
        async move {
            writer
                .append(&stream, ExpectedRevision::NoStream, vec![changed])
                .await
        }
    });
    // Only now a notary seals the stored original.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _notary = connect(&server, options()).await;
    match repeat.await.unwrap() {
        Err(StoreError::IdempotencyMismatch { event_id }) => {
            assert_eq!(event_id, original.event_id)
        }
        other => panic!("expected an idempotency mismatch, got {other:?}"),
    }
    let same = writer
        .append(&stream, ExpectedRevision::NoStream, vec![original.clone()])
        .await
        .unwrap();
    assert_eq!(same.positions, vec![1]);
    assert_eq!(
        server
            .records()
            .iter()
            .filter(|r| r.event_id == original.event_id)
            .count(),
        1,
        "stored once"
    );
}

/// Appends that the client abandons at random moments (the future dropped while the events are
/// still being sent) are all or nothing on the server, as on a real server: no stream ever holds
/// part of a batch. Those that landed are sealed like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_appends_are_all_or_nothing() {
    let (store, server) = crate::kurrent::kurrent_store().await;
    let raw = kurrentdb::Client::new(server.connection_string().parse().unwrap()).unwrap();
    let payload = "x".repeat(2_000);
    let mut streams = Vec::new();
    for i in 0..15u64 {
        let stream = unique_stream("cancel");
        let events: Vec<kurrentdb::EventData> = (0..200)
            .map(|n| {
                kurrentdb::EventData::json("Probe", &serde_json::json!({"n": n, "pad": payload}))
                    .unwrap()
            })
            .collect();
        let options = kurrentdb::AppendToStreamOptions::default();
        let cut = Duration::from_micros(200 + 150 * i);
        let _ = tokio::time::timeout(cut, raw.append_to_stream(stream.as_str(), &options, events))
            .await;
        streams.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut landed = 0;
    for stream in &streams {
        let stored = server
            .records()
            .iter()
            .filter(|r| &r.stream == stream)
            .count();
        assert!(
            stored == 0 || stored == 200,
            "{stream}: {stored} of 200 stored"
        );
        landed += usize::from(stored == 200);
    }
    eprintln!("cancelled appends: {landed} of 15 had completed before the cut");
    // The ledger's own appends are unaffected.
    store
        .append(
            &unique_stream("after"),
            ExpectedRevision::NoStream,
            scores(0, 1),
        )
        .await
        .unwrap();
}
