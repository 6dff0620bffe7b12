//! `ledger serve` as a program: it listens where `--listen` says, serves the API over the
//! `--ledger` file, and on SIGTERM finishes and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hyper::Method;
use ledger_schemas::Role;

use crate::store_support::temp_ledger;

/// Starts `ledger serve --listen 127.0.0.1:0`, reads the address it prints, fetches the OpenAPI
/// document and an authenticated list (with a token issued beforehand on the same file), then sends
/// SIGTERM: the process exits 0 and the ledger file still opens.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_listens_answers_and_stops_on_sigterm() {
    let temp = temp_ledger();
    // The first token comes from the machine that holds the ledger (here: the library call the
    // `ledger token issue` command makes), before the server opens the file.
    let token = {
        let store = std::sync::Arc::new(ledger::store::SqliteStore::open(&temp.path).unwrap());
        let app = ledger::app::Ledger::open(store.clone(), ledger::app::Clock::System)
            .await
            .unwrap();
        let person = ledger_schemas::ids::PersonId::new("admin-1").unwrap();
        let token = ledger::app::tokens::issue_token(&app, &person, Role::Admin, &[])
            .await
            .unwrap();
        store.close().await;
        token
    };
    let (child, addr) = spawn_serve(&[
        "--ledger",
        temp.path.to_str().expect("a UTF-8 temporary path"),
    ])
    .await;

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let get = |path: &str, token: Option<&str>| {
        let mut request = hyper::Request::builder()
            .method(Method::GET)
            .uri(format!("http://{addr}{path}"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        client.request(request.body(Default::default()).unwrap())
    };
    let document = get("/api/v1/openapi.json", None).await.expect("openapi");
    assert_eq!(document.status(), 200);
    let units = get("/api/v1/units", Some(&token)).await.expect("units");
    assert_eq!(units.status(), 200);
    let refused = get("/api/v1/units", None).await.expect("units");
    assert_eq!(refused.status(), 401);
    // The program turns transparent huge pages off for itself (src/main.rs): with them, mimalloc's
    // arenas made folds zero fresh 2 MiB pages over and over.
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("THP_enabled:"))
            .expect("/proc/PID/status has THP_enabled (Linux 5.0 and later)");
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }

    stop_cleanly(child).await;
    assert!(ledger::store::SqliteStore::open_existing(&temp.path).is_ok());
}

/// Sends `ledger serve` SIGTERM and asserts it exits 0 within 20 s.
pub async fn stop_cleanly(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("ledger serve stops within 20 s")
    .unwrap()
    .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

/// Starts `ledger serve --listen 127.0.0.1:0` with `args`, and returns the child and the
/// `host:port` it printed once it listens.
pub async fn spawn_serve(args: &[&str]) -> (std::process::Child, String) {
    spawn_serve_with(args, |_| {}).await
}

/// As [`spawn_serve`], with the command adjusted by `configure` first (limits for the child, say).
pub async fn spawn_serve_with(
    args: &[&str],
    configure: impl FnOnce(&mut Command),
) -> (std::process::Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ledger"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("LEDGER_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    configure(&mut command);
    let mut child = command.spawn().expect("start ledger serve");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr)
}

/// A token revoked with `ledger token revoke` (another process on the same file) is refused by a
/// running `ledger serve` within a second, though nothing is written through the server meanwhile;
/// another token keeps working. Before issue 14 the write side that authenticates folded only after
/// its own commands, so the revoked token kept working on a quiet server indefinitely.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_from_the_command_line_is_refused_by_a_running_server_within_a_second() {
    use crate::cli_support::{ledger, ok, stdout};
    let temp = temp_ledger();
    let path = temp.path.to_str().expect("a UTF-8 temporary path");
    ok(&ledger(&temp.path, &["init"]));
    let issue = |person: &str| {
        let out = ledger(
            &temp.path,
            &["token", "issue", "--person", person, "--role", "admin"],
        );
        stdout(ok(&out)).trim_end().to_owned()
    };
    let leaving = issue("admin-1");
    let staying = issue("admin-2");
    let (mut child, addr) = spawn_serve(&["--ledger", path]).await;

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let status = |token: &str| {
        let request = hyper::Request::builder()
            .uri(format!("http://{addr}/api/v1/units"))
            .header("authorization", format!("Bearer {token}"))
            .body(Default::default())
            .unwrap();
        let reply = client.request(request);
        async move { reply.await.expect("units").status().as_u16() }
    };
    assert_eq!(status(&leaving).await, 200);
    assert_eq!(status(&staying).await, 200);

    let id = leaving.split_once('~').expect("id~secret").0.to_owned();
    let revoke = ledger(
        &temp.path,
        &[
            "token",
            "revoke",
            "--token",
            &id,
            "--reason",
            "离职 left the office",
        ],
    );
    ok(&revoke);
    let revoked = std::time::Instant::now();
    let mut last = 0;
    while revoked.elapsed() < Duration::from_secs(1) {
        last = status(&leaving).await;
        if last == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        last,
        401,
        "the revoked token still answered {last} {:?} after the revocation",
        revoked.elapsed()
    );
    assert_eq!(status(&staying).await, 200);

    let _ = child.kill();
    let _ = child.wait();
}
