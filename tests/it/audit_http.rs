//! The audit endpoints over HTTP, black-box: an auditor fetches the signed checkpoints, proves an
//! event's inclusion and two checkpoints' consistency with nothing but the RFC 9162 verifiers and the
//! public key, and everyone else is refused.

use ledger_schemas::checkpoint::{Checkpoint, LogVerifyingKey};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::{verify_consistency, verify_inclusion};
use serde_json::Value;

use crate::http_lifecycle::published_period;
use crate::http_support::{Contract, Server, cast};

fn digest(value: &Value) -> Digest {
    Digest::from_hex(value.as_str().expect("a hex digest")).expect("a digest")
}

fn digests(value: &Value) -> Vec<Digest> {
    value
        .as_array()
        .expect("a path")
        .iter()
        .map(digest)
        .collect()
}

/// A ledger with events and checkpoints every 5 events (and at the head), signed with its key.
async fn checkpointed() -> (Server, crate::http_support::Cast, LogVerifyingKey) {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let key = ledger::audit::ensure_key(server.store.path()).expect("key");
    let made = ledger::audit::make_checkpoints(&server.store, &key, 5)
        .await
        .expect("checkpoints");
    assert!(
        made.len() >= 3,
        "the log is long enough for a few checkpoints"
    );
    (server, cast, key.verifying_key())
}

/// The checkpoints the API lists are signed by the ledger's key (whose verifier string it also
/// serves); an inclusion proof for several events, fetched over HTTP, verifies with
/// `verify_inclusion` against the root of the checkpoint (as read from its signed note), both for a
/// chosen checkpoint and for the default (the latest); and a consistency proof between the first and
/// the latest checkpoint verifies with `verify_consistency`. Every answer matches the OpenAPI document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_inclusion_and_consistency_over_http() {
    let (server, cast, key) = checkpointed().await;
    let mut contract = Contract::fetch(&server).await;
    let get = |path: String| {
        let (server, token) = (&server, cast.auditor.clone());
        async move { server.get(&path, &token).await }
    };

    let reply = get("/api/v1/audit/checkpoints".to_owned()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    contract.check(&hyper::Method::GET, "/api/v1/audit/checkpoints", &reply);
    assert_eq!(reply.json["public_key"], key.to_note_verifier());
    let log_size = server.log_len().await;
    assert_eq!(reply.json["log_size"], log_size);
    let mut signed = Vec::new();
    for entry in reply.json["checkpoints"].as_array().unwrap() {
        let checkpoint = Checkpoint::from_note(entry["note"].as_str().unwrap()).expect("a note");
        checkpoint.verify(&key).expect("signed by the ledger's key");
        assert_eq!(entry["tree_size"], checkpoint.tree_size());
        assert_eq!(digest(&entry["root"]), *checkpoint.root_hash());
        signed.push(checkpoint);
    }
    let sizes: Vec<u64> = signed.iter().map(Checkpoint::tree_size).collect();
    assert_eq!(sizes[0], 5);
    assert_eq!(*sizes.last().unwrap(), log_size, "the head is checkpointed");
    let (first, latest) = (&signed[0], signed.last().unwrap());

    // The event hashes the auditor checks come from the raw log, not from the proof answer.
    let events = get(format!("/api/v1/events?limit={log_size}")).await;
    assert_eq!(events.status, 200, "{}", events.text);
    let hash_at = |position: u64| digest(&events.json["events"][(position - 1) as usize]["hash"]);

    for (position, checkpoint) in [(1, first), (5, first), (3, latest), (log_size, latest)] {
        let path = format!(
            "/api/v1/audit/proofs/inclusion?position={position}&tree_size={}",
            checkpoint.tree_size()
        );
        let proof = get(path.clone()).await;
        assert_eq!(proof.status, 200, "{path}: {}", proof.text);
        contract.check(&hyper::Method::GET, &path, &proof);
        assert_eq!(proof.json["leaf_index"], position - 1);
        assert_eq!(digest(&proof.json["event_hash"]), hash_at(position));
        verify_inclusion(
            &hash_at(position),
            position - 1,
            checkpoint.tree_size(),
            &digests(&proof.json["path"]),
            checkpoint.root_hash(),
        )
        .unwrap_or_else(|e| panic!("position {position}: {e}"));
    }
    let default = get("/api/v1/audit/proofs/inclusion?position=2".to_owned()).await;
    assert_eq!(default.status, 200, "{}", default.text);
    assert_eq!(default.json["tree_size"], latest.tree_size());
    assert_eq!(default.json["checkpoint"]["note"], latest.to_note());
    verify_inclusion(
        &hash_at(2),
        1,
        latest.tree_size(),
        &digests(&default.json["path"]),
        latest.root_hash(),
    )
    .expect("the default proof leads to the latest checkpoint");

    let path = format!(
        "/api/v1/audit/proofs/consistency?old={}&new={}",
        first.tree_size(),
        latest.tree_size()
    );
    let consistency = get(path.clone()).await;
    assert_eq!(consistency.status, 200, "{}", consistency.text);
    contract.check(&hyper::Method::GET, &path, &consistency);
    assert_eq!(digest(&consistency.json["old_root"]), *first.root_hash());
    assert_eq!(digest(&consistency.json["new_root"]), *latest.root_hash());
    verify_consistency(
        first.tree_size(),
        latest.tree_size(),
        first.root_hash(),
        latest.root_hash(),
        &digests(&consistency.json["path"]),
    )
    .expect("the first checkpoint's log is a prefix of the latest's");
    server.stop().await;
}

