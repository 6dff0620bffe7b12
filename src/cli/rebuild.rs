//! `ledger rebuild`: rebuilds every read model from the log alone, with a progress bar, and reports
//! the rate and the memory the models hold.
//!
//! The store reads pages ahead on its own thread (`EventStore::read_pages`), this thread decodes
//! them, and another folds them (a bounded channel between them), so the stages overlap rather than
//! take turns; the folder hands each folded page back to this thread, which frees it. The report
//! says where the time went: each stage's busy time (`read_seconds` is the time spent waiting for a
//! page; `decode_seconds` includes freeing the folded pages). At a million events folding and
//! decoding take about the same time (`BENCHMARKS.md`, "Projections").
//!
//! Then it keeps snapshots beside the log ([`write_snapshots`]): the state at each of the model's
//! [`KEPT_STATE_SNAPSHOTS`] most recent checkpoints (every `app::reads::CHECKPOINT_EVERY` positions,
//! the live interval) and the whole model at the head, each sealed with the ledger's key, replacing
//! those of the current projection code version and pruning those of other versions, so that the
//! next read side starts from the head instead of folding the log again.

use std::io::Write as _;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ledger_projections::read::{PROJECTION_CODE_VERSION, ReadModel, Snapshot};
use ledger_schemas::integrity::Digest;
use ledger_schemas::seal::SnapshotSeal;
use ledger_schemas::{Envelope, Event};
use serde::Serialize;

use super::LedgerArg;
use crate::store::{
    Direction, EventStore, ReadFrom, SnapshotSelection, SqliteStore, StoredSnapshot,
};

/// Events read and decoded per batch.
const BATCH: usize = 4096;

/// What a rebuild reports.
#[derive(Debug, Serialize)]
pub struct RebuildReport {
    pub events: u64,
    pub seconds: f64,
    pub events_per_second: f64,
    pub change_log_bytes: usize,
    pub checkpoints: usize,
    pub periods: usize,
    pub sheets: usize,
    /// Where the time went, each thread's busy time: reading pages from the store, decoding the
    /// payloads, folding (the wall time is about the largest of these when the pipeline flows).
    pub read_seconds: f64,
    pub decode_seconds: f64,
    pub fold_seconds: f64,
    /// The snapshots kept beside the log (absent from [`rebuild_model`]'s report, which keeps none).
    pub snapshots: Option<SnapshotReport>,
}

/// What [`write_snapshots`] kept and pruned.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotReport {
    /// The projection code version they were folded by.
    pub code_version: u32,
    /// How many were written: one per checkpoint, and the whole model at the head.
    pub written: usize,
    /// Their positions, in order (the last one, the head, holds the whole model).
    pub positions: Vec<u64>,
    /// Bytes written, together.
    pub bytes: usize,
    /// Snapshots of other code versions deleted (they would never be used).
    pub pruned_other_versions: u64,
    pub seconds: f64,
    /// Why none was kept, when none was: the ledger has no key to seal them with.
    pub not_kept: Option<String>,
}

pub fn run(ledger: LedgerArg, json: bool) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let report = rt.block_on(async {
        let store = SqliteStore::open_existing(&ledger.path)?;
        let result = rebuild(&store).await;
        store.close().await;
        result
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "已重建读模型 rebuilt the read models: {} 个事件 events, {:.2} s, {:.0} 事件/秒 (events/s); {} 个周期 periods, {} 张考核表 sheets; 变更日志 change log {:.1} MiB, {} 个检查点 checkpoints; 耗时 busy: 读取 read {:.2} s, 解码 decode {:.2} s, 折叠 fold {:.2} s",
            report.events,
            report.seconds,
            report.events_per_second,
            report.periods,
            report.sheets,
            report.change_log_bytes as f64 / (1024.0 * 1024.0),
            report.checkpoints,
            report.read_seconds,
            report.decode_seconds,
            report.fold_seconds,
        )?;
        if let Some(why) = report.snapshots.as_ref().and_then(|s| s.not_kept.as_ref()) {
            writeln!(out, "未保存读模型快照 kept no read-model snapshots: {why}")?;
        } else if let Some(snapshots) = &report.snapshots {
            writeln!(
                out,
                "已保存读模型快照 kept read-model snapshots: {} 个 snapshots (投影代码第 {} 版 projection code version {}), 共 {:.1} MiB, {:.2} s; 已删除其他版本的快照 pruned snapshots of other code versions: {}",
                snapshots.written,
                snapshots.code_version,
                snapshots.code_version,
                snapshots.bytes as f64 / (1024.0 * 1024.0),
                snapshots.seconds,
                snapshots.pruned_other_versions,
            )?;
        }
    }
    Ok(())
}

