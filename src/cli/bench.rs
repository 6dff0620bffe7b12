//! `ledger bench store`: the event store's throughput and latency, each beside a raw-SQLite baseline
//! of the same operation measured in the same run, as a ratio.
//!
//! Four measurements, each on fresh files in a temporary directory (`--dir` to choose the disk):
//!
//! | measurement | the ledger does | the raw baseline does |
//! |---|---|---|
//! | one-at-a-time durable append | `append` of one event, awaited, then the next | `BEGIN; INSERT; COMMIT` per event |
//! | concurrent durable append | `--tasks` tasks each appending one event at a time (group commit) | `BEGIN; 100 × INSERT; COMMIT` |
//! | read of the global log with deserialisation | `stream_pages` + `Envelope::decode` of every event | `SELECT` of the same rows, each column looked at, + `serde_json` of each payload |
//! | chain verification | `verify_chain` (walk, re-hash, link check) | SHA-256 of the same canonical bytes, row by row |
//!
//! Both sides use the same file settings (WAL, `synchronous = FULL`), the same table and indexes and
//! the same rows: realistic `ScoreRecorded` events. Each measurement runs `--rounds` times, the ledger
//! and the baseline taking turns, on fresh files for the appends, and each side reports its best
//! round: on a small shared machine the best round is the one least disturbed by other work, and
//! taking turns exposes both sides to the same disturbances. Run it on a release build
//! (`cargo run --release -- bench store`); a debug build measures the compiler, not the store.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use ledger_schemas::events::ScoreRecorded;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::integrity::{HashInput, canonical_json};
use ledger_schemas::values::{Points, ScoreSource, ScoreValue};
use ledger_schemas::{Actor, Event, ProposedEvent, Role};
use rusqlite::Connection;
use uuid::Uuid;

use crate::store::sqlite::schema::MIGRATIONS;
use crate::store::{EventStore, ExpectedRevision, Progress, SqliteStore};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// 事件存储 The event store: append (one at a time, concurrent), read, verify.
    Store(StoreBenchArgs),
    /// HTTP 接口 Concurrent clients recording scores over HTTP on loopback, beside direct calls.
    Http(super::bench_http::HttpBenchArgs),
    /// KurrentDB 适配器 The KurrentDB adapter through the test server, beside the embedded store.
    Kurrent(super::bench_kurrent::KurrentBenchArgs),
    /// 审计 Audit integrity: verify rate vs raw SHA-256, proof latency on a 1,000,000-event tree,
    /// checkpoint cost.
    Audit(super::bench_audit::AuditBenchArgs),
    /// 读模型 Read models on a 1,000,000-event ledger: rebuild rate, as-of latency, memory.
    Projections(super::bench_projections::ProjectionsBenchArgs),
    /// 网页控制台 The web console's pages on a 1,000,000-event ledger: time to first byte.
    Console(super::bench_console::ConsoleBenchArgs),
}

#[derive(Debug, Args)]
pub struct StoreBenchArgs {
    /// Events appended concurrently, then read and verified (the size of the log).
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Events appended one at a time, each its own durable commit.
    #[arg(long, default_value_t = 5_000)]
    pub single: u64,
    /// Concurrent appending tasks.
    #[arg(long, default_value_t = 64)]
    pub tasks: usize,
    /// Rounds of each measurement; each side reports its best.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Where the temporary ledgers go (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs a benchmark.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Store(args) => store(args),
        BenchTarget::Http(args) => super::bench_http::run(args),
        BenchTarget::Kurrent(args) => super::bench_kurrent::run(args),
        BenchTarget::Audit(args) => super::bench_audit::run(args),
        BenchTarget::Projections(args) => super::bench_projections::run(args),
        BenchTarget::Console(args) => super::bench_console::run(args),
    }
}

/// The 33 item codes of the default rubric (DOMAIN.md), so payloads look like the real ones.
const ITEMS: [&str; 33] = [
    "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "D1", "D2",
    "D3", "D4", "D5", "E1", "E2", "E3", "E4", "E5", "F1", "F2", "F3", "F4", "F5", "G1", "G2", "G3",
    "G4",
];

