//! A wire-compatible EventStoreDB/KurrentDB test server: real gRPC (tonic, HTTP/2 with or without
//! TLS), the subset of the protocol that the `kurrentdb` client uses for appends, reads, catch-up
//! subscriptions, the server-features handshake and cluster discovery (gossip), kept in memory.
//!
//! It exists because no EventStoreDB server can be installed where the ledger's tests run; the
//! ledger's KurrentDB adapter is tested against it over a real socket, and so are the official
//! clients' own tests (see `README.md` beside this crate, which also lists its limits).
//!
//! Layout:
//! - [`proto`]: the protocol messages, hand-written `prost` structs (no `protoc`);
//! - [`log`]: the in-memory log and the server's rules (expected versions, idempotence, reads);
//! - `service`: the gRPC services over the log, with authentication, leader checks and the
//!   injected faults;
//! - `net`: accepted connections without Nagle or delayed-ACK stalls;
//! - this file: [`start`], [`start_cluster`] and the [`TestServer`] / [`Cluster`] handles that
//!   tests use to stop, restart, move the leader, inject faults and tamper with stored events.
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
use crate::service::{Faults, FeaturesService, GossipService, Node, Shared, Stall, StreamsService};

/// A user the server knows (see [`Options::users`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub login: String,
    pub password: String,
    /// Whether the user may read `$all` (and `$`-streams): a member of `$admins`, or named in the
    /// read ACL of `$$$all`. Every known user may read and write ordinary streams.
    pub read_all: bool,
}

impl User {
    /// An administrator (`$admins`): may read `$all`.
    pub fn admin(login: &str, password: &str) -> Self {
        User {
            login: login.into(),
            password: password.into(),
            read_all: true,
        }
    }

    /// An ordinary user: ordinary streams only, `$all` is refused with `PERMISSION_DENIED`.
    pub fn ordinary(login: &str, password: &str) -> Self {
        User {
            read_all: false,
            ..User::admin(login, password)
        }
    }
}

/// A certificate chain and its private key, PEM, for serving TLS.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// The CA certificate (PEM file) that signed [`test_tls_identity`]: pass it as `tlsCAFile`.
pub const TEST_CA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/ca.crt");

/// A TLS identity for `localhost` and `127.0.0.1`, signed by [`TEST_CA_FILE`] (made by
/// `certs/make.sh`; for tests only, its key is public).
pub fn test_tls_identity() -> TlsIdentity {
    TlsIdentity {
        cert_pem: include_bytes!("../certs/node.crt").to_vec(),
        key_pem: include_bytes!("../certs/node.key").to_vec(),
    }
}

/// How a test server behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Answer the server-features call (servers since 21.10 do); when `false` it is
    /// `UNIMPLEMENTED`, as on older servers, and clients must fall back to their defaults.
    pub server_features: bool,
    /// The largest append in bytes of data and metadata (the real server's default is 1 MiB).
    pub max_append_size: usize,
    /// Empty (the default): every call is allowed without credentials, as `--insecure` runs a real
    /// server. Otherwise every call must carry the `Basic` credentials of one of these users
    /// (`UNAUTHENTICATED` if not), and `$all` is read only by users with [`User::read_all`].
    pub users: Vec<User>,
    /// Serve TLS with this identity instead of plain HTTP/2.
    pub tls: Option<TlsIdentity>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server_features: true,
            max_append_size: 1024 * 1024,
            users: Vec::new(),
            tls: None,
        }
    }
}

struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A running (or stopped) test server: one node. Its data lives as long as the handle (or, in a
/// cluster, as long as the cluster), across [`TestServer::stop`] and [`TestServer::restart`].
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    node: Arc<Node>,
    running: tokio::sync::Mutex<Option<Running>>,
}

/// Starts a test server with default [`Options`] on `addr` (port 0 picks a free port).
pub async fn start(addr: SocketAddr) -> std::io::Result<TestServer> {
    start_with(addr, Options::default()).await
}

/// Starts a test server with the given options.
pub async fn start_with(addr: SocketAddr, options: Options) -> std::io::Result<TestServer> {
    let mut cluster = start_nodes(&[addr], options).await?;
    Ok(cluster.nodes.remove(0))
}

