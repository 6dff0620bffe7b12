//! Serving connections: the accept loop and the limits that keep one client from stopping the server.
//!
//! What a slow or greedy client could otherwise do, and what stops it:
//!
//! - **Half-sent requests** (a "slowloris": open many connections, send part of a request, wait).
//!   hyper's `header_read_timeout` closes a connection that has not sent a whole request head within
//!   [`Limits::header_timeout`]. hyper starts that clock whenever the connection waits for a request,
//!   so the same timeout ends an **idle keep-alive** connection. A **body** must arrive whole within
//!   [`Limits::body_timeout`] (`super::edge`, which also refuses unknown content encodings).
//! - **Too many connections.** Each costs a file descriptor; at the process's limit (commonly 1,024)
//!   `accept` fails and the server answers nobody. So at start-up the soft `RLIMIT_NOFILE` is raised to
//!   the hard limit ([`raise_open_file_limit`]), at most [`Limits::max_connections`] connections are
//!   served at once (by default the open-file limit less a reserve for the ledger's own files, and at
//!   most 4,096), and at most [`Limits::max_connections_per_client`] from one IP address, so that one
//!   client cannot hold them all. A connection beyond either bound is accepted, answered at once with
//!   a 503 problem and closed: the accept loop never waits for room, and the kernel's backlog never
//!   fills with connections nobody will serve.
//!
//! Behind a reverse proxy every connection comes from the proxy's address: raise or switch off the
//! per-client bound there (`--max-connections-per-client 0`) and let the proxy bound its clients.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};

/// What the server allows one connection and one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most time a connection may take to send a whole request head, counted from when it
    /// starts waiting for one: it also closes idle keep-alive connections.
    pub header_timeout: Duration,
    /// The most time a request body may take to arrive whole.
    pub body_timeout: Duration,
    /// Connections served at once; 0: derived from the open-file limit ([`Limits::connection_bound`]).
    pub max_connections: usize,
    /// Connections served at once from one IP address; 0: no bound but the total.
    pub max_connections_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 0,
            max_connections_per_client: 256,
        }
    }
}

/// File descriptors kept for the ledger itself: the SQLite file, its WAL and shared memory, the
/// reader pool, the checkpoint and snapshot connections, the key, logs.
const RESERVED_FILES: usize = 128;
/// The most connections served at once when nothing else bounds them (each holds buffers and a task).
const DEFAULT_MAX_CONNECTIONS: usize = 4096;

impl Limits {
    /// The connection bound in force: the configured one, else the open-file limit less
    /// [`RESERVED_FILES`], at most [`DEFAULT_MAX_CONNECTIONS`] (and at least 16).
    pub fn connection_bound(&self) -> usize {
        if self.max_connections > 0 {
            return self.max_connections;
        }
        let files = open_file_limit().unwrap_or(1024) as usize;
        files
            .saturating_sub(RESERVED_FILES)
            .clamp(16, DEFAULT_MAX_CONNECTIONS)
    }
}

/// Raises the soft limit of open files to the hard limit (a no-op where they are equal, or off
/// Unix), and returns the soft limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = open_files()?;
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit only reads the struct passed to it.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit = raised;
            }
        }
        #[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every Unix
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The soft limit of open files, if the platform has one.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        #[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every Unix
        open_files().map(|limit| limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(unix)]
fn open_files() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit)
}

/// The connections being served: in all, and per client address.
#[derive(Default)]
struct Admissions {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// A served connection's place; giving it back when the connection ends.
struct Admitted {
    admissions: Arc<Mutex<Admissions>>,
    client: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut admissions = self
            .admissions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        admissions.total -= 1;
        crate::metrics::metrics().open_connections.dec();
        if let Some(count) = admissions.per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                admissions.per_client.remove(&self.client);
            }
        }
    }
}

/// Admits a connection from `client` if both bounds allow it.
fn admit(
    admissions: &Arc<Mutex<Admissions>>,
    client: IpAddr,
    total_bound: usize,
    client_bound: usize,
) -> Option<Admitted> {
    let mut guard = admissions
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let from_client = guard.per_client.get(&client).copied().unwrap_or(0);
    if guard.total >= total_bound || (client_bound > 0 && from_client >= client_bound) {
        return None;
    }
    guard.total += 1;
    crate::metrics::metrics().open_connections.inc();
    *guard.per_client.entry(client).or_insert(0) += 1;
    Some(Admitted {
        admissions: admissions.clone(),
        client,
    })
}

/// The answer to a connection beyond a bound: a 503 problem, written without waiting, then closed.
static TOO_MANY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let problem = super::error::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "too-many-connections",
        "连接过多, 请稍后重试 Too many connections; retry later",
        "此服务器或此客户端打开的连接过多 (this server, or this client, has too many open connections)",
    );
    let body = serde_json::to_vec(&problem.problem).unwrap_or_default();
    let mut response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        super::error::PROBLEM_JSON,
        body.len()
    )
    .into_bytes();
    response.extend(body);
    response
});

async fn refuse(mut stream: TcpStream) {
    // Best effort: never wait on a client that is not reading.
    let _ = stream.try_write(&TOO_MANY);
    let _ = stream.shutdown().await;
}

/// Whether an `accept` error concerns one connection only (the listener is fine).
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets the requests in
/// flight finish (idle connections close at once; a half-sent request within its header timeout).
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router_tls(listener, app, limits, None, shutdown).await
}

/// As [`serve_router`], over TLS when `tls` is given: the handshake must finish within the header
/// timeout, like the request head that follows it.
pub async fn serve_router_tls(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    raise_open_file_limit();
    let total_bound = limits.connection_bound();
    let admissions = Arc::new(Mutex::new(Admissions::default()));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    // Out of file descriptors (or memory): wait a little for connections to end
                    // rather than spin; connections being served are unaffected.
                    tracing::warn!("接受连接失败 (cannot accept a connection): {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(admitted) = admit(
            &admissions,
            peer.ip(),
            total_bound,
            limits.max_connections_per_client,
        ) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        // Small JSON answers on kept-alive connections: Nagle's algorithm would hold them back.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        match &tls {
            None => {
                let connection =
                    graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                    drop(admitted);
                });
            }
            Some(tls) => {
                let handshake = tokio::time::timeout(limits.header_timeout, tls.accept(stream));
                let (builder, watcher) = (builder.clone(), graceful.watcher());
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) = handshake.await {
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(connection).await;
                    }
                    drop(admitted);
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admissions_hold_both_bounds_and_give_places_back() {
        let admissions = Arc::new(Mutex::new(Admissions::default()));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let from_a: Vec<_> = (0..3).filter_map(|_| admit(&admissions, a, 5, 2)).collect();
        assert_eq!(from_a.len(), 2, "two per client");
        let from_b: Vec<_> = (0..5).filter_map(|_| admit(&admissions, b, 5, 2)).collect();
        assert_eq!(from_b.len(), 2);
        drop(from_a);
        assert!(admit(&admissions, a, 5, 0).is_some(), "places come back");
        assert_eq!(admissions.lock().unwrap().total, 2);
    }

    #[test]
    fn the_refusal_is_a_whole_problem_response() {
        let text = std::str::from_utf8(&TOO_MANY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 503);
    }
}
