//! `ledger serve --listen ADDR:PORT --ledger FILE`: the HTTP API over one ledger file, until Ctrl-C
//! or SIGTERM; then the requests in flight finish, the store flushes and closes, and the command
//! exits 0. `--store kurrentdb://host:2113?tls=false` (or `esdb://...`) serves a KurrentDB or
//! EventStoreDB cluster instead of the file; the embedded file stays the default.
//!
//! The ledger file is created if it does not exist. Nobody can call the API until a token exists:
//! the first one comes from `ledger token issue` on this machine.
//!
//! While it serves, it signs checkpoints (`crate::audit::auto`: each multiple of
//! `--checkpoint-every`, the head every `--checkpoint-interval` when the log has grown, and the head
//! once more on a clean stop) and keeps read-model snapshots beside the log as `ledger rebuild` does
//! ([`SnapshotPolicy`]): after every `--snapshot-every` events folded (at most once per
//! [`SnapshotPolicy::min_interval`]) and once more on the way out, so that the next start folds only
//! what came after instead of the whole log since the last rebuild.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use tokio::net::TcpListener;

use super::LedgerArg;
use crate::app::{Clock, Ledger};
use crate::audit::auto::CheckpointPolicy;
use crate::http::serve::Limits;
use crate::http::{Api, ServeOptions, serve_with};
use crate::store::any::{Store, open_store};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 监听地址 The address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// 事件存储 The event store: a KurrentDB/EventStoreDB connection string
    /// (`kurrentdb://host:2113?tls=false`, `esdb://...`); the `--ledger` file when absent.
    #[arg(long, env = "LEDGER_STORE")]
    pub store: Option<String>,
    /// 自动检查点间隔 Sign a checkpoint each time the log reaches a multiple of N events (ledger
    /// files with a key, `FILE.key`, only; 0: never). Multiples reached while no server ran are
    /// signed at start.
    #[arg(long, value_name = "N", default_value_t = crate::audit::DEFAULT_EVERY)]
    pub checkpoint_every: u64,
    /// 定时检查点 Also sign the log's head every SECONDS when it has grown since (and once more
    /// when stopping cleanly), so that few events lie past the last checkpoint (0: no timer).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::audit::auto::DEFAULT_INTERVAL.as_secs())]
    pub checkpoint_interval: u64,
    /// 读模型快照间隔 Keep read-model snapshots beside the log after every N events folded (at
    /// most once every 5 minutes) and when stopping, so that the next start is quick (0: never).
    #[arg(long, value_name = "N", default_value_t = SnapshotPolicy::default().every)]
    pub snapshot_every: u64,
    /// 最大连接数 Connections served at once (0: the open-file limit less a reserve, at most 4096);
    /// beyond it a connection is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_connections: usize,
    /// 单个客户端最大连接数 Connections served at once from one IP address (0: no bound but
    /// --max-connections; use 0 behind a reverse proxy, where every connection comes from it).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections_per_client)]
    pub max_connections_per_client: usize,
    /// 经 HTTPS 访问 The site is reached over HTTPS (a proxy in front terminates TLS): the console's
    /// cookies are always `Secure`.
    #[arg(long)]
    pub https: bool,
}

impl ServeArgs {
    /// The HTTP options the arguments give.
    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            limits: Limits {
                max_connections: self.max_connections,
                max_connections_per_client: self.max_connections_per_client,
                ..Limits::default()
            },
            https: self.https,
        }
    }
}

/// When a running server keeps read-model snapshots beside the log.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotPolicy {
    /// Events folded since the last kept snapshot that make a new one due (0: never, not even when
    /// stopping).
    pub every: u64,
    /// The least time between two snapshots while serving: each encodes the whole state (seconds
    /// of one core at a million events), so a flood of writes does not keep a core busy encoding.
    pub min_interval: Duration,
    /// How often it looks whether one is due.
    pub check: Duration,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        Self {
            every: 100_000,
            min_interval: Duration::from_secs(300),
            check: Duration::from_secs(30),
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let spec = match &args.store {
        Some(url) => url.clone(),
        None => args.ledger.path.to_string_lossy().into_owned(),
    };
    let options = args.options();
    rt.block_on(async {
        serve_spec_configured(
            &spec,
            &args.listen,
            CheckpointPolicy {
                every: args.checkpoint_every,
                interval: (args.checkpoint_interval > 0)
                    .then(|| Duration::from_secs(args.checkpoint_interval)),
            },
            SnapshotPolicy {
                every: args.snapshot_every,
                ..SnapshotPolicy::default()
            },
            options,
            shutdown_signal(),
            |addr| {
                println!("正在监听 listening on http://{addr}/api/v1 (接口说明 OpenAPI: http://{addr}/api/v1/openapi.json; 网页控制台 web console: http://{addr}/)");
            },
        )
        .await
    })
}

