//! `ledger bench http`: concurrent clients recording scores over HTTP on loopback, beside a baseline
//! of the same commands given to the application service directly (no HTTP), measured in the same
//! run on the same ledger. Reports throughput, p50/p99/max latency and the ratio to the baseline, and
//! checks afterwards that every acknowledged write is in the ledger file (reopened from disk).
//!
//! Setup (not measured), acting as the ledger itself: the default rubric, enough units for every
//! write to land on its own (unit, item) (each sheet has 29 base items), one assessor assigned to all
//! of them, and two periods in scoring, one per side. The server runs on its own runtime (2 worker
//! threads by default) and the load generator on another (1 by default), sharing the machine's cores;
//! each client keeps one HTTP/1.1 connection (hyper's client) and sends one score at a time.
//!
//! Run it on a release build (`cargo run --release -- bench http`); a debug build measures the
//! compiler.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledger_projections::domain::Command;
use ledger_projections::rubric::default_template;
use ledger_schemas::Actor;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, RubricId, UnitId};
use ledger_schemas::rubric::ItemKind;
use ledger_schemas::values::{Cadence, ScoreSource, ScoreValue, Stage, UnitKind};

use crate::app::tokens::issue_token;
use crate::app::{Clock, Ledger};
use crate::http::{Api, serve};
use crate::store::SqliteStore;

#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Score writes over HTTP (the baseline makes as many directly).
    #[arg(long, default_value_t = 60_000)]
    pub writes: u64,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Where the temporary ledger goes (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    pub server_threads: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// `on`: metrics kept and one JSON log record per request written to standard error (as a
    /// production server with `RUST_LOG=info --log-format json`); `off`: neither. Run both to see
    /// what observability costs.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub observability: String,
}

/// One write to make: which unit and item, and the value as JSON and as a domain value.
#[derive(Clone)]
struct Slot {
    unit: UnitId,
    item: ItemCode,
    value: ScoreValue,
}

/// What one side measured.
struct Side {
    writes: u64,
    elapsed: Duration,
    /// Sorted.
    latencies: Vec<Duration>,
    errors: u64,
}

impl Side {
    fn rate(&self) -> f64 {
        self.writes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

pub fn run(args: HttpBenchArgs) -> anyhow::Result<()> {
    measure(args).map(|_| ())
}

/// What a run measured, for callers that check it (the smoke test).
#[derive(Debug, Clone)]
pub struct HttpBenchResult {
    pub http_writes_per_second: f64,
    pub http_p99: Duration,
    pub direct_writes_per_second: f64,
    pub acknowledged: usize,
    pub missing: usize,
    pub errors: u64,
}

/// Runs the benchmark, prints the report (and writes it to `--out`), and returns the figures.
pub fn measure(args: HttpBenchArgs) -> anyhow::Result<HttpBenchResult> {
    if args.clients == 0 || args.writes == 0 {
        bail!("--clients 与 --writes 须大于 0 (--clients and --writes must be positive)");
    }
    if args.observability == "on" {
        crate::cli::init_logging_with(
            crate::server::config::LogFormat::Json,
            Some("warn,ledger::http=info"),
        );
    } else {
        crate::metrics::set_enabled(false);
        crate::cli::init_logging_with(crate::server::config::LogFormat::Text, Some("warn"));
    }
    let dir = match &args.dir {
        Some(dir) => tempfile_dir_in(dir)?,
        None => tempfile_dir_in(&std::env::temp_dir())?,
    };
    let path = dir.join("bench-http.db");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads.max(1))
        .thread_name("bench-server")
        .enable_all()
        .build()
        .context("server runtime")?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("bench-client")
        .enable_all()
        .build()
        .context("client runtime")?;

    let items = base_items();
    let units_needed = args.writes.div_ceil(items.len() as u64);
    eprintln!(
        "准备 setting up: {units_needed} units, 2 periods, {} clients",
        args.clients
    );
    let store = Arc::new(SqliteStore::open(&path)?);
    let (ledger, token) =
        server_rt.block_on(setup(store.clone(), units_needed, &["BASE", "HTTP"]))?;
    let slots = |period: &str| -> Vec<(PeriodId, Slot)> {
        let period = PeriodId::new(period).expect("valid id");
        // Consecutive writes go to different sheets, as many assessors working at once would:
        // write n scores unit n mod U, item n div U.
        (0..args.writes)
            .map(|n| {
                let (item, value) = &items[(n / units_needed) as usize];
                (
                    period.clone(),
                    Slot {
                        unit: unit_id(n % units_needed),
                        item: item.clone(),
                        value: value.clone(),
                    },
                )
            })
            .collect()
    };

    eprintln!("基线 baseline: the application service directly");
    let baseline = server_rt.block_on(direct(ledger.clone(), slots("BASE"), args.clients));

    let api = Api::new(ledger.clone());
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(serve(listener, api, async {
        let _ = stopped.await;
    }));
    eprintln!("HTTP: {} clients on http://{addr}", args.clients);
    let http_slots = slots("HTTP");
    let (http, acked) =
        client_rt.block_on(over_http(addr, token, http_slots.clone(), args.clients));
    let _ = stop.send(());
    server_rt.block_on(server)??;
    server_rt.block_on(store.close());
    drop(ledger);

    // Every acknowledged write must be in the file: reopen it and fold it from scratch.
    let reopened = Arc::new(SqliteStore::open_existing(&path)?);
    let check = server_rt.block_on(Ledger::open(reopened.clone(), Clock::System))?;
    let missing = {
        let folded = check.folded();
        acked
            .iter()
            .filter(|&&n| {
                let (period, slot) = &http_slots[n as usize];
                folded
                    .state
                    .sheet(period, &slot.unit)
                    .and_then(|s| s.scores.get(&slot.item))
                    .is_none()
            })
            .count()
    };
    server_rt.block_on(reopened.close());

    let report = report(&args, &baseline, &http, acked.len(), missing);
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("{}", out.display()))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if missing > 0 {
        bail!("{missing} 条已确认的写入丢失 ({missing} acknowledged writes are missing)");
    }
    Ok(HttpBenchResult {
        http_writes_per_second: http.rate(),
        http_p99: http.percentile(0.99),
        direct_writes_per_second: baseline.rate(),
        acknowledged: acked.len(),
        missing,
        errors: http.errors + baseline.errors,
    })
}

