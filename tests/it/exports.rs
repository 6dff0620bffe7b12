//! Exports as the office meets them (issue 16): formula-like text recorded as reasons, notes and
//! names never leaves the ledger as a formula, whichever CSV path exports it.

use serde_json::json;

use crate::cli_support::{ledger, ok, stdout};
use crate::http_lifecycle::{advance, open_period};
use crate::http_support::{Server, cast};

const PERIOD: &str = "/api/v1/periods/2026Q1";

/// Every cell a spreadsheet would read as a formula: one that starts (after spaces) with a formula
/// sign and is not a plain number.
fn executable_cells(text: &str) -> Vec<String> {
    let signs = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut bad = Vec::new();
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            let start = cell.trim_start_matches([' ', '\u{3000}', '\u{feff}']);
            let number = start.parse::<f64>().is_ok() && !start.contains(['e', 'E']);
            if start.starts_with(signs) && !number {
                bad.push(cell.to_owned());
            }
        }
    }
    bad
}

/// The table of payloads (OWASP's `=`, `+`, `-`, `@`, tab, CR, and the full-width signs) recorded as
/// a unit's name, people's names, score notes and correction reasons, then exported through `ledger
/// changes|history|standings --csv` and the console's `/changes.csv`: every payload that the text
/// rules let in is in the files, and never as a cell that starts with a formula sign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_payloads_leave_no_csv_executable() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    open_period(&server, &cast).await;
    for to in ["self_assessment", "scoring"] {
        advance(&server, &cast.admin, to).await;
    }

    let mut recorded = Vec::new();
    let mut previous = "2".to_owned();
    let score = server
        .post(
            &format!("{PERIOD}/units/SH-01/items/A1/score"),
            &cast.assessor,
            json!({"value": {"kind": "points", "points": "2"}, "note": ledger::csv_out::FORMULA_PAYLOADS[0]}),
        )
        .await;
    assert_eq!(score.status, 200, "{}", score.text);
    for (n, payload) in ledger::csv_out::FORMULA_PAYLOADS.iter().enumerate() {
        // As a person's name: that person then corrects a score with the payload as the reason.
        let person = format!("fx-{n}");
        let named = server
            .post(
                "/api/v1/people",
                &cast.admin,
                json!({"person": person, "name": payload, "unit": "SH-01"}),
            )
            .await;
        let actor = if named.status == 201 {
            server
                .token(&person, ledger_schemas::Role::Assessor, &["SH-01", "SH-02"])
                .await
        } else {
            assert_eq!(named.status, 422, "{}", named.text);
            cast.assessor.clone()
        };
        let value = if previous == "2" { "1.5" } else { "2" };
        let corrected = server
            .post(
                &format!("{PERIOD}/units/SH-01/items/A1/correction"),
                &actor,
                json!({
                    "previous": {"kind": "points", "points": previous},
                    "value": {"kind": "points", "points": value},
                    "reason": payload
                }),
            )
            .await;
        if corrected.status == 200 {
            previous = value.to_owned();
            recorded.push(*payload);
        } else {
            assert_eq!(corrected.status, 422, "{payload:?}: {}", corrected.text);
        }
        if n == 0 {
            let renamed = server
                .put(
                    "/api/v1/units/SH-02",
                    &cast.admin,
                    json!({"name": payload, "reason": payload}),
                )
                .await;
            assert_eq!(renamed.status, 200, "{}", renamed.text);
        }
    }
    // The printable signs all pass the text rules; only control characters may be refused.
    assert!(recorded.len() >= 9, "{recorded:?}");

    let path = server.path().to_owned();
    let mut files = Vec::new();
    for args in [
        vec!["changes", "--limit", "0", "--csv"],
        vec![
            "changes", "--limit", "0", "--csv", "--no-bom", "--lang", "en",
        ],
        vec!["history", "--period", "2026Q1", "--unit", "SH-01", "--csv"],
        vec!["standings", "--period", "2026Q1", "--csv"],
    ] {
        files.push((args.join(" "), stdout(ok(&ledger(&path, &args)))));
    }
    let cookie = format!("ledger_token={}", cast.auditor);
    let console = server
        .raw(
            hyper::Method::GET,
            "/changes.csv",
            &[("cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(console.status, 200, "{}", console.text);
    files.push(("/changes.csv".into(), console.text));

    for (name, text) in &files {
        assert_eq!(executable_cells(text), Vec::<String>::new(), "{name}");
    }
    for payload in &recorded {
        let quoted = format!("'{payload}");
        for (name, text) in files.iter().filter(|(n, _)| !n.starts_with("standings")) {
            let found = csv::Reader::from_reader(text.as_bytes())
                .records()
                .any(|r| r.unwrap().iter().any(|c| c == quoted));
            assert!(found, "{payload:?} not in {name}");
        }
    }
    let standings = &files[3].1;
    assert!(
        standings
            .contains(&format!("'{}", ledger::csv_out::FORMULA_PAYLOADS[0]).replace('"', "\"\"")),
        "{standings}"
    );
    server.stop().await;
}
