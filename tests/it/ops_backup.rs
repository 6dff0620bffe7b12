//! `ledger backup` and `ledger restore` (issue 20): a copy taken while another process appends holds
//! every event acknowledged before it began and verifies; a restore refuses a copy that does not
//! verify, one older than the newest checkpoint of the ledger it would replace, and a ledger still
//! open, and with `--force` says what it overrode.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use ledger::store::SqliteStore;
use uuid::Uuid;

use crate::cli_support::{json, ledger, ok, stderr};
use crate::crash::parse_acks;

/// Runs `ledger ARGS` without `--ledger` (the backup and restore take their files themselves).
fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(args)
        .env_remove("LEDGER_PATH")
        .output()
        .expect("run the ledger program")
}

async fn log_of(path: &std::path::Path) -> Vec<(u64, Uuid)> {
    let store = SqliteStore::open_existing(path).unwrap();
    let mut events = Vec::new();
    {
        let mut log = std::pin::pin!(store.stream_all(0, 1024));
        while let Some(event) = log.next().await {
            let event = event.unwrap();
            events.push((event.position, event.event_id));
        }
    }
    store.close().await;
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_appends_keeps_every_acknowledged_event_and_restores_verified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let p = path.to_str().unwrap();
    ok(&ledger(&path, &["init"]));

    // Another process appends without pause and prints each acknowledged event.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["debug", "append-stress", "--tasks", "4", "--ledger", p])
        .env_remove("LEDGER_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ledger debug append-stress");
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let reader = {
        let (seen, mut out) = (seen.clone(), child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = out.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        })
    };
    // Wait until a few hundred events are acknowledged, and sign checkpoints of them meanwhile.
    for _ in 0..200 {
        if parse_acks(&seen.lock().unwrap()).len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ok(&ledger(&path, &["audit", "checkpoint", "--every", "100"]));
    // Everything acknowledged before the backup begins must be in the copy.
    let acknowledged = parse_acks(&seen.lock().unwrap());
    assert!(acknowledged.len() >= 300, "{} acks", acknowledged.len());
    let copy = dir.path().join("copy.db");
    let out = run(&["backup", "--ledger", p, copy.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    // The appends went on during the backup.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = parse_acks(&seen.lock().unwrap()).len();
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    assert!(after > acknowledged.len(), "the writer kept appending");

    let events = report["events"].as_u64().unwrap();
    assert!(events >= acknowledged.len() as u64, "{report}");
    assert!(report["checkpoints"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["private_key"], serde_json::Value::Null);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("private signing key was not copied"),
        "{notes}"
    );
    assert!(
        copy.with_extension("db.pub").exists(),
        "the public key beside the copy"
    );
    assert!(
        !dir.path().join("copy.db.key").exists(),
        "no private key unless asked"
    );

    // Restore into a new place: it verifies with the copy's public key, and every acknowledged
    // event is at its acknowledged position.
    let restored = dir.path().join("restored.db");
    let out = run(&[
        "restore",
        copy.to_str().unwrap(),
        "--ledger",
        restored.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["events"].as_u64(), Some(events));
    let verified = run(&[
        "verify",
        "--ledger",
        restored.to_str().unwrap(),
        "--public-key",
        copy.with_extension("db.pub").to_str().unwrap(),
        "--json",
    ]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    assert_eq!(json(&verified)["passed"], true);
    let log: std::collections::BTreeMap<u64, Uuid> = log_of(&restored).await.into_iter().collect();
    assert_eq!(log.len() as u64, events);
    for (id, position) in &acknowledged {
        assert_eq!(
            log.get(position),
            Some(id),
            "acknowledged event {id} at {position}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_tampered_copy_an_older_copy_and_an_open_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, path) = crate::cli_support::demo_copy();
    let p = path.to_str().unwrap();
    let backup = |name: &str, extra: &[&str]| {
        let out_path = dir.path().join(name);
        let mut args = vec!["backup", "--ledger", p, out_path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        out_path
    };
    let old = backup("old.db", &[]);
    // A later checkpoint in the ledger: the old copy no longer extends it.
    let token = crate::cli_support::stdout(ok(&ledger(
        &path,
        &[
            "token",
            "issue",
            "--person",
            "later-admin",
            "--role",
            "admin",
        ],
    )))
    .trim()
    .to_owned();
    assert!(!token.is_empty());
    ok(&ledger(&path, &["audit", "checkpoint"]));
    let before = std::fs::read(&path).unwrap();

    // Older than the ledger's newest checkpoint: refused, nothing touched.
    let out = run(&["restore", old.to_str().unwrap(), "--ledger", p]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("older than"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the ledger is untouched"
    );

    // A tampered copy: refused, naming the chain break.
    let tampered = backup("tampered.db", &[]);
    {
        let conn = rusqlite::Connection::open(&tampered).unwrap();
        conn.execute_batch(
            "DROP TRIGGER events_append_only_update;
             UPDATE events SET recorded_at = recorded_at + 1 WHERE position = 5;",
        )
        .unwrap();
    }
    let target = dir.path().join("fresh.db");
    let out = run(&[
        "restore",
        tampered.to_str().unwrap(),
        "--ledger",
        target.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("position 5") || err.contains("第 5 号"),
        "{err}"
    );
    assert!(!target.exists(), "nothing restored");

    // A ledger open in another process (a reader holds it, as a server would) is never replaced,
    // even with --force.
    {
        let open = rusqlite::Connection::open(&path).unwrap();
        let _: i64 = open
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        let out = run(&["restore", old.to_str().unwrap(), "--ledger", p, "--force"]);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("stop `ledger serve` first"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the ledger is untouched"
        );
    }

    // --force restores the older copy, says what it overrode, and keeps the replaced ledger.
    let out = run(&[
        "restore",
        old.to_str().unwrap(),
        "--ledger",
        p,
        "--force",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert!(
        report["overridden"].to_string().contains("older than"),
        "{report}"
    );
    let aside = report["replaced_kept_at"].as_str().unwrap();
    assert_eq!(
        std::fs::read(aside).unwrap(),
        before,
        "the replaced ledger is kept"
    );

    // Bad input: a missing copy, and a destination that exists without --force.
    let out = run(&["restore", "/nonexistent/copy.db", "--ledger", p]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no backup at"), "{}", stderr(&out));
    let out = run(&["backup", "--ledger", p, old.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
}
