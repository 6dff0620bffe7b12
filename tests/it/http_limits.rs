//! What one slow or greedy client can no longer do to the server: hold every connection it can get
//! with half-sent requests, take its time over headers or a body, keep idle connections forever,
//! or send a body in an encoding the server would read as something else.

use std::process::{Command, Stdio};
use std::time::Duration;

use hyper::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http_serve_cli::spawn_serve_with;
use crate::http_support::Server;
use ledger::http::ServeOptions;
use ledger::http::serve::{Limits, raise_open_file_limit};

/// Sets the child's open-file limits (soft, hard) before it runs.
#[cfg(target_os = "linux")]
fn open_files(command: &mut Command, soft: u64, hard: u64) {
    use std::os::unix::process::CommandExt;
    command.stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// A `ledger serve` child, stopped with SIGTERM when the test ends, even by a failed assertion.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Child {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// A `GET` of the (public) OpenAPI document from 127.0.0.1, on a connection of its own; its status.
async fn fetch_document(addr: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: ledger\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// With the common limit of 1,024 open files (soft and hard, so the server cannot raise it), one
/// client (127.0.0.2) opens 1,100 connections and sends half a request on each; another
/// (127.0.0.1) still gets its answer at once. The server holds at most its per-client bound of them
/// and answers the rest with a 503 problem and closes them; before, it accepted until it ran out of
/// file descriptors and then answered nobody.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_while_one_client_holds_1100_half_open_connections() {
    raise_open_file_limit(); // this test's own 1,100 sockets
    let temp = crate::store_support::temp_ledger();
    let path = temp.path.to_str().expect("a UTF-8 path").to_owned();
    let (child, addr) = spawn_serve_with(&["--ledger", &path], |c| open_files(c, 1024, 1024)).await;
    let child = Child(child);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.split_whitespace().nth(3) == Some("1024")),
        "{limits}"
    );
    assert_eq!(fetch_document(&addr).await, 200);

    let server: std::net::SocketAddr = addr.parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..1100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut stream = socket
            .connect(server)
            .await
            .expect("connect from 127.0.0.2");
        stream
            .write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: ledger\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let answered = tokio::time::timeout(Duration::from_secs(5), fetch_document(&addr)).await;
    assert_eq!(
        answered,
        Ok(200),
        "another client is answered while 1,100 connections are held"
    );
    // Every connection beyond the per-client bound gets the 503 problem. The server writes them from
    // their own tasks, so on a loaded machine some may still be on their way when the other client is
    // answered: look again for up to 5 s (half the header timeout, after which the held ones would be
    // closed too) until every one has come.
    let bound = Limits::default().max_connections_per_client;
    let mut refused = vec![false; held.len()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        for (stream, refused) in held.iter_mut().zip(refused.iter_mut()) {
            let mut buffer = [0u8; 64];
            if !*refused
                && let Ok(n) = stream.try_read(&mut buffer)
                && buffer[..n].starts_with(b"HTTP/1.1 503")
            {
                *refused = true;
            }
        }
        let count = refused.iter().filter(|r| **r).count();
        if count >= 1100 - bound || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.iter().filter(|r| **r).count();
    assert_eq!(refused, 1100 - bound, "all but {bound} refused");
    drop(held);
    drop(child);
}

/// At start-up `ledger serve` raises its soft open-file limit to the hard one.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_raises_its_open_file_limit_to_the_hard_limit() {
    let hard = raise_open_file_limit().expect("an open-file limit");
    if hard <= 1024 {
        eprintln!("the hard limit here is {hard}: nothing to raise");
        return;
    }
    let temp = crate::store_support::temp_ledger();
    let path = temp.path.to_str().expect("a UTF-8 path").to_owned();
    let (child, _) = spawn_serve_with(&["--ledger", &path], |c| open_files(c, 1024, hard)).await;
    let child = Child(child);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[3], fields[4], "soft = hard: {line}");
    drop(child);
}

/// A connection that does not finish its request head within the header timeout is closed, and so
/// is one left idle after an answer (hyper's header timeout counts from when a connection waits
/// for a request); a body that does not arrive whole within the body timeout gets a 408 problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_idle_connections_and_slow_bodies_are_cut_off() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = Server::start_with_options(ServeOptions {
        limits,
        ..ServeOptions::default()
    })
    .await;
    let closed_within = |mut stream: TcpStream, within: Duration| async move {
        let mut rest = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut rest))
            .await
            .is_ok()
    };

    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(half, Duration::from_secs(3)).await,
        "a half-sent head is cut off"
    );

    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(idle, Duration::from_secs(3)).await,
        "an idle keep-alive connection is closed after its answer"
    );

    let before = server.log_len().await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/units HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{\"unit\"",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains("body-timeout"));
    assert_eq!(server.log_len().await, before);
    server.stop().await;
}

/// A compressed body (any `Content-Encoding` but `identity`) is refused with 415 and
/// `Accept-Encoding: identity` before anything reads it: before, the compressed bytes were read as
/// if plain. A transfer coding other than `chunked` is 501.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encodings_the_server_does_not_decode_are_refused() {
    let server = Server::start().await;
    let admin = server
        .token("admin-1", ledger_schemas::Role::Admin, &[])
        .await;
    let before = server.log_len().await;
    let body = json!({"unit": "GZ-1", "name": "压缩单位", "kind": "branch"});
    for coding in ["gzip", "identity, br"] {
        let reply = server
            .call_with(
                Method::POST,
                "/api/v1/units",
                Some(&admin),
                Some(&body),
                &[("content-encoding", coding)],
            )
            .await;
        assert_eq!(reply.status, 415, "{coding}: {}", reply.text);
        assert_eq!(reply.assert_problem(), "unsupported-content-encoding");
        assert_eq!(reply.header("accept-encoding"), Some("identity"));
    }
    // A transfer coding hyper does not decode beneath `chunked` (sent by hand: a client library
    // would not send it).
    let json = body.to_string();
    let mut raw = TcpStream::connect(server.addr).await.unwrap();
    raw.write_all(
        format!(
            "POST /api/v1/units HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, chunked\r\nconnection: close\r\n\r\n{:x}\r\n{json}\r\n0\r\n\r\n",
            json.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 501"), "{answer}");
    assert!(answer.contains("unsupported-transfer-encoding"), "{answer}");
    assert_eq!(server.log_len().await, before, "nothing recorded");
    let plain = server
        .call_with(
            Method::POST,
            "/api/v1/units",
            Some(&admin),
            Some(&body),
            &[("content-encoding", "identity")],
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.text);
    assert_eq!(plain.header("x-content-type-options"), Some("nosniff"));
    server.stop().await;
}
