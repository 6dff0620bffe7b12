//! The event-store port's contract, written once as generic functions over `S: EventStore` and run
//! against every backend by [`store_contract_tests!`].
//!
//! The functions assume only what the port promises, so that the same suite can judge another
//! backend (an EventStoreDB adapter is planned): every test works in streams of its own and measures
//! the log relative to its head before it starts (the log may be shared and not empty); positions are
//! compared for order, never assumed consecutive. What only the embedded store promises (positions
//! 1, 2, 3, ...; file states; group commit) is tested in `store_sqlite.rs`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ledger::store::{
    ActualRevision, Direction, EventStore, ExpectedRevision, Progress, ReadFrom, StoreError,
    read_all_stream,
};
use ledger_schemas::integrity::canonical_json;
use ledger_schemas::{Envelope, ProposedEvent};
use uuid::Uuid;

use crate::store_support::{score, scores, unique_stream};

/// Runs every property below against one backend. `$make` is an expression giving
/// `(store, guard)`; the guard (e.g. a temporary directory) lives as long as the test.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@each $make;
            appending_to_a_new_stream_stamps_every_field,
            no_stream_expectation_conflicts_on_an_existing_stream,
            exact_expectation_must_match_the_last_revision,
            any_expectation_appends_whatever_the_stream_holds,
            retry_with_the_same_ids_returns_the_first_outcome_and_writes_nothing,
            reused_ids_with_other_content_stream_or_expectation_are_refused,
            empty_and_invalid_appends_are_refused,
            a_refused_multi_event_append_writes_none_of_its_events,
            streams_read_either_way_from_a_revision,
            the_global_log_reads_in_pages_either_way,
            the_whole_log_streams_in_order,
            head_is_the_last_committed_position,
            subscription_catches_up_then_delivers_live_events,
            subscription_from_the_head_sees_only_new_events,
            recorded_times_are_utc_microseconds_and_never_go_backwards,
            the_chain_links_every_event_and_verifies,
            exact_revision_race_has_exactly_one_winner_per_revision,
            concurrent_writers_with_retries_lose_and_duplicate_nothing,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[doc = concat!(
                "Contract property `", stringify!($name),
                "`: what it proves is documented on the generic function of that name in store_contract.rs."
            )]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make;
                $crate::store_contract::$name(&store).await;
            }
        )*
    };
}

/// The contract, run against the embedded SQLite store.
mod sqlite {
    crate::store_contract_tests!(crate::store_support::sqlite_store());
}

fn ids(events: &[Envelope]) -> Vec<Uuid> {
    events.iter().map(|e| e.event_id).collect()
}

fn proposed_ids(events: &[ProposedEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.event_id).collect()
}

async fn stream_len<S: EventStore>(store: &S, stream: &str) -> usize {
    store
        .read_stream(stream, Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap()
        .len()
}

/// Appending to a new stream with `NoStream` gives revisions 0, 1, 2 at increasing positions, and
/// the stored envelopes carry exactly what was proposed (payload in canonical form) plus the stamps:
/// positions, revisions, time, and a hash chain linking each event to the one before it in the log.
pub async fn appending_to_a_new_stream_stamps_every_field<S: EventStore>(store: &S) {
    let stream = unique_stream("stamp");
    let proposed = scores(0, 3);
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, proposed.clone())
        .await
        .unwrap();
    assert_eq!(outcome.positions.len(), 3);
    assert!(
        outcome.positions.windows(2).all(|w| w[0] < w[1]),
        "{outcome:?}"
    );
    assert_eq!(outcome.next_expected, 2);

    let stored = store
        .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    for (i, (env, prop)) in stored.iter().zip(&proposed).enumerate() {
        assert_eq!(env.stream, stream);
        assert_eq!(env.revision, i as u64);
        assert_eq!(env.position, outcome.positions[i]);
        assert_eq!(env.event_id, prop.event_id);
        assert_eq!(env.event_type, prop.event_type);
        assert_eq!(env.schema_version, prop.schema_version);
        assert_eq!(env.actor, prop.actor);
        assert_eq!(env.reason, prop.reason);
        assert_eq!(env.correlation_id, prop.correlation_id);
        assert_eq!(env.causation_id, prop.causation_id);
        assert_eq!(env.payload, canonical_json(&prop.payload));
        assert_eq!(env.decode().unwrap().payload(), prop.payload);
        assert_eq!(
            ledger_schemas::integrity::HashInput::of(env).hash(),
            env.hash
        );
    }
    assert!(proposed[0].reason.is_some() && proposed[1].reason.is_none());
    // Each event's prev_hash is the hash of the event before it in the global log.
    for env in &stored {
        let around = store
            .read_all(Direction::Backwards, ReadFrom::At(env.position), 2)
            .await
            .unwrap();
        assert_eq!(around[0].event_id, env.event_id);
        match around.get(1) {
            Some(before) => assert_eq!(env.prev_hash, before.hash),
            None => assert_eq!(env.prev_hash, ledger_schemas::integrity::Digest::ZERO),
        }
    }
}

