//! Tamper tests on a real ledger file: each attack is made with raw SQLite (the append-only triggers
//! dropped first, as an attacker with the file would), and `ledger verify` must fail naming the event
//! or the checkpoint at fault. Also the key and checkpoint commands these rely on.

use std::path::Path;

use ledger::store::{EventStore, ExpectedRevision, SqliteStore};
use ledger_schemas::checkpoint::{Checkpoint, LogSigningKey};
use rusqlite::Connection;
use uuid::Uuid;

use crate::cli_support::{ledger, ok, stderr, stdout};
use crate::store_support::{TempLedger, scores, temp_ledger};

/// Appends `count` events to the ledger at `path` in one stream (creating the stream if `from` is 0).
async fn append(path: &Path, from: u64, count: u64) {
    let store = SqliteStore::open_existing(path).unwrap();
    let expected = if from == 0 {
        ExpectedRevision::NoStream
    } else {
        ExpectedRevision::Exact(from - 1)
    };
    store
        .append("sheet-audit", expected, scores(from, count))
        .await
        .unwrap();
    store.close().await;
}

/// Runs `ledger audit checkpoint --every 10` and returns the head's signed note it prints.
fn checkpoint(path: &Path) -> String {
    stdout(ok(&ledger(path, &["audit", "checkpoint", "--every", "10"])))
}

/// A ledger made by `ledger init`, with 30 events and checkpoints at 10, 20 and 30.
async fn fixture() -> TempLedger {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    append(&temp.path, 0, 30).await;
    checkpoint(&temp.path);
    temp
}

/// Opens the file as an attacker would, with the immutability triggers dropped.
fn attacker(path: &Path) -> Connection {
    let raw = Connection::open(path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER events_append_only_update;
         DROP TRIGGER events_append_only_delete;
         DROP TRIGGER checkpoints_append_only_update;
         DROP TRIGGER checkpoints_append_only_delete;",
    )
    .unwrap();
    raw
}

fn event_id(raw: &Connection, position: i64) -> Uuid {
    let bytes: Vec<u8> = raw
        .query_row(
            "SELECT event_id FROM events WHERE position = ?1",
            [position],
            |r| r.get(0),
        )
        .unwrap();
    Uuid::from_slice(&bytes).unwrap()
}

/// Runs `ledger verify ARGS`, asserts it failed, and returns stdout and stderr together.
fn verify_fails(path: &Path, args: &[&str]) -> String {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let out = ledger(path, &all);
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "verify passed: {text}");
    assert!(
        stderr(&out).contains("verification FAILED"),
        "one-line reason: {text}"
    );
    text
}

/// `ledger init` makes a 0600 key beside the ledger; `audit public-key` prints PEM and the verifier
/// string; `audit checkpoint --every 10` signs 10, 20, 30; `verify` then passes, checking all three,
/// and `verify --against` a kept checkpoint passes with the exported public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intact_ledger_verifies_with_its_checkpoints() {
    let temp = fixture().await;
    let key_file = ledger::audit::key_path(&temp.path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the private key is readable by its owner only"
        );
    }
    let public = stdout(ok(&ledger(&temp.path, &["audit", "public-key"])));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    assert!(
        public.lines().last().unwrap().starts_with("ledger/"),
        "{public}"
    );
    let public_file = temp.dir.path().join("public-key");
    std::fs::write(&public_file, &public).unwrap();

    let kept = checkpoint(&temp.path);
    assert_eq!(Checkpoint::from_note(&kept).unwrap().tree_size(), 30);
    let kept_file = temp.dir.path().join("kept.note");
    std::fs::write(&kept_file, &kept).unwrap();

    let out = ledger(
        &temp.path,
        &[
            "verify",
            "--json",
            "--public-key",
            public_file.to_str().unwrap(),
            "--against",
            kept_file.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    assert_eq!(report["intact"], true);
    assert_eq!(report["verified"], 30);
    assert_eq!(report["checkpoints"], 3);
    assert_eq!(report["checkpoint_faults"], serde_json::json!([]));
    assert_eq!(report["against"], "ok");
    assert_eq!(
        report["tree_root"],
        Checkpoint::from_note(&kept).unwrap().root_hash().to_hex()
    );
}

/// Changing one byte of one event's payload is reported at that event's position and id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_payload_byte_names_the_event() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    let payload: String = raw
        .query_row("SELECT payload FROM events WHERE position = 6", [], |r| {
            r.get(0)
        })
        .unwrap();
    let at = payload.find("entry").unwrap();
    let mut bytes = payload.into_bytes();
    bytes[at] = b'E';
    raw.execute(
        "UPDATE events SET payload = ?1 WHERE position = 6",
        [String::from_utf8(bytes).unwrap()],
    )
    .unwrap();
    let id = event_id(&raw, 6);
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("position 6") && text.contains(&id.to_string()),
        "{text}"
    );
}

