//! `ledger bench mixed`: a running `ledger serve` under a mixed load for minutes, and its memory.
//!
//! Four kinds of clients at once, each one request at a time on its own connection:
//!
//! | kind | request |
//! |---|---|
//! | writers | a score, then corrections of it (each writer owns its own items) |
//! | readers | the live period's standings now |
//! | as-of readers | the same standings at a random earlier position of the log |
//! | change-log readers | a page of 50 changes before a random position |
//!
//! The server is the real program (`ledger serve`, a child process), so its resident memory is read
//! from `/proc/PID/status` as an operator would see it: at start (after it answered once), every
//! half-second during the load (the peak), and `--settle` seconds after the load stopped (idle). The
//! baseline, measured in the same run: a fresh server started on the same file afterwards, asked the
//! same four kinds of request once. Target (issue 14): idle after the load within 2 × the fresh
//! server's memory + 128 MiB.
//!
//! Setup (not measured): the default rubric, `--units` units, a period with every unit scored once
//! through the application service (a log the as-of readers can travel in), and a live period in
//! scoring for the writers. Run it on a release build (`cargo run --release -- bench mixed`).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ledger_projections::domain::Command;
use ledger_schemas::Actor;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::{PeriodId, PersonId, UnitId};
use ledger_schemas::values::{Points, ScoreSource, ScoreValue};

use super::http::{base_items, machine, ms, setup, unit_id};
use crate::app::tokens::issue_token;
use crate::store::SqliteStore;

#[derive(Debug, Args)]
pub struct MixedBenchArgs {
    /// Seconds of load.
    #[arg(long, default_value_t = 120)]
    pub seconds: u64,
    /// Seconds to wait after the load before the idle reading.
    #[arg(long, default_value_t = 30)]
    pub settle: u64,
    /// Units in the ledger (each writer owns a share of their point items).
    #[arg(long, default_value_t = 200)]
    pub units: u64,
    /// Concurrent writers.
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    /// Concurrent readers of the standings now.
    #[arg(long, default_value_t = 4)]
    pub readers: usize,
    /// Concurrent readers of the standings at an earlier position.
    #[arg(long, default_value_t = 4)]
    pub as_of_readers: usize,
    /// Concurrent readers of change-log pages.
    #[arg(long, default_value_t = 2)]
    pub change_readers: usize,
    /// Where the temporary ledger goes (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Append the servers' standard error (their logs) to this file; discarded otherwise.
    #[arg(long)]
    pub server_log: Option<PathBuf>,
}

/// The kinds of client, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Write,
    Read,
    AsOf,
    Changes,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Write, Kind::Read, Kind::AsOf, Kind::Changes];

    fn label(self) -> &'static str {
        match self {
            Kind::Write => "writes (score, then corrections)",
            Kind::Read => "standings now",
            Kind::AsOf => "standings at an earlier position",
            Kind::Changes => "change-log pages",
        }
    }
}

/// What one kind of client measured.
#[derive(Debug, Default)]
struct Figures {
    /// Sorted.
    latencies: Vec<Duration>,
    errors: u64,
    /// The first failure, for the report (status and the start of the body, or the client error).
    first_error: Option<String>,
}

impl Figures {
    fn failed(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

/// Sends `request`; the time to the whole answer if it succeeded, else why not.
async fn timed(
    client: &Client<HttpConnector, Full<Bytes>>,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Duration, String> {
    let t = Instant::now();
    let reply = client.request(request).await.map_err(|e| e.to_string())?;
    let status = reply.status();
    let body = reply
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status.is_success() {
        Ok(t.elapsed())
    } else {
        let text = String::from_utf8_lossy(&body);
        Err(format!(
            "{status}: {}",
            text.chars().take(300).collect::<String>()
        ))
    }
}

impl Figures {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[i - 1]
    }
}

/// Resident memory of a process, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// VmRSS, bytes.
    pub rss: u64,
    /// VmHWM (the high-water mark of VmRSS), bytes.
    pub peak: u64,
}

/// Reads a process's resident memory (Linux); `None` where `/proc` does not say.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| n * 1024)
    };
    Some(Memory {
        rss: kib("VmRSS:")?,
        peak: kib("VmHWM:")?,
    })
}

/// What the run measured, for callers that check it (the smoke test).
#[derive(Debug, Clone)]
pub struct MixedBenchResult {
    pub start: u64,
    pub peak: u64,
    pub idle: u64,
    pub fresh: u64,
    pub requests: u64,
    pub errors: u64,
}

