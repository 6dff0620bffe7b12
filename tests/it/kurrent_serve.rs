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
