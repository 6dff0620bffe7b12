//! `ledger bench kurrent`: the KurrentDB adapter's append and catch-up read rates, each beside the
//! embedded SQLite store doing the same work through the same port in the same run, as a ratio.
//!
//! By default the adapter talks gRPC over loopback to the in-process test server
//! (`esdb-testserver`, in memory), so the figures measure the adapter's own cost (encoding, gRPC,
//! the notary's sealing, the seal wait), not EventStoreDB's disk; the embedded store pays for a
//! durable commit (`synchronous = FULL`) instead. `--url` points it at a real server.
//!
//! A third column is the plain `kurrentdb` client doing the same appends and reads against the same
//! server (JSON events, payload parsed on read, no envelope, no chain): the ratio adapter / client
//! is the adapter's own overhead, sealing included.
//!
//! | measurement | the port (adapter, embedded store) | the plain client |
//! |---|---|---|
//! | one-at-a-time append | `append` of one event with an exact expected revision, awaited, then the next | `append_to_stream`, same expectation |
//! | concurrent append | `--tasks` tasks, each appending one event at a time to streams of its own | the same |
//! | catch-up subscription | `subscribe_all(0)` until every event has arrived, each `Envelope::decode`d | `subscribe_to_all` from the start, data parsed as JSON |
//! | paged read of the log | `read_all` forwards in pages of 1,024, each event decoded | `read_all` in pages of 1,024, data parsed |
//! | chain verification | `verify` (KurrentDB: `$all` walked against the seal records) | — |

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use ledger_schemas::ids::PersonId;
use ledger_schemas::{Actor, Role};
use uuid::Uuid;

use super::score_event;
use crate::store::kurrent::{KurrentOptions, KurrentStore};
use crate::store::{
    Direction, EventStore, ExpectedRevision, Progress, ReadFrom, SqliteStore, StoreError,
};

#[derive(Debug, Args)]
pub struct KurrentBenchArgs {
    /// Events appended concurrently, then read and verified (the size of the log).
    #[arg(long, default_value_t = 20_000)]
    pub events: u64,
    /// Events appended one at a time.
    #[arg(long, default_value_t = 2_000)]
    pub single: u64,
    /// Concurrent appending tasks.
    #[arg(long, default_value_t = 32)]
    pub tasks: u64,
    /// A KurrentDB/EventStoreDB connection string to measure instead of the in-process test server
    /// (use an empty database: `verify` and the reads cover all of it).
    #[arg(long)]
    pub url: Option<String>,
    /// Where the embedded store's temporary ledgers go (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Rate and latencies of one side.
#[derive(Debug, Clone, Default)]
struct Side {
    events: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Side {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn describe(&self) -> String {
        let mut s = format!("{:.0} ev/s", self.rate());
        if !self.latencies.is_empty() {
            let mut l = self.latencies.clone();
            l.sort();
            let at = |p: f64| l[((l.len() as f64 - 1.0) * p).round() as usize];
            s.push_str(&format!(
                ", p50 {:.2} ms, p99 {:.2} ms",
                at(0.5).as_secs_f64() * 1e3,
                at(0.99).as_secs_f64() * 1e3
            ));
        }
        s
    }
}

struct Row {
    name: &'static str,
    kurrent: Side,
    client: Option<Side>,
    embedded: Side,
}

/// Runs the benchmark and prints a Markdown table (and writes it to `--out`).
pub fn run(args: KurrentBenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "警告 warning: 这是调试构建, 结果无代表性 (a debug build: the figures mean little); use `cargo run --release -- bench kurrent`"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!(
        "ledger-bench-kurrent-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: 无法创建 (cannot create)", dir.display()))?;
    let result = rt.block_on(measure(&args, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;

    let mut table = String::from(
        "| measurement | KurrentDB adapter | plain kurrentdb client | embedded SQLite store | adapter / client | adapter / embedded |\n|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        let (client, vs_client) = match &r.client {
            Some(c) => (
                c.describe(),
                format!("{:.2}×", r.kurrent.rate() / c.rate().max(1e-9)),
            ),
            None => ("—".to_owned(), "—".to_owned()),
        };
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.2}× |\n",
            r.name,
            r.kurrent.describe(),
            client,
            r.embedded.describe(),
            vs_client,
            r.kurrent.rate() / r.embedded.rate().max(1e-9)
        ));
    }
    let header = format!(
        "`ledger bench kurrent --events {} --single {} --tasks {}` — {} — adapter against {} — {}\n\n",
        args.events,
        args.single,
        args.tasks,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if args.url.is_some() {
            "the server at --url"
        } else {
            "the in-process esdb-testserver (loopback gRPC, in memory)"
        },
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

async fn measure(args: &KurrentBenchArgs, dir: &std::path::Path) -> anyhow::Result<Vec<Row>> {
    // The test server lives as long as the measurement.
    let (url, _server) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let server = esdb_testserver::start("127.0.0.1:0".parse()?).await?;
            (server.connection_string(), Some(server))
        }
    };
    let kurrent = KurrentStore::connect_with(&url, KurrentOptions::default())
        .await
        .context("connect to KurrentDB")?;
    let single_db = SqliteStore::open(dir.join("single.db"))?;
    let log_db = SqliteStore::open(dir.join("log.db"))?;
    let client = kurrentdb::Client::new(url.parse().context("parse the connection string")?)
        .map_err(|e| anyhow::anyhow!("create the client: {e}"))?;
    let mut rows = Vec::new();

    eprintln!(
        "1/5 逐条追加 one-at-a-time append ({} events)…",
        args.single
    );
    rows.push(Row {
        name: "one-at-a-time append",
        kurrent: single(&kurrent, args.single).await?,
        client: Some(raw_appends(&client, args.single, 1).await?),
        embedded: single(&single_db, args.single).await?,
    });
    eprintln!(
        "2/5 并发追加 concurrent append ({} events, {} tasks)…",
        args.events, args.tasks
    );
    rows.push(Row {
        name: "concurrent append",
        kurrent: concurrent(&kurrent, args.events, args.tasks).await?,
        client: Some(raw_appends(&client, args.events, args.tasks).await?),
        embedded: concurrent(&log_db, args.events, args.tasks).await?,
    });
    // The plain client's reads also cover its own events and the seal records, so they read more
    // records than the adapter: compared per record, as rates.
    eprintln!("3/5 追赶订阅 catch-up subscription…");
    rows.push(Row {
        name: "catch-up subscription from 0, decoded",
        kurrent: catch_up(&kurrent).await?,
        client: Some(raw_catch_up(&client).await?),
        embedded: catch_up(&log_db).await?,
    });
    eprintln!("4/5 分页读取 paged read of the log…");
    rows.push(Row {
        name: "paged read_all, decoded",
        kurrent: paged(&kurrent).await?,
        client: Some(raw_paged(&client).await?),
        embedded: paged(&log_db).await?,
    });
    eprintln!("5/5 校验 chain verification…");
    rows.push(Row {
        name: "chain verification",
        kurrent: verify(&kurrent).await?,
        client: None,
        embedded: verify(&log_db).await?,
    });
    Ok(rows)
}