/// `NoStream` on a stream that exists is a conflict naming the stream, what was expected and what
/// was found; nothing is written.
pub async fn no_stream_expectation_conflicts_on_an_existing_stream<S: EventStore>(store: &S) {
    let stream = unique_stream("nostream");
    store
        .append(&stream, ExpectedRevision::NoStream, vec![score(1)])
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let err = store
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
    let text = err.to_string();
    assert!(
        text.contains(&stream) && text.contains("no stream") && text.contains("revision 0"),
        "{text}"
    );
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(stream_len(store, &stream).await, 1);
}

/// `Exact(r)` succeeds only when the stream's last revision is `r`; otherwise the conflict reports
/// the actual revision (or that there is no stream).
pub async fn exact_expectation_must_match_the_last_revision<S: EventStore>(store: &S) {
    let stream = unique_stream("exact");
    let err = store
        .append(&stream, ExpectedRevision::Exact(0), vec![score(1)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                actual: ActualRevision::NoStream,
                expected: ExpectedRevision::Exact(0),
                ..
            }
        ),
        "{err:?}"
    );
    store
        .append(&stream, ExpectedRevision::NoStream, scores(2, 2))
        .await
        .unwrap();
    for wrong in [0, 5] {
        let err = store
            .append(&stream, ExpectedRevision::Exact(wrong), vec![score(9)])
            .await
            .unwrap_err();
        match err {
            StoreError::Conflict {
                expected, actual, ..
            } => {
                assert_eq!(expected, ExpectedRevision::Exact(wrong));
                assert_eq!(actual, ActualRevision::Exact(1));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    let outcome = store
        .append(&stream, ExpectedRevision::Exact(1), vec![score(4)])
        .await
        .unwrap();
    assert_eq!(outcome.next_expected, 2);
    assert_eq!(stream_len(store, &stream).await, 3);
}

/// `Any` appends to a missing stream and to an existing one alike.
pub async fn any_expectation_appends_whatever_the_stream_holds<S: EventStore>(store: &S) {
    let stream = unique_stream("any");
    let first = store
        .append(&stream, ExpectedRevision::Any, vec![score(1)])
        .await
        .unwrap();
    assert_eq!(first.next_expected, 0);
    let second = store
        .append(&stream, ExpectedRevision::Any, scores(2, 2))
        .await
        .unwrap();
    assert_eq!(second.next_expected, 2);
    assert!(second.positions[0] > first.positions[0]);
}

/// Appending the same event ids with the same expectation again, even after the stream and the log
/// have moved on, returns the first outcome and writes nothing.
pub async fn retry_with_the_same_ids_returns_the_first_outcome_and_writes_nothing<S: EventStore>(
    store: &S,
) {
    let stream = unique_stream("retry");
    let batch = scores(10, 2);
    let first = store
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap();
    let next = vec![score(12)];
    let second = store
        .append(&stream, ExpectedRevision::Exact(1), next.clone())
        .await
        .unwrap();
    store
        .append(
            &unique_stream("other"),
            ExpectedRevision::Any,
            vec![score(13)],
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();

    let again = store
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(again, first);
    let again = store
        .append(&stream, ExpectedRevision::Exact(1), next)
        .await
        .unwrap();
    assert_eq!(again, second);
    let again = store
        .append(&stream, ExpectedRevision::Any, batch)
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "Any is the same expectation for any stream state"
    );

    assert_eq!(store.head().await.unwrap(), head, "a retry writes nothing");
    assert_eq!(stream_len(store, &stream).await, 3);
}

/// An id that is already stored cannot stand for anything else: other content, another stream,
/// another expectation, or a mix of stored and new ids is `IdempotencyMismatch`, and nothing of the
/// refused append is written.
pub async fn reused_ids_with_other_content_stream_or_expectation_are_refused<S: EventStore>(
    store: &S,
) {
    let stream = unique_stream("reuse");
    let original = score(20);
    store
        .append(&stream, ExpectedRevision::NoStream, vec![original.clone()])
        .await
        .unwrap();
    let head = store.head().await.unwrap();

    let mut other_content = score(21);
    other_content.event_id = original.event_id;
    let mut other_reason = original.clone();
    other_reason.reason = Some("不同的理由 another reason".into());
    let fresh = score(22);
    let attempts: Vec<(String, ExpectedRevision, Vec<ProposedEvent>)> = vec![
        (
            stream.clone(),
            ExpectedRevision::Exact(0),
            vec![other_content],
        ),
        (
            stream.clone(),
            ExpectedRevision::NoStream,
            vec![other_reason],
        ),
        (
            unique_stream("elsewhere"),
            ExpectedRevision::Any,
            vec![original.clone()],
        ),
        (
            stream.clone(),
            ExpectedRevision::Exact(0),
            vec![original.clone()],
        ),
        (
            stream.clone(),
            ExpectedRevision::NoStream,
            vec![original.clone(), fresh.clone()],
        ),
        (
            stream.clone(),
            ExpectedRevision::Exact(0),
            vec![fresh.clone(), original.clone()],
        ),
    ];
    for (i, (target, expected, events)) in attempts.into_iter().enumerate() {
        let err = store.append(&target, expected, events).await.unwrap_err();
        assert!(
            matches!(err, StoreError::IdempotencyMismatch { .. }),
            "attempt {i}: expected an idempotency mismatch, got {err:?}"
        );
        if i < 4 {
            assert!(
                matches!(err, StoreError::IdempotencyMismatch { event_id } if event_id == original.event_id)
            );
        }
    }
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(stream_len(store, &stream).await, 1);
}

/// An empty append, an append repeating an id, and an append to an empty stream name are refused
/// as invalid, and write nothing.
pub async fn empty_and_invalid_appends_are_refused<S: EventStore>(store: &S) {
    let head = store.head().await.unwrap();
    let stream = unique_stream("invalid");
    let err = store
        .append(&stream, ExpectedRevision::Any, vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidAppend(_)), "{err:?}");
    let twice = score(30);
    let err = store
        .append(&stream, ExpectedRevision::Any, vec![twice.clone(), twice])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidAppend(_)), "{err:?}");
    let err = store
        .append("", ExpectedRevision::Any, vec![score(31)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidAppend(_)), "{err:?}");
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(stream_len(store, &stream).await, 0);
}