/// A realistic event: an assessor records the `n`-th score for unit `SH-{unit}` in period 2026Q1.
/// Used by the benchmark and by `ledger debug append-stress`.
pub fn score_event(n: u64, unit: u64, actor: Actor, correlation_id: Uuid) -> ProposedEvent {
    let unit = UnitId::new(format!("SH-{unit:02}")).expect("valid unit id");
    let item = ITEMS[(n % ITEMS.len() as u64) as usize];
    let event = ScoreRecorded {
        period: PeriodId::new("2026Q1").expect("valid period id"),
        unit: unit.clone(),
        item: ItemCode::new(item).expect("valid item code"),
        value: ScoreValue::Points {
            points: Points::from_cents(((n * 37) % 400) as i64),
        },
        note: "「三会一课」记录缺 1 次，每少开1次扣0.5分，扣完为止 (one meeting record missing)"
            .into(),
        evidence: vec![format!("minutes/2026Q1/{unit}/{item}-{n}.pdf")],
        source: ScoreSource::Manual,
        file_sha256: None,
    };
    ProposedEvent::new(
        &Event::ScoreRecorded(event),
        actor,
        Uuid::now_v7(),
        correlation_id,
    )
}

fn assessor() -> Actor {
    Actor::new(
        PersonId::new("P-0042").expect("valid person id"),
        Role::Assessor,
    )
}

/// Events per second and latency percentiles of one side of a measurement.
#[derive(Debug, Clone, Default)]
struct Figures {
    events: u64,
    elapsed: Duration,
    /// Per operation (an append, or a raw commit), sorted.
    latencies: Vec<Duration>,
    note: String,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        Some(self.latencies[i])
    }

    fn describe(&self) -> String {
        let mut s = format!("{} ev/s", group(self.rate()));
        if let (Some(p50), Some(p99)) = (self.percentile(0.50), self.percentile(0.99)) {
            s.push_str(&format!(", p50 {}, p99 {}", ms(p50), ms(p99)));
        }
        if !self.note.is_empty() {
            s.push_str(&format!(" ({})", self.note));
        }
        s
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// 1234567.8 → "1,234,568".
fn group(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Row {
    name: String,
    ledger: Figures,
    raw: Figures,
    target: String,
    met: bool,
}

fn store(args: StoreBenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "警告 warning: 这是调试构建, 结果无代表性 (a debug build: the figures mean little); use `cargo run --release -- bench store`"
        );
    }
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!(
        "ledger-bench-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: 无法创建 (cannot create)", dir.display()))?;
    let result = store_in(&dir, &args);
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;

    let mut table = String::new();
    table.push_str("| measurement | ledger | raw SQLite baseline | ratio | target | met |\n");
    table.push_str("|---|---|---|---|---|---|\n");
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {:.2}× | {} | {} |\n",
            r.name,
            r.ledger.describe(),
            r.raw.describe(),
            r.ledger.rate() / r.raw.rate().max(1e-9),
            r.target,
            if r.met { "yes" } else { "**no**" }
        ));
    }
    let header = format!(
        "`ledger bench store --events {} --single {} --tasks {} --rounds {}` — {} — SQLite {} — {}\n\n",
        args.events,
        args.single,
        args.tasks,
        args.rounds,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        rusqlite::version(),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
    );
    print!("{header}{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{header}{table}"))
            .with_context(|| format!("{}: 无法写入 (cannot write)", out.display()))?;
    }
    Ok(())
}

/// The better of two figures: the higher rate.
fn best(a: Option<Figures>, b: Figures) -> Option<Figures> {
    match a {
        Some(a) if a.rate() >= b.rate() => Some(a),
        _ => Some(b),
    }
}

