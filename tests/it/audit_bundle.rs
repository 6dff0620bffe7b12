//! The audit bundle: `ledger export --audit DIR` and `ledger verify --bundle DIR [--event ID]`, run as
//! an auditor would, on intact and tampered bundles, without the ledger file.

use std::path::Path;

use ledger::store::{EventStore, ExpectedRevision, SqliteStore};
use ledger_schemas::checkpoint::Checkpoint;
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::InclusionProof;

use crate::cli_support::{ledger, ok, stderr, stdout};
use crate::store_support::{TempLedger, scores, temp_ledger};

/// A ledger with 25 events and checkpoints at 10, 20 and 25, exported to `DIR/bundle`; the ledger
/// file and its key are then deleted, so verification can only use the bundle.
async fn exported() -> (TempLedger, std::path::PathBuf) {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let store = SqliteStore::open_existing(&temp.path).unwrap();
    store
        .append("sheet-bundle", ExpectedRevision::NoStream, scores(0, 25))
        .await
        .unwrap();
    store.close().await;
    ok(&ledger(
        &temp.path,
        &["audit", "checkpoint", "--every", "10"],
    ));
    let dir = temp.dir.path().join("bundle");
    let out = ledger(&temp.path, &["export", "--audit", dir.to_str().unwrap()]);
    assert!(
        stdout(ok(&out)).contains("25 个事件 events"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_file(&temp.path).unwrap();
    std::fs::remove_file(ledger::audit::key_path(&temp.path)).unwrap();
    (temp, dir)
}

fn verify_bundle(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify", "--bundle", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    // `--ledger` points at the deleted file: the bundle must not need it.
    ledger(Path::new("/nonexistent/ledger.db"), &args)
}

fn first_event_id(dir: &Path, line: usize) -> String {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let event: serde_json::Value = serde_json::from_str(text.lines().nth(line).unwrap()).unwrap();
    event["event_id"].as_str().unwrap().to_owned()
}

/// Rewrites one file of the bundle and its manifest entry, as an attacker covering their tracks
/// would, so that only the content checks can catch the change.
fn rewrite(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    use sha2::Digest as _;
    manifest["files"][name] = hex::encode(sha2::Sha256::digest(text.as_bytes())).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
}

/// The bundle holds events, checkpoints, the public key, every schema and a manifest; it verifies
/// without the ledger file; `--event` prints an inclusion proof that checks against the checkpoint
/// it names, with the auditor's own copy of the public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_verifies_alone_and_proves_inclusion() {
    let (temp, dir) = exported().await;
    for name in [
        "events.jsonl",
        "public-key",
        "manifest.json",
        "checkpoints/10.note",
        "checkpoints/20.note",
        "checkpoints/25.note",
        "schemas/envelope.schema.json",
        "schemas/events/ScoreRecorded.v2.schema.json",
    ] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    let out = verify_bundle(&dir, &[]);
    assert!(
        stdout(ok(&out)).contains("25 个事件 events"),
        "{}",
        stdout(&out)
    );

    let public = temp.dir.path().join("kept-public-key");
    std::fs::copy(dir.join("public-key"), &public).unwrap();
    let id = first_event_id(&dir, 11);
    let out = verify_bundle(
        &dir,
        &[
            "--json",
            "--event",
            &id,
            "--public-key",
            public.to_str().unwrap(),
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    let inclusion = &json["inclusion"];
    assert_eq!(inclusion["position"], 12);
    let proof: InclusionProof = serde_json::from_value(inclusion["proof"].clone()).unwrap();
    let checkpoint = Checkpoint::from_note(inclusion["checkpoint"].as_str().unwrap()).unwrap();
    assert_eq!((proof.leaf_index, proof.tree_size), (11, 25));
    let hash = Digest::from_hex(inclusion["event_hash"].as_str().unwrap()).unwrap();
    proof.verify(&hash, checkpoint.root_hash()).unwrap();

    let text = stdout(ok(&verify_bundle(&dir, &["--event", &id])));
    assert!(text.contains("inclusion proof OK"), "{text}");
}

/// One byte of one event changed in `events.jsonl` is caught by the manifest's hash, and, with the
/// manifest rewritten to match, by the chain, naming the event's position and id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_event_in_bundle_is_named() {
    let (_temp, dir) = exported().await;
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let id = first_event_id(&dir, 4);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[4] = lines[4].replacen("entry", "Entry", 1);
    let tampered = lines.join("\n") + "\n";

    std::fs::write(dir.join("events.jsonl"), &tampered).unwrap();
    let out = verify_bundle(&dir, &[]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("file events.jsonl does not match its SHA-256"),
        "{}",
        stdout(&out)
    );

    rewrite(&dir, "events.jsonl", &tampered);
    let out = verify_bundle(&dir, &[]);
    assert!(!out.status.success());
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("position 5") && all.contains(&id), "{all}");
}

/// A removed checkpoint file is named as missing; a truncated `events.jsonl` (manifest rewritten)
/// leaves the checkpoint of size 25 beyond the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_checkpoint_and_truncated_events_are_named() {
    let (_temp, dir) = exported().await;
    std::fs::remove_file(dir.join("checkpoints/20.note")).unwrap();
    let out = verify_bundle(&dir, &[]);
    assert!(
        stdout(&out).contains("file checkpoints/20.note listed in the manifest is missing"),
        "{}",
        stdout(&out)
    );

    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let kept: Vec<&str> = text.lines().take(22).collect();
    rewrite(&dir, "events.jsonl", &(kept.join("\n") + "\n"));
    let out = verify_bundle(&dir, &[]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("checkpoint of size 25 is beyond the log, which holds only 22"),
        "{}",
        stdout(&out)
    );
}

