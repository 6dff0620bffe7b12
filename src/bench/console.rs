//! `ledger bench console`: how fast the web console's pages answer on a ledger of a million events
//! (issue 8: first byte < 200 ms for the standings and change-log pages; issue 15 adds the sheet
//! and 待办).
//!
//! The ledger is `bench projections`' synthetic one (200 units, one quarterly period after another).
//! A real server (the API with the console) listens on loopback; one client asks each page in turn,
//! signed in as an auditor (the role that reads everything), and times the first byte: the console
//! renders a whole page before it answers, so that is the page's cost. Measured in the same run as a
//! baseline: the API reads those pages are built from, alone.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::PersonId;

use crate::app::{Clock, Ledger};
use crate::http::{Api, serve};
use crate::store::{EventStore, SqliteStore};

#[derive(Debug, Args)]
pub struct ConsoleBenchArgs {
    /// Events in the synthetic ledger (at least).
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Requests per page measured (after two to warm up).
    #[arg(long, default_value_t = 40)]
    pub requests: usize,
    /// Where the temporary ledger goes (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: ConsoleBenchArgs) -> anyhow::Result<()> {
    if args.requests == 0 {
        bail!("--requests 须大于 0 (--requests must be positive)");
    }
    let args = &args;
    super::on_temporary_ledger(
        "console",
        args.dir.as_deref(),
        args.out.as_deref(),
        |store| async move { measure(store, args).await },
    )
}

/// A row of the benchmark: its label, whether it is a console page (else an API read), and the
/// address of each request.
type Target<'a> = (&'a str, bool, Box<dyn FnMut() -> String + 'a>);

