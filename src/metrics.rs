//! The server's metrics, in the Prometheus/OpenMetrics text format, through `prometheus-client`.
//!
//! Counters and histograms that the hot paths feed live in one process-wide [`Metrics`]
//! ([`metrics`]): HTTP requests by route, method and status with their latency
//! ([`observe_request`], from `http/observe.rs`), appends and their latency (`app/mod.rs`), the
//! events per group commit (`store/sqlite/writer.rs`), open connections (`http/serve.rs`), and the
//! time of the last checkpoint this process signed (`audit/auto.rs`). What is cheaper to look at
//! when scraped than to keep current (fold lag, the log's head, events past the last checkpoint,
//! resident memory, the last verification) is set by [`crate::server`]'s `/metrics` handler just
//! before it encodes.
//!
//! `ledger serve --metrics-listen ADDR` serves `/metrics` on a listener of its own, so that the
//! scraper needs no token and the API's port exposes nothing more.

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub open_connections: Gauge,
    pub appends: Counter,
    pub append_seconds: Histogram,
    pub commit_batch_events: Histogram,
    pub checkpoint_signed_at: Gauge<f64, AtomicU64>,
    pub head: Gauge,
    pub fold_lag: Gauge,
    pub past_last_checkpoint: Gauge,
    pub resident_bytes: Gauge,
    pub verification_at: Gauge<f64, AtomicU64>,
    pub verification_passed: Gauge,
}

/// The process's metrics, registered on first use.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("ledger");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route pattern and method",
            request_seconds.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "http_open_connections",
            "HTTP connections being served",
            open_connections.clone(),
        );
        let appends = Counter::default();
        registry.register(
            "appends",
            "Appends of a decision's events to one stream, acknowledged",
            appends.clone(),
        );
        let append_seconds = Histogram::new(exponential_buckets(0.0002, 2.0, 16));
        registry.register(
            "append_duration_seconds",
            "Time of one append until the store acknowledged it durable",
            append_seconds.clone(),
        );
        let commit_batch_events = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "commit_batch_events",
            "Events committed together by one group commit of the embedded store",
            commit_batch_events.clone(),
        );
        let checkpoint_signed_at = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "checkpoint_last_signed_timestamp_seconds",
            "When this process last signed a checkpoint (Unix time; 0: not yet)",
            checkpoint_signed_at.clone(),
        );
        let head = Gauge::default();
        registry.register("log_events", "Events in the log", head.clone());
        let fold_lag = Gauge::default();
        registry.register(
            "fold_lag_events",
            "Events in the log not yet folded into the read models",
            fold_lag.clone(),
        );
        let past_last_checkpoint = Gauge::default();
        registry.register(
            "events_past_last_checkpoint",
            "Events appended after the largest signed checkpoint",
            past_last_checkpoint.clone(),
        );
        let resident_bytes = Gauge::default();
        registry.register(
            "resident_memory_bytes",
            "Resident memory of the server process (read models included)",
            resident_bytes.clone(),
        );
        let verification_at = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "verification_last_timestamp_seconds",
            "When the last verification through the API ran (Unix time; 0: none since start)",
            verification_at.clone(),
        );
        let verification_passed = Gauge::default();
        registry.register(
            "verification_last_passed",
            "1 when the last verification found the ledger intact, 0 when not, -1 when none ran",
            verification_passed.clone(),
        );
        verification_passed.set(-1);
        Self {
            registry,
            requests,
            request_seconds,
            open_connections,
            appends,
            append_seconds,
            commit_batch_events,
            checkpoint_signed_at,
            head,
            fold_lag,
            past_last_checkpoint,
            resident_bytes,
            verification_at,
            verification_passed,
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the per-request metrics off (`ledger bench http --observability off`, to measure their
/// cost); they are on in every server.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, std::sync::atomic::Ordering::Relaxed);
}

/// Counts one answered request.
pub fn observe_request(route: &str, method: &str, status: u16, latency: Duration) {
    if !ENABLED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let m = metrics();
    m.requests
        .get_or_create(&RequestLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status,
        })
        .inc();
    m.request_seconds
        .get_or_create(&RouteLabels {
            route: route.to_owned(),
            method: method.to_owned(),
        })
        .observe(latency.as_secs_f64());
}

/// The process's resident memory, from `/proc/self/statm` (0 where there is none).
pub fn resident_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .unwrap_or(0);
    pages * 4096
}
