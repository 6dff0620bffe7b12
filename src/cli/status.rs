//! `ledger init`, `ledger status` and `ledger verify`: create a ledger, show its state, walk its
//! hash chain.
//!
//! Output is for people (zh-CN first, then English) unless `--json` is given. `verify` draws a
//! progress bar on stderr, which indicatif hides when stderr is not a terminal, and exits non-zero
//! when the chain is broken.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::store::sqlite::LedgerState;
use crate::store::{ChainReport, Progress, SqliteStore};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("无法启动异步运行时 (cannot start the async runtime)")
}

/// `ledger init`: creates the ledger if it is absent (or migrates an older one) and prints its state.
pub fn init(path: &Path, json: bool) -> anyhow::Result<()> {
    let existed = path.exists();
    let rt = runtime()?;
    let state = rt.block_on(async {
        let store = SqliteStore::open(path)?;
        let state = store.state().await;
        store.close().await;
        state
    })?;
    if !json {
        if existed {
            println!("账本已存在 (the ledger already exists)");
        } else {
            println!("已创建账本 (created a new ledger)");
        }
    }
    print_state(&state, json)
}

/// `ledger status`: prints the state of an existing ledger; never creates one.
pub fn status(path: &Path, json: bool) -> anyhow::Result<()> {
    let rt = runtime()?;
    let state = rt.block_on(async {
        let store = SqliteStore::open_existing(path)?;
        let state = store.state().await;
        store.close().await;
        state
    })?;
    print_state(&state, json)
}

fn print_state(state: &LedgerState, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, state)?;
        writeln!(out)?;
        return Ok(());
    }
    let none = "(无 none)".to_owned();
    writeln!(out, "账本文件 file:            {}", state.file.display())?;
    writeln!(out, "格式版本 format version:  {}", state.format_version)?;
    writeln!(out, "事件数 events:            {}", state.events)?;
    writeln!(out, "头位置 head position:     {}", state.head_position)?;
    writeln!(
        out,
        "头哈希 head hash:         {}",
        state.head_hash.as_ref().unwrap_or(&none)
    )?;
    writeln!(
        out,
        "最后记录 last recorded:   {}",
        state
            .head_recorded_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or(none)
    )?;
    Ok(())
}

/// What `ledger verify --json` prints.
#[derive(Debug, Serialize)]
struct VerifyOutput {
    file: String,
    intact: bool,
    verified: u64,
    head_hash: String,
    seconds: f64,
    events_per_second: f64,
    /// The first event that does not fit, in words.
    broken: Option<String>,
    broken_position: Option<u64>,
    broken_event_id: Option<String>,
}

/// `ledger verify`: walks the whole chain; exits non-zero on the first break.
pub fn verify(path: &Path, json: bool) -> anyhow::Result<()> {
    let rt = runtime()?;
    let (report, total, seconds) = rt.block_on(async {
        let store = SqliteStore::open_existing(path)?;
        let total = store.state().await?.head_position;
        let progress = Progress::new();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "校验 verifying {bar:40} {pos}/{len} ({per_sec}, 剩余 eta {eta})",
            )
            .expect("valid template"),
        );
        let ticker = {
            let (bar, progress) = (bar.clone(), progress.clone());
            tokio::spawn(async move {
                loop {
                    bar.set_position(progress.get());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let started = Instant::now();
        let report = store.verify_chain(progress.clone()).await;
        let seconds = started.elapsed().as_secs_f64();
        ticker.abort();
        bar.set_position(progress.get());
        bar.finish_and_clear();
        store.close().await;
        Ok::<_, anyhow::Error>((report?, total, seconds))
    })?;
    report_verify(path, &report, total, seconds, json)
}

fn report_verify(
    path: &Path,
    report: &ChainReport,
    total: u64,
    seconds: f64,
    json: bool,
) -> anyhow::Result<()> {
    let rate = report.verified as f64 / seconds.max(1e-9);
    if json {
        let out = VerifyOutput {
            file: path.display().to_string(),
            intact: report.is_intact(),
            verified: report.verified,
            head_hash: report.head.to_hex(),
            seconds,
            events_per_second: rate,
            broken: report.broken.as_ref().map(|b| b.to_string()),
            broken_position: report.broken.as_ref().map(break_position),
            broken_event_id: report.broken.as_ref().map(|b| break_id(b).to_string()),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    match &report.broken {
        None => {
            if !json {
                println!(
                    "哈希链完整 chain OK: {} 个事件已校验 ({} events verified) 用时 {seconds:.2} s, {rate:.0} 事件/秒 (events/s); 头哈希 head hash {}",
                    report.verified, report.verified, report.head
                );
                if total != report.verified {
                    println!(
                        "注意 note: 校验期间账本增长到 {total} (the ledger grew to {total} while being verified)"
                    );
                }
            }
            Ok(())
        }
        Some(broken) => {
            if !json {
                println!(
                    "哈希链断裂 chain BROKEN: 前 {} 个事件完好 (the first {} events are intact); 第一个问题 first break: {broken}",
                    report.verified, report.verified
                );
            }
            anyhow::bail!(
                "{}: 哈希链在第 {} 号事件 {} 处断裂 (the hash chain breaks at position {}, event {})",
                path.display(),
                break_position(broken),
                break_id(broken),
                break_position(broken),
                break_id(broken)
            )
        }
    }
}

fn break_position(broken: &ledger_schemas::integrity::ChainBreak) -> u64 {
    use ledger_schemas::integrity::ChainBreak::*;
    match broken {
        HashMismatch { position, .. }
        | Unlinked { position, .. }
        | PositionGap { position, .. }
        | BackDated { position, .. } => *position,
    }
}

fn break_id(broken: &ledger_schemas::integrity::ChainBreak) -> uuid::Uuid {
    use ledger_schemas::integrity::ChainBreak::*;
    match broken {
        HashMismatch { event_id, .. }
        | Unlinked { event_id, .. }
        | PositionGap { event_id, .. }
        | BackDated { event_id, .. } => *event_id,
    }
}