fn actor() -> Actor {
    Actor::new(
        PersonId::new("P-0042").expect("valid person id"),
        Role::Assessor,
    )
}

async fn single<S: EventStore>(store: &S, count: u64) -> Result<Side, StoreError> {
    let stream = format!("sheet-bench~{}", Uuid::now_v7().simple());
    let mut expected = ExpectedRevision::NoStream;
    let mut latencies = Vec::with_capacity(count as usize);
    let started = Instant::now();
    for n in 0..count {
        let event = score_event(n, n % 8, actor(), Uuid::now_v7());
        let t = Instant::now();
        let outcome = store.append(&stream, expected, vec![event]).await?;
        latencies.push(t.elapsed());
        expected = ExpectedRevision::Exact(outcome.next_expected);
    }
    Ok(Side {
        events: count,
        elapsed: started.elapsed(),
        latencies,
    })
}

async fn concurrent<S: EventStore>(store: &S, count: u64, tasks: u64) -> Result<Side, StoreError> {
    let tasks = tasks.max(1);
    let per_task = count / tasks;
    let started = Instant::now();
    let work = (0..tasks).map(|task| async move {
        let stream = format!("sheet-bench~T{task}-{}", Uuid::now_v7().simple());
        let mut expected = ExpectedRevision::NoStream;
        let mut latencies = Vec::with_capacity(per_task as usize);
        for i in 0..per_task {
            let event = score_event(task * per_task + i, task % 8, actor(), Uuid::now_v7());
            let t = Instant::now();
            let outcome = store.append(&stream, expected, vec![event]).await?;
            latencies.push(t.elapsed());
            expected = ExpectedRevision::Exact(outcome.next_expected);
        }
        Ok::<_, StoreError>(latencies)
    });
    let mut latencies = Vec::new();
    for result in futures_util::future::join_all(work).await {
        latencies.extend(result?);
    }
    Ok(Side {
        events: per_task * tasks,
        elapsed: started.elapsed(),
        latencies,
    })
}

fn decode(event: &ledger_schemas::Envelope) -> Result<(), StoreError> {
    event
        .decode()
        .map(|_| ())
        .map_err(|e| StoreError::InvalidAppend(format!("bench: stored event does not decode: {e}")))
}

async fn catch_up<S: EventStore>(store: &S) -> Result<Side, StoreError> {
    let head = store.head().await?;
    let started = Instant::now();
    let mut sub = store.subscribe_all(0);
    let mut seen = 0;
    while seen < head {
        match sub.next().await {
            Some(event) => decode(&event?)?,
            None => break,
        }
        seen += 1;
    }
    Ok(Side {
        events: seen,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    })
}