fn store_in(dir: &Path, args: &StoreBenchArgs) -> anyhow::Result<Vec<Row>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let rounds = args.rounds.max(1);
    let mut rows = Vec::new();
    let fresh = |name: &str, round: usize| dir.join(format!("{name}-{round}.db"));

    eprintln!(
        "1/4 逐条持久追加 one-at-a-time durable append ({} events)…",
        args.single
    );
    let (mut ledger, mut raw) = (None, None);
    for round in 0..rounds {
        raw = best(raw, raw_single(&fresh("raw-single", round), args.single)?);
        ledger = best(
            ledger,
            rt.block_on(ledger_single(&fresh("single", round), args.single))?,
        );
    }
    let (ledger, raw) = (ledger.expect("a round"), raw.expect("a round"));
    rows.push(Row {
        name: "one-at-a-time durable append".into(),
        met: ledger.rate() / raw.rate() >= 0.8,
        target: "≥ 0.8× raw".into(),
        ledger,
        raw,
    });

    eprintln!(
        "2/4 并发持久追加 concurrent durable append ({} events, {} tasks)…",
        args.events, args.tasks
    );
    let (mut ledger, mut raw) = (None, None);
    let mut log = None;
    for round in 0..rounds {
        raw = best(
            raw,
            raw_batches(&fresh("raw-batch", round), args.events, 100)?,
        );
        let path = fresh("log", round);
        ledger = best(
            ledger,
            rt.block_on(ledger_concurrent(&path, args.events, args.tasks))?,
        );
        // The last log is kept for reading and verifying; the others only take room.
        if let Some(old) = log.replace(path) {
            let _ = std::fs::remove_file(old);
        }
    }
    let log = log.expect("a round");
    let (ledger, raw) = (ledger.expect("a round"), raw.expect("a round"));
    let p99 = ledger.percentile(0.99).unwrap_or_default();
    rows.push(Row {
        name: format!("concurrent durable append, {} tasks", args.tasks),
        met: ledger.rate() >= 50_000.0 && p99 < Duration::from_millis(10),
        target: "≥ 50,000 ev/s, p99 < 10 ms".into(),
        ledger,
        raw,
    });

    eprintln!("3/4 读取全局日志并反序列化 read the global log with deserialisation…");
    raw_read(&log)?; // warms the page cache for both sides
    let (mut ledger, mut raw) = (None, None);
    for _ in 0..rounds {
        raw = best(raw, raw_read(&log)?);
        ledger = best(ledger, rt.block_on(ledger_read(&log))?);
    }
    let (ledger, raw) = (ledger.expect("a round"), raw.expect("a round"));
    rows.push(Row {
        name: "read of the global log + decode".into(),
        met: ledger.rate() >= 800_000.0,
        target: "≥ 800,000 ev/s".into(),
        ledger,
        raw,
    });

    eprintln!("4/4 校验哈希链 verify the hash chain…");
    let (mut ledger, mut raw) = (None, None);
    for _ in 0..rounds {
        raw = best(raw, raw_sha(&log)?);
        ledger = best(ledger, rt.block_on(ledger_verify(&log))?);
    }
    let (ledger, raw) = (ledger.expect("a round"), raw.expect("a round"));
    rows.push(Row {
        name: "chain verification".into(),
        met: ledger.rate() >= 500_000.0,
        target: "≥ 500,000 ev/s".into(),
        ledger,
        raw,
    });
    Ok(rows)
}

// ---- the ledger's side ----

async fn ledger_single(path: &Path, n: u64) -> anyhow::Result<Figures> {
    let store = SqliteStore::open(path)?;
    let actor = assessor();
    let correlation = Uuid::now_v7();
    // 100 sheets, appended to in turn with exact expected revisions, as score entry would.
    let mut revisions = vec![ExpectedRevision::NoStream; 100];
    let mut latencies = Vec::with_capacity(n as usize);
    let started = Instant::now();
    for i in 0..n {
        let sheet = (i % 100) as usize;
        let event = score_event(i, sheet as u64, actor.clone(), correlation);
        let t = Instant::now();
        let outcome = store
            .append(
                &format!("sheet-2026Q1~SH-{sheet:02}"),
                revisions[sheet],
                vec![event],
            )
            .await?;
        latencies.push(t.elapsed());
        revisions[sheet] = ExpectedRevision::Exact(outcome.next_expected);
    }
    let elapsed = started.elapsed();
    store.close().await;
    latencies.sort_unstable();
    Ok(Figures {
        events: n,
        elapsed,
        latencies,
        note: String::new(),
    })
}

