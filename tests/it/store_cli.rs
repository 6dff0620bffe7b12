//! The ledger program's store commands, run as a user would: `init`, `status`, `verify`.

use std::path::Path;
use std::process::{Command, Output};

use ledger::store::{EventStore, ExpectedRevision, SqliteStore};
use rusqlite::Connection;

use crate::store_support::{scores, temp_ledger};

fn ledger(args: &[&str], path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(args)
        .arg("--ledger")
        .arg(path)
        .env_remove("LEDGER_PATH")
        .output()
        .expect("run the ledger program")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `status` on a missing file fails with a reason naming the file and `ledger init`, and creates
/// nothing; `init` then creates it and prints its state; `status --json` reads the same state.
#[test]
fn init_creates_and_status_reports_without_creating() {
    let temp = temp_ledger();
    let out = ledger(&["status"], &temp.path);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&temp.path.display().to_string()) && err.contains("ledger init"),
        "{err}"
    );
    assert!(!temp.path.exists());

    let out = ledger(&["init"], &temp.path);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("已创建账本") && text.contains("format version:  6"),
        "{text}"
    );
    assert!(text.contains("events:            0"), "{text}");

    let out = ledger(&["init", "--json"], &temp.path);
    assert!(out.status.success());
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(state["events"], 0);
    assert_eq!(state["head_position"], 0);
    assert_eq!(state["head_hash"], serde_json::Value::Null);

    let out = ledger(&["status", "--json"], &temp.path);
    assert!(out.status.success());
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(state["format_version"], 6);
}

/// `status` on a file that is not a ledger fails naming the file and the cause.
#[test]
fn status_refuses_a_file_that_is_not_a_ledger() {
    let temp = temp_ledger();
    std::fs::write(&temp.path, "plain text\n").unwrap();
    let out = ledger(&["status"], &temp.path);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("not a ledger file") && err.contains("ledger.db"),
        "{err}"
    );
}

/// `verify` on an intact ledger reports OK with the count and exits 0, with no progress bar on a
/// non-terminal stderr; on a tampered ledger it names the first bad position and exits non-zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_ok_or_the_first_break() {
    let temp = temp_ledger();
    let store = SqliteStore::open(&temp.path).unwrap();
    store
        .append("sheet-cli", ExpectedRevision::NoStream, scores(0, 30))
        .await
        .unwrap();
    let status = store.state().await.unwrap();
    store.close().await;
    drop(store);

    let out = ledger(&["verify"], &temp.path);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("chain OK") && text.contains("30 events verified"),
        "{text}"
    );
    assert!(
        text.contains(status.head_hash.as_deref().unwrap()),
        "{text}"
    );
    assert!(
        stderr(&out).is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        stderr(&out)
    );

    let raw = Connection::open(&temp.path).unwrap();
    raw.execute_batch("DROP TRIGGER events_append_only_update;")
        .unwrap();
    raw.execute(
        "UPDATE events SET actor_person = 'P-8' WHERE position = 17",
        [],
    )
    .unwrap();
    drop(raw);
    let out = ledger(&["verify"], &temp.path);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("chain BROKEN") && text.contains("position 17"),
        "{text}"
    );
    assert!(stderr(&out).contains("position 17"), "{}", stderr(&out));

    let out = ledger(&["verify", "--json"], &temp.path);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["verified"], 16);
    assert_eq!(report["broken_position"], 17);
}
