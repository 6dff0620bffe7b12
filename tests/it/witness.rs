//! Witnesses (issue 21), black-box over HTTP on random ports: the witness's answers to every kind
//! of request (C2SP tlog-witness statuses), its state across a restart, a split view refused, and
//! the whole loop: a ledger whose checkpoints two witnesses cosign, a rewritten and re-signed
//! history refused by both and named by `ledger audit watch` and `ledger verify --witness-key`, and
//! a witness that is down delaying witnessing without holding up appends.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ledger::store::{EventStore, ExpectedRevision, SqliteStore};
use ledger::witness::client::{Reply, http_client, request};
use ledger::witness::state::Witness;
use ledger::witness::watch::{WatchOptions, check_once};
use ledger::witness::{WitnessTarget, Witnessing};
use ledger_schemas::Role;
use ledger_schemas::checkpoint::{Checkpoint, LogSigningKey, Origin};
use ledger_schemas::cosignature::{AddCheckpoint, WitnessSigningKey};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::MerkleTree;
use tokio::sync::oneshot;

use crate::cli_support::{ledger, stderr, stdout};
use crate::http_support::Server;
use crate::store_support::scores;

/// A witness served in process on a random port.
struct Wit {
    addr: SocketAddr,
    key: WitnessSigningKey,
    state: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Wit {
    async fn start(name: &str, seed: u8, logs: &[&LogSigningKey], state: &Path) -> Wit {
        Self::start_on("127.0.0.1:0", name, seed, logs, state).await
    }

    async fn start_on(
        listen: &str,
        name: &str,
        seed: u8,
        logs: &[&LogSigningKey],
        state: &Path,
    ) -> Wit {
        let key = WitnessSigningKey::from_seed(Origin::new(name).unwrap(), &[seed; 32]);
        let log_keys = logs.iter().map(|k| k.verifying_key()).collect();
        let witness = Arc::new(Witness::open(key.clone(), log_keys, state).unwrap());
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(ledger::witness::server::serve(listener, witness, async {
            let _ = stopped.await;
        }));
        Wit {
            addr,
            key,
            state: state.to_owned(),
            stop: Some(stop),
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn vkey(&self) -> String {
        self.key.verifying_key().to_vkey()
    }

    fn target(&self) -> WitnessTarget {
        format!("{}={}", self.url(), self.vkey()).parse().unwrap()
    }

    async fn add(&self, old: u64, proof: Vec<Digest>, note: &str) -> Reply {
        let body = AddCheckpoint {
            old,
            proof,
            note: note.to_owned(),
        }
        .to_body();
        self.post(body).await
    }

    async fn post(&self, body: String) -> Reply {
        let url = format!("{}/add-checkpoint", self.url());
        request(&http_client(), &url, Some(body), None)
            .await
            .unwrap()
    }

    fn refusals(&self) -> String {
        std::fs::read_to_string(ledger::witness::state::refusals_path(&self.state))
            .unwrap_or_default()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.await;
    }
}

/// Every tlog-witness answer: garbage is 400; more than 63 proof lines is 400; an unknown origin
/// 404; a note signed by another key of the same name 403; `old` past the checkpoint 400; a first
/// checkpoint with `old 0` is cosigned (a line that verifies under the witness's key); a stale
/// `old` is 409 with the latest size as `text/x.tlog.size`; a proof that does not lead from the
/// cosigned root is 422; a second checkpoint of the cosigned size with another root (a split view)
/// is 409 and recorded as a fork; a second witness on the same state file is refused; after a
/// restart the witness still knows its latest checkpoint and serves it at `/latest`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_answers_as_the_specification_says_and_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("w1.json");
    let log = LogSigningKey::from_seed(Origin::new("ledger/t").unwrap(), &[1; 32]);
    let impostor = LogSigningKey::from_seed(Origin::new("ledger/t").unwrap(), &[9; 32]);
    let stranger = LogSigningKey::from_seed(Origin::new("ledger/other").unwrap(), &[8; 32]);
    let hashes: Vec<Digest> = (1..=20u8).map(|i| Digest([i; 32])).collect();
    let tree = MerkleTree::from_event_hashes(&hashes);
    let sign = |key: &LogSigningKey, size| {
        Checkpoint::sign(key, size, tree.root(size).unwrap(), Utc::now()).to_note()
    };
    let w = Wit::start("w1", 2, &[&log], &state).await;

    for garbage in [
        "",
        "old 0\n",
        "hello\n\nworld\n",
        "old 01\n\nx\n\n\u{2014} a b\n",
    ] {
        assert_eq!(w.post(garbage.to_owned()).await.status, 400, "{garbage:?}");
    }
    let long = vec![Digest([0; 32]); 64];
    assert_eq!(w.add(1, long, &sign(&log, 8)).await.status, 400);
    assert_eq!(w.add(0, vec![], &sign(&stranger, 8)).await.status, 404);
    assert_eq!(w.add(0, vec![], &sign(&impostor, 8)).await.status, 403);
    assert_eq!(w.add(9, vec![], &sign(&log, 8)).await.status, 400);
    assert_eq!(
        w.add(0, vec![Digest([0; 32])], &sign(&log, 8)).await.status,
        400
    );

    let note8 = sign(&log, 8);
    let ok = w.add(0, vec![], &note8).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let line = ok.body.lines().next().unwrap();
    let cosignature = ledger_schemas::cosignature::Cosignature::from_line(line).unwrap();
    let body = Checkpoint::from_note(&note8).unwrap().signed_message();
    w.key.verifying_key().verify(&cosignature, &body).unwrap();

    let stale = w.add(0, vec![], &sign(&log, 12)).await;
    assert_eq!((stale.status, stale.body.as_str()), (409, "8\n"));
    assert_eq!(stale.content_type, "text/x.tlog.size");

    let wrong = tree.consistency_proof(4, 12).unwrap().path;
    assert_eq!(w.add(8, wrong, &sign(&log, 12)).await.status, 422);

    let mut other = hashes.clone();
    other[2] = Digest([0xee; 32]);
    let forked = MerkleTree::from_event_hashes(&other);
    let split = Checkpoint::sign(&log, 8, forked.root(8).unwrap(), Utc::now()).to_note();
    let fork = w.add(8, vec![], &split).await;
    assert_eq!(fork.status, 409);
    assert_ne!(fork.content_type, "text/x.tlog.size");
    let refusals = w.refusals();
    for kind in ["\"fork\"", "\"bad-proof\"", "\"bad-signature\""] {
        assert!(refusals.contains(kind), "{kind} recorded: {refusals}");
    }

    // A second witness on the same state is refused while the first runs.
    let second = Witness::open(w.key.clone(), vec![log.verifying_key()], &state);
    assert!(
        second.unwrap_err().to_string().contains("another witness"),
        "one process per state file"
    );
    // A restart keeps the state: the witness still stands at 8 and extends it.
    w.stop().await;
    let w = Wit::start("w1", 2, &[&log], &state).await;
    let again = w.add(0, vec![], &sign(&log, 12)).await;
    assert_eq!((again.status, again.body.as_str()), (409, "8\n"));
    let proof = tree.consistency_proof(8, 12).unwrap().path;
    assert_eq!(w.add(8, proof, &sign(&log, 12)).await.status, 200);
    let latest = request(
        &http_client(),
        &format!("{}/latest?origin=ledger/t", w.url()),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(latest.status, 200);
    assert!(latest.body.starts_with("ledger/t\n12\n"), "{}", latest.body);
    assert!(latest.body.contains("\u{2014} w1 "), "{}", latest.body);
    w.stop().await;
}

/// Appends `count` score events after `from` to the server's store.
async fn append(store: &SqliteStore, from: u64, count: u64) {
    let expected = if from == 0 {
        ExpectedRevision::NoStream
    } else {
        ExpectedRevision::Exact(from - 1)
    };
    store
        .append("sheet-witness", expected, scores(from, count))
        .await
        .unwrap();
}

/// Waits until `witnesses` cosignatures of the checkpoint of `size` are kept.
async fn cosigned(store: &SqliteStore, size: u64, witnesses: usize) -> bool {
    for _ in 0..200 {
        let snapshot = store.audit_snapshot_after(u64::MAX).await.unwrap();
        let n = snapshot
            .cosignatures
            .iter()
            .filter(|c| c.tree_size == size)
            .count();
        if n >= witnesses {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The whole loop with two witnesses and quorum 2. Normal growth is cosigned by both, and
/// `ledger audit watch` and `ledger verify --witness-key` accept it as witnessed. Then an insider
/// with the file and the key rewrites event 3, re-signs every checkpoint and signs a new one: both
/// witnesses refuse it (recorded as a bad proof) and it gets no cosignature; the watcher names the
/// checkpoint whose cosignatures no longer verify (with the witnesses' keys) and the fork of the
/// checkpoint it kept (with the log key alone: the server shows another root at its size), and runs its hook with the reason; `ledger verify
/// --witness-key` names the invalid cosignatures and accepts no event as witnessed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_witnesses_cosign_growth_and_a_rewrite_is_refused_and_named() {
    let server = Server::start().await;
    let token = server.token("AUD-1", Role::Auditor, &[]).await;
    let key = ledger::audit::ensure_key(server.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let w1 = Wit::start("w1", 2, &[&key], &dir.path().join("w1.json")).await;
    let w2 = Wit::start("w2", 3, &[&key], &dir.path().join("w2.json")).await;
    let witnessing = Witnessing {
        witnesses: vec![w1.target(), w2.target()],
        quorum: 2,
    };
    let store = (*server.store).clone();
    let sender = tokio::spawn(ledger::witness::client::run(store.clone(), witnessing));
    let base = server.log_len().await;

    append(&store, 0, 10).await;
    ledger::audit::make_checkpoints(&store, &key, 1)
        .await
        .unwrap();
    let head = base + 10;
    assert!(cosigned(&store, head, 2).await, "both cosign the head");

    let options = WatchOptions {
        bundle: None,
        url: server.url(""),
        token: Some(token.clone()),
        log_key: key.verifying_key(),
        witness_keys: vec![w1.key.verifying_key(), w2.key.verifying_key()],
        quorum: 2,
        state: dir.path().join("watch.json"),
        samples: 3,
    };
    let client = http_client();
    let first = check_once(&client, &options).await.unwrap();
    assert!(first.ok && first.trusted_size == head, "{first:?}");

    append(&store, 10, 5).await;
    ledger::audit::make_checkpoints(&store, &key, 1)
        .await
        .unwrap();
    let grown = head + 5;
    assert!(
        cosigned(&store, grown, 2).await,
        "growth cosigned from the last size"
    );
    let second = check_once(&client, &options).await.unwrap();
    assert!(second.ok && second.trusted_size == grown, "{second:?}");
    let (w1_key, w2_key) = (w1.vkey(), w2.vkey());
    let args = ["verify", "--witness-key", &w1_key, "--witness-key", &w2_key];
    let out = ledger(server.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("the first {grown} events are witnessed")),
        "{}",
        stdout(&out)
    );

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = ledger(server.path(), &json_args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["witnesses"]["witnessed_size"], grown, "{report}");
    assert_eq!(report["witnesses"]["not_witnessed"], 0, "{report}");

    // The sender cosigns the latest checkpoint it finds: which smaller ones it caught depends on
    // timing, so the first cosigned one is read back.
    let before = store.audit_snapshot_after(u64::MAX).await.unwrap();
    let first_cosigned = before
        .cosignatures
        .iter()
        .map(|c| c.tree_size)
        .min()
        .unwrap();
    assert!(first_cosigned <= head);

    // The rewrite: event 3's hash changed, every checkpoint re-signed with the operator's key.
    let raw = rusqlite::Connection::open(server.path()).unwrap();
    raw.execute_batch(
        "DROP TRIGGER events_append_only_update;
         DROP TRIGGER checkpoints_append_only_delete;
         UPDATE events SET hash = zeroblob(32) WHERE position = 3;
         DELETE FROM checkpoints;",
    )
    .unwrap();
    drop(raw);
    append(&store, 15, 5).await;
    ledger::audit::make_checkpoints(&store, &key, 1)
        .await
        .unwrap();
    let rewritten = grown + 5;
    for _ in 0..200 {
        if w1.refusals().contains("bad-proof") && w2.refusals().contains("bad-proof") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(w1.refusals().contains("bad-proof"), "w1: {}", w1.refusals());
    assert!(w2.refusals().contains("bad-proof"), "w2: {}", w2.refusals());
    let snapshot = store.audit_snapshot_after(u64::MAX).await.unwrap();
    assert!(
        !snapshot
            .cosignatures
            .iter()
            .any(|c| c.tree_size == rewritten),
        "nobody cosigned the rewritten history"
    );

    let caught = check_once(&client, &options).await.unwrap();
    assert!(!caught.ok, "{caught:?}");
    assert_eq!(
        (caught.kind.as_str(), caught.at_fault.clone()),
        (
            "bad-cosignature",
            Some(format!("checkpoint {first_cosigned}"))
        ),
        "{caught:?}"
    );
    assert_eq!(caught.trusted_size, grown, "the kept state is not replaced");
    let log_only = WatchOptions {
        witness_keys: Vec::new(),
        quorum: 0,
        ..options.clone()
    };
    let fork = check_once(&client, &log_only).await.unwrap();
    assert_eq!(
        (fork.kind.as_str(), fork.at_fault.clone()),
        ("fork", Some(format!("checkpoint {grown}"))),
        "{fork:?}"
    );

    let hooked = dir.path().join("hook.txt");
    let hook = format!(
        "echo \"$LEDGER_WATCH_KIND $LEDGER_WATCH_AT_FAULT\" > {}",
        hooked.display()
    );
    let log_vkey = key.verifying_key().to_note_verifier();
    let state = options.state.display().to_string();
    let url = server.url("");
    let watch = [
        "audit",
        "watch",
        "--url",
        &url,
        "--token",
        &token,
        "--log-key",
        &log_vkey,
        "--state",
        &state,
        "--once",
        "--hook",
        &hook,
    ];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(watch)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a failed round exits non-zero");
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
    let told = std::fs::read_to_string(&hooked).unwrap();
    assert_eq!(told.trim(), format!("fork checkpoint {grown}"));

    let out = ledger(server.path(), &args);
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("cosignature INVALID"), "{text}");
    assert!(
        text.contains(&format!("checkpoint of size {first_cosigned}")),
        "{text}"
    );
    assert!(text.contains("the first 0 events are witnessed"), "{text}");

    sender.abort();
    w1.stop().await;
    w2.stop().await;
    server.stop().await;
}

/// A witness that is down delays its cosignature but no append: the events are recorded and the
/// other witness cosigns at once; when the witness comes up on its address it is brought up to
/// date by the retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_is_down_delays_witnessing_without_blocking_appends() {
    let (store, temp) = crate::store_support::sqlite_store();
    let key = ledger::audit::ensure_key(&temp.path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let up = Wit::start("w1", 2, &[&key], &dir.path().join("w1.json")).await;
    // An address nobody listens on yet.
    let down_addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let down_key = WitnessSigningKey::from_seed(Origin::new("w2").unwrap(), &[3; 32]);
    let down_target: WitnessTarget =
        format!("http://{down_addr}={}", down_key.verifying_key().to_vkey())
            .parse()
            .unwrap();
    let witnessing = Witnessing {
        witnesses: vec![up.target(), down_target],
        quorum: 2,
    };
    let sender = tokio::spawn(ledger::witness::client::run(store.clone(), witnessing));

    let started = std::time::Instant::now();
    append(&store, 0, 20).await;
    ledger::audit::make_checkpoints(&store, &key, 10)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "appends not held up"
    );
    assert_eq!(store.head().await.unwrap(), 20);
    assert!(cosigned(&store, 20, 1).await, "the live witness cosigns");
    let kept = store.audit_snapshot_after(u64::MAX).await.unwrap();
    assert!(kept.cosignatures.iter().all(|c| c.witness == "w1"));

    let late = Wit::start_on(
        &down_addr.to_string(),
        "w2",
        3,
        &[&key],
        &dir.path().join("w2.json"),
    )
    .await;
    assert!(cosigned(&store, 20, 2).await, "the late witness catches up");
    sender.abort();
    up.stop().await;
    late.stop().await;
    store.close().await;
}

/// `ledger serve` with two witnesses (quorum 2) sends the checkpoints its signer makes as the log
/// grows, and its audit API shows them with both cosignatures, the cosigned note and `witnessed`;
/// a `--witness` that is not `URL=VKEY` is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_serve_sends_its_checkpoints_and_shows_them_witnessed() {
    let temp = crate::store_support::temp_ledger();
    assert!(ledger(&temp.path, &["init"]).status.success());
    let out = ledger(
        &temp.path,
        &["token", "issue", "--person", "AUD-1", "--role", "auditor"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    let key = ledger::audit::load_key(&temp.path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let w1 = Wit::start("w1", 2, &[&key], &dir.path().join("w1.json")).await;
    let w2 = Wit::start("w2", 3, &[&key], &dir.path().join("w2.json")).await;

    let (stop, stopped) = oneshot::channel::<()>();
    let (ready, address) = oneshot::channel::<SocketAddr>();
    let config = ledger::server::ServeConfig {
        checkpoints: ledger::audit::auto::CheckpointPolicy {
            every: 5,
            interval: None,
        },
        witnessing: Witnessing {
            witnesses: vec![w1.target(), w2.target()],
            quorum: 2,
        },
        ..ledger::server::ServeConfig::new(temp.path.to_string_lossy(), "127.0.0.1:0")
    };
    let server = tokio::spawn(async move {
        ledger::server::serve(
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
    let writer = SqliteStore::open_existing(&temp.path).unwrap();
    let head = writer.head().await.unwrap();
    append(&writer, 0, 10).await;
    let size = (head + 10) / 5 * 5;
    let url = format!("http://{addr}/api/v1/audit/checkpoints");
    let mut shown = serde_json::Value::Null;
    for _ in 0..200 {
        let reply = request(&http_client(), &url, None, Some(&token))
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        shown = serde_json::from_str(&reply.body).unwrap();
        let latest = shown["checkpoints"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["tree_size"] == size))
            .cloned();
        if latest.is_some_and(|c| c["witnessed"] == true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let latest = shown["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tree_size"] == size)
        .unwrap_or_else(|| panic!("checkpoint {size}: {shown}"));
    assert_eq!(latest["witnessed"], true, "{latest}");
    let names: Vec<&str> = latest["cosignatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["witness"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["w1", "w2"]);
    let note = latest["cosigned_note"].as_str().unwrap();
    let signed = ledger_schemas::cosignature::SignedNote::parse(note).unwrap();
    assert_eq!(signed.cosignatures().len(), 2);
    // The console's integrity page shows who cosigned what.
    let page = reqwest::Client::new()
        .get(format!("http://{addr}/integrity"))
        .header("cookie", format!("ledger_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let row = format!("<tr data-size=\"{size}\">");
    assert!(page.contains("id=\"cosignatures\""), "{page}");
    assert_eq!(
        page.matches(&row).count(),
        2,
        "both witnesses on {size}: {page}"
    );
    assert!(page.contains(">w1 <") && page.contains(">w2 <"), "{page}");
    writer.close().await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    w1.stop().await;
    w2.stop().await;

    let out = ledger(&temp.path, &["serve", "--witness", "nonsense"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("URL=VKEY"), "{}", stderr(&out));
}

/// `ledger audit watch --listen` serves its last result at `/status`; an event edited in place
/// (its stored hash left alone, so the tree and every checkpoint still hold) is named by the
/// watcher by position and id: the event served no longer hashes to the leaf its inclusion proof
/// proves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_names_an_event_edited_in_place() {
    let server = Server::start().await;
    let token = server.token("AUD-1", Role::Auditor, &[]).await;
    let key = ledger::audit::ensure_key(server.path()).unwrap();
    let store = (*server.store).clone();
    append(&store, 0, 6).await;
    ledger::audit::make_checkpoints(&store, &key, 1000)
        .await
        .unwrap();
    let size = server.log_len().await;
    let dir = tempfile::tempdir().unwrap();
    let options = WatchOptions {
        bundle: None,
        url: server.url(""),
        token: Some(token),
        log_key: key.verifying_key(),
        witness_keys: Vec::new(),
        quorum: 0,
        state: dir.path().join("watch.json"),
        samples: 2,
    };
    let client = http_client();
    assert!(check_once(&client, &options).await.unwrap().ok);

    let (url, log_vkey) = (server.url(""), key.verifying_key().to_note_verifier());
    let state = dir.path().join("process.json").display().to_string();
    let token = options.token.clone().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["audit", "watch", "--url", &url, "--token", &token])
        .args(["--log-key", &log_vkey, "--state", &state])
        .args(["--interval", "1", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let status_url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or("http://127.0.0.1:1/status");
    let mut status = serde_json::Value::Null;
    for _ in 0..100 {
        // No unwrap while the child runs: a panic here would leave it behind.
        if let Ok(reply) = request(&client, status_url, None, None).await {
            status = serde_json::from_str(&reply.body).unwrap_or_default();
        }
        if !status.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status["ok"], true, "{status}");
    assert_eq!(status["trusted_size"], size, "{status}");

    let raw = rusqlite::Connection::open(server.path()).unwrap();
    raw.execute_batch("DROP TRIGGER events_append_only_update;")
        .unwrap();
    let changed = raw
        .execute(
            "UPDATE events SET payload = replace(payload, 'entry', 'ENTRY') WHERE position = ?1",
            [size as i64],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(raw);
    let caught = check_once(&client, &options).await.unwrap();
    assert_eq!(
        (caught.kind.as_str(), caught.at_fault.clone()),
        ("event", Some(format!("event {size}"))),
        "{caught:?}"
    );
    server.stop().await;
}

/// `ledger serve`'s witnesses come from `--witness` flags, else from the configuration file's
/// `witness` list and `witness-quorum`; a quorum above the number of witnesses is refused.
#[test]
fn witnesses_come_from_the_flags_or_the_configuration_file() {
    use clap::Parser as _;
    let key = WitnessSigningKey::from_seed(Origin::new("w1").unwrap(), &[2; 32]);
    let target = format!("http://127.0.0.1:9={}", key.verifying_key().to_vkey());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.toml");
    let witnessing = |args: &[&str]| {
        let cli = ledger::cli::Cli::try_parse_from(args).unwrap();
        let ledger::cli::Command::Serve(serve) = cli.command else {
            unreachable!()
        };
        serve
            .effective(&|_| None)
            .and_then(|e| e.config())
            .map(|c| c.witnessing)
    };
    let config = file.to_string_lossy().into_owned();
    std::fs::write(
        &file,
        format!("witness = [\"{target}\"]\nwitness-quorum = 1\n"),
    )
    .unwrap();
    let from_file = witnessing(&["ledger", "serve", "--config", &config]).unwrap();
    assert_eq!((from_file.witnesses.len(), from_file.quorum), (1, 1));
    assert_eq!(from_file.witnesses[0].url, "http://127.0.0.1:9");

    let other = target.replace(":9=", ":10=");
    let flags = witnessing(&["ledger", "serve", "--config", &config, "--witness", &other]).unwrap();
    assert_eq!(flags.witnesses[0].url, "http://127.0.0.1:10");

    std::fs::write(
        &file,
        format!("witness = [\"{target}\"]\nwitness-quorum = 2\n"),
    )
    .unwrap();
    let err = witnessing(&["ledger", "serve", "--config", &config]).unwrap_err();
    assert!(format!("{err:#}").contains("--witness-quorum"), "{err:#}");
}