/// Starts a cluster of `size` nodes on loopback ports that share one log, like the replicas of a
/// real cluster once replication has caught up. Node 0 leads at first; see [`Cluster`].
pub async fn start_cluster(size: usize, options: Options) -> std::io::Result<Cluster> {
    let addrs = vec![SocketAddr::from(([127, 0, 0, 1], 0)); size.max(1)];
    start_nodes(&addrs, options).await
}

async fn start_nodes(addrs: &[SocketAddr], options: Options) -> std::io::Result<Cluster> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for addr in addrs {
        listeners.push(tokio::net::TcpListener::bind(addr).await?);
    }
    let bound: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()?;
    let shared = Arc::new(Shared {
        log: Mutex::new(Log::new()),
        written: watch::channel(0).0,
        leader: watch::channel(0).0,
        nodes: bound
            .iter()
            .enumerate()
            .map(|(i, addr)| Node::new(i, *addr, uuid::Uuid::new_v4()))
            .collect(),
        faults: Mutex::new(Faults::default()),
        server_features: options.server_features,
        max_append_size: options.max_append_size,
        users: options.users,
        tls: options.tls,
    });
    let mut nodes = Vec::with_capacity(listeners.len());
    for (index, listener) in listeners.into_iter().enumerate() {
        let node = shared.nodes[index].clone();
        let running = serve(shared.clone(), node.clone(), listener)?;
        nodes.push(TestServer {
            addr: bound[index],
            shared: shared.clone(),
            node,
            running: tokio::sync::Mutex::new(Some(running)),
        });
    }
    Ok(Cluster { nodes, shared })
}

fn serve(
    shared: Arc<Shared>,
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<Running> {
    let (shutdown, signal) = oneshot::channel::<()>();
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &shared.tls {
        // tonic's TLS takes the process's default rustls provider. With two providers in the tree
        // (aws-lc-rs here, ring through other crates) rustls cannot pick one by itself, and a
        // server started before any client had installed one panicked; an installed one is kept.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let identity = tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem);
        builder = builder
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(|e| std::io::Error::other(format!("TLS configuration: {e}")))?;
    }
    let router = builder
        .add_service(StreamsService::new(shared.clone(), node.clone()))
        .add_service(FeaturesService::new(shared.clone(), node.clone()))
        .add_service(GossipService::new(shared, node));
    let task = tokio::spawn(async move {
        let incoming = net::incoming(listener);
        let signal = async {
            let _ = signal.await;
        };
        if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
            eprintln!("esdb-testserver: server error: {e}");
        }
    });
    Ok(Running { shutdown, task })
}

