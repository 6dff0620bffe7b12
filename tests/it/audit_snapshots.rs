//! Forged read-model snapshots (issue 14): an editor of the ledger file who changes a score inside a
//! kept snapshot's JSON (SH-CZ's A3 in 2026Q3, 2 → 3, which would make the standings say 91.35 for
//! 91.05) is caught. The snapshot's seal no longer holds, so no read side starts from it (the CLI's,
//! the server's): the figures served are a fresh fold's; every variant of `ledger verify` and the
//! API's verification name it; and a server that wrote and stopped cleanly keeps no snapshot derived
//! from it. A ledger without a key keeps and uses none.

use std::net::SocketAddr;
use std::path::Path;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use indicatif::ProgressDrawTarget;
use ledger::cli::rebuild::{rebuild_model_every, write_snapshots_keeping};
use ledger::store::SqliteStore;
use ledger_projections::read::PROJECTION_CODE_VERSION;
use rusqlite::Connection;
use serde_json::Value;

use crate::cli_support::{demo_copy, json, ledger, ok, shared_demo, stderr, stdout};

/// The demo unit, period and item the forgery changes, and the figure a fresh fold gives.
const UNIT: &str = "SH-CZ";
const PERIOD: &str = "2026Q3";
const TRUE_SCORE: &str = "91.05";