/// Changing an event's recorded time (by one microsecond) is reported at that event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_recorded_time_names_the_event() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    raw.execute(
        "UPDATE events SET recorded_at = recorded_at + 1 WHERE position = 12",
        [],
    )
    .unwrap();
    let id = event_id(&raw, 12);
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("position 12") && text.contains(&id.to_string()),
        "{text}"
    );
}

/// Deleting a row is reported at the event that now follows the gap, and the checkpoints covering it
/// no longer match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_row_names_the_next_event_and_the_checkpoints() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    let next = event_id(&raw, 16);
    raw.execute("DELETE FROM events WHERE position = 15", [])
        .unwrap();
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("position 16") && text.contains(&next.to_string()),
        "{text}"
    );
    assert!(text.contains("checkpoint of size 20"), "{text}");
    assert!(text.contains("checkpoint of size 30"), "{text}");
}

/// Swapping two rows (their positions exchanged) is reported at the first of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_rows_name_the_first_event() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    let moved = event_id(&raw, 8);
    raw.execute_batch(
        "UPDATE events SET position = 1000 WHERE position = 7;
         UPDATE events SET position = 7 WHERE position = 8;
         UPDATE events SET position = 8 WHERE position = 1000;",
    )
    .unwrap();
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("position 7") && text.contains(&moved.to_string()),
        "{text}"
    );
}

/// Truncating the tail leaves an intact chain, but the checkpoint of size 30 is beyond the log and
/// is named as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_tail_is_caught_by_the_checkpoint() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    raw.execute("DELETE FROM events WHERE position > 25", [])
        .unwrap();
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("chain OK"),
        "the chain itself still links: {text}"
    );
    assert!(
        text.contains("checkpoint of size 30 is beyond the log, which holds only 25 events"),
        "{text}"
    );
}

/// Replacing the file with an older copy passes a plain `verify` (the copy is self-consistent) but
/// fails `verify --against` a checkpoint the auditor kept, which names the rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_copy_is_caught_against_a_kept_checkpoint() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    append(&temp.path, 0, 20).await;
    checkpoint(&temp.path);
    let old_copy = temp.dir.path().join("old.db");
    // Every connection is closed, so the WAL has been folded into the main file.
    std::fs::copy(&temp.path, &old_copy).unwrap();

    append(&temp.path, 20, 10).await;
    let kept_file = temp.dir.path().join("kept.note");
    std::fs::write(&kept_file, checkpoint(&temp.path)).unwrap();

    std::fs::copy(&old_copy, &temp.path).unwrap();
    ok(&ledger(&temp.path, &["verify"]));
    let text = verify_fails(&temp.path, &["--against", kept_file.to_str().unwrap()]);
    assert!(text.contains("rollback"), "{text}");
    assert!(
        text.contains("covers 20 events, fewer than the 30"),
        "{text}"
    );
}

/// A checkpoint re-signed with another key (same origin, same root) is named by its size; so is one
/// whose signed root was changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resigned_checkpoint_is_named() {
    let temp = fixture().await;
    let raw = attacker(&temp.path);
    let note: String = raw
        .query_row(
            "SELECT note FROM checkpoints WHERE tree_size = 20",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let genuine = Checkpoint::from_note(&note).unwrap();
    let other = LogSigningKey::from_seed(genuine.origin().clone(), &[7u8; 32]);
    let forged = Checkpoint::sign(&other, 20, *genuine.root_hash(), genuine.timestamp());
    raw.execute(
        "UPDATE checkpoints SET note = ?1 WHERE tree_size = 20",
        [forged.to_note()],
    )
    .unwrap();
    drop(raw);
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("checkpoint of size 20 is signed by key"),
        "{text}"
    );
    assert!(!text.contains("size 10 is"), "only the forged one: {text}");
}