/// Time to first byte and to the whole body of `requests` GETs of one address.
struct Timing {
    first_byte: Vec<Duration>,
    whole: Vec<Duration>,
    bytes: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(store: Arc<SqliteStore>, args: &ConsoleBenchArgs) -> anyhow::Result<String> {
    let started = Instant::now();
    let built = super::projections::build(store.as_ref(), args.events).await?;
    let events = built.len() as u64;
    drop(built);
    eprintln!(
        "built {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let opened = Instant::now();
    let ledger = Arc::new(Ledger::open(store.clone(), Clock::System).await?);
    let token = crate::app::tokens::issue_token(
        &ledger,
        &PersonId::new("bench-auditor").expect("valid id"),
        Role::Auditor,
        &[],
    )
    .await?;
    let api = Api::new(ledger.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, api, async {
        let _ = stopped.await;
    }));
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |path: String, page: bool| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let mut request = hyper::Request::get(format!("http://{addr}{path}"));
            request = if page {
                request.header("cookie", format!("ledger_token={token}"))
            } else {
                request.header("authorization", format!("Bearer {token}"))
            };
            let started = Instant::now();
            let response = client.request(request.body(Empty::new())?).await?;
            let first = started.elapsed();
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                bail!("{path}: {status} {}", String::from_utf8_lossy(&body));
            }
            anyhow::Ok((first, started.elapsed(), body))
        }
    };
    // The read side folds the whole log on its first read: that is start-up, not a page.
    let periods: serde_json::Value =
        serde_json::from_slice(&get("/api/v1/periods".into(), false).await?.2)?;
    eprintln!(
        "server ready after {:.1} s (ledger folded, read models caught up)",
        opened.elapsed().as_secs_f64()
    );
    let latest = periods["periods"]
        .as_array()
        .and_then(|p| p.last())
        .and_then(|p| p["period"].as_str())
        .context("the synthetic ledger has periods")?
        .to_owned();

    // A unit of the latest period, for its sheet page.
    let standings: serde_json::Value = serde_json::from_slice(
        &get(format!("/api/v1/periods/{latest}/standings"), false)
            .await?
            .2,
    )?;
    let unit = standings["units"][0]["unit"]
        .as_str()
        .context("the latest period has units")?
        .to_owned();

    // Time travel within the latest period's life (before it opened there is nothing to show).
    let opened: serde_json::Value = serde_json::from_slice(
        &get(
            format!("/api/v1/changes?kind=PeriodOpened&period={latest}&limit=1"),
            false,
        )
        .await?
        .2,
    )?;
    let opened_at = opened["changes"][0]["position"]
        .as_u64()
        .context("the latest period's opening")?;
    let span = events.saturating_sub(opened_at).max(1);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random_position = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        opened_at + (x >> 11) % span
    };
    let targets: Vec<Target> = vec![
        (
            "page `/standings` (latest period, now)",
            true,
            Box::new(|| "/standings".to_owned()),
        ),
        (
            "page `/standings?period=…&at=…` (time travel to a random position in the period's life)",
            true,
            Box::new({
                let latest = latest.clone();
                move || format!("/standings?period={latest}&at={}", random_position())
            }),
        ),
        (
            "page `/periods/{latest}/units/{unit}` (a unit's sheet, now)",
            true,
            Box::new({
                let (latest, unit) = (latest.clone(), unit.clone());
                move || format!("/periods/{latest}/units/{unit}")
            }),
        ),
        (
            "baseline: API `GET /api/v1/periods/{latest}/units/{unit}`",
            false,
            Box::new({
                let (latest, unit) = (latest.clone(), unit.clone());
                move || format!("/api/v1/periods/{latest}/units/{unit}")
            }),
        ),
        (
            "page `/changes` (newest 50)",
            true,
            Box::new(|| "/changes".to_owned()),
        ),
        (
            "page `/changes?kind=ScoreCorrected` (filtered)",
            true,
            Box::new(|| "/changes?kind=ScoreCorrected".to_owned()),
        ),
        (
            "page `/todo` (待办 of an auditor: every unit's due work)",
            true,
            Box::new(|| "/todo".to_owned()),
        ),
        (
            "baseline: API `GET /api/v1/todo`",
            false,
            Box::new(|| "/api/v1/todo".to_owned()),
        ),
        (
            "baseline: API `GET /api/v1/periods/{latest}/standings`",
            false,
            Box::new({
                let latest = latest.clone();
                move || format!("/api/v1/periods/{latest}/standings")
            }),
        ),
        (
            "baseline: API `GET /api/v1/changes?limit=50`",
            false,
            Box::new(|| "/api/v1/changes?limit=50".to_owned()),
        ),
    ];
    let mut rows = Vec::new();
    for (label, page, mut path) in targets {
        for _ in 0..2 {
            get(path(), page).await?;
        }
        let mut timing = Timing {
            first_byte: Vec::new(),
            whole: Vec::new(),
            bytes: 0,
        };
        for _ in 0..args.requests {
            let (first, whole, body) = get(path(), page).await?;
            timing.first_byte.push(first);
            timing.whole.push(whole);
            timing.bytes = body.len();
        }
        timing.first_byte.sort();
        timing.whole.sort();
        eprintln!(
            "{label}: first byte p50 {} p99 {}",
            ms(percentile(&timing.first_byte, 0.5)),
            ms(percentile(&timing.first_byte, 0.99))
        );
        rows.push((label, page, timing));
    }
    let _ = stop.send(());
    server.await??;
    let head = store.head().await?;

    let mut text = String::new();
    writeln!(text, "### Results\n")?;
    writeln!(
        text,
        "Ledger: {head} events (`bench projections`' synthetic ledger, 200 units; latest period {latest}); one client on loopback, {} requests per row after 2 to warm up.\n",
        args.requests
    )?;
    writeln!(
        text,
        "| request | first byte p50 | first byte p99 | whole body p99 | body | target |"
    )?;
    writeln!(text, "|---|---|---|---|---|---|")?;
    for (label, page, t) in &rows {
        let p99 = percentile(&t.first_byte, 0.99);
        let verdict = match (page, p99 < Duration::from_millis(200)) {
            (false, _) => "baseline",
            (true, true) => "< 200 ms: met",
            (true, false) => "< 200 ms: **missed**",
        };
        writeln!(
            text,
            "| {label} | {} | {} | {} | {:.0} KiB | {verdict} |",
            ms(percentile(&t.first_byte, 0.5)),
            ms(p99),
            ms(percentile(&t.whole, 0.99)),
            t.bytes as f64 / 1024.0,
        )?;
    }
    Ok(text)
}