/// How many state snapshots `ledger rebuild` keeps below the head: those of the most recent
/// checkpoints. Each is the whole state, so keeping every checkpoint's would grow the table with the
/// square of the ledger (a 206k-event ledger kept 788 MiB beside its 76 MiB). With a bound, the
/// table stays a small multiple of the state; an as-of query further back folds from the first
/// event until the server's background refold (`ReadSide::backfill`) has rebuilt the in-memory
/// checkpoints, which it does once, right after start.
pub const KEPT_STATE_SNAPSHOTS: usize = 2;

/// Keeps `model`'s snapshots beside the log of `store` ([`write_snapshots_keeping`] the most recent
/// [`KEPT_STATE_SNAPSHOTS`] states).
pub async fn write_snapshots<S: EventStore>(
    store: &S,
    model: &ReadModel,
) -> anyhow::Result<SnapshotReport> {
    write_snapshots_keeping(store, model, KEPT_STATE_SNAPSHOTS).await
}

/// [`keep_snapshots`] for a borrowed model: encoding runs on blocking threads, which need the model
/// owned, so it is copied first (the state is shared; the change log's arrays, about 50 bytes an
/// event, are copied).
pub async fn write_snapshots_keeping<S: EventStore>(
    store: &S,
    model: &ReadModel,
    keep: usize,
) -> anyhow::Result<SnapshotReport> {
    keep_snapshots(store, Arc::new(model.clone()), keep).await
}