/// The checkpoints table is append-only like the events: with its triggers in place, SQLite itself
/// refuses to change or delete a checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_refuse_update_and_delete() {
    let temp = fixture().await;
    let raw = Connection::open(&temp.path).unwrap();
    let update = raw
        .execute("UPDATE checkpoints SET note = 'x' WHERE tree_size = 10", [])
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = raw
        .execute("DELETE FROM checkpoints WHERE tree_size = 10", [])
        .unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
}

/// Once a ledger has checkpoints, a lost key file is an error for `audit checkpoint` (a fresh key
/// would orphan every earlier checkpoint), and `verify` without a key names the unchecked
/// checkpoints instead of passing silently; `init` on an existing ledger keeps its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_key_is_refused_not_replaced() {
    let temp = fixture().await;
    let key_file = ledger::audit::key_path(&temp.path);
    let before = std::fs::read_to_string(&key_file).unwrap();
    ok(&ledger(&temp.path, &["init"]));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), before);

    std::fs::remove_file(&key_file).unwrap();
    let out = ledger(&temp.path, &["audit", "checkpoint"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot read the signing key"),
        "{}",
        stderr(&out)
    );
    assert!(!key_file.exists());
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("no public key to check the 3 checkpoints"),
        "{text}"
    );
}

/// The ledger's public key as `ledger audit public-key` exports it, in a file an auditor keeps.
fn exported_public_key(temp: &TempLedger) -> std::path::PathBuf {
    let file = temp.dir.path().join("public-key");
    std::fs::write(
        &file,
        stdout(ok(&ledger(&temp.path, &["audit", "public-key"]))),
    )
    .unwrap();
    file
}

/// Runs `ledger verify --json ARGS` and returns its report and whether it passed.
fn verify_json(path: &Path, args: &[&str]) -> (serde_json::Value, bool) {
    let mut all = vec!["verify", "--json"];
    all.extend_from_slice(args);
    let out = ledger(path, &all);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(&out)));
    assert_eq!(report["passed"], out.status.success(), "{report}");
    (report, out.status.success())
}