impl MixedBenchResult {
    /// Issue 14's target: idle after the load within 2 × a fresh server's memory + 128 MiB.
    pub fn bound(&self) -> u64 {
        2 * self.fresh + 128 * MIB
    }
}

const MIB: u64 = 1024 * 1024;

pub fn run(args: MixedBenchArgs) -> anyhow::Result<()> {
    let result = measure(args)?;
    if result.idle > result.bound() {
        bail!(
            "空闲内存 {} MiB 超过目标 {} MiB (idle memory after the load is over the target)",
            result.idle / MIB,
            result.bound() / MIB
        );
    }
    Ok(())
}

/// Runs the benchmark, prints the report (and writes it to `--out`), and returns the figures.
pub fn measure(args: MixedBenchArgs) -> anyhow::Result<MixedBenchResult> {
    if args.units == 0 || args.writers == 0 {
        bail!("--units 与 --writers 须大于 0 (--units and --writers must be positive)");
    }
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = parent.join(format!(
        "ledger-bench-mixed-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    let result = measure_in(&args, &dir.join("bench-mixed.db"));
    let _ = std::fs::remove_dir_all(&dir);
    let (report, result) = result?;
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("{}", out.display()))?;
    }
    Ok(result)
}

fn measure_in(args: &MixedBenchArgs, path: &Path) -> anyhow::Result<(String, MixedBenchResult)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .context("client runtime")?;
    eprintln!("准备 setting up: {} units", args.units);
    let (assessor, reader, floor) = rt.block_on(prepare(path, args.units))?;

    let mut server = Server::start(path, args.server_log.as_deref())?;
    let addr = server.addr.clone();
    let client = Clients::new(&addr, assessor, reader, floor);
    // One request of each kind before the first reading, so "start" is a server that has answered.
    rt.block_on(client.once_each())?;
    let start = server.memory()?;
    eprintln!(
        "负载 load: {} s ({} writers, {} readers, {} as-of readers, {} change-log readers)",
        args.seconds, args.writers, args.readers, args.as_of_readers, args.change_readers
    );
    let (figures, peak) = rt.block_on(load(args, &client, &server))?;
    eprintln!("静置 settling: {} s", args.settle);
    std::thread::sleep(Duration::from_secs(args.settle));
    let idle = server.memory()?;
    let events = rt.block_on(client.head())?;
    server.stop()?;

    eprintln!("基线 baseline: a fresh server on the same file");
    let mut fresh = Server::start(path, args.server_log.as_deref())?;
    let client = Clients::new(
        &fresh.addr,
        client.assessor.clone(),
        client.reader.clone(),
        floor,
    );
    rt.block_on(client.once_each())?;
    let fresh_memory = fresh.memory()?;
    fresh.stop()?;

    let result = MixedBenchResult {
        start: start.rss,
        peak: peak.max(idle.peak),
        idle: idle.rss,
        fresh: fresh_memory.rss,
        requests: figures.iter().map(|f| f.latencies.len() as u64).sum(),
        errors: figures.iter().map(|f| f.errors).sum(),
    };
    Ok((report(args, &figures, &result, events), result))
}

/// The ledger the server opens: units, the rubric, a scored period to travel in, a live period in
/// scoring; the writers' (assessor) and readers' (auditor) tokens, and the position from which both
/// periods exist.
async fn prepare(path: &Path, units: u64) -> anyhow::Result<(String, String, u64)> {
    let store = Arc::new(SqliteStore::open(path)?);
    let (ledger, assessor) = setup(store.clone(), units, &["BASE", "HTTP"]).await?;
    // The periods are open from here on: as-of readers travel between here and the head.
    let floor = ledger.folded().head;
    let actor = Actor::new(
        PersonId::new("bench-assessor").expect("valid id"),
        Role::Assessor,
    );
    let base = PeriodId::new("BASE").expect("valid id");
    for (item, value) in base_items() {
        for n in 0..units {
            ledger
                .execute(
                    actor.clone(),
                    Command::RecordScore {
                        files: Vec::new(),
                        period: base.clone(),
                        unit: unit_id(n),
                        item: item.clone(),
                        value: value.clone(),
                        note: String::new(),
                        evidence: Vec::new(),
                        source: ScoreSource::Manual,
                        expected_revision: None,
                    },
                )
                .await?;
        }
    }
    let reader = issue_token(
        &ledger,
        &PersonId::new("bench-auditor").expect("valid id"),
        Role::Auditor,
        &[],
    )
    .await?;
    store.close().await;
    Ok((assessor, reader, floor))
}