/// An append of several events is all or nothing: when its expectation fails, or its last event
/// reuses a stored id, none of its events is stored.
pub async fn a_refused_multi_event_append_writes_none_of_its_events<S: EventStore>(store: &S) {
    let taken = score(40);
    store
        .append(
            &unique_stream("taken"),
            ExpectedRevision::Any,
            vec![taken.clone()],
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let stream = unique_stream("atomic");
    let mut batch = scores(41, 3);
    batch.push(taken);
    let err = store
        .append(&stream, ExpectedRevision::NoStream, batch.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyMismatch { .. }),
        "{err:?}"
    );
    let err = store
        .append(&stream, ExpectedRevision::Exact(3), scores(45, 3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(stream_len(store, &stream).await, 0);
    // The new events of the refused batch are not hiding anywhere: they can still be appended.
    let outcome = store
        .append(&stream, ExpectedRevision::NoStream, batch[..3].to_vec())
        .await
        .unwrap();
    assert_eq!(outcome.next_expected, 2);
}

/// A stream reads forwards or backwards from any revision, up to `max`; an unknown stream and a
/// start past the end read as empty.
pub async fn streams_read_either_way_from_a_revision<S: EventStore>(store: &S) {
    let stream = unique_stream("reads");
    let proposed = scores(50, 10);
    let all = proposed_ids(&proposed);
    store
        .append(&stream, ExpectedRevision::NoStream, proposed)
        .await
        .unwrap();
    let read = |direction, from, max| store.read_stream(&stream, direction, from, max);
    let revs = |events: Vec<Envelope>| events.iter().map(|e| e.revision).collect::<Vec<_>>();

    assert_eq!(
        ids(&read(Direction::Forwards, ReadFrom::Edge, 100)
            .await
            .unwrap()),
        all
    );
    assert_eq!(
        revs(read(Direction::Forwards, ReadFrom::At(3), 4).await.unwrap()),
        [3, 4, 5, 6]
    );
    assert_eq!(
        revs(
            read(Direction::Backwards, ReadFrom::At(6), 3)
                .await
                .unwrap()
        ),
        [6, 5, 4]
    );
    assert_eq!(
        revs(read(Direction::Backwards, ReadFrom::Edge, 2).await.unwrap()),
        [9, 8]
    );
    assert_eq!(
        revs(
            read(Direction::Backwards, ReadFrom::At(0), 5)
                .await
                .unwrap()
        ),
        [0]
    );
    assert!(
        read(Direction::Forwards, ReadFrom::At(10), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        read(Direction::Forwards, ReadFrom::Edge, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let unknown = store
        .read_stream(
            &unique_stream("nobody"),
            Direction::Forwards,
            ReadFrom::Edge,
            10,
        )
        .await
        .unwrap();
    assert!(unknown.is_empty());
}

/// Paging through the global log forwards and backwards from a position visits every event once,
/// in position order, with events of different streams interleaved as they were appended.
pub async fn the_global_log_reads_in_pages_either_way<S: EventStore>(store: &S) {
    let streams = [
        unique_stream("pa"),
        unique_stream("pb"),
        unique_stream("pc"),
    ];
    let mut appended = Vec::new();
    let mut first_position = None;
    for i in 0..25u64 {
        let event = score(60 + i);
        appended.push(event.event_id);
        let outcome = store
            .append(
                &streams[(i % 3) as usize],
                ExpectedRevision::Any,
                vec![event],
            )
            .await
            .unwrap();
        first_position.get_or_insert(outcome.positions[0]);
    }
    let first_position = first_position.unwrap();

    let mut forwards = Vec::new();
    let mut from = first_position;
    loop {
        let page = store
            .read_all(Direction::Forwards, ReadFrom::At(from), 7)
            .await
            .unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[0].position < w[1].position));
        from = last.position + 1;
        forwards.extend(page);
    }
    let ours: Vec<Uuid> = ids(&forwards)
        .into_iter()
        .filter(|id| appended.contains(id))
        .collect();
    assert_eq!(ours, appended);

    let mut backwards = Vec::new();
    let mut from = ReadFrom::Edge;
    loop {
        let page = store.read_all(Direction::Backwards, from, 7).await.unwrap();
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        assert!(page.windows(2).all(|w| w[0].position > w[1].position));
        from = ReadFrom::At(last - 1);
        backwards.extend(page);
        if last <= first_position || last == 1 {
            break;
        }
    }
    let mut ours: Vec<Uuid> = ids(&backwards)
        .into_iter()
        .filter(|id| appended.contains(id))
        .collect();
    ours.reverse();
    assert_eq!(ours, appended);
}

/// `read_all_stream` yields the whole log after a position, across many pages, in order, once.
pub async fn the_whole_log_streams_in_order<S: EventStore>(store: &S) {
    let before = store.head().await.unwrap();
    let stream = unique_stream("whole");
    let proposed = scores(100, 23);
    let expected = proposed_ids(&proposed);
    for chunk in proposed.chunks(5) {
        store
            .append(&stream, ExpectedRevision::Any, chunk.to_vec())
            .await
            .unwrap();
    }
    let streamed: Vec<Envelope> = read_all_stream(store, before, 4)
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert!(streamed.windows(2).all(|w| w[0].position < w[1].position));
    assert!(streamed.iter().all(|e| e.position > before));
    let ours: Vec<Uuid> = ids(&streamed)
        .into_iter()
        .filter(|id| expected.contains(id))
        .collect();
    assert_eq!(ours, expected);
}

/// `head` is the position of the last committed event.
pub async fn head_is_the_last_committed_position<S: EventStore>(store: &S) {
    let outcome = store
        .append(
            &unique_stream("head"),
            ExpectedRevision::Any,
            scores(130, 3),
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    assert!(head >= outcome.positions[2]);
    let last = store
        .read_all(Direction::Backwards, ReadFrom::Edge, 1)
        .await
        .unwrap();
    assert_eq!(last[0].position, head);
}

async fn next_within<T>(sub: &mut (impl futures_util::Stream<Item = T> + Unpin), what: &str) -> T {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap_or_else(|| panic!("the subscription ended before {what}"))
}

/// A subscription from a position first delivers the events already stored after it, then keeps
/// delivering new events as they commit, in log order, without gaps or repeats.
pub async fn subscription_catches_up_then_delivers_live_events<S: EventStore>(store: &S) {
    let stream = unique_stream("sub");
    let start = store.head().await.unwrap();
    let stored = scores(140, 3);
    store
        .append(&stream, ExpectedRevision::NoStream, stored.clone())
        .await
        .unwrap();
    let mut sub = store.subscribe_all(start);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = next_within(&mut sub, "catch-up").await.unwrap();
        assert!(event.position > start);
        if event.stream == stream {
            seen.push(event.event_id);
        }
    }
    assert_eq!(seen, proposed_ids(&stored));

    let live = scores(143, 2);
    store
        .append(&stream, ExpectedRevision::Exact(2), live[..1].to_vec())
        .await
        .unwrap();
    store
        .append(&stream, ExpectedRevision::Exact(3), live[1..].to_vec())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut last_position = 0;
    while seen.len() < 2 {
        let event = next_within(&mut sub, "live events").await.unwrap();
        assert!(event.position > last_position);
        last_position = event.position;
        if event.stream == stream {
            seen.push(event.event_id);
        }
    }
    assert_eq!(seen, proposed_ids(&live));
}

/// Subscribing at the head delivers nothing old, and an event appended afterwards arrives.
pub async fn subscription_from_the_head_sees_only_new_events<S: EventStore>(store: &S) {
    store
        .append(
            &unique_stream("old"),
            ExpectedRevision::Any,
            vec![score(150)],
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let mut sub = store.subscribe_all(head);
    let nothing = tokio::time::timeout(Duration::from_millis(200), sub.next()).await;
    assert!(
        nothing.is_err(),
        "nothing new was appended, yet got {nothing:?}"
    );
    let stream = unique_stream("new");
    let event = score(151);
    store
        .append(&stream, ExpectedRevision::NoStream, vec![event.clone()])
        .await
        .unwrap();
    loop {
        let got = next_within(&mut sub, "the new event").await.unwrap();
        assert!(got.position > head);
        if got.stream == stream {
            assert_eq!(got.event_id, event.event_id);
            break;
        }
    }
}

/// Recorded-at times are set by the store in UTC at microsecond precision, close to now, and never
/// earlier than the event before them in the log.
pub async fn recorded_times_are_utc_microseconds_and_never_go_backwards<S: EventStore>(store: &S) {
    let before = chrono::Utc::now();
    let start = store.head().await.unwrap();
    for i in 0..10 {
        store
            .append(
                &unique_stream("time"),
                ExpectedRevision::Any,
                scores(160 + 2 * i, 2),
            )
            .await
            .unwrap();
    }
    let after = chrono::Utc::now();
    let events = store
        .read_all(Direction::Forwards, ReadFrom::At(start + 1), 1000)
        .await
        .unwrap();
    assert!(events.len() >= 20);
    for pair in events.windows(2) {
        assert!(pair[0].recorded_at <= pair[1].recorded_at, "{pair:?}");
    }
    for event in &events {
        assert_eq!(event.recorded_at.timestamp_subsec_nanos() % 1000, 0);
        assert!(event.recorded_at >= before - chrono::Duration::seconds(5));
        assert!(event.recorded_at <= after + chrono::Duration::seconds(5));
    }
}

/// Every event is linked to the one before it by its hash, and `verify` walks the whole chain,
/// reporting it intact with its head hash and counting progress as it goes.
pub async fn the_chain_links_every_event_and_verifies<S: EventStore>(store: &S) {
    store
        .append(
            &unique_stream("chain"),
            ExpectedRevision::Any,
            scores(200, 30),
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let last = store
        .read_all(Direction::Backwards, ReadFrom::Edge, 1)
        .await
        .unwrap()
        .remove(0);
    let progress = Progress::new();
    let report = store.verify(progress.clone()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert!(report.verified >= 30);
    assert_eq!(progress.get(), report.verified);
    assert_eq!(report.head, last.hash);
    assert_eq!(last.position, head);
}

/// Many tasks race, round after round, to append to one stream with the same exact expected
/// revision: in every round exactly one wins and every other gets a conflict saying what it
/// expected and what the stream actually holds; the stream ends with one event per round.
pub async fn exact_revision_race_has_exactly_one_winner_per_revision<S: EventStore>(store: &S) {
    const TASKS: usize = 12;
    const ROUNDS: u64 = 15;
    let stream = unique_stream("race");
    let barrier = tokio::sync::Barrier::new(TASKS);
    let mut winners = Vec::new();
    for round in 0..ROUNDS {
        let expected = if round == 0 {
            ExpectedRevision::NoStream
        } else {
            ExpectedRevision::Exact(round - 1)
        };
        let attempts = (0..TASKS).map(|task| {
            let (stream, barrier) = (&stream, &barrier);
            async move {
                let event = score(1000 + round * 100 + task as u64);
                let id = event.event_id;
                barrier.wait().await;
                (id, store.append(stream, expected, vec![event]).await)
            }
        });
        let results = futures_util::future::join_all(attempts).await;
        let mut won = Vec::new();
        for (id, result) in results {
            match result {
                Ok(outcome) => {
                    assert_eq!(outcome.next_expected, round);
                    won.push(id);
                }
                Err(StoreError::Conflict {
                    expected: e,
                    actual,
                    ..
                }) => {
                    assert_eq!(e, expected);
                    assert_eq!(actual, ActualRevision::Exact(round));
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: winners {won:?}");
        winners.push(won[0]);
    }
    let stored = store
        .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert_eq!(ids(&stored), winners);
    assert!(
        stored
            .iter()
            .enumerate()
            .all(|(i, e)| e.revision == i as u64)
    );
}

/// Many tasks append to one stream at once with exact expected revisions, re-reading and retrying
/// on conflict: every event each task meant to append is stored exactly once, the revisions run
/// 0..n without a gap, and each task's events keep their order.
pub async fn concurrent_writers_with_retries_lose_and_duplicate_nothing<S: EventStore>(store: &S) {
    const TASKS: u64 = 16;
    const EACH: u64 = 8;
    let stream = Arc::new(unique_stream("crowd"));
    let conflicts = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let tasks = (0..TASKS).map(|task| {
        let (stream, conflicts) = (stream.clone(), conflicts.clone());
        async move {
            let mut mine = Vec::new();
            for i in 0..EACH {
                let event = score(2000 + task * 100 + i);
                mine.push(event.event_id);
                loop {
                    let last = store
                        .read_stream(&stream, Direction::Backwards, ReadFrom::Edge, 1)
                        .await
                        .unwrap();
                    let expected = last.first().map_or(ExpectedRevision::NoStream, |e| {
                        ExpectedRevision::Exact(e.revision)
                    });
                    match store.append(&stream, expected, vec![event.clone()]).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => {
                            conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
            }
            (task, mine)
        }
    });
    let appended: BTreeMap<u64, Vec<Uuid>> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .collect();
    let stored = store
        .read_stream(&stream, Direction::Forwards, ReadFrom::Edge, usize::MAX)
        .await
        .unwrap();
    assert_eq!(stored.len() as u64, TASKS * EACH);
    assert!(
        stored
            .iter()
            .enumerate()
            .all(|(i, e)| e.revision == i as u64)
    );
    let unique: HashSet<Uuid> = stored.iter().map(|e| e.event_id).collect();
    assert_eq!(unique.len(), stored.len(), "no event stored twice");
    let order: Vec<Uuid> = ids(&stored);
    for mine in appended.values() {
        let at: Vec<usize> = mine
            .iter()
            .map(|id| {
                order
                    .iter()
                    .position(|x| x == id)
                    .expect("every event stored")
            })
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "a task's events keep their order"
        );
    }
}
