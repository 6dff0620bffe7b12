//! `ledger rubric load|list`: the default template loads with one command, a user's own file is
//! checked before anything is recorded.

use std::process::Command;

fn ledger(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(args)
        .env_remove("LEDGER_PATH")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The default template (7 aspects, 33 items) loads with one command; loading it again under the
/// same id is refused with a one-line reason and records nothing.
#[test]
fn default_template_loads_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let db = db.to_str().unwrap();
    let out = ledger(&["rubric", "load", "--ledger", db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("7 aspects, 33 items"),
        "{}",
        text(&out.stdout)
    );
    let again = ledger(&["rubric", "load", "--ledger", db]);
    assert!(!again.status.success());
    let err = text(&again.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("default"), "{err}");
    let list = ledger(&["rubric", "list", "--ledger", db, "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["latest_version"], 1);
    let status = ledger(&["status", "--ledger", db, "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        status["events"], 1,
        "the refused second load recorded nothing"
    );
}

/// A user's rubric file whose item maxima do not add up to the aspect's weight is refused naming
/// the actual sums; a file that is not JSON is refused with its line and column. Neither records.
#[test]
fn bad_rubric_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let db = db.to_str().unwrap();
    let mut rubric: serde_json::Value =
        serde_json::from_str(include_str!("../../projections/data/default-rubric.json")).unwrap();
    // A1 is worth 2 of aspect A's 10 points; make it 3 so A's items add up to 11.
    rubric["aspects"][0]["items"][0]["kind"]["max"] = "3".into();
    let file = dir.path().join("mine.json");
    std::fs::write(&file, serde_json::to_string_pretty(&rubric).unwrap()).unwrap();
    let out = ledger(&[
        "rubric",
        "load",
        "--ledger",
        db,
        "--file",
        file.to_str().unwrap(),
        "--rubric",
        "mine",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("11") && err.contains("10"),
        "names the actual sum and the weight: {err}"
    );

    std::fs::write(&file, "{\n  \"title\": {\"zh\": \"x\"},\n  oops\n}").unwrap();
    let out = ledger(&[
        "rubric",
        "load",
        "--ledger",
        db,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("3") && err.contains("line"),
        "names the line: {err}"
    );

    // Both files were refused before the ledger was even opened.
    assert!(!std::path::Path::new(db).exists(), "nothing was created");
}