/// `ledger serve` on the file, as a child process of this one.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(path: &Path, log: Option<&Path>) -> anyhow::Result<Server> {
        let stderr = match log {
            Some(log) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .with_context(|| format!("{}", log.display()))?,
            ),
            None => Stdio::null(),
        };
        let exe = std::env::current_exe().context("the path of this program")?;
        let mut child = Process::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--snapshot-every", "0"])
            .arg("--ledger")
            .arg(path)
            .env_remove("LEDGER_STORE")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("start ledger serve")?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let Some(addr) = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
        else {
            let _ = child.kill();
            bail!("ledger serve printed no address: {line:?}");
        };
        let addr = addr.to_owned();
        Ok(Server { child, addr })
    }

    fn memory(&self) -> anyhow::Result<Memory> {
        memory_of(self.child.id()).context("/proc/PID/status (Linux only)")
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        let _ = Process::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().context("wait for ledger serve")?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the requests of each kind.
struct Clients {
    addr: String,
    assessor: String,
    reader: String,
    /// The first position at which the periods exist.
    floor: u64,
}

impl Clients {
    fn new(addr: &str, assessor: String, reader: String, floor: u64) -> Clients {
        Clients {
            addr: addr.to_owned(),
            assessor,
            reader,
            floor,
        }
    }

    fn connection() -> Client<HttpConnector, Full<Bytes>> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build(connector)
    }

    fn get(&self, path: &str) -> hyper::Request<Full<Bytes>> {
        hyper::Request::get(format!("http://{}{path}", self.addr))
            .header("authorization", format!("Bearer {}", self.reader))
            .body(Full::default())
            .expect("a valid request")
    }

    fn post(&self, path: &str, body: &serde_json::Value) -> hyper::Request<Full<Bytes>> {
        hyper::Request::post(format!("http://{}{path}", self.addr))
            .header("authorization", format!("Bearer {}", self.assessor))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a valid request")
    }

    fn read(&self, kind: Kind, head: u64, n: u64) -> hyper::Request<Full<Bytes>> {
        // A cheap spread of positions over the log (from where the periods exist) without a random
        // number generator.
        let span = head.saturating_sub(self.floor).max(1);
        let spot = self.floor + n.wrapping_mul(2_654_435_761) % span;
        match kind {
            Kind::AsOf => self.get(&format!(
                "/api/v1/periods/HTTP/standings?at_position={spot}"
            )),
            Kind::Changes => self.get(&format!("/api/v1/changes?limit=50&before={spot}")),
            _ => self.get("/api/v1/periods/HTTP/standings"),
        }
    }

    async fn head(&self) -> anyhow::Result<u64> {
        let reply = Self::connection()
            .request(self.get("/api/v1/changes?limit=1"))
            .await?;
        let body = reply.into_body().collect().await?.to_bytes();
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(page["at_position"].as_u64().unwrap_or(0))
    }

    /// One request of each read kind; fails unless each is answered 200.
    async fn once_each(&self) -> anyhow::Result<()> {
        let client = Self::connection();
        let head = self.head().await?;
        for kind in [Kind::Read, Kind::AsOf, Kind::Changes] {
            let status = client.request(self.read(kind, head, 1)).await?.status();
            if !status.is_success() {
                bail!("{} answered {status}", kind.label());
            }
        }
        Ok(())
    }
}

