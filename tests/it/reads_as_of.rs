//! As-of queries through `ReadSide` on a log longer than several checkpoint intervals: the tail
//! after a checkpoint is read from the store in parallel ranges and must come back whole and in
//! order; a read side handed models by `ledger rebuild`'s pipeline answers the same.

use std::sync::Arc;

use indicatif::ProgressDrawTarget;
use ledger::app::reads::{CHECKPOINT_EVERY, ReadAt, ReadSide};
use ledger::cli::rebuild::rebuild_model;
use ledger::store::{EventStore, ExpectedRevision};
use ledger_schemas::events::{UnitRegistered, UnitUpdated};
use ledger_schemas::ids::UnitId;
use ledger_schemas::values::UnitKind;
use ledger_schemas::{Actor, Event, ProposedEvent};
use uuid::Uuid;

use crate::store_support::sqlite_store;

/// Events in the test log: about two and a half checkpoint intervals.
pub(crate) const EVENTS: u64 = CHECKPOINT_EVERY * 5 / 2;

fn proposed(event: &Event) -> ProposedEvent {
    ProposedEvent::new(event, Actor::system(), Uuid::now_v7(), Uuid::now_v7())
}

/// Registers one unit (position 1), then renames it at every later position `p` to `n{p}`, so the
/// unit's name tells exactly which prefix of the log a view has folded.
pub(crate) async fn renamed_log(store: &impl EventStore) {
    let unit = UnitId::new("U0001").unwrap();
    let first = Event::UnitRegistered(UnitRegistered {
        unit: unit.clone(),
        name: "n1".into(),
        kind: UnitKind::Branch,
        parent: None,
    });
    let stream = first.stream();
    store
        .append(&stream, ExpectedRevision::NoStream, vec![proposed(&first)])
        .await
        .unwrap();
    let mut position = 1;
    while position < EVENTS {
        let batch: Vec<ProposedEvent> = (position + 1..=(position + 1000).min(EVENTS))
            .map(|p| {
                proposed(&Event::UnitUpdated(UnitUpdated {
                    unit: unit.clone(),
                    name: format!("n{p}"),
                    parent: None,
                }))
            })
            .collect();
        position += batch.len() as u64;
        store
            .append(&stream, ExpectedRevision::Any, batch)
            .await
            .unwrap();
    }
}

pub(crate) async fn name_at<S: EventStore>(reads: &ReadSide<S>, position: u64) -> String {
    reads
        .query(ReadAt::Position(position), |view| {
            view.state()
                .units
                .values()
                .next()
                .map(|u| u.name.clone())
                .unwrap_or_default()
        })
        .await
        .unwrap()
}

/// Proves that an as-of query at positions around and between checkpoints (where the tail is up to
/// a whole interval, read in two ranges at once) equals the fold of exactly that prefix, both for a
/// read side that caught up by itself and for one built from `rebuild_model`'s models.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_equals_the_prefix_across_checkpoints() {
    let (store, _temp) = sqlite_store();
    let store = Arc::new(store);
    renamed_log(store.as_ref()).await;
    assert_eq!(store.head().await.unwrap(), EVENTS);

    let every = CHECKPOINT_EVERY;
    let positions = [
        1,
        2,
        every - 1,
        every,
        every + 1,
        every + every / 2,
        2 * every - 1,
        2 * every,
        2 * every + 7,
        EVENTS - 1,
        EVENTS,
    ];
    let caught_up = ReadSide::new(store.clone());
    for p in positions {
        assert_eq!(name_at(&caught_up, p).await, format!("n{p}"), "as of {p}");
    }
    // A position past the end is the head.
    assert_eq!(
        name_at(&caught_up, EVENTS + 100).await,
        format!("n{EVENTS}")
    );

    let (model, report) = rebuild_model(store.as_ref(), ProgressDrawTarget::hidden())
        .await
        .unwrap();
    assert_eq!(report.events, EVENTS);
    assert_eq!(report.checkpoints as u64, EVENTS / every);
    let rebuilt = ReadSide::from_model(store.clone(), model);
    assert_eq!(rebuilt.position(), EVENTS);
    for p in positions {
        assert_eq!(
            name_at(&rebuilt, p).await,
            format!("n{p}"),
            "rebuilt, as of {p}"
        );
    }
    store.close().await;
}