/// Deleting checkpoints (triggers dropped) is named: one that a later signed checkpoint vouches for
/// (its `every 10` line) is MISSING, a fault; when every checkpoint after the rewrite point is
/// deleted, nothing signed vouches for them, so they are named as absent by the signed schedule and
/// the events past the last valid checkpoint are counted, in warnings (verify cannot honestly call
/// that proof). The key verify trusted and where it came from are named in both forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_checkpoints_are_named_and_the_unsigned_tail_is_counted() {
    let temp = fixture().await;
    append(&temp.path, 30, 15).await;
    let (report, passed) = verify_json(&temp.path, &[]);
    assert!(passed, "{report}");
    let schedule = &report["checkpoint_schedule"];
    assert_eq!(schedule["every"], 10);
    assert_eq!(schedule["every_source"], "signed");
    assert_eq!(schedule["absent"], serde_json::json!([40]));
    assert_eq!(schedule["events_past_last"], 15);
    let key = ledger::audit::load_key(&temp.path).unwrap().verifying_key();
    assert_eq!(report["key"]["source"], "beside-ledger");
    assert_eq!(report["key"]["key_id"], key.key_id().to_hex());
    assert_eq!(
        report["key"]["path"],
        ledger::audit::key_path(&temp.path).display().to_string()
    );

    let raw = attacker(&temp.path);
    raw.execute("DELETE FROM checkpoints WHERE tree_size = 20", [])
        .unwrap();
    let text = verify_fails(&temp.path, &[]);
    assert!(
        text.contains("checkpoint MISSING")
            && text
                .contains("the checkpoint of size 20 is missing: the checkpoint of size 30 states"),
        "{text}"
    );
    assert!(text.contains("from beside the ledger file"), "{text}");
    assert!(text.contains(&key.key_id().to_hex()), "{text}");
    let (report, _) = verify_json(&temp.path, &[]);
    assert_eq!(
        report["checkpoint_schedule"]["missing"],
        serde_json::json!([{"size": 20, "vouched_by": 30, "every": 10}])
    );

    // Every checkpoint from the rewrite point on deleted: the last valid one is 10.
    raw.execute("DELETE FROM checkpoints WHERE tree_size >= 20", [])
        .unwrap();
    drop(raw);
    let out = ledger(&temp.path, &["verify"]);
    let text = stdout(&out);
    assert!(out.status.success(), "no proof of deletion left: {text}");
    assert!(
        text.contains("by the schedule of every 10 events")
            && text.contains("3 checkpoints are absent): 20, 30, 40"),
        "{text}"
    );
    assert!(
        text.contains("35 events, positions 11–45, lie past the last valid checkpoint, of size 10"),
        "{text}"
    );
    // The auditor's own key, and another schedule given by the auditor.
    let public_file = exported_public_key(&temp);
    let (report, _) = verify_json(
        &temp.path,
        &[
            "--public-key",
            public_file.to_str().unwrap(),
            "--checkpoint-every",
            "15",
        ],
    );
    assert_eq!(report["key"]["source"], "public-key-option");
    assert_eq!(report["key"]["path"], public_file.to_str().unwrap());
    assert_eq!(report["checkpoint_schedule"]["every_source"], "given");
    assert_eq!(
        report["checkpoint_schedule"]["absent"],
        serde_json::json!([15, 30, 45])
    );
    let text = stdout(ok(&ledger(
        &temp.path,
        &["verify", "--public-key", public_file.to_str().unwrap()],
    )));
    assert!(
        text.contains("the auditor's own, from --public-key"),
        "{text}"
    );
    let zero = ledger(&temp.path, &["verify", "--checkpoint-every", "0"]);
    assert!(!zero.status.success());
    assert!(
        stderr(&zero).contains("must be at least 1"),
        "{}",
        stderr(&zero)
    );
}

/// The key beside the file replaced (same log name, new key) and every checkpoint re-signed with
/// their original times and schedules: the file is self-consistent, so a plain `verify` cannot
/// prove anything and passes, but it names the key it trusted (whose id is not the one the auditor
/// was given) and warns that the key file changed after the earliest checkpoint it verifies; with
/// the auditor's own public key every checkpoint fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_key_with_resigned_checkpoints_is_named_for_the_auditor_to_look() {
    let temp = fixture().await;
    let public_file = exported_public_key(&temp);
    let original = ledger::audit::load_key(&temp.path).unwrap();

    let forger = LogSigningKey::from_seed(original.origin().clone(), &[9u8; 32]);
    let key_file = ledger::audit::key_path(&temp.path);
    std::fs::write(&key_file, format!("{}\n", forger.to_note_signer())).unwrap();
    let raw = attacker(&temp.path);
    let notes: Vec<(i64, String)> = raw
        .prepare("SELECT tree_size, note FROM checkpoints")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (size, note) in notes {
        let genuine = Checkpoint::from_note(&note).unwrap();
        let every = genuine.schedule().expect("signed with a schedule");
        let forged = Checkpoint::sign_scheduled(
            &forger,
            genuine.tree_size(),
            *genuine.root_hash(),
            genuine.timestamp(),
            every,
        );
        raw.execute(
            "UPDATE checkpoints SET note = ?1 WHERE tree_size = ?2",
            rusqlite::params![forged.to_note(), size],
        )
        .unwrap();
    }
    drop(raw);

    let out = ledger(&temp.path, &["verify"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("key id {}", forger.key_id()))
            && text.contains("from beside the ledger file"),
        "{text}"
    );
    assert!(!text.contains(&original.key_id().to_hex()), "{text}");
    assert!(
        text.contains("WARNING")
            && text.contains("after the earliest checkpoint it verifies, of size 10")
            && text.contains("the key was replaced and the checkpoints re-signed"),
        "{text}"
    );
    let text = verify_fails(&temp.path, &["--public-key", public_file.to_str().unwrap()]);
    for size in [10, 20, 30] {
        assert!(
            text.contains(&format!("the checkpoint of size {size} is signed by key")),
            "{text}"
        );
    }
}