/// Keeps `model`'s snapshots beside the log of `store`, which it was folded from: the state at each
/// of its `keep` most recent checkpoints, and the whole model (state and change log) at its position,
/// each sealed with the ledger's key ([`EventStore::seal_key`], `ledger_schemas::seal`). Snapshots of
/// other projection code versions are deleted first; the current version's are replaced (the whole
/// model first, so that a read side starting meanwhile finds it as the latest), and any of them
/// this rebuild did not write is deleted last. Nothing is written for an empty log, by a backend
/// that keeps no snapshots, or for a ledger without a key (whose snapshots are all deleted: nothing
/// could show they were not edited, so none would be used).
pub async fn keep_snapshots<S: EventStore>(
    store: &S,
    model: Arc<ReadModel>,
    keep: usize,
) -> anyhow::Result<SnapshotReport> {
    let started = Instant::now();
    let key = store.seal_key()?;
    let pruned_other_versions = store
        .delete_snapshots(SnapshotSelection::OtherVersions(PROJECTION_CODE_VERSION))
        .await?;
    let mut report = SnapshotReport {
        code_version: PROJECTION_CODE_VERSION,
        written: 0,
        positions: Vec::new(),
        bytes: 0,
        pruned_other_versions,
        seconds: 0.0,
        not_kept: None,
    };
    let Some(key) = key.map(Arc::new) else {
        store
            .delete_snapshots(SnapshotSelection::VersionExcept(
                PROJECTION_CODE_VERSION,
                Vec::new(),
            ))
            .await?;
        report.not_kept = Some(NO_KEY.to_owned());
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    };
    let head = model.position();
    let whole = (head > 0).then_some((head, None));
    let below: Vec<_> = model
        .checkpoints()
        .iter()
        .filter(|c| c.position < head)
        .collect();
    let states = below[below.len().saturating_sub(keep)..]
        .iter()
        .rev()
        .map(|c| (c.position, Some(*c)));
    for (position, checkpoint) in whole.into_iter().chain(states) {
        let event_hash = hash_at(store, position).await?;
        // Encoded one at a time: a snapshot holds the whole state, large on a large ledger. Seconds
        // of CPU at a million events, so on a blocking thread: a server keeping snapshots while it
        // serves (`ledger serve`) does not stall one of its two workers.
        // The seal's SHA-256 of the bytes is taken on the same thread, right after encoding.
        let (bytes, content) = match checkpoint {
            None => {
                let model = model.clone();
                tokio::task::spawn_blocking(move || sealed_bytes(model.encode_stored())).await?
            }
            Some(checkpoint) => {
                let checkpoint = checkpoint.clone();
                tokio::task::spawn_blocking(move || {
                    sealed_bytes(Snapshot::of(&checkpoint).encode())
                })
                .await?
            }
        };
        let size = bytes.len();
        let mut snapshot = StoredSnapshot {
            code_version: PROJECTION_CODE_VERSION,
            position,
            event_hash,
            seal: Vec::new(),
            bytes,
        };
        snapshot.seal = SnapshotSeal::sign(&key, &snapshot.subject(content))
            .to_bytes()
            .to_vec();
        let kept = store.save_snapshot(snapshot).await?;
        if kept {
            report.written += 1;
            report.positions.push(position);
            report.bytes += size;
        }
    }
    report.positions.sort_unstable();
    store
        .delete_snapshots(SnapshotSelection::VersionExcept(
            PROJECTION_CODE_VERSION,
            report.positions.clone(),
        ))
        .await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Why a ledger without a key keeps no snapshots.
const NO_KEY: &str = "账本没有签名密钥 (FILE.key), 无法封印快照, 故不保存; 用 `ledger init` 为现有账本创建密钥 (the ledger has no signing key, FILE.key, to seal snapshots with, so none is kept; `ledger init` creates one for an existing ledger)";

/// Encoded bytes with the SHA-256 their seal covers.
fn sealed_bytes(bytes: Vec<u8>) -> (Vec<u8>, ledger_schemas::integrity::Digest) {
    let content = ledger_schemas::seal::content_digest(&bytes);
    (bytes, content)
}

/// The stored hash of the event at `position`.
async fn hash_at<S: EventStore>(store: &S, position: u64) -> anyhow::Result<Digest> {
    let found = store
        .read_all(Direction::Forwards, ReadFrom::At(position), 1)
        .await?;
    match found.first() {
        Some(e) if e.position == position => Ok(e.hash),
        _ => anyhow::bail!(
            "日志中没有第 {position} 号事件 (the log has no event at position {position})"
        ),
    }
}

/// Folds the whole log of `store` into fresh read models and keeps their snapshots beside the log
/// ([`write_snapshots`]).
pub async fn rebuild<S: EventStore>(store: &S) -> anyhow::Result<RebuildReport> {
    let (model, mut report) = rebuild_model(store, ProgressDrawTarget::stderr()).await?;
    report.snapshots = Some(keep_snapshots(store, Arc::new(model), KEPT_STATE_SNAPSHOTS).await?);
    Ok(report)
}

/// Folds the whole log of `store` into fresh read models and hands them back with the report, so
/// that a caller (the projections benchmark) can go on to query them; `draw` is where the progress
/// bar goes (`ProgressDrawTarget::hidden()` for none).
pub async fn rebuild_model<S: EventStore>(
    store: &S,
    draw: ProgressDrawTarget,
) -> anyhow::Result<(ReadModel, RebuildReport)> {
    rebuild_model_every(store, draw, crate::app::reads::CHECKPOINT_EVERY).await
}

/// As [`rebuild_model`], with a checkpoint every `every` positions (the snapshots
/// [`write_snapshots`] keeps are that far apart).
pub async fn rebuild_model_every<S: EventStore>(
    store: &S,
    draw: ProgressDrawTarget,
    every: u64,
) -> anyhow::Result<(ReadModel, RebuildReport)> {
    let head = store.head().await?;
    let bar = ProgressBar::with_draw_target(Some(head), draw);
    bar.set_style(
        ProgressStyle::with_template(
            "重建 rebuild {bar:40} {pos}/{len} 事件 events ({per_sec}, {eta})",
        )
        .expect("valid template"),
    );
    let started = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<(Vec<Envelope>, Vec<Event>)>(4);
    let folder_bar = bar.clone();
    // The folder hands the pages it has folded back to this thread, which frees them and decodes
    // the next page into the emptied buffer: the payloads' memory goes back to the thread that
    // allocated it and is reused while still in the cache, with no thread of its own to free it
    // (a rebuild at a million events: 841,000–854,000 events/s with a freeing thread, 880,000–888,000
    // this way, `BENCHMARKS.md`).
    let (spent_tx, spent_rx) = mpsc::channel::<(Vec<Envelope>, Vec<Event>)>();
    let folder = std::thread::Builder::new()
        .name("ledger-fold".into())
        .spawn(move || -> anyhow::Result<(ReadModel, Duration)> {
            let mut model = ReadModel::with_checkpoints_every(every);
            let mut busy = Duration::ZERO;
            for (envelopes, events) in rx {
                let began = Instant::now();
                for (envelope, event) in envelopes.iter().zip(&events) {
                    model.apply(envelope, event).with_context(|| {
                        format!(
                            "第 {} 号事件无法折叠 (cannot fold the event at position {})",
                            envelope.position, envelope.position
                        )
                    })?;
                }
                busy += began.elapsed();
                folder_bar.inc(envelopes.len() as u64);
                let _ = spent_tx.send((envelopes, events));
            }
            Ok((model, busy))
        })?;
    let (mut reading, mut decoding) = (Duration::ZERO, Duration::ZERO);
    // The store reads the next pages ahead while this thread decodes (the SQLite store does, on a
    // thread of its own), so `reading` is only the time spent waiting for a page.
    let mut pages = store.read_pages(0, BATCH);
    let mut spare: Vec<Event> = Vec::new();
    loop {
        let began = Instant::now();
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page?;
        let read = Instant::now();
        reading += read - began;
        // Free what the folder is done with; keep one emptied buffer to decode into.
        while let Ok((envelopes, mut events)) = spent_rx.try_recv() {
            drop(envelopes);
            events.clear();
            spare = events;
        }
        let mut events = std::mem::take(&mut spare);
        events.reserve(page.len());
        for envelope in &page {
            events.push(envelope.decode()?);
        }
        decoding += read.elapsed();
        if tx.send((page, events)).is_err() {
            break; // the folder stopped on an error, which join() reports
        }
    }
    drop(tx);
    let (model, folding) = folder
        .join()
        .map_err(|_| anyhow::anyhow!("重建线程崩溃 (the rebuild thread panicked)"))??;
    drop(spent_rx);
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let memory = model.memory();
    let state = model.state();
    let report = RebuildReport {
        events: model.position(),
        seconds,
        events_per_second: model.position() as f64 / seconds.max(1e-9),
        change_log_bytes: memory.change_log_bytes,
        checkpoints: memory.checkpoints,
        periods: state.periods.len(),
        sheets: state.sheets.len(),
        read_seconds: reading.as_secs_f64(),
        decode_seconds: decoding.as_secs_f64(),
        fold_seconds: folding.as_secs_f64(),
        snapshots: None,
    };
    Ok((model, report))
}