/// Changes SH-CZ's A3 in 2026Q3 from 2 to 3 inside the stored snapshot at `position`, as anyone
/// with the file and an SQLite tool could: the snapshot table has no triggers and no hash chain.
fn forge(path: &Path, position: u64) {
    let raw = Connection::open(path).unwrap();
    let bytes: Vec<u8> = raw
        .query_row(
            "SELECT bytes FROM projection_snapshots WHERE code_version = ?1 AND position = ?2",
            rusqlite::params![i64::from(PROJECTION_CODE_VERSION), position as i64],
            |r| r.get(0),
        )
        .unwrap();
    let mut snapshot: Value = serde_json::from_slice(&bytes).unwrap();
    let sheet = snapshot["state"]["sheets"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s[0] == serde_json::json!({"period": PERIOD, "unit": UNIT}))
        .expect("the sheet is in the snapshot");
    let score = sheet[1]["scores"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s[0] == "A3")
        .expect("A3 is scored");
    assert_eq!(score[1]["value"]["points"], "2", "the demo's A3");
    score[1]["value"]["points"] = "3".into();
    let changed = raw
        .execute(
            "UPDATE projection_snapshots SET bytes = ?1 WHERE code_version = ?2 AND position = ?3",
            rusqlite::params![
                serde_json::to_vec(&snapshot).unwrap(),
                i64::from(PROJECTION_CODE_VERSION),
                position as i64
            ],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// `ledger standings --period 2026Q3 --json`, with extra arguments.
fn standings(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["standings", "--period", PERIOD, "--json"];
    args.extend_from_slice(extra);
    json(&ledger(path, &args))
}

/// SH-CZ's ranked score in standings.
fn score_of(standings: &Value) -> &str {
    standings["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == UNIT)
        .unwrap()["ranked_score"]
        .as_str()
        .unwrap()
}

/// The positions of the snapshots `ledger verify --json` found at fault.
fn bad_snapshots(report: &Value) -> Vec<u64> {
    report["snapshots"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["valid"] == false)
        .map(|e| e["position"].as_u64().unwrap())
        .collect()
}

/// A demo token of `role`.
fn token(role: &str) -> String {
    shared_demo().summary["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == role)
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One HTTP exchange with a server under test.
async fn call(
    addr: SocketAddr,
    method: hyper::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            body.map(|b| serde_json::to_vec(&b).unwrap())
                .unwrap_or_default(),
        )))
        .unwrap();
    let reply = client.request(request).await.unwrap();
    let status = reply.status().as_u16();
    let bytes = reply.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A console page as the person `token` belongs to sees it.
async fn page(addr: SocketAddr, path: &str, token: &str) -> String {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let request = hyper::Request::builder()
        .uri(format!("http://{addr}{path}"))
        .header("cookie", format!("ledger_token={token}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let reply = client.request(request).await.unwrap();
    assert_eq!(reply.status(), 200, "{path}");
    let bytes = reply.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Proves that a forged snapshot is never served by the command line, neither the whole model at
/// the head (`ledger standings`) nor an older state snapshot an as-of query would start from
/// (`--at-position`): the figures are a fresh fold's. And that every variant of `ledger verify`
/// (plain, `--json`, `--public-key`, `--against`, `--refold`) fails naming both forged snapshots by
/// position, while saying the chain itself holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_snapshot_is_not_served_and_every_verify_names_it() {
    let (dir, path) = demo_copy();
    // Snapshots every 64 positions, so that there are older state snapshots to forge too.
    let store = SqliteStore::open_existing(&path).unwrap();
    let (model, _) = rebuild_model_every(&store, ProgressDrawTarget::hidden(), 64)
        .await
        .unwrap();
    let kept = write_snapshots_keeping(&store, &model, usize::MAX)
        .await
        .unwrap();
    store.close().await;
    let head = model.position();
    let older = kept.positions[kept.positions.len() - 2];
    assert_eq!((kept.positions.last(), older % 64), (Some(&head), 0));
    let public_key = dir.path().join("public-key");
    std::fs::write(
        &public_key,
        stdout(ok(&ledger(&path, &["audit", "public-key"]))),
    )
    .unwrap();
    let kept_note = dir.path().join("kept.note");
    std::fs::write(
        &kept_note,
        stdout(ok(&ledger(&path, &["audit", "checkpoint"]))),
    )
    .unwrap();
    let as_of = (older + 5).to_string();
    let truth_now = standings(&path, &[]);
    let truth_then = standings(&path, &["--at-position", &as_of]);
    assert_eq!(score_of(&truth_now), TRUE_SCORE);

    // An older state snapshot forged: the as-of query that would start from it folds instead.
    forge(&path, older);
    assert_eq!(standings(&path, &["--at-position", &as_of]), truth_then);
    // The whole model at the head forged too: the read side folds from the first event.
    forge(&path, head);
    let served = standings(&path, &[]);
    assert_eq!(score_of(&served), TRUE_SCORE, "not 91.35");
    assert_eq!(served, truth_now);
    assert_eq!(standings(&path, &["--at-position", &as_of]), truth_then);

    let (key_file, note_file) = (public_key.to_str().unwrap(), kept_note.to_str().unwrap());
    for args in [
        vec![],
        vec!["--public-key", key_file],
        vec!["--against", note_file],
        vec!["--refold"],
    ] {
        let mut all = vec!["verify"];
        all.extend_from_slice(&args);
        let out = ledger(&path, &all);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!out.status.success(), "{args:?} passed: {text}");
        assert!(text.contains("chain OK"), "{args:?}: {text}");
        for position in [older, head] {
            assert!(
                text.contains(&format!("the read-model snapshot at position {position}")),
                "{args:?} does not name {position}: {text}"
            );
        }
        let mut all = vec!["verify", "--json"];
        all.extend_from_slice(&args);
        let out = ledger(&path, &all);
        assert!(!out.status.success(), "{args:?} --json passed");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (&report["intact"], &report["passed"]),
            (&Value::Bool(true), &Value::Bool(false))
        );
        assert_eq!(
            bad_snapshots(&report),
            vec![older, head],
            "{args:?}: {report}"
        );
        assert_eq!(report["snapshots"]["checked"], kept.positions.len());
    }
    // Folding the log again compares the content itself, which needs no key: only the two differ.
    let report: Value =
        serde_json::from_slice(&ledger(&path, &["verify", "--json", "--refold"]).stdout).unwrap();
    assert_eq!(report["snapshots"]["refolded"], true);
    for entry in report["snapshots"]["entries"].as_array().unwrap() {
        let forged = [older, head].contains(&entry["position"].as_u64().unwrap());
        assert_eq!(entry["equals_fold"], !forged, "{entry}");
    }
    let fault = report["snapshots"]["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["fault"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(fault.contains("differs from a fold of the log"), "{fault}");
}

/// Proves that a server refuses a forged snapshot: the API serves a fresh fold's standings, its
/// verification reports the snapshot (and the console's integrity page shows it), and after a
/// write and a clean stop the snapshots it kept are sealed and equal to a fold of the log
/// (`ledger verify --refold` passes), not derived from the forgery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refuses_a_forged_snapshot_and_keeps_none_derived_from_it() {
    use ledger::audit::auto::CheckpointPolicy;
    use ledger::server::{ServeConfig, serve};

    let (_dir, path) = demo_copy();
    let report = json(&ledger(&path, &["rebuild", "--json"]));
    let head = report["events"].as_u64().unwrap();
    let truth = standings(&path, &[]);
    forge(&path, head);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = tokio::sync::oneshot::channel::<SocketAddr>();
    let spec = path.to_string_lossy().into_owned();
    let server = tokio::spawn(async move {
        let config = ServeConfig {
            checkpoints: CheckpointPolicy {
                every: 0,
                interval: None,
            },
            ..ServeConfig::new(spec, "127.0.0.1:0")
        };
        serve(
            &config,
            async {
                let _ = stopped.await;
            },
            move |addr| {
                let _ = ready.send(addr);
            },
        )
        .await
    });
    let addr = address.await.unwrap();
    let auditor = token("auditor");
    let (status, served) = call(
        addr,
        hyper::Method::GET,
        &format!("/api/v1/periods/{PERIOD}/standings"),
        &auditor,
        None,
    )
    .await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(score_of(&served), TRUE_SCORE, "not 91.35");
    assert_eq!(served["units"], truth["units"]);

    let (status, verification) = call(
        addr,
        hyper::Method::POST,
        "/api/v1/audit/verification",
        &auditor,
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, 200, "{verification}");
    assert_eq!(verification["intact"], false, "{verification}");
    assert_eq!(verification["snapshots"]["checked"], 1);
    assert_eq!(bad_snapshots(&verification), vec![head]);
    assert_eq!(verification["key"]["source"], "beside-ledger");
    assert_eq!(
        verification["key"]["path"],
        Value::Null,
        "the API shows no server paths"
    );
    // The console's integrity page shows the same findings (the last verification).
    let html = page(addr, "/integrity", &auditor).await;
    assert!(
        html.contains("id=\"snapshot-result\" class=\"bad\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("the read-model snapshot at position {head}")),
        "{html}"
    );

    let (status, unit) = call(
        addr,
        hyper::Method::POST,
        "/api/v1/units",
        &token("admin"),
        Some(serde_json::json!({"unit": "SNAP-1", "name": "快照后登记", "kind": "branch"})),
    )
    .await;
    assert_eq!(status, 201, "{unit}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let after: Value =
        serde_json::from_slice(&ok(&ledger(&path, &["verify", "--json", "--refold"])).stdout)
            .unwrap();
    let snapshots = &after["snapshots"];
    assert_eq!(snapshots["valid"], snapshots["checked"], "{after}");
    let entries = snapshots["entries"].as_array().unwrap();
    assert_eq!(
        entries.last().unwrap()["position"],
        head + 1,
        "kept at stop"
    );
    assert!(entries.iter().all(|e| e["equals_fold"] == true), "{after}");
    assert_eq!(score_of(&standings(&path, &[])), TRUE_SCORE);
}

/// Proves that a ledger without a key keeps no snapshots and uses none: `ledger rebuild` says why
/// and leaves the table empty, and rows left from when it had one are refused by the read side
/// (the same standings) and reported by `ledger verify` as unsealable.
#[test]
fn a_ledger_without_a_key_keeps_and_uses_no_snapshot() {
    let (_dir, path) = demo_copy();
    ok(&ledger(&path, &["rebuild"]));
    let truth = standings(&path, &[]);
    let key = ledger::audit::key_path(&path);
    std::fs::remove_file(&key).unwrap();
    assert_eq!(standings(&path, &[]), truth);
    let out = ledger(&path, &["verify", "--json"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["key"], Value::Null);
    let fault = report["snapshots"]["entries"][0]["fault"].as_str().unwrap();
    assert!(fault.contains("no key to check its seal"), "{fault}");

    let rebuilt = json(&ledger(&path, &["rebuild", "--json"]));
    assert_eq!(rebuilt["snapshots"]["written"], 0, "{rebuilt}");
    assert!(
        rebuilt["snapshots"]["not_kept"]
            .as_str()
            .unwrap()
            .contains("no signing key, FILE.key"),
        "{rebuilt}"
    );
    let rows: i64 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM projection_snapshots", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 0);
    let text = stdout(ok(&ledger(&path, &["rebuild"])));
    assert!(text.contains("kept no read-model snapshots"), "{text}");
}