async fn paged<S: EventStore>(store: &S) -> Result<Side, StoreError> {
    let started = Instant::now();
    let mut from = 1;
    let mut events = 0;
    loop {
        let page = store
            .read_all(Direction::Forwards, ReadFrom::At(from), 1024)
            .await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in &page {
            decode(event)?;
        }
        events += page.len() as u64;
    }
    Ok(Side {
        events,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    })
}

async fn verify<S: EventStore>(store: &S) -> Result<Side, StoreError> {
    let started = Instant::now();
    let report = store.verify(Progress::new()).await?;
    if let Some(broken) = report.broken {
        return Err(StoreError::InvalidAppend(format!(
            "bench: the chain does not verify: {broken}"
        )));
    }
    Ok(Side {
        events: report.verified,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    })
}

/// `count` appends of one JSON event each by the plain client, from `tasks` tasks, each task to a
/// stream of its own with exact expected revisions.
async fn raw_appends(client: &kurrentdb::Client, count: u64, tasks: u64) -> anyhow::Result<Side> {
    let tasks = tasks.max(1);
    let per_task = count / tasks;
    let started = Instant::now();
    let work = (0..tasks).map(|task| async move {
        let stream = format!("raw-bench~T{task}-{}", Uuid::now_v7().simple());
        let mut state = kurrentdb::StreamState::NoStream;
        let mut latencies = Vec::with_capacity(per_task as usize);
        for i in 0..per_task {
            let event = score_event(task * per_task + i, task % 8, actor(), Uuid::now_v7());
            let data =
                kurrentdb::EventData::json(&event.event_type, &event.payload)?.id(event.event_id);
            let options = kurrentdb::AppendToStreamOptions::default().stream_state(state);
            let t = Instant::now();
            let written = client
                .append_to_stream(stream.as_str(), &options, data)
                .await
                .map_err(|e| anyhow::anyhow!("plain client append: {e}"))?;
            latencies.push(t.elapsed());
            state = kurrentdb::StreamState::StreamRevision(written.next_expected_version);
        }
        Ok::<_, anyhow::Error>(latencies)
    });
    let mut latencies = Vec::new();
    for result in futures_util::future::join_all(work).await {
        latencies.extend(result?);
    }
    Ok(Side {
        events: per_task * tasks,
        elapsed: started.elapsed(),
        latencies,
    })
}

/// Parses a recorded event's data, as the adapter's readers decode payloads.
fn parse(event: &kurrentdb::RecordedEvent) -> anyhow::Result<()> {
    serde_json::from_slice::<serde_json::Value>(&event.data)?;
    Ok(())
}

async fn raw_paged(client: &kurrentdb::Client) -> anyhow::Result<Side> {
    let started = Instant::now();
    let mut events = 0;
    let mut from = kurrentdb::StreamPosition::Start;
    loop {
        let options = kurrentdb::ReadAllOptions::default()
            .forwards()
            .position(from)
            .max_count(1024);
        let mut read = client
            .read_all(&options)
            .await
            .map_err(|e| anyhow::anyhow!("plain client read: {e}"))?;
        let mut last = None;
        let mut fresh = 0;
        while let Some(event) = read
            .next()
            .await
            .map_err(|e| anyhow::anyhow!("plain client read: {e}"))?
        {
            let Some(event) = event.event else { continue };
            if matches!(from, kurrentdb::StreamPosition::Position(p) if p == event.position) {
                continue;
            }
            fresh += 1;
            if !event.stream_id().starts_with('$') {
                parse(&event)?;
            }
            last = Some(event.position);
        }
        events += fresh;
        match last {
            Some(p) if fresh > 0 => from = kurrentdb::StreamPosition::Position(p),
            _ => break,
        }
    }
    Ok(Side {
        events,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    })
}

async fn raw_catch_up(client: &kurrentdb::Client) -> anyhow::Result<Side> {
    // How far to go: the last record now.
    let options = kurrentdb::ReadAllOptions::default()
        .backwards()
        .position(kurrentdb::StreamPosition::End)
        .max_count(1);
    let mut read = client
        .read_all(&options)
        .await
        .map_err(|e| anyhow::anyhow!("plain client read: {e}"))?;
    let Some(end) = read
        .next()
        .await
        .map_err(|e| anyhow::anyhow!("plain client read: {e}"))?
        .and_then(|e| e.event)
        .map(|e| e.position)
    else {
        return Ok(Side::default());
    };
    let started = Instant::now();
    let mut sub = client
        .subscribe_to_all(
            &kurrentdb::SubscribeToAllOptions::default().position(kurrentdb::StreamPosition::Start),
        )
        .await;
    let mut events = 0;
    loop {
        let event = sub
            .next()
            .await
            .map_err(|e| anyhow::anyhow!("plain client subscription: {e}"))?;
        let Some(event) = event.event else { continue };
        events += 1;
        if !event.stream_id().starts_with('$') {
            parse(&event)?;
        }
        if event.position == end {
            break;
        }
    }
    Ok(Side {
        events,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    })
}