/// Proofs that nothing signed answers are refused as problems: a size with no checkpoint and a
/// position beyond the latest checkpoint are 404, sizes in the wrong order and position 0 are 400;
/// the endpoints admit auditors only (an admin gets 403, no token 401).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_without_a_signed_checkpoint_are_refused() {
    let (server, cast, _) = checkpointed().await;
    let head = server.log_len().await;
    // One event past the last checkpoint.
    let reply = server
        .post(
            "/api/v1/units",
            &cast.admin,
            serde_json::json!({"unit": "SH-09", "name": "上海九支部", "kind": "branch"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    for (path, status) in [
        (
            "/api/v1/audit/proofs/inclusion?position=1&tree_size=7".to_owned(),
            404,
        ),
        (
            format!("/api/v1/audit/proofs/inclusion?position={}", head + 1),
            404,
        ),
        ("/api/v1/audit/proofs/inclusion?position=0".to_owned(), 400),
        (
            "/api/v1/audit/proofs/inclusion?position=6&tree_size=5".to_owned(),
            400,
        ),
        (
            "/api/v1/audit/proofs/consistency?old=10&new=5".to_owned(),
            400,
        ),
        (
            "/api/v1/audit/proofs/consistency?old=5&new=7".to_owned(),
            404,
        ),
    ] {
        let reply = server.get(&path, &cast.auditor).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        reply.assert_problem();
    }
    let admin = server.get("/api/v1/audit/checkpoints", &cast.admin).await;
    assert_eq!(admin.status, 403, "{}", admin.text);
    let anonymous = server
        .call(hyper::Method::GET, "/api/v1/audit/checkpoints", None, None)
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    server.stop().await;
}

/// A backend that keeps no signed checkpoints (KurrentDB, here its wire-compatible test server)
/// answers the audit endpoints with a documented 501 problem rather than an unsigned root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_checkpoints_answers_501() {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use ledger::app::{Clock, Ledger};
    use ledger::store::kurrent::KurrentStore;
    use ledger_schemas::Role;
    use ledger_schemas::ids::PersonId;

    let cluster = esdb_testserver::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let store = Arc::new(
        KurrentStore::connect(&cluster.connection_string())
            .await
            .unwrap(),
    );
    let app = Arc::new(Ledger::open(store, Clock::System).await.unwrap());
    let token = ledger::app::tokens::issue_token(
        &app,
        &PersonId::new("auditor-1").unwrap(),
        Role::Auditor,
        &[],
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(ledger::http::serve(
        listener,
        ledger::http::Api::new(app),
        async {
            let _ = stopped.await;
        },
    ));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    for path in [
        "/api/v1/audit/checkpoints",
        "/api/v1/audit/proofs/inclusion?position=1",
        "/api/v1/audit/proofs/consistency?old=1&new=1",
    ] {
        let request = hyper::Request::builder()
            .uri(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .body(http_body_util::Full::new(hyper::body::Bytes::new()))
            .unwrap();
        let reply = client.request(request).await.unwrap();
        assert_eq!(reply.status(), 501, "{path}");
        assert_eq!(
            reply.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

/// `ledger serve --checkpoint-every 5` on a ledger with a key signs, by itself, the checkpoint of
/// every multiple of 5 the log reaches: those reached before it started (at start) and those reached
/// by writes over HTTP, and nothing at other sizes; each verifies with the ledger's key.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_signs_a_checkpoint_every_n_events() {
    use std::time::{Duration, Instant};

    use ledger_schemas::Role;
    use ledger_schemas::ids::PersonId;

    let temp = crate::store_support::temp_ledger();
    crate::cli_support::ok(&crate::cli_support::ledger(&temp.path, &["init"]));
    let key = ledger::audit::load_key(&temp.path)
        .expect("init made a key")
        .verifying_key();
    let (admin, auditor) = {
        let store = std::sync::Arc::new(ledger::store::SqliteStore::open(&temp.path).unwrap());
        let app = ledger::app::Ledger::open(store.clone(), ledger::app::Clock::System)
            .await
            .unwrap();
        let issue = |person: &'static str, role| {
            let app = &app;
            async move {
                ledger::app::tokens::issue_token(app, &PersonId::new(person).unwrap(), role, &[])
                    .await
                    .unwrap()
            }
        };
        let tokens = (
            issue("admin-1", Role::Admin).await,
            issue("auditor-1", Role::Auditor).await,
        );
        store.close().await;
        tokens
    };
    let (mut child, addr) = crate::http_serve_cli::spawn_serve(&[
        "--ledger",
        temp.path.to_str().unwrap(),
        "--checkpoint-every",
        "5",
    ])
    .await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let call = |method: hyper::Method, path: &str, token: &str, body: String| {
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
            .unwrap();
        let client = client.clone();
        async move {
            use http_body_util::BodyExt as _;
            let reply = client.request(request).await.unwrap();
            let status = reply.status().as_u16();
            let bytes = reply.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    for n in 0..12 {
        let body = format!(r#"{{"unit":"AU-{n:02}","name":"单位{n}","kind":"branch"}}"#);
        let (status, reply) = call(hyper::Method::POST, "/api/v1/units", &admin, body).await;
        assert_eq!(status, 201, "{reply}");
    }

    // The signer runs beside the server: wait until it has caught up with the head.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (log_size, sizes, notes) = loop {
        let (status, list) = call(
            hyper::Method::GET,
            "/api/v1/audit/checkpoints",
            &auditor,
            String::new(),
        )
        .await;
        assert_eq!(status, 200, "{list}");
        let log_size = list["log_size"].as_u64().unwrap();
        let entries = list["checkpoints"].as_array().unwrap();
        let sizes: Vec<u64> = entries
            .iter()
            .map(|c| c["tree_size"].as_u64().unwrap())
            .collect();
        let notes: Vec<String> = entries
            .iter()
            .map(|c| c["note"].as_str().unwrap().to_owned())
            .collect();
        if sizes.last() == Some(&(log_size / 5 * 5)) || Instant::now() > deadline {
            break (log_size, sizes, notes);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(log_size >= 12, "twelve units were registered");
    let expected: Vec<u64> = (1..=log_size / 5).map(|k| k * 5).collect();
    assert_eq!(
        sizes, expected,
        "exactly the multiples of 5 up to {log_size}"
    );
    for note in &notes {
        Checkpoint::from_note(note)
            .unwrap()
            .verify(&key)
            .expect("signed with the ledger's key");
    }

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

/// `ledger serve` also signs the log's head: on its timer when the log has grown
/// (`--checkpoint-interval 1`, while the multiples of `--checkpoint-every 1000` are never reached),
/// and when it stops cleanly (with no timer, `--checkpoint-interval 0`): afterwards no event lies
/// past the last checkpoint. Each such checkpoint states the schedule it was signed under.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_signs_the_head_on_its_timer_and_when_it_stops() {
    use std::time::{Duration, Instant};

    use crate::cli_support::{ledger, ok, stdout};

    let temp = crate::store_support::temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let admin = stdout(ok(&ledger(
        &temp.path,
        &["token", "issue", "--person", "admin-1", "--role", "admin"],
    )))
    .trim()
    .to_owned();
    let stored = |path: &std::path::Path| -> Vec<(u64, String)> {
        let raw = rusqlite::Connection::open(path).unwrap();
        let mut stmt = raw
            .prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let register = |addr: String, n: usize| {
        let admin = admin.clone();
        async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Full<hyper::body::Bytes>>();
            for i in 0..n {
                let body = format!(r#"{{"unit":"T-{n}-{i}","name":"单位{i}","kind":"branch"}}"#);
                let request = hyper::Request::builder()
                    .method(hyper::Method::POST)
                    .uri(format!("http://{addr}/api/v1/units"))
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
                    .unwrap();
                assert_eq!(client.request(request).await.unwrap().status(), 201);
            }
        }
    };
    let path = temp.path.to_str().unwrap();

    // No timer: nothing signed while serving (1000 is far off), the head signed at the stop.
    let (child, addr) =
        crate::http_serve_cli::spawn_serve(&["--ledger", path, "--checkpoint-interval", "0"]).await;
    register(addr, 3).await;
    assert!(
        stored(&temp.path).is_empty(),
        "nothing signed while serving"
    );
    crate::http_serve_cli::stop_cleanly(child).await;
    let head = crate::cli_support::events(&temp.path);
    let notes = stored(&temp.path);
    assert_eq!(
        notes.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![head]
    );
    let signed = Checkpoint::from_note(&notes[0].1).unwrap();
    assert_eq!(signed.schedule().map(|n| n.get()), Some(1000));

    // A one-second timer: the grown head is signed while the server still runs.
    let (child, addr) =
        crate::http_serve_cli::spawn_serve(&["--ledger", path, "--checkpoint-interval", "1"]).await;
    register(addr, 2).await;
    let grown = head + 2;
    let deadline = Instant::now() + Duration::from_secs(20);
    while stored(&temp.path).last().map(|(s, _)| *s) != Some(grown) {
        assert!(
            Instant::now() < deadline,
            "the timer signed nothing: {:?}",
            stored(&temp.path)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crate::http_serve_cli::stop_cleanly(child).await;
    let (report, _) = {
        let out = ledger(&temp.path, &["verify", "--json"]);
        (
            serde_json::from_slice::<Value>(&ok(&out).stdout).unwrap(),
            (),
        )
    };
    assert_eq!(
        report["checkpoint_schedule"]["events_past_last"], 0,
        "{report}"
    );
    assert_eq!(report["checkpoint_schedule"]["last_checkpoint"], grown);
}
