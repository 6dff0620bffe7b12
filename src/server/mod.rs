//! Running a ledger server (`ledger serve`, and the demo's `--serve`): the store opened, the read
//! models folded and followed, the write side following other processes' appends, checkpoints
//! signed on their schedule, read-model snapshots kept, HTTP served until the shutdown signal, then
//! everything stopped in order (in-flight requests finish, a last snapshot and checkpoint, the
//! store closed).
//!
//! [`ServeConfig`] is every setting of a server in one place; `cli/serve.rs` fills it from flags,
//! the environment and the configuration file.

pub mod config;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::Request;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::app::{Clock, Ledger};
use crate::audit::auto::CheckpointPolicy;
use crate::http::{Api, ServeOptions};
use crate::store::any::{Store, open_store};

/// Every setting of a running server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The event store: a ledger file's path, or a KurrentDB connection string.
    pub store: String,
    /// The address and port to listen on (port 0: any free port).
    pub listen: String,
    /// When checkpoints are signed (ledger files with a key only).
    pub checkpoints: CheckpointPolicy,
    /// When read-model snapshots are kept (ledger files only).
    pub snapshots: SnapshotPolicy,
    /// HTTP limits and whether the site is reached over HTTPS.
    pub http: ServeOptions,
    /// Serve HTTPS with this PEM certificate chain and private key (`None`: plain HTTP).
    pub tls: Option<TlsFiles>,
    /// Serve `/metrics` on this address, without a token (`None`: no metrics endpoint).
    pub metrics_listen: Option<String>,
    /// The witnesses each new checkpoint is sent to, and the quorum (ledger files only, issue 21).
    pub witnessing: crate::witness::Witnessing,
    /// Where evidence files are stored (`None`: nowhere, uploads are answered 503).
    pub evidence: Option<crate::evidence::EvidenceStore>,
}