async fn ledger_concurrent(path: &Path, n: u64, tasks: usize) -> anyhow::Result<Figures> {
    let store = SqliteStore::open(path)?;
    let tasks = tasks.max(1);
    let per_task = n / tasks as u64;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let store = store.clone();
        set.spawn(async move {
            let actor = assessor();
            let correlation = Uuid::now_v7();
            let stream = format!("sheet-2026Q1~SH-{task:02}");
            let mut expected = ExpectedRevision::NoStream;
            let mut latencies = Vec::with_capacity(per_task as usize);
            for i in 0..per_task {
                let event = score_event(i, task as u64, actor.clone(), correlation);
                let t = Instant::now();
                let outcome = store.append(&stream, expected, vec![event]).await?;
                latencies.push(t.elapsed());
                expected = ExpectedRevision::Exact(outcome.next_expected);
            }
            Ok::<_, crate::store::StoreError>(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(n as usize);
    while let Some(joined) = set.join_next().await {
        latencies.extend(joined??);
    }
    let elapsed = started.elapsed();
    let counts = store.writer_counts();
    store.close().await;
    latencies.sort_unstable();
    Ok(Figures {
        events: per_task * tasks as u64,
        elapsed,
        latencies,
        note: format!(
            "{} commits, {:.1} appends per commit",
            counts.transactions,
            counts.requests as f64 / counts.transactions.max(1) as f64
        ),
    })
}

/// Events per page of the benchmark's whole-log read.
const READ_PAGE: usize = 4096;

async fn ledger_read(path: &Path) -> anyhow::Result<Figures> {
    use futures_util::StreamExt;
    let store = SqliteStore::open_existing(path)?;
    let started = Instant::now();
    let mut events = 0u64;
    let mut pages = std::pin::pin!(store.stream_pages(0, READ_PAGE));
    while let Some(page) = pages.next().await {
        for envelope in page? {
            let event = envelope.decode()?;
            std::hint::black_box(&event);
            events += 1;
        }
    }
    let elapsed = started.elapsed();
    store.close().await;
    Ok(Figures {
        events,
        elapsed,
        ..Figures::default()
    })
}

async fn ledger_verify(path: &Path) -> anyhow::Result<Figures> {
    let store = SqliteStore::open_existing(path)?;
    let started = Instant::now();
    let report = store.verify_chain(Progress::new()).await?;
    let elapsed = started.elapsed();
    store.close().await;
    anyhow::ensure!(
        report.is_intact(),
        "the benchmark's chain is broken: {:?}",
        report.broken
    );
    Ok(Figures {
        events: report.verified,
        elapsed,
        ..Figures::default()
    })
}

// ---- the raw baselines: plain rusqlite, same file settings, same table, same rows ----

fn raw_open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(MIGRATIONS[0].sql)?;
    Ok(conn)
}

const RAW_INSERT: &str = "INSERT INTO events (position, event_id, stream, revision, event_type, \
     schema_version, recorded_at, actor_person, actor_role, reason, correlation_id, causation_id, \
     payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

/// The `i`-th row as the ledger would store it (hashes are placeholders: no chain here).
struct RawRow {
    position: i64,
    stream: String,
    revision: i64,
    event: ProposedEvent,
    payload: String,
}

fn raw_row(i: u64, stream: String, revision: u64) -> RawRow {
    let event = score_event(i, revision % 64, assessor(), Uuid::now_v7());
    RawRow {
        position: (i + 1) as i64,
        stream,
        revision: revision as i64,
        payload: canonical_json(&event.payload),
        event,
    }
}

fn raw_insert(conn: &Connection, row: &RawRow) -> anyhow::Result<()> {
    let event = &row.event;
    let mut stmt = conn.prepare_cached(RAW_INSERT)?;
    stmt.execute(rusqlite::params![
        row.position,
        &event.event_id.as_bytes()[..],
        &row.stream,
        row.revision,
        &event.event_type,
        event.schema_version,
        chrono::Utc::now().timestamp_micros(),
        event.actor.person.as_str(),
        event.actor.role.as_str(),
        event.reason.as_deref(),
        &event.correlation_id.as_bytes()[..],
        Option::<&[u8]>::None,
        &row.payload,
        &[0u8; 32][..],
        &[1u8; 32][..],
    ])?;
    Ok(())
}

fn raw_single(path: &Path, n: u64) -> anyhow::Result<Figures> {
    let conn = raw_open(path)?;
    let mut latencies = Vec::with_capacity(n as usize);
    let started = Instant::now();
    for i in 0..n {
        let row = raw_row(i, format!("sheet-2026Q1~SH-{:02}", i % 100), i / 100);
        let t = Instant::now();
        conn.execute_batch("BEGIN")?;
        raw_insert(&conn, &row)?;
        conn.execute_batch("COMMIT")?;
        latencies.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Figures {
        events: n,
        elapsed,
        latencies,
        note: String::new(),
    })
}

fn raw_batches(path: &Path, n: u64, batch: u64) -> anyhow::Result<Figures> {
    let conn = raw_open(path)?;
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let rows: Vec<RawRow> = (i..(i + batch).min(n))
            .map(|j| raw_row(j, format!("sheet-2026Q1~SH-{:02}", j % 64), j / 64))
            .collect();
        let t = Instant::now();
        conn.execute_batch("BEGIN")?;
        for row in &rows {
            raw_insert(&conn, row)?;
        }
        conn.execute_batch("COMMIT")?;
        latencies.push(t.elapsed());
        i += rows.len() as u64;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Figures {
        events: n,
        elapsed,
        latencies,
        note: format!("batches of {batch}; latency per batch"),
    })
}

fn raw_read(path: &Path) -> anyhow::Result<Figures> {
    let conn = Connection::open(path)?;
    let started = Instant::now();
    let mut stmt = conn.prepare(
        "SELECT position, event_id, stream, revision, event_type, schema_version, recorded_at, \
         actor_person, actor_role, reason, correlation_id, causation_id, payload, prev_hash, hash \
         FROM events ORDER BY position",
    )?;
    let mut rows = stmt.query([])?;
    let mut events = 0u64;
    while let Some(row) = rows.next()? {
        // Every column is looked at, as any reader of the rows must (borrowed, nothing copied), and
        // the payload deserialised: the least a hand-written reader of the same rows would do.
        for column in 0..15 {
            std::hint::black_box(row.get_ref(column)?);
        }
        let payload = row.get_ref(12)?.as_str()?;
        let event: ScoreRecorded = serde_json::from_str(payload)?;
        std::hint::black_box(&event);
        events += 1;
    }
    Ok(Figures {
        events,
        elapsed: started.elapsed(),
        ..Figures::default()
    })
}

fn raw_sha(path: &Path) -> anyhow::Result<Figures> {
    let conn = Connection::open(path)?;
    let started = Instant::now();
    let mut stmt = conn.prepare(
        "SELECT position, event_id, stream, revision, event_type, schema_version, recorded_at, \
         actor_person, actor_role, reason, correlation_id, causation_id, payload, prev_hash, hash \
         FROM events ORDER BY position",
    )?;
    let mut rows = stmt.query([])?;
    let mut events = 0u64;
    while let Some(row) = rows.next()? {
        let uuid =
            |i| -> anyhow::Result<Uuid> { Ok(Uuid::from_slice(row.get_ref(i)?.as_blob()?)?) };
        let event_id = uuid(1)?;
        let correlation_id = uuid(10)?;
        let causation_id = match row.get_ref(11)?.as_blob_or_null()? {
            Some(b) => Some(Uuid::from_slice(b)?),
            None => None,
        };
        let prev_hash = ledger_schemas::integrity::Digest::from_slice(row.get_ref(13)?.as_blob()?)
            .context("hash length")?;
        let digest = HashInput {
            prev_hash: &prev_hash,
            position: row.get_ref(0)?.as_i64()? as u64,
            event_id: &event_id,
            stream: row.get_ref(2)?.as_str()?,
            revision: row.get_ref(3)?.as_i64()? as u64,
            event_type: row.get_ref(4)?.as_str()?,
            schema_version: row.get_ref(5)?.as_i64()? as u32,
            recorded_at_micros: row.get_ref(6)?.as_i64()?,
            actor_person: row.get_ref(7)?.as_str()?,
            actor_role: row.get_ref(8)?.as_str()?,
            reason: row.get_ref(9)?.as_str_or_null()?,
            correlation_id: &correlation_id,
            causation_id: causation_id.as_ref(),
            payload: row.get_ref(12)?.as_str()?,
        }
        .hash();
        std::hint::black_box(&digest);
        events += 1;
    }
    Ok(Figures {
        events,
        elapsed: started.elapsed(),
        note: "no link check".into(),
        ..Figures::default()
    })
}

/// Runs a benchmark over a fresh SQLite ledger in a temporary directory (under `dir`, else the
/// system's): warns on a debug build, removes the directory afterwards whatever happened, prints the
/// Markdown `measure` returns and, with `out`, writes it there too.
pub(crate) fn on_temporary_ledger<F, Fut>(
    name: &str,
    dir: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
    measure: F,
) -> anyhow::Result<()>
where
    F: FnOnce(std::sync::Arc<SqliteStore>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    use anyhow::Context as _;
    if cfg!(debug_assertions) {
        eprintln!(
            "警告: 调试构建, 数字没有意义 (warning: a debug build; the figures mean little — use --release)"
        );
    }
    let base = dir
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!(
        "ledger-bench-{name}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: 无法创建 (cannot create)", dir.display()))?;
    let path = dir.join(format!("{name}-bench.db"));
    let rt = super::runtime()?;
    let result = rt.block_on(async {
        let store = std::sync::Arc::new(SqliteStore::open(&path)?);
        let result = measure(store.clone()).await;
        store.close().await;
        result
    });
    let _ = std::fs::remove_dir_all(&dir);
    let text = result?;
    print!("{text}");
    if let Some(out) = out {
        std::fs::write(out, &text)
            .with_context(|| format!("无法写入 (cannot write) {}", out.display()))?;
    }
    Ok(())
}