/// Serves the ledger file at `path` on `listen` until `shutdown` completes; `ready` is told the
/// bound address once the socket accepts connections (the demo's `--serve` uses this too).
pub async fn serve_file(
    path: &Path,
    listen: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_spec(&path.to_string_lossy(), listen, shutdown, ready).await
}

/// Serves the store a spec names (a ledger file, or a KurrentDB connection string), signing a
/// checkpoint every [`crate::audit::DEFAULT_EVERY`] events.
pub async fn serve_spec(
    spec: &str,
    listen: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_spec_every(spec, listen, crate::audit::DEFAULT_EVERY, shutdown, ready).await
}

/// As [`serve_spec`], signing a checkpoint each time the log reaches a multiple of
/// `checkpoint_every` (0: never) when the store is a ledger file with a key
/// ([`crate::audit::auto`]).
pub async fn serve_spec_every(
    spec: &str,
    listen: &str,
    checkpoint_every: u64,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let checkpoints = CheckpointPolicy {
        every: checkpoint_every,
        ..CheckpointPolicy::default()
    };
    let snapshots = SnapshotPolicy::default();
    serve_spec_with(spec, listen, checkpoints, snapshots, shutdown, ready).await
}

/// As [`serve_spec_every`], signing checkpoints as `checkpoints` says (also on its timer, and when
/// it stops cleanly) and keeping read-model snapshots as `snapshots` says.
pub async fn serve_spec_with(
    spec: &str,
    listen: &str,
    checkpoints: CheckpointPolicy,
    snapshots: SnapshotPolicy,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let options = ServeOptions::default();
    serve_spec_configured(
        spec,
        listen,
        checkpoints,
        snapshots,
        options,
        shutdown,
        ready,
    )
    .await
}

/// As [`serve_spec_with`], serving HTTP as `options` say (limits, HTTPS).
pub async fn serve_spec_configured(
    spec: &str,
    listen: &str,
    checkpoints: CheckpointPolicy,
    snapshots: SnapshotPolicy,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    // Before anything opens a file: connections and the ledger's own files share the limit.
    crate::http::serve::raise_open_file_limit();
    let store: Arc<Store> = Arc::new(
        open_store(spec)
            .await
            .with_context(|| format!("无法打开事件存储 (cannot open the event store) {spec}"))?,
    );
    let ledger = Arc::new(Ledger::open(store.clone(), Clock::System).await?);
    let api = Api::new(ledger);
    // Fold the read models before the first request rather than during it.
    api.reads.catch_up().await?;
    // Then follow the log as it grows, so that queries find the models current (issue 4), and so
    // that the write side sees what other processes append (a token revoked from the command line
    // is refused within a second, issue 14).
    let follower = {
        let api = api.clone();
        AbortOnDrop(tokio::spawn(async move {
            let reads = async {
                if let Err(err) = api.reads.follow().await {
                    tracing::warn!(
                        "读模型停止跟随 (the read models stopped following the log; queries catch up instead): {err}"
                    );
                }
            };
            let writes = async {
                if let Err(err) = api.ledger.follow().await {
                    tracing::warn!(
                        "写模型停止跟随 (the write model stopped following the log; it folds after each command instead): {err}"
                    );
                }
            };
            tokio::join!(reads, writes);
        }))
    };
    // KurrentDB keeps no checkpoints: only the embedded store gets the signer.
    let checkpointer = match &*store {
        Store::Sqlite(sqlite) => Some(AbortOnDrop(tokio::spawn(crate::audit::auto::run(
            sqlite.clone(),
            checkpoints,
        )))),
        Store::Kurrent(_) => None,
    };
    // KurrentDB keeps no snapshots: encoding them there would be work thrown away.
    let keeps_snapshots = snapshots.every > 0 && matches!(&*store, Store::Sqlite(_));
    let keeper = SnapshotKeeper::new(api.clone(), snapshots);
    let keeping = keeps_snapshots.then(|| {
        let keeper = keeper.clone();
        AbortOnDrop(tokio::spawn(async move { keeper.run().await }))
    });
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("无法监听 (cannot listen on) {listen}"))?;
    ready(listener.local_addr()?);
    let served = serve_with(listener, api, options, shutdown).await;
    drop(keeping); // a snapshot being written is cut short; each row is whole or absent
    drop(follower); // stop following and signing before the store closes
    drop(checkpointer);
    if keeps_snapshots {
        keeper.keep("停止服务时 on stopping").await;
    }
    if let Store::Sqlite(sqlite) = &*store {
        crate::audit::auto::sign_at_stop(sqlite, checkpoints.every).await;
    }
    store.close().await;
    served.context("HTTP 服务失败 (the HTTP server failed)")
}