impl TestServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A connection string for the `kurrentdb` client naming this node alone: no TLS, no
    /// credentials (see [`TestServer::connection_string_with`] for those).
    pub fn connection_string(&self) -> String {
        format!("esdb://{}?tls=false", self.addr)
    }

    /// A connection string for this node with `user:password@` credentials and, when the server
    /// serves TLS, `tls=true` and the CA file that signed its certificate.
    pub fn connection_string_with(
        &self,
        credentials: Option<(&str, &str)>,
        ca_file: Option<&str>,
    ) -> String {
        let who = credentials.map_or(String::new(), |(u, p)| format!("{u}:{p}@"));
        let tls = match ca_file {
            Some(ca) => format!("tls=true&tlsCAFile={ca}"),
            None => "tls=false".into(),
        };
        format!("esdb://{who}localhost:{}?{tls}", self.addr.port())
    }

    /// Stops serving: live subscriptions end with `UNAVAILABLE`, the port is closed, new calls are
    /// refused. The data stays. In a cluster, gossip reports the node as dead meanwhile.
    pub async fn stop(&self) {
        let mut running = self.running.lock().await;
        let Some(Running { shutdown, mut task }) = running.take() else {
            return;
        };
        self.node.running.send_replace(false);
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
        self.shared.log().forget_cache();
        self.node.running.send_replace(true);
        *running = Some(serve(self.shared.clone(), self.node.clone(), listener)?);
        Ok(())
    }

    /// Whether it is serving now.
    pub async fn is_running(&self) -> bool {
        self.running.lock().await.is_some()
    }

    /// Test hook: rewrites a stored event in place (data, metadata, type, ...). Returns whether an
    /// event with that id was found. Subscriptions that already delivered it are not told.
    pub fn tamper(&self, event_id: uuid::Uuid, change: impl FnOnce(&mut Record)) -> bool {
        self.shared.log().tamper(event_id, change)
    }

    /// Test hook: writes a system record to a `$`-stream, as the server does for its own statistics
    /// (`$stats-…`) and housekeeping. Returns its position.
    pub fn append_system_event(&self, stream: &str, event_type: &str) -> u64 {
        let position = self
            .shared
            .log()
            .append_system(stream, event_type, b"{}".to_vec());
        self.shared.written.send_modify(|n| *n += 1);
        position
    }

    /// Test hook: scavenges a stream's events away (see [`Log::scavenge`]). Returns how many went.
    pub fn scavenge_stream(&self, stream: &str) -> usize {
        self.shared.log().scavenge(stream)
    }

    /// Test hook: the next `n` appends are stored and then answered with `UNAVAILABLE`, as if the
    /// connection dropped before the acknowledgement arrived.
    pub fn lose_next_acks(&self, n: u32) {
        let mut faults = self.shared.faults();
        faults.lose_acks = n;
        faults.restart_after_lost_ack = false;
    }

    /// Test hook: like [`TestServer::lose_next_acks`], and the node "restarts" before the client
    /// retries: its idempotence cache for `Any` appends is emptied, so only the client can tell
    /// that its retry is a repeat.
    pub fn lose_next_acks_across_restart(&self, n: u32) {
        let mut faults = self.shared.faults();
        faults.lose_acks = n;
        faults.restart_after_lost_ack = true;
    }

    /// Test hook: the next `n` appends are refused with `UNAVAILABLE` before anything is stored.
    pub fn refuse_next_appends(&self, n: u32) {
        self.shared.faults().refuse = n;
    }

    /// Test hook: the next `n` appends take `delay` on the server, before committing
    /// (`after_commit == false`: if the client's deadline passes meanwhile, the call ends with
    /// `DEADLINE_EXCEEDED` and nothing is stored) or after committing (`true`: the events are
    /// stored, and the client may still hear `DEADLINE_EXCEEDED`, as from a real server whose
    /// write completed after the caller gave up).
    pub fn stall_next_appends(&self, n: u32, delay: Duration, after_commit: bool) {
        self.shared.faults().stall = Some(Stall {
            remaining: n,
            delay,
            after_commit,
        });
    }

    /// Test hook: steps the server's clock (the `created` stamp of new events) back by `by`, as an
    /// NTP correction or a failover to a node whose clock is behind does on a real cluster. Every
    /// node of a cluster shares the step. Stamps are not forced forward: a real server's are not.
    pub fn step_clock_back(&self, by: Duration) {
        self.shared.log().step_clock_back(by);
    }

    /// Every record of `$all`, oldest first (system records included), for assertions.
    pub fn records(&self) -> Vec<Record> {
        self.shared
            .log()
            .read_all(true, log::AllFrom::Start, usize::MAX)
            .into_iter()
            .map(|r| (*r).clone())
            .collect()
    }

    /// The position of the last record in `$all`.
    pub fn last_position(&self) -> Option<u64> {
        self.shared.log().last_position()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            self.node.running.send_replace(false);
            let _ = running.shutdown.send(());
            running.task.abort();
        }
    }
}

/// Nodes that share one log, with one leader at a time: calls that require the leader (the
/// `kurrentdb` client's default, `requires-leader: true`) made to another node are answered with
/// the real server's "not leader" error naming the leader's host and port; every node serves
/// gossip (`Gossip/Read`) so that multi-host connection strings and `+discover` find the leader.
pub struct Cluster {
    nodes: Vec<TestServer>,
    shared: Arc<Shared>,
}

impl Cluster {
    /// The nodes, in the order they were started (node 0 led first).
    pub fn nodes(&self) -> &[TestServer] {
        &self.nodes
    }

    pub fn node(&self, index: usize) -> &TestServer {
        &self.nodes[index]
    }

    /// The index of the node that leads now.
    pub fn leader(&self) -> usize {
        *self.shared.leader.borrow()
    }

    /// Makes another node the leader, as an election does. Calls in flight finish; from now on the
    /// old leader answers leader-only calls with "not leader" and the new leader's address, and
    /// its live subscriptions end with `UNAVAILABLE` (their server left the leader role).
    pub fn move_leader(&self, to: usize) {
        assert!(to < self.nodes.len(), "no node {to}");
        self.shared.leader.send_replace(to);
    }

    /// A connection string naming every node as a gossip seed (the client asks them who leads).
    pub fn connection_string(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|n| n.addr().to_string()).collect();
        format!("esdb://{}?tls=false", hosts.join(","))
    }
}
