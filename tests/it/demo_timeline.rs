//! The demo lives through its quarters (issue #22): its recorded times span the periods' lives in
//! order and end at the run; nothing but the demo builder can choose a recorded time.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hyper::Method;
use ledger::store::{Direction, EventStore, ReadFrom, SqliteStore};
use serde_json::json;

use crate::cli_support::{ledger, ok, shared_demo};
use crate::http_support::{Server, cast};

/// Every event of the ledger at `path`, in log order: (position, stream, type, recorded at).
async fn log(path: &Path) -> Vec<(u64, String, String, DateTime<Utc>)> {
    let store = SqliteStore::open(path).unwrap();
    let mut all = Vec::new();
    let mut from = ReadFrom::Edge;
    loop {
        let page = store
            .read_all(Direction::Forwards, from, 1000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        from = ReadFrom::At(last.position + 1);
        let n = page.len();
        all.extend(
            page.into_iter()
                .map(|e| (e.position, e.stream, e.event_type, e.recorded_at)),
        );
        if n < 1000 {
            break;
        }
    }
    store.close().await;
    all
}

/// The demo's times: never decreasing, starting months before the run and ending at it, 2026Q3's
/// life before 2026Q4's, each milestone on a day of its own that reads back the milestone's state;
/// and `ledger verify` passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_spans_the_periods_lives_in_order() {
    let demo = shared_demo();
    let events = log(&demo.path).await;
    assert_eq!(events.len() as u64, demo.summary["head"].as_u64().unwrap());
    assert!(
        events.windows(2).all(|w| w[0].3 <= w[1].3),
        "recorded times never decrease"
    );
    let (first, last) = (events[0].3, events.last().unwrap().3);
    assert!(last <= Utc::now(), "nothing is recorded in the future");
    assert!(
        last - first > Duration::days(50),
        "the history spans the quarters, not a second: {first} .. {last}"
    );
    // Each period's events in its own stretch of time, 2026Q3's before 2026Q4's opening.
    let opened = |period: &str| {
        events
            .iter()
            .find(|e| e.2 == "PeriodOpened" && e.1.contains(period))
            .unwrap_or_else(|| panic!("{period} opened"))
            .3
    };
    assert!(opened("2026Q3") < opened("2026Q4"));
    assert!(opened("2026Q4") - opened("2026Q3") > Duration::days(14));
    // Self-assessments and scores are spread over days, as work is, not recorded at one instant.
    let days: std::collections::BTreeSet<NaiveDate> = events
        .iter()
        .filter(|e| e.2 == "SelfAssessmentRecorded")
        .map(|e| ledger::app::clock::business_date(e.3))
        .collect();
    assert!(days.len() >= 4, "{days:?}");

    // The milestones: dates in order, one a day, each reading back its own state by date.
    let milestones = demo.summary["milestones"].as_array().unwrap();
    let dates: Vec<&str> = milestones
        .iter()
        .map(|m| m["date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "{dates:?}");
    for m in milestones {
        let (date, position) = (m["date"].as_str().unwrap(), m["position"].as_u64().unwrap());
        // What the log held at the end of that day is exactly the milestone's prefix.
        let upto = events
            .iter()
            .filter(|e| ledger::app::clock::business_date(e.3).to_string().as_str() <= date)
            .count() as u64;
        assert_eq!(upto, position, "{}", m["label"]);
    }
    ok(&ledger(&demo.path, &["verify"]));
}

/// A recorded time cannot be chosen: not by a request (a `recorded_at` member or header is
/// refused or ignored), not by a ledger that already holds events (the demo refuses it, adding
/// nothing), and no source but the demo builder and the store names the history clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_or_command_sets_a_recorded_time() {
    let server = Server::start().await;
    let people = cast(&server).await;
    let before = server.log_len().await;
    let started = Utc::now();
    let reply = server
        .call_with(
            Method::POST,
            "/api/v1/units",
            Some(&people.admin),
            Some(&json!({
                "unit": "SH-09", "name": "第九党支部", "kind": "branch",
                "recorded_at": "2020-01-01T00:00:00Z"
            })),
            &[
                ("x-recorded-at", "2020-01-01T00:00:00Z"),
                ("date", "Wed, 01 Jan 2020 00:00:00 GMT"),
            ],
        )
        .await;
    let after = server.log_len().await;
    if (200..300).contains(&reply.status) {
        let events = log(server.path()).await;
        let recorded = events.last().unwrap().3;
        assert!(recorded >= started && recorded <= Utc::now(), "{recorded}");
    } else {
        assert_eq!(
            after, before,
            "a refused request records nothing: {}",
            reply.text
        );
        assert!(reply.status < 500, "{}", reply.text);
    }
    // The demo is built only into a new or empty ledger, so its clock never reaches a record.
    let held = server.log_len().await;
    let refused = ledger::demo::create(server.path(), &indicatif::ProgressBar::hidden()).await;
    let why = refused
        .expect_err("a ledger with events is refused")
        .to_string();
    assert!(
        why.contains("history clock") || why.contains("历史时钟"),
        "{why}"
    );
    assert_eq!(server.log_len().await, held, "nothing was added");
    assert!(
        !ledger::evidence::FolderStore::beside(server.path())
            .root()
            .exists(),
        "no demo evidence is stored beside a ledger the demo refused"
    );
    server.stop().await;

    // Only the store's clock module, the embedded store, the application's clock and the demo
    // builder name the history clock; a new user of it fails here and must be argued for.
    let allowed = [
        "src/store/clock.rs",
        "src/store/mod.rs",
        "src/store/sqlite/mod.rs",
        "src/store/sqlite/writer.rs",
        "src/app/mod.rs",
        "src/demo.rs",
    ];
    let mut offenders = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if (text.contains("HistoryClock")
                || text.contains("create_for_history")
                || text.contains("Clock::History"))
                && !allowed.contains(&rel.as_str())
            {
                offenders.push(rel);
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}