async fn load(
    args: &MixedBenchArgs,
    clients: &Clients,
    server: &Server,
) -> anyhow::Result<(Vec<Figures>, u64)> {
    let clients = Arc::new(Clients::new(
        &clients.addr,
        clients.assessor.clone(),
        clients.reader.clone(),
        clients.floor,
    ));
    let head = Arc::new(AtomicU64::new(clients.head().await?));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    // The point items (corrections need no ladder level), dealt out to the writers.
    let slots: Vec<(UnitId, ledger_schemas::ids::ItemCode, Points)> = base_items()
        .into_iter()
        .filter_map(|(item, value)| match value {
            ScoreValue::Points { points } => Some((item, points)),
            _ => None,
        })
        .flat_map(|(item, max)| (0..args.units).map(move |n| (unit_id(n), item.clone(), max)))
        .collect();
    let slots = Arc::new(slots);
    let mut tasks = Vec::new();
    for w in 0..args.writers {
        let (clients, slots, stop, head) =
            (clients.clone(), slots.clone(), stop.clone(), head.clone());
        let writers = args.writers;
        tasks.push(tokio::spawn(async move {
            let client = Clients::connection();
            let mine: Vec<usize> = (w..slots.len()).step_by(writers).collect();
            let mut written = vec![None::<Points>; mine.len()];
            let mut figures = Figures::default();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) && !mine.is_empty() {
                let k = n % mine.len();
                n += 1;
                let (unit, item, max) = &slots[mine[k]];
                let path = format!("/api/v1/periods/HTTP/units/{unit}/items/{item}");
                let next = if written[k] == Some(*max) {
                    Points::ZERO
                } else {
                    *max
                };
                let request = match written[k] {
                    None => clients.post(
                        &format!("{path}/score"),
                        &serde_json::json!({"value": ScoreValue::Points { points: next }, "note": "基准 bench"}),
                    ),
                    Some(previous) => clients.post(
                        &format!("{path}/correction"),
                        &serde_json::json!({
                            "previous": ScoreValue::Points { points: previous },
                            "value": ScoreValue::Points { points: next },
                            "reason": "基准复核 bench correction"
                        }),
                    ),
                };
                match timed(&client, request).await {
                    Ok(took) => {
                        figures.latencies.push(took);
                        written[k] = Some(next);
                        head.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(why) => figures.failed(why),
                }
            }
            (Kind::Write, figures)
        }));
    }
    for (kind, count) in [
        (Kind::Read, args.readers),
        (Kind::AsOf, args.as_of_readers),
        (Kind::Changes, args.change_readers),
    ] {
        for r in 0..count {
            let (clients, stop, head) = (clients.clone(), stop.clone(), head.clone());
            tasks.push(tokio::spawn(async move {
                let client = Clients::connection();
                let mut figures = Figures::default();
                let mut n = r as u64 * 7_919;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let request = clients.read(kind, head.load(Ordering::Relaxed), n);
                    match timed(&client, request).await {
                        Ok(took) => figures.latencies.push(took),
                        Err(why) => figures.failed(why),
                    }
                }
                (kind, figures)
            }));
        }
    }
    let mut peak = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(server.memory()?.rss);
    }
    stop.store(true, Ordering::Relaxed);
    let mut figures: Vec<Figures> = Kind::ALL.iter().map(|_| Figures::default()).collect();
    for task in tasks {
        let (kind, f) = task.await.context("a client task failed")?;
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        figures[i].latencies.extend(f.latencies);
        figures[i].errors += f.errors;
        if figures[i].first_error.is_none() {
            figures[i].first_error = f.first_error;
        }
    }
    for f in &mut figures {
        f.latencies.sort_unstable();
    }
    Ok((figures, peak))
}

fn report(
    args: &MixedBenchArgs,
    figures: &[Figures],
    result: &MixedBenchResult,
    events: u64,
) -> String {
    let mib = |b: u64| format!("{:.0} MiB", b as f64 / MIB as f64);
    let errors: String = Kind::ALL
        .iter()
        .zip(figures)
        .filter_map(|(kind, f)| {
            let first = f.first_error.as_ref()?;
            Some(format!("\nFirst failure of {}: {first}\n", kind.label()))
        })
        .collect();
    let rows: Vec<String> = Kind::ALL
        .iter()
        .zip(figures)
        .map(|(kind, f)| {
            format!(
                "| {} | {} | {:.0} | {} | {} | {} |",
                kind.label(),
                f.latencies.len(),
                f.latencies.len() as f64 / args.seconds.max(1) as f64,
                ms(f.percentile(0.50)),
                ms(f.percentile(0.99)),
                f.errors
            )
        })
        .collect();
    format!(
        "## `ledger bench mixed`: a server under mixed load, and its memory\n\n\
         Machine: {}. {} s of load on one `ledger serve` process: {} writers, {} readers, {} as-of \
         readers, {} change-log readers, one request at a time each; {} units. The log held {events} \
         events at the end.\n\n\
         | kind | requests | per second | p50 | p99 | errors |\n|---|---|---|---|---|---|\n{}\n\n\
         | resident memory (VmRSS) | |\n|---|---|\n\
         | at start (after one request of each kind) | {} |\n\
         | peak during the load | {} |\n\
         | {} s after the load | {} |\n\
         | a fresh server on the same file (after one request of each kind) | {} |\n\n\
         Target (idle after the load ≤ 2 × fresh + 128 MiB = {}): {}.\n",
        machine(),
        args.seconds,
        args.writers,
        args.readers,
        args.as_of_readers,
        args.change_readers,
        args.units,
        rows.join("\n"),
        mib(result.start),
        mib(result.peak),
        args.settle,
        mib(result.idle),
        mib(result.fresh),
        mib(result.bound()),
        if result.idle <= result.bound() {
            "met"
        } else {
            "not met"
        },
    ) + &errors
}