fn tempfile_dir_in(parent: &std::path::Path) -> anyhow::Result<PathBuf> {
    let dir = parent.join(format!(
        "ledger-bench-http-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    Ok(dir)
}

pub(crate) fn unit_id(n: u64) -> UnitId {
    UnitId::new(format!("U-{n:05}")).expect("valid id")
}

/// The default rubric's base items with a value that fits each.
pub(crate) fn base_items() -> Vec<(ItemCode, ScoreValue)> {
    let def = default_template();
    let level = def.ladder.first().map(|s| s.level.clone());
    def.aspects
        .iter()
        .flat_map(|a| a.items.iter())
        .filter_map(|item| match (&item.kind, &level) {
            (ItemKind::Points { max }, _) => {
                Some((item.code.clone(), ScoreValue::Points { points: *max }))
            }
            (ItemKind::Ladder { .. }, Some(level)) => Some((
                item.code.clone(),
                ScoreValue::Level {
                    level: level.clone(),
                },
            )),
            _ => None,
        })
        .collect()
}

/// The ledger the benchmark writes into (the default rubric, `units` units, each of `periods` open
/// in scoring), and the token of an assessor of every unit.
pub(crate) async fn setup(
    store: Arc<SqliteStore>,
    units: u64,
    periods: &[&str],
) -> anyhow::Result<(Arc<Ledger<SqliteStore>>, String)> {
    let ledger = Arc::new(Ledger::open(store, Clock::System).await?);
    let system = Actor::system();
    let rubric = RubricId::new("default").expect("valid id");
    let run = |command| {
        let ledger = ledger.clone();
        let system = system.clone();
        async move { ledger.execute(system, command).await }
    };
    run(Command::DefineRubric {
        rubric: rubric.clone(),
        definition: default_template(),
    })
    .await?;
    let all: Vec<UnitId> = (0..units).map(unit_id).collect();
    for unit in &all {
        run(Command::RegisterUnit {
            unit: unit.clone(),
            name: format!("基准单位 {unit}"),
            kind: UnitKind::Branch,
            parent: None,
        })
        .await?;
    }
    let assessor = PersonId::new("bench-assessor").expect("valid id");
    let token = issue_token(&ledger, &assessor, Role::Assessor, &all).await?;
    for period in periods {
        let period = PeriodId::new(*period).expect("valid id");
        run(Command::OpenPeriod {
            period: period.clone(),
            name: format!("基准 {period}"),
            cadence: Cadence::Quarterly,
            starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"),
            ends_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date"),
            rubric: rubric.clone(),
            rubric_version: 1,
            units: all.clone(),
        })
        .await?;
        for to in [Stage::SelfAssessment, Stage::Scoring] {
            run(Command::AdvanceStage {
                period: period.clone(),
                to,
                expected_revision: None,
            })
            .await?;
        }
    }
    Ok((ledger, token))
}

/// The baseline: `clients` tasks giving `RecordScore` to the service, one at a time each.
async fn direct(
    ledger: Arc<Ledger<SqliteStore>>,
    slots: Vec<(PeriodId, Slot)>,
    clients: usize,
) -> Side {
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicU64::new(0));
    let actor = Actor::new(
        PersonId::new("bench-assessor").expect("valid id"),
        Role::Assessor,
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (ledger, slots, next, actor) =
                (ledger.clone(), slots.clone(), next.clone(), actor.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((period, slot)) = slots.get(n) else {
                        break;
                    };
                    let command = Command::RecordScore {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: slot.unit.clone(),
                        item: slot.item.clone(),
                        value: slot.value.clone(),
                        note: String::new(),
                        evidence: Vec::new(),
                        source: ScoreSource::Manual,
                        expected_revision: None,
                    };
                    let t = Instant::now();
                    match ledger.execute(actor.clone(), command).await {
                        Ok(_) => latencies.push(t.elapsed()),
                        Err(err) => {
                            if errors == 0 {
                                tracing::warn!("baseline write refused: {err}");
                            }
                            errors += 1;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut joined = Vec::new();
    for task in tasks {
        if let Ok(figures) = task.await {
            joined.push(figures);
        }
    }
    side(joined, started.elapsed())
}

/// The measurement: `clients` HTTP clients, one connection and one request at a time each. Returns
/// the figures and the indexes of the acknowledged (200) writes.
async fn over_http(
    addr: std::net::SocketAddr,
    token: String,
    slots: Vec<(PeriodId, Slot)>,
    clients: usize,
) -> (Side, Vec<u64>) {
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicU64::new(0));
    let authorization = Arc::new(format!("Bearer {token}"));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (slots, next, authorization) = (slots.clone(), next.clone(), authorization.clone());
            tokio::spawn(async move {
                // One client (and so one kept-alive connection) per task.
                let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
                connector.set_nodelay(true);
                let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(1)
                    .build(connector);
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut acked = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some((period, slot)) = slots.get(n as usize) else {
                        break;
                    };
                    let body = serde_json::json!({"value": slot.value, "note": "基准 bench"});
                    let request = hyper::Request::post(format!(
                        "http://{addr}/api/v1/periods/{period}/units/{}/items/{}/score",
                        slot.unit, slot.item
                    ))
                    .header("authorization", authorization.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(
                        serde_json::to_vec(&body).unwrap_or_default(),
                    )));
                    let Ok(request) = request else {
                        errors += 1;
                        continue;
                    };
                    let t = Instant::now();
                    let ok = match client.request(request).await {
                        Ok(response) => {
                            let status = response.status();
                            let drained = response.into_body().collect().await.is_ok();
                            status.is_success() && drained
                        }
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(t.elapsed());
                        acked.push(n);
                    } else {
                        errors += 1;
                    }
                }
                ((latencies, errors), acked)
            })
        })
        .collect();
    let mut acked = Vec::new();
    let mut joined = Vec::new();
    for task in tasks {
        if let Ok((figures, mine)) = task.await {
            joined.push(figures);
            acked.extend(mine);
        }
    }
    let elapsed = started.elapsed();
    (side(joined, elapsed), acked)
}