/// The files `ledger serve --tls-cert --tls-key` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl ServeConfig {
    /// The defaults for serving `store` on `listen`.
    pub fn new(store: impl Into<String>, listen: impl Into<String>) -> Self {
        Self {
            store: store.into(),
            listen: listen.into(),
            checkpoints: CheckpointPolicy::default(),
            snapshots: SnapshotPolicy::default(),
            http: ServeOptions::default(),
            tls: None,
            metrics_listen: None,
            witnessing: crate::witness::Witnessing::default(),
            evidence: None,
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

/// Serves the store `config` names on its listen address until `shutdown` completes; `ready` is
/// told the bound address once the socket accepts connections.
pub async fn serve(
    config: &ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let ServeConfig {
        store: spec,
        listen,
        checkpoints,
        snapshots,
        http: options,
        tls,
        metrics_listen,
        witnessing,
        evidence,
    } = config;
    let (spec, listen, checkpoints, snapshots, mut options) = (
        spec.as_str(),
        listen.as_str(),
        *checkpoints,
        *snapshots,
        *options,
    );
    // A bad certificate or key stops the start before anything is opened.
    let tls = tls
        .as_ref()
        .map(|files| crate::http::tls::acceptor(&files.cert, &files.key))
        .transpose()?;
    if tls.is_some() {
        options.https = true; // cookies `Secure`
    }
    // Before anything opens a file: connections and the ledger's own files share the limit.
    crate::http::serve::raise_open_file_limit();
    let store: Arc<Store> = Arc::new(
        open_store(spec)
            .await
            .with_context(|| format!("无法打开事件存储 (cannot open the event store) {spec}"))?,
    );
    // Listen at once, so that a service manager sees the process alive (`/healthz`) and not yet
    // ready (`/readyz`) while a large log is folded; every other request is answered 503 until
    // the models are ready, then by the API and the console.
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("无法监听 (cannot listen on) {listen}"))?;
    let addr = listener.local_addr()?;
    let app: Arc<OnceLock<Router>> = Arc::default();
    let mut server = tokio::spawn(crate::http::serve::serve_router_tls(
        listener,
        front(app.clone()),
        options.limits,
        tls,
        shutdown,
    ));
    let warm = async {
        let ledger = Arc::new(Ledger::open(store.clone(), Clock::System).await?);
        let api = Api::new(ledger);
        if let Some(evidence) = evidence {
            let _ = api.evidence.set(evidence.clone());
        }
        // Fold the read models before the first request rather than during it.
        api.reads.catch_up().await?;
        anyhow::Ok(api)
    };
    let api = tokio::select! {
        api = warm => match api {
            Ok(api) => api,
            Err(err) => {
                server.abort();
                store.close().await;
                return Err(err);
            }
        },
        served = &mut server => {
            // Stopped (a signal) before the models were ready: nothing was served or written.
            store.close().await;
            return match served {
                Ok(result) => result.context("HTTP 服务失败 (the HTTP server failed)"),
                Err(err) => Err(anyhow::anyhow!("HTTP 服务失败 (the HTTP server failed): {err}")),
            };
        }
    };
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
    // Witnessing runs beside signing and never holds up an append (`crate::witness::client`).
    let _ = api.witnessing.set(witnessing.clone());
    let witnesser = match &*store {
        Store::Sqlite(sqlite) if !witnessing.witnesses.is_empty() => {
            Some(AbortOnDrop(tokio::spawn(crate::witness::client::run(
                sqlite.clone(),
                witnessing.clone(),
            ))))
        }
        _ => None,
    };
    // KurrentDB keeps no snapshots: encoding them there would be work thrown away.
    let keeps_snapshots = snapshots.every > 0 && matches!(&*store, Store::Sqlite(_));
    let keeper = SnapshotKeeper::new(api.clone(), snapshots);
    let keeping = keeps_snapshots.then(|| {
        let keeper = keeper.clone();
        AbortOnDrop(tokio::spawn(async move { keeper.run().await }))
    });
    let metrics = match metrics_listen {
        Some(listen) => {
            let listener = TcpListener::bind(listen).await.with_context(|| {
                format!("无法监听 (cannot listen on) {listen} (--metrics-listen)")
            })?;
            tracing::info!("指标 metrics on http://{}/metrics", listener.local_addr()?);
            Some(AbortOnDrop(tokio::spawn(serve_metrics(
                listener,
                api.clone(),
            ))))
        }
        None => None,
    };
    let _ = app.set(crate::http::app_with(api.clone(), &options));
    ready(addr);
    let served = match server.await {
        Ok(result) => result,
        Err(err) => Err(std::io::Error::other(err.to_string())),
    };
    drop(metrics);
    drop(keeping); // a snapshot being written is cut short; each row is whole or absent
    drop(follower); // stop following and signing before the store closes
    drop(checkpointer);
    drop(witnesser);
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
        match crate::cli::rebuild::keep_snapshots(
            store,
            model,
            crate::cli::rebuild::KEPT_STATE_SNAPSHOTS,
        )
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
/// however `serve` returns (an early error included) and never keeps the store open behind
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

/// The router a server listens with from its first moment: the API and the console once `app` is
/// set, [`crate::http::health::starting`] until then.
fn front(app: Arc<OnceLock<Router>>) -> Router {
    Router::new().fallback(move |request: Request| {
        let app = app.clone();
        async move {
            match app.get() {
                Some(router) => {
                    use tower_service::Service as _;
                    let mut router = router.clone();
                    match router.call(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                }
                None => crate::http::health::starting(request.uri().path()),
            }
        }
    })
}

/// Serves `GET /metrics` on its own listener until aborted.
async fn serve_metrics(listener: TcpListener, api: Arc<Api<Store>>) {
    let app = Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let api = api.clone();
            async move { scrape(&api).await }
        }),
    );
    let limits = crate::http::serve::Limits::default();
    if let Err(err) =
        crate::http::serve::serve_router(listener, app, limits, std::future::pending()).await
    {
        tracing::warn!("指标服务停止 (the metrics listener stopped): {err}");
    }
}

/// Sets what is looked at when scraped, then encodes every metric.
async fn scrape(api: &Api<Store>) -> axum::response::Response {
    use crate::store::EventStore as _;
    use axum::response::IntoResponse as _;
    let m = crate::metrics::metrics();
    let store = api.ledger.store();
    if let Ok(head) = store.head().await {
        m.head.set(head as i64);
        m.fold_lag
            .set(head.saturating_sub(api.reads.position()) as i64);
        if let Store::Sqlite(sqlite) = &**store
            && let Ok(audit) = sqlite.audit_snapshot_after(head).await
        {
            let signed = audit.checkpoints.iter().map(|(size, _)| *size).max();
            m.past_last_checkpoint
                .set(head.saturating_sub(signed.unwrap_or(0)) as i64);
        }
    }
    m.resident_bytes
        .set(crate::metrics::resident_bytes() as i64);
    let last = api
        .last_verification
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|v| (v.verified_at, v.intact));
    if let Some((at, intact)) = last {
        m.verification_at.set(at.timestamp_millis() as f64 / 1000.0);
        m.verification_passed.set(i64::from(intact));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}