/// Keeps the running server's read-model snapshots beside the log.
#[derive(Clone)]
struct SnapshotKeeper {
    api: Arc<Api<Store>>,
    policy: SnapshotPolicy,
    /// The position of the last snapshot of the whole model kept (or started from).
    last: Arc<std::sync::atomic::AtomicU64>,
}

impl SnapshotKeeper {
    fn new(api: Arc<Api<Store>>, policy: SnapshotPolicy) -> Self {
        let last = api.reads.restored_from();
        Self {
            api,
            policy,
            last: Arc::new(last.into()),
        }
    }

    async fn run(&self) {
        let mut last_at = Instant::now();
        loop {
            tokio::time::sleep(self.policy.check).await;
            let folded = self.api.reads.position();
            let last = self.last.load(std::sync::atomic::Ordering::Relaxed);
            if folded >= last + self.policy.every && last_at.elapsed() >= self.policy.min_interval {
                self.keep("运行中 while serving").await;
                last_at = Instant::now();
            }
        }
    }

    /// Keeps snapshots of the models as they stand, if they moved since the last; a failure is
    /// logged, never fatal: snapshots only make the next start quicker.
    async fn keep(&self, when: &str) {
        use crate::store::EventStore as _;
        use std::sync::atomic::Ordering::Relaxed;
        // Fold what the follower has not yet (on stopping it is gone), so that what is kept is the
        // whole log served; a failure leaves the models where they are, which are still a fold.
        let _ = self.api.reads.catch_up().await;
        if self.api.reads.position() <= self.last.load(Relaxed) {
            return; // nothing new: no copy of the models made
        }
        let store = self.api.ledger.store().as_ref();
        if !matches!(store.seal_key(), Ok(Some(_))) {
            return; // no key to seal them with (or none readable): none is kept, so copy nothing
        }
        let model = Arc::new(self.api.reads.model_clone());
        let position = model.position();
        match super::rebuild::keep_snapshots(store, model, super::rebuild::KEPT_STATE_SNAPSHOTS)
            .await
        {
            Ok(report) if report.written > 0 => {
                self.last.store(position, Relaxed);
                tracing::info!(
                    position,
                    snapshots = report.written,
                    mib = report.bytes as f64 / (1024.0 * 1024.0),
                    seconds = report.seconds,
                    "已保存读模型快照 ({when}) kept read-model snapshots"
                );
            }
            Ok(_) => {} // a backend that keeps none (KurrentDB)
            Err(err) => tracing::warn!(
                "读模型快照未能保存 ({when}) (read-model snapshots not kept; the next start folds more): {err:#}"
            ),
        }
    }
}

/// Aborts the task when dropped, so the read-model follower (and the checkpoint signer) stops
/// however `serve_spec` returns (an early error included) and never keeps the store open behind
/// the caller's back.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Completes on Ctrl-C, or on SIGTERM where there is one. The handlers are installed when this is
/// called, not when the future is first polled, so that a signal sent as soon as the server says it
/// listens (a service manager stopping it at once) is caught and the server stops cleanly rather
/// than dying of it. Call it inside the runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {}
                () = wait(terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
