//! `ledger serve --store kurrentdb://...`: the program serves a KurrentDB/EventStoreDB cluster (here
//! the wire-compatible test server) instead of a ledger file.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use hyper::Method;
use ledger::app::{Clock, Ledger};
use ledger::store::kurrent::KurrentStore;
use ledger_schemas::Role;
use ledger_schemas::ids::PersonId;

use crate::http_serve_cli::spawn_serve;

/// A token issued through the adapter opens the API that `ledger serve --store URL` serves from the
/// same cluster; a unit registered over HTTP is read back; SIGTERM stops the server.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_on_a_kurrentdb_connection_string() {
    let server = esdb_testserver::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = server.connection_string();
    let token = {
        let store = Arc::new(KurrentStore::connect(&url).await.unwrap());
        let app = Ledger::open(store, Clock::System).await.unwrap();
        ledger::app::tokens::issue_token(&app, &PersonId::new("admin-1").unwrap(), Role::Admin, &[])
            .await
            .unwrap()
    };
    let (mut child, addr) = spawn_serve(&["--store", &url]).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let request = |method: Method, path: &str, body: &str| {
        hyper::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(
                body.to_owned(),
            )))
            .unwrap()
    };
    let created = client
        .request(request(
            Method::POST,
            "/api/v1/units",
            r#"{"unit":"SH-01","name":"盛和城镇党支部","kind":"branch","parent":null}"#,
        ))
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "registering a unit over a KurrentDB store: {}",
        created.status()
    );
    let read = client
        .request(request(Method::GET, "/api/v1/units/SH-01", ""))
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "serve exits 0 on SIGTERM");
}

/// `ledger verify --store URL` walks the cluster's notary chain: it passes on an intact log and,
/// after one stored event's payload is altered on the server, exits non-zero naming that event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_runs_on_a_kurrentdb_connection_string() {
    use ledger::store::{Direction, EventStore, ReadFrom};
    let server = esdb_testserver::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = server.connection_string();
    let store = Arc::new(KurrentStore::connect(&url).await.unwrap());
    let app = Ledger::open(store.clone(), Clock::System).await.unwrap();
    for person in ["p1", "p2", "p3", "p4"] {
        ledger::app::tokens::issue_token(&app, &PersonId::new(person).unwrap(), Role::Auditor, &[])
            .await
            .unwrap();
    }
    let verify = |url: String| async move {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_ledger"))
                .args(["verify", "--json", "--store", &url])
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let ok = verify(url.clone()).await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let verified = report["verified"].as_u64().unwrap();
    assert!(verified >= 8, "registrations and tokens: {report}");

    let victim = store
        .read_all(Direction::Forwards, ReadFrom::At(3), 1)
        .await
        .unwrap()
        .remove(0);
    assert!(server.tamper(victim.event_id, |record| {
        let text = String::from_utf8(record.data.clone()).unwrap();
        record.data = text.replacen("p", "q", 1).into_bytes();
    }));
    let broken = verify(url).await;
    assert!(!broken.status.success());
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains(&victim.event_id.to_string()),
        "names the altered event: {err}"
    );
}