fn side(parts: Vec<(Vec<Duration>, u64)>, elapsed: Duration) -> Side {
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for (l, e) in parts {
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Side {
        writes: latencies.len() as u64,
        elapsed,
        latencies,
        errors,
    }
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{model}, {cores} cores visible")
}

fn report(
    args: &HttpBenchArgs,
    baseline: &Side,
    http: &Side,
    acked: usize,
    missing: usize,
) -> String {
    let row = |name: &str, s: &Side| {
        format!(
            "| {name} | {:.0} | {} | {} | {} | {} |",
            s.rate(),
            ms(s.percentile(0.50)),
            ms(s.percentile(0.99)),
            ms(s.latencies.last().copied().unwrap_or_default()),
            s.errors
        )
    };
    let target = http.rate() >= 10_000.0 && http.percentile(0.99) < Duration::from_millis(20);
    format!(
        "## `ledger bench http`: score writes over HTTP\n\n\
         Machine: {}. {} writes per side, {} concurrent clients (one connection each); server and \
         load generator share the machine ({} and {} worker threads).\n\n\
         | side | writes/s | p50 | p99 | max | errors |\n|---|---|---|---|---|---|\n{}\n{}\n\n\
         HTTP / direct throughput: {:.2}. Acknowledged writes: {acked}; missing after reopening the \
         file: {missing}. Target (≥ 10,000 writes/s, p99 < 20 ms): {}.\n",
        machine(),
        args.writes,
        args.clients,
        args.server_threads,
        args.client_threads,
        row("direct (application service, no HTTP)", baseline),
        row("HTTP (loopback, JSON, bearer token)", http),
        http.rate() / baseline.rate().max(1e-9),
        if target { "met" } else { "not met" },
    )
}
