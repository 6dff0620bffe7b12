//! `ledger serve --listen ADDR:PORT --ledger FILE`: the HTTP API over one ledger file, until Ctrl-C
//! or SIGTERM; then the requests in flight finish, the store flushes and closes, and the command
//! exits 0. `--store kurrentdb://host:2113?tls=false` (or `esdb://...`) serves a KurrentDB or
//! EventStoreDB cluster instead of the file; the embedded file stays the default.
//!
//! The ledger file is created if it does not exist. Nobody can call the API until a token exists:
//! the first one comes from `ledger token issue` on this machine.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use tokio::net::TcpListener;

use super::LedgerArg;
use crate::app::{Clock, Ledger};
use crate::http::{Api, serve};
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
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let spec = match &args.store {
        Some(url) => url.clone(),
        None => args.ledger.path.to_string_lossy().into_owned(),
    };
    rt.block_on(serve_spec_every(
        &spec,
        &args.listen,
        args.checkpoint_every,
        shutdown_signal(),
        |addr| {
            println!("正在监听 listening on http://{addr}/api/v1 (接口说明 OpenAPI: http://{addr}/api/v1/openapi.json; 网页控制台 web console: http://{addr}/)");
        },
    ))
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
    let store: Arc<Store> = Arc::new(
        open_store(spec)
            .await
            .with_context(|| format!("无法打开事件存储 (cannot open the event store) {spec}"))?,
    );
    let ledger = Arc::new(Ledger::open(store.clone(), Clock::System).await?);
    let api = Api::new(ledger);
    // Fold the read models before the first request rather than during it.
    api.reads.catch_up().await?;
    // Then follow the log as it grows, so that queries find the models current (issue 4).
    let follower = {
        let api = api.clone();
        AbortOnDrop(tokio::spawn(async move {
            if let Err(err) = api.reads.follow().await {
                tracing::warn!(
                    "读模型停止跟随 (the read models stopped following the log; queries catch up instead): {err}"
                );
            }
        }))
    };
    // KurrentDB keeps no checkpoints: only the embedded store gets the signer.
    let checkpointer = match &*store {
        Store::Sqlite(sqlite) => Some(AbortOnDrop(tokio::spawn(crate::audit::auto::run(
            sqlite.clone(),
            checkpoint_every,
        )))),
        Store::Kurrent(_) => None,
    };
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("无法监听 (cannot listen on) {listen}"))?;
    ready(listener.local_addr()?);
    let served = serve(listener, api, shutdown).await;
    drop(follower); // stop following and signing before the store closes
    drop(checkpointer);
    store.close().await;
    served.context("HTTP 服务失败 (the HTTP server failed)")
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

/// Completes on Ctrl-C, or on SIGTERM where there is one.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
