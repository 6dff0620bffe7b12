//! `ledger bench http` runs end to end: a small load over loopback completes without errors and
//! every acknowledged write is found in the reopened ledger file. The full-size run is ignored by
//! default (run it on a release build: `cargo test --release --test it http_bench -- --ignored`).

use ledger::cli::bench_http::{HttpBenchArgs, measure};

/// A small run: every write is acknowledged, none is missing afterwards.
#[test]
fn the_http_benchmark_acknowledges_and_keeps_every_write() {
    let result = measure(HttpBenchArgs {
        writes: 600,
        clients: 8,
        dir: None,
        out: None,
        server_threads: 2,
        client_threads: 1,
    })
    .expect("the benchmark runs");
    assert_eq!(result.errors, 0);
    assert_eq!(result.acknowledged, 600);
    assert_eq!(result.missing, 0);
}

/// The full-size measurement (the figures in BENCHMARKS.md).
#[test]
#[ignore = "a measurement: run on a release build"]
fn the_http_benchmark_at_full_size() {
    let server_threads = std::env::var("BENCH_SERVER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let clients = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let client_threads = std::env::var("BENCH_CLIENT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let result = measure(HttpBenchArgs {
        writes: 60_000,
        clients,
        dir: None,
        out: None,
        server_threads,
        client_threads,
    })
    .expect("the benchmark runs");
    assert_eq!(result.missing, 0);
}
