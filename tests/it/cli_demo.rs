//! `ledger demo`: the demo ledger as a user gets it, built by the real program.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::Utc;
use ledger::app::{Clock, Ledger};
use ledger::store::SqliteStore;
use ledger_projections::domain::AppealOutcome;
use ledger_schemas::values::Stage;

use crate::cli_support::{events, fails_with_one_line, json, ledger, ok, shared_demo};
use crate::store_support::temp_ledger;

/// The demo builds a ledger whose hash chain verifies, with two periods (one published, one in
/// review, moved to the adjusted rubric), exactly one overdue rectification and one closed, an
/// upheld appeal whose revision is recorded with the `appeal` source, a dismissed one, and a token
/// for each of the five roles that sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_verifies_and_tells_its_story() {
    let demo = shared_demo();
    let out = ledger(&demo.path, &["verify", "--json"]);
    ok(&out);
    let verified = json(&out);
    assert_eq!(verified["intact"], true);
    assert_eq!(
        verified["verified"].as_u64(),
        demo.summary["head"].as_u64(),
        "{verified}"
    );

    let periods: Vec<&str> = demo.summary["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026Q3", "2026Q4"]);
    let mut roles: Vec<&str> = demo.summary["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["token"].as_str().unwrap().starts_with("tok-"));
            t["role"].as_str().unwrap()
        })
        .collect();
    roles.sort_unstable();
    // The demo now also signs in a responsible person (issue 15).
    assert_eq!(
        roles,
        [
            "admin",
            "assessor",
            "auditor",
            "responsible",
            "reviewer",
            "unit"
        ]
    );

    let store = Arc::new(SqliteStore::open_existing(&demo.path).unwrap());
    let app = Ledger::open(store.clone(), Clock::System).await.unwrap();
    {
        let folded = app.folded();
        let state = &folded.state;
        assert_eq!(state.periods.len(), 2);
        let q3 = &state.periods[&"2026Q3".parse().unwrap()];
        let q4 = &state.periods[&"2026Q4".parse().unwrap()];
        assert_eq!((q3.stage, q4.stage), (Stage::Published, Stage::Review));
        assert_eq!(q4.rubric_version, 2);
        assert_eq!(state.units.len(), 9, "the group and eight assessed units");
        assert_eq!(q3.units.len(), 8);
        let overdue = state.overdue_rectifications(Utc::now().date_naive());
        assert_eq!(overdue.len(), 1, "{overdue:?}");
        let closed = state
            .rectifications
            .values()
            .filter(|r| r.status == ledger_projections::domain::RectificationStatus::Closed)
            .count();
        assert_eq!(closed, 1);
        let upheld: Vec<_> = state
            .appeals
            .iter()
            .filter(|(_, a)| matches!(a.outcome, Some((AppealOutcome::Upheld, _))))
            .collect();
        assert_eq!(upheld.len(), 1);
        let (appeal, a) = upheld[0];
        let score = state
            .sheet(&a.period, &a.unit)
            .and_then(|s| s.live(a.item.as_ref().unwrap()))
            .unwrap();
        assert_eq!(score.appeal.as_ref(), Some(appeal));
        assert!(
            state
                .appeals
                .values()
                .any(|a| matches!(a.outcome, Some((AppealOutcome::Dismissed, _))))
        );
        // One appeal left awaiting decision (a reviewer's 待办, issue 15).
        assert_eq!(
            state
                .appeals
                .values()
                .filter(|a| a.outcome.is_none())
                .count(),
            1
        );
        assert!(state.anomalies.is_empty(), "{:?}", state.anomalies);
    }
    store.close().await;
}

/// The demo refuses a ledger that already holds events, with a one-line reason, and writes nothing.
#[test]
fn the_demo_refuses_a_ledger_that_holds_events() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let token = ledger(
        &temp.path,
        &["token", "issue", "--person", "admin-1", "--role", "admin"],
    );
    ok(&token);
    let before = events(&temp.path);
    assert!(before > 0);
    let reason = fails_with_one_line(&ledger(&temp.path, &["demo"]));
    assert!(reason.contains("already holds"), "{reason}");
    assert_eq!(events(&temp.path), before);
}

/// `demo --serve` builds the demo, prints a token per role, then serves it: the auditor's token
/// reads the published period's standings over HTTP.
#[test]
fn the_demo_serves_what_it_built() {
    let temp = temp_ledger();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args([
            "demo",
            "--serve",
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--ledger",
        ])
        .arg(&temp.path)
        .env_remove("LEDGER_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ledger demo --serve");
    // With --json the summary is the one document on stdout and the URL a line on stderr.
    let mut url = None;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("http://") {
            url = Some(rest.trim_end_matches("/api/v1").to_owned());
            break;
        }
    }
    let Some(addr) = url else {
        let _ = child.kill();
        panic!("no URL printed");
    };
    let mut text = String::new();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 4096];
    // The summary was printed before the server started; read until it parses.
    let summary: serde_json::Value = loop {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "stdout closed: {text}");
        text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        if let Ok(v) = serde_json::from_str(&text) {
            break v;
        }
    };
    let auditor = summary["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "auditor")
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/periods/2026Q3/standings HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auditor}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    // The files the demo cites are served from the store it wrote them to, byte for byte.
    let file = &summary["evidence"][0];
    let sha256 = file["sha256"].as_str().unwrap();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/evidence/{sha256} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auditor}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut served = Vec::new();
    stream.read_to_end(&mut served).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("SH-CZ-B1"), "{response}");
    let split = served
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&served[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body = &served[split + 4..];
    let digest = ledger_schemas::integrity::Digest::from_hex(sha256).unwrap();
    let stored = std::fs::read(ledger::evidence::FolderStore::beside(&temp.path).path_of(&digest))
        .expect("the cited file beside the ledger");
    assert_eq!(body.len() as u64, file["size"].as_u64().unwrap(), "{head}");
    assert_eq!(body, &stored[..]);
}

/// The demo ledger carries its signing key and signed checkpoints (every 1000 events and the head),
/// and `ledger verify` finds them consistent with the log.
#[test]
fn the_demo_is_signed_and_its_checkpoints_verify() {
    let demo = crate::cli_support::shared_demo();
    let out = crate::cli_support::ledger(&demo.path, &["verify", "--json"]);
    let report = crate::cli_support::json(crate::cli_support::ok(&out));
    let head = demo.summary["head"].as_u64().unwrap();
    assert!(
        demo.path.with_extension("db.key").exists(),
        "the key lies beside the ledger"
    );
    let checkpoints = report["checkpoints"].clone();
    let count = checkpoints
        .as_array()
        .map(|a| a.len() as u64)
        .or_else(|| checkpoints.as_u64())
        .unwrap_or_else(|| panic!("no checkpoints in {report}"));
    assert_eq!(count, 1 + head / 1000, "{report}");
}
