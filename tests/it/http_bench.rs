//! `ledger bench http` runs end to end: a small load over loopback completes without errors and
//! every acknowledged write is found in the reopened ledger file. The full-size run is ignored by
//! default (run it on a release build: `cargo test --release --test it http_bench -- --ignored`).

use ledger::bench::http::{HttpBenchArgs, measure};

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
        observability: "off".to_owned(),
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
        observability: "on".to_owned(),
    })
    .expect("the benchmark runs");
    assert_eq!(result.missing, 0);
}

/// `ledger bench console` runs end to end on a small synthetic ledger: every page and API read it
/// measures answers 200 (it fails otherwise), and the report has its ten rows and the ledger's size.
#[test]
fn the_console_benchmark_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("console.md");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["bench", "console", "--events", "3000", "--requests", "2"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(&out).unwrap();
    let rows = report
        .lines()
        .filter(|l| l.starts_with("| page") || l.starts_with("| baseline"))
        .count();
    // 待办 and the sheet pages, each beside its API baseline, joined (issue 15).
    assert_eq!(rows, 10, "{report}");
    assert!(
        report.contains("events (`bench projections`' synthetic ledger"),
        "{report}"
    );
    // The temporary ledger is removed afterwards.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "console.md")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