/// A checkpoint deleted with its manifest line, as an attacker covering their tracks would, is
/// still named: the checkpoint of size 25 states under its signature that it was signed every 10
/// events, so the bundle lacking the one of size 20 lost it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_removed_with_its_manifest_line_is_named_by_the_schedule() {
    let (_temp, dir) = exported().await;
    let out = verify_bundle(&dir, &[]);
    assert!(out.status.success(), "{}", stdout(&out));
    std::fs::remove_file(dir.join("checkpoints/20.note")).unwrap();
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoints/20.note")
        .expect("the bundle listed it");
    manifest["checkpoints"] = 2.into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let out = verify_bundle(&dir, &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the checkpoint of size 20 is missing"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("listed in the manifest is missing"));
}

/// Export refuses a directory that is not empty, rather than mixing two bundles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_a_non_empty_directory() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let dir = temp.dir.path().join("bundle");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("other"), "x").unwrap();
    let out = ledger(&temp.path, &["export", "--audit", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
}

/// `--event` with an id the bundle does not hold fails, naming the id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_event_is_named() {
    let (_temp, dir) = exported().await;
    let id = uuid::Uuid::now_v7().to_string();
    let out = verify_bundle(&dir, &["--event", &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&id), "{}", stderr(&out));
}

/// `ledger audit watch --bundle DIR`: an auditor watches the exports handed over instead of a
/// server; a newer export that rolls the history back, or one whose newest event was edited, is
/// named, and the state keeps what was trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_watches_bundles_and_names_a_rollback_and_an_edit() {
    let (temp, dir) = exported().await;
    let state = temp.dir.path().join("watch.json");
    let watch = |dir: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
            .args(["audit", "watch", "--once", "--bundle"])
            .arg(dir)
            .arg("--log-key")
            .arg(dir.join("public-key"))
            .arg("--state")
            .arg(&state)
            .output()
            .unwrap()
    };
    let out = watch(&dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(kept["size"], 25);

    // The newest event edited in place (its stored hash left alone): named by position.
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    last["reason"] = "改过的原因".into();
    *lines.last_mut().unwrap() = last.to_string();
    rewrite(&dir, "events.jsonl", &(lines.join("\n") + "\n"));
    let out = watch(&dir);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("event 25"), "{}", stderr(&out));

    // A later export that holds less than what was trusted: a rollback, naming the kept checkpoint.
    let kept_lines: Vec<&str> = text.lines().take(20).collect();
    rewrite(&dir, "events.jsonl", &(kept_lines.join("\n") + "\n"));
    std::fs::remove_file(dir.join("checkpoints/25.note")).unwrap();
    let out = watch(&dir);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("rollback") && said.contains("checkpoint 25"),
        "{said}"
    );
    let still: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(still["size"], 25, "a failed round keeps the trusted state");

    // Witness keys with a bundle are refused: a bundle carries no cosignatures.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["audit", "watch", "--once", "--bundle"])
        .arg(&dir)
        .args([
            "--log-key",
            "x",
            "--witness-key",
            "w+00000000+AA==",
            "--state",
        ])
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
