//! A wire-compatible EventStoreDB/KurrentDB test server: real gRPC (tonic, HTTP/2 without TLS), the
//! subset of the protocol that the `kurrentdb` client uses for appends, reads, catch-up
//! subscriptions and the server-features handshake, kept in memory.
//!
//! It exists because no EventStoreDB server can be installed where the ledger's tests run; the
//! ledger's KurrentDB adapter is tested against it over a real socket. Its limits are in
//! `README.md` beside this crate.
//!
//! Layout:
//! - [`proto`]: the protocol messages, hand-written `prost` structs (no `protoc`);
//! - [`log`]: the in-memory log and the server's rules (expected versions, idempotence, reads);
//! - `service`: the gRPC services over the log;
//! - this file: [`start`] and the [`TestServer`] handle that tests use to stop, restart, inject
//!   faults and tamper with stored events.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = esdb_testserver::start("127.0.0.1:0".parse().unwrap()).await?;
//! let url = server.connection_string(); // esdb://127.0.0.1:PORT?tls=false
//! server.stop().await;                  // clients now get "unavailable"
//! server.restart().await?;              // same port, same data
//! # Ok(()) }
//! ```

pub mod log;
mod net;
pub mod proto;
mod service;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::log::{Log, Record};
use crate::service::{Faults, FeaturesService, Shared, StreamsService};

/// How a test server behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Answer the server-features call (servers since 21.10 do); when `false` it is
    /// `UNIMPLEMENTED`, as on older servers, and clients must fall back to their defaults.
    pub server_features: bool,
    /// The largest append in bytes of data and metadata (the real server's default is 1 MiB).
    pub max_append_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server_features: true,
            max_append_size: 1024 * 1024,
        }
    }
}

struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A running (or stopped) test server. Its data lives as long as the handle, across
/// [`TestServer::stop`] and [`TestServer::restart`].
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: tokio::sync::Mutex<Option<Running>>,
}

/// Starts a test server with default [`Options`] on `addr` (port 0 picks a free port).
pub async fn start(addr: SocketAddr) -> std::io::Result<TestServer> {
    start_with(addr, Options::default()).await
}

/// Starts a test server with the given options.
pub async fn start_with(addr: SocketAddr, options: Options) -> std::io::Result<TestServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        log: Mutex::new(Log::new()),
        written: watch::channel(0).0,
        running: watch::channel(true).0,
        faults: Mutex::new(Faults::default()),
        server_features: options.server_features,
        max_append_size: options.max_append_size,
    });
    let running = serve(shared.clone(), listener);
    Ok(TestServer {
        addr,
        shared,
        running: tokio::sync::Mutex::new(Some(running)),
    })
}

fn serve(shared: Arc<Shared>, listener: tokio::net::TcpListener) -> Running {
    let (shutdown, signal) = oneshot::channel::<()>();
    let router = tonic::transport::Server::builder()
        .add_service(StreamsService(shared.clone()))
        .add_service(FeaturesService(shared));
    let task = tokio::spawn(async move {
        let incoming = net::incoming(listener);
        let signal = async {
            let _ = signal.await;
        };
        if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
            eprintln!("esdb-testserver: server error: {e}");
        }
    });
    Running { shutdown, task }
}

impl TestServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A connection string for the `kurrentdb` client: single node, no TLS.
    pub fn connection_string(&self) -> String {
        format!("esdb://{}?tls=false", self.addr)
    }

    /// Stops serving: live subscriptions end with `UNAVAILABLE`, the port is closed, new calls are
    /// refused. The data stays.
    pub async fn stop(&self) {
        let mut running = self.running.lock().await;
        let Some(Running { shutdown, mut task }) = running.take() else {
            return;
        };
        self.shared.running.send_replace(false);
        let _ = shutdown.send(());
        // Graceful shutdown waits for open calls; subscriptions end above, appends and reads are
        // short. A client that holds a connection open past this is cut off.
        if tokio::time::timeout(Duration::from_secs(3), &mut task)
            .await
            .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }

    /// Serves again on the same address with the same data, like a node coming back after a
    /// restart: what it kept only in memory (the idempotence cache for `Any` appends) is gone.
    pub async fn restart(&self) -> std::io::Result<()> {
        self.stop().await;
        let mut running = self.running.lock().await;
        let mut attempt = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                // The old socket may linger for a moment after the accept loop ended.
                Err(e) if attempt < 50 && e.kind() == std::io::ErrorKind::AddrInUse => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget_cache();
        self.shared.running.send_replace(true);
        *running = Some(serve(self.shared.clone(), listener));
        Ok(())
    }

    /// Whether it is serving now.
    pub async fn is_running(&self) -> bool {
        self.running.lock().await.is_some()
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Test hook: rewrites a stored event in place (data, metadata, type, ...). Returns whether an
    /// event with that id was found. Subscriptions that already delivered it are not told.
    pub fn tamper(&self, event_id: uuid::Uuid, change: impl FnOnce(&mut Record)) -> bool {
        self.log().tamper(event_id, change)
    }

    /// Test hook: writes a system record to a `$`-stream, as the server does for its own statistics
    /// (`$stats-…`) and housekeeping. Returns its position.
    pub fn append_system_event(&self, stream: &str, event_type: &str) -> u64 {
        let position = self.log().append_system(stream, event_type, b"{}".to_vec());
        self.shared.written.send_modify(|n| *n += 1);
        position
    }

    /// Test hook: scavenges a stream's events away (see [`Log::scavenge`]). Returns how many went.
    pub fn scavenge_stream(&self, stream: &str) -> usize {
        self.log().scavenge(stream)
    }

    /// Test hook: the next `n` appends are stored and then answered with `UNAVAILABLE`, as if the
    /// connection dropped before the acknowledgement arrived.
    pub fn lose_next_acks(&self, n: u32) {
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.lose_acks = n;
        faults.restart_after_lost_ack = false;
    }

    /// Test hook: like [`TestServer::lose_next_acks`], and the node "restarts" before the client
    /// retries: its idempotence cache for `Any` appends is emptied, so only the client can tell
    /// that its retry is a repeat.
    pub fn lose_next_acks_across_restart(&self, n: u32) {
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults.lose_acks = n;
        faults.restart_after_lost_ack = true;
    }

    /// Test hook: the next `n` appends are refused with `UNAVAILABLE` before anything is stored.
    pub fn refuse_next_appends(&self, n: u32) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refuse = n;
    }

    /// Every record of `$all`, oldest first (system records included), for assertions.
    pub fn records(&self) -> Vec<Record> {
        self.log()
            .read_all(true, log::AllFrom::Start, usize::MAX)
            .into_iter()
            .map(|r| (*r).clone())
            .collect()
    }

    /// The position of the last record in `$all`.
    pub fn last_position(&self) -> Option<u64> {
        self.log().last_position()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            self.shared.running.send_replace(false);
            let _ = running.shutdown.send(());
            running.task.abort();
        }
    }
}
