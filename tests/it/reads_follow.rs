//! The read side follows the store's live subscription (issue 4): events appended straight to the
//! store reach the read models through `ReadSide::follow`, with no query (and so no query-triggered
//! catch-up) in between.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::app::reads::{ReadAt, ReadSide};
use ledger::store::{EventStore, ExpectedRevision};
use ledger_schemas::events::UnitRegistered;
use ledger_schemas::ids::UnitId;
use ledger_schemas::values::UnitKind;
use ledger_schemas::{Actor, Event, ProposedEvent};
use uuid::Uuid;

use crate::store_support::sqlite_store;

/// Registers unit `U{n}` (a valid event for an empty ledger, on its own stream).
async fn register(store: &impl EventStore, n: u32) {
    let unit = UnitId::new(format!("U{n:04}")).unwrap();
    let event = Event::UnitRegistered(UnitRegistered {
        unit: unit.clone(),
        name: format!("支部 {n} branch"),
        kind: UnitKind::Branch,
        parent: None,
    });
    let proposed = ProposedEvent::new(&event, Actor::system(), Uuid::now_v7(), Uuid::now_v7());
    store
        .append(&event.stream(), ExpectedRevision::NoStream, vec![proposed])
        .await
        .unwrap();
}

/// Waits until the models have folded up to `position` (reading the position only: no catch-up).
async fn wait_for<S: EventStore>(reads: &ReadSide<S>, position: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reads.position() < position {
        assert!(
            Instant::now() < deadline,
            "the follower reached {} of {position} within 10 s",
            reads.position()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Proves that the follower folds the events committed before it started and then each new one as
/// it commits, without any query; and that a query afterwards (whose catch-up finds nothing new)
/// sees the same head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_folds_new_events_without_a_query() {
    let (store, _temp) = sqlite_store();
    let store = Arc::new(store);
    register(store.as_ref(), 1).await;
    register(store.as_ref(), 2).await;
    let reads = Arc::new(ReadSide::new(store.clone()));
    assert_eq!(
        reads.position(),
        0,
        "nothing is folded before the follower runs"
    );
    let follower = {
        let reads = reads.clone();
        tokio::spawn(async move { reads.follow().await })
    };
    wait_for(&reads, 2).await;
    for n in 3..=5 {
        register(store.as_ref(), n).await;
    }
    wait_for(&reads, 5).await;
    let units = reads
        .query(ReadAt::Head, |view| view.state().units.len())
        .await
        .unwrap();
    assert_eq!(units, 5);
    assert_eq!(reads.position(), 5);
    follower.abort();
    store.close().await;
}

/// Proves that the follower and query catch-ups do not fold an event twice: queries racing the
/// follower while events arrive leave the models at exactly the log's head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_and_catch_up_fold_each_event_once() {
    let (store, _temp) = sqlite_store();
    let store = Arc::new(store);
    let reads = Arc::new(ReadSide::new(store.clone()));
    let follower = {
        let reads = reads.clone();
        tokio::spawn(async move { reads.follow().await })
    };
    for n in 1..=40 {
        register(store.as_ref(), n).await;
        if n % 3 == 0 {
            reads.catch_up().await.unwrap();
        }
    }
    wait_for(&reads, 40).await;
    let units = reads
        .query(ReadAt::Head, |view| view.state().units.len())
        .await
        .unwrap();
    assert_eq!(units, 40);
    assert_eq!(reads.position(), store.head().await.unwrap());
    assert!(!follower.is_finished(), "the follower is still following");
    follower.abort();
    store.close().await;
}
