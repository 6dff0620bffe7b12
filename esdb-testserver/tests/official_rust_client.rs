//! Third-party suite: the official Rust client's own stream tests (`tests/api/streams.rs` of the
//! `kurrentdb` crate, the version in `Cargo.lock`), compiled from the crate package Cargo already
//! downloaded (located by `build.rs`; nothing of theirs is copied here) and run one by one against
//! the test server.
//!
//! Each test is classified before it runs: **in scope** when it exercises only what the ledger's
//! adapter uses (append, stream and `$all` reads, catch-up subscriptions, the server-features
//! handshake), and then it must pass; **not applicable** when it needs what the test server does
//! not serve (stream deletion, tombstones, server-side filters, batch append, stream metadata), and
//! then its outcome is only reported. The counts are in the test server's README.

#![cfg(kurrentdb_tests)]

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The crate's helpers (`fresh_stream_id`, `generate_events`), which its stream tests import as
/// `crate::common`. Their code is theirs: no lints of ours apply.
#[allow(dead_code, clippy::all)]
mod common {
    include!(concat!(env!("KURRENTDB_SRC"), "/tests/common.rs"));
}

/// The crate's stream tests, and a table of them for the runner (their functions are private to
/// this module).
#[allow(dead_code, clippy::all)]
mod streams {
    include!(concat!(env!("KURRENTDB_SRC"), "/tests/api/streams.rs"));

    type Run = fn(Client) -> super::Boxed;

    fn boxed<F>(f: F) -> super::Boxed
    where
        F: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        Box::pin(f)
    }

    /// `(name, in scope, run)`, in the order of the crate's own `tests()`.
    pub(crate) fn table() -> Vec<(&'static str, Option<&'static str>, Run)> {
        vec![
            ("test_write_events", None, |c| {
                boxed(async move { test_write_events(&c).await.map_err(|e| e.to_string()) })
            }),
            ("test_tick_date_conversion", None, |c| {
                boxed(async move {
                    test_tick_date_conversion(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            ("test_read_all_stream_events", None, |c| {
                boxed(async move {
                    test_read_all_stream_events(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            ("test_read_stream_events", None, |c| {
                boxed(async move { test_read_stream_events(&c).await.map_err(|e| e.to_string()) })
            }),
            ("test_read_stream_events_with_position", None, |c| {
                boxed(async move {
                    test_read_stream_events_with_position(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            ("test_read_stream_populates_log_position", None, |c| {
                boxed(async move {
                    test_read_stream_populates_log_position(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            ("test_read_stream_events_non_existent", None, |c| {
                boxed(async move {
                    test_read_stream_events_non_existent(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            (
                "test_metadata",
                Some(
                    "stream metadata ($$-streams, $maxAge, ACLs) is not served; the adapter does not use it",
                ),
                |c| boxed(async move { test_metadata(&c).await.map_err(|e| e.to_string()) }),
            ),
            (
                "test_metadata_not_exist",
                Some("stream metadata is not served; the adapter does not use it"),
                |c| {
                    boxed(
                        async move { test_metadata_not_exist(&c).await.map_err(|e| e.to_string()) },
                    )
                },
            ),
            (
                "test_delete_stream",
                Some("Delete is not served: the ledger never deletes"),
                |c| boxed(async move { test_delete_stream(&c).await.map_err(|e| e.to_string()) }),
            ),
            (
                "test_tombstone_stream",
                Some("Tombstone is not served: the ledger never deletes"),
                |c| {
                    boxed(async move { test_tombstone_stream(&c).await.map_err(|e| e.to_string()) })
                },
            ),
            ("test_subscription", None, |c| {
                boxed(async move { test_subscription(&c).await.map_err(|e| e.to_string()) })
            }),
            ("test_subscription_caughtup", None, |c| {
                boxed(async move {
                    test_subscription_caughtup(&c)
                        .await
                        .map_err(|e| e.to_string())
                })
            }),
            (
                "test_subscription_all_filter",
                Some("server-side filters are not served; the adapter subscribes unfiltered"),
                |c| {
                    boxed(async move {
                        test_subscription_all_filter(&c)
                            .await
                            .map_err(|e| e.to_string())
                    })
                },
            ),
            (
                "test_batch_append",
                Some("BatchAppend is not served; the adapter appends with Append"),
                |c| boxed(async move { test_batch_append(&c).await.map_err(|e| e.to_string()) }),
            ),
            (
                "test_read_all_filter",
                Some("server-side filters are not served; the adapter reads $all unfiltered"),
                |c| boxed(async move { test_read_all_filter(&c).await.map_err(|e| e.to_string()) }),
            ),
        ]
    }
}

type Boxed = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Every stream test of the official client in scope passes against the test server; the others
/// are run and reported with the reason they do not apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_rust_client_stream_tests() {
    let server = esdb_testserver::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let settings: kurrentdb::ClientSettings = server.connection_string().parse().unwrap();
    let (mut passed, mut failed, mut not_applicable) = (Vec::new(), Vec::new(), Vec::new());
    for (name, out_of_scope, run) in streams::table() {
        let client = kurrentdb::Client::new(settings.clone()).unwrap();
        // Spawned so that a test that panics (some assert by panicking) is one failure, and
        // bounded so that one waiting for an event that never comes cannot stall the suite.
        let outcome =
            tokio::time::timeout(Duration::from_secs(15), tokio::spawn(run(client))).await;
        let outcome = match outcome {
            Err(_) => Err("no result within 15 s".to_owned()),
            Ok(Err(join)) => Err(format!("panicked: {join}")),
            Ok(Ok(result)) => result,
        };
        match (out_of_scope, outcome) {
            (None, Ok(())) => passed.push(name),
            (None, Err(why)) => failed.push(format!("{name}: {why}")),
            (Some(reason), outcome) => not_applicable.push(format!(
                "{name} ({reason}; here it {})",
                match outcome {
                    Ok(()) => "passes".to_owned(),
                    Err(why) => format!("fails: {why}"),
                }
            )),
        }
    }
    println!(
        "kurrentdb {} stream tests against esdb-testserver: {} pass, {} fail, {} not applicable",
        env!("KURRENTDB_VERSION"),
        passed.len(),
        failed.len(),
        not_applicable.len()
    );
    for line in &not_applicable {
        println!("  not applicable: {line}");
    }
    assert!(failed.is_empty(), "in-scope tests failed: {failed:#?}");
    assert_eq!(passed.len(), 9, "every in-scope test ran: {passed:?}");
}
