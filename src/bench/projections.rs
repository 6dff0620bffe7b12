//! `ledger bench projections`: the read side on a ledger of a million events: the rebuild rate from
//! the embedded store beside a raw read-and-decode baseline, as-of query latency, and the memory of
//! the live read models (issue 4).
//!
//! The ledger is synthetic but valid: 200 units, 30 assessors, 5 reviewers, the default template;
//! one quarterly period after another, each with every unit's self-assessment of 3 items, 33
//! scores, 2 corrections, a business result, item and sheet reviews (one rejection and its
//! re-scoring), and after publication an appeal for every tenth unit and a rectification (raised,
//! submitted, verified) for every fifth; a rubric adjustment moved into the running period every
//! eighth period (the mix of `projections/tests/read_bench.rs`, here written to a real store).
//!
//! How it is written quickly: one period at a time (about 8,600 events, so the generator never holds
//! the whole log), in phases (see `Batch`): within a phase each stream's events go in one append and
//! up to [`IN_FLIGHT`] appends are in flight at once, so the store's writer group-commits them (one
//! fsync for many); period and rubric events are phases of their own, and a phase starts only when
//! the one before has committed. Before measuring, the stored log is checked: every phase's events
//! lie within its range of positions, so the log is valid whatever order a phase committed in.
//!
//! Measured in the same run, on the same file: the raw baseline (pages of the global log read and
//! every payload decoded with `serde_json`, nothing folded), then `ledger rebuild`'s pipeline
//! ([`crate::cli::rebuild::rebuild_model`]), then as-of queries through [`ReadSide`] (the model's plan, the
//! tail after the checkpoint read from the store, folded, then queried), and the start-up of a new
//! [`ReadSide`] before and after `ledger rebuild`'s snapshots are kept beside the log (with as-of
//! queries before the point it started from). Run it on a release build.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use futures_util::StreamExt as _;
use indicatif::ProgressDrawTarget;
use ledger_projections::read::{ChangeFilter, Scope};
use ledger_projections::rubric::{DEFAULT_TEMPLATE_PEOPLE, default_template, find_item};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::*;
use ledger_schemas::ids::*;
use ledger_schemas::rubric::{DualPolicy, ItemKind, RubricChange};
use ledger_schemas::values::*;
use ledger_schemas::{Event, ProposedEvent};
use uuid::Uuid;

use crate::app::reads::{ReadAt, ReadSide};
use crate::store::{Direction, EventStore, ExpectedRevision, ReadFrom, SqliteStore};

/// What sealing snapshots costs, measured on the kept ones: see [`seal_costs`].
struct SealCosts {
    /// The SHA-256 of every kept snapshot's bytes, one after another (what keeping adds).
    hashing_all: Duration,
    /// The SHA-256 of the head snapshot's bytes alone, and decoding them alone: a start does both at
    /// once, on two threads.
    hashing_head: Duration,
    decoding_head: Duration,
}

/// Hashes every kept snapshot (at `positions`, the head last) as sealing does, and times the head
/// snapshot's hash and its decoding apart.
async fn seal_costs(store: &SqliteStore, positions: &[u64]) -> anyhow::Result<SealCosts> {
    let mut costs = SealCosts {
        hashing_all: Duration::ZERO,
        hashing_head: Duration::ZERO,
        decoding_head: Duration::ZERO,
    };
    for (i, &position) in positions.iter().enumerate() {
        let Some(row) = store
            .load_snapshot(ledger_projections::read::PROJECTION_CODE_VERSION, position)
            .await?
        else {
            bail!("位置 {position} 没有快照 (no snapshot at position {position})");
        };
        let started = Instant::now();
        std::hint::black_box(ledger_schemas::seal::content_digest(&row.bytes));
        let hashed = started.elapsed();
        costs.hashing_all += hashed;
        if i + 1 == positions.len() {
            costs.hashing_head = hashed;
            let started = Instant::now();
            let model = ledger_projections::read::ReadModel::decode_stored(
                &row.bytes,
                crate::app::reads::CHECKPOINT_EVERY,
            )?;
            costs.decoding_head = started.elapsed();
            drop(model);
        }
    }
    Ok(costs)
}

/// Appends in flight at once while the ledger is built (the writer group-commits them).
const IN_FLIGHT: usize = 64;
/// Units of the synthetic ledger.
const UNITS: usize = 200;
/// Page size of the raw baseline's reads (the rebuild's batch).
const PAGE: usize = 4096;
/// The 33 item codes of the default rubric.
const ITEMS: [&str; 33] = [
    "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "D1", "D2",
    "D3", "D4", "D5", "E1", "E2", "E3", "E4", "E5", "F1", "F2", "F3", "F4", "F5", "G1", "G2", "G3",
    "G4",
];

#[derive(Debug, Args)]
pub struct ProjectionsBenchArgs {
    /// Events in the synthetic ledger (at least; the last period is completed).
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// As-of queries measured (half at random positions, half at random times).
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Where the temporary ledger goes (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs the benchmark and prints (and with `--out` writes) the results.
pub fn run(args: ProjectionsBenchArgs) -> anyhow::Result<()> {
    let args = &args;
    super::on_temporary_ledger(
        "projections",
        args.dir.as_deref(),
        args.out.as_deref(),
        |store| async move { measure(&store, args).await },
    )
}

async fn measure(store: &Arc<SqliteStore>, args: &ProjectionsBenchArgs) -> anyhow::Result<String> {
    // 1. Build the ledger.
    let started = Instant::now();
    let ids = build(store.as_ref(), args.events).await?;
    let build_time = started.elapsed();
    let events = ids.len() as u64;
    ids.check(store.as_ref()).await?;
    let file_bytes = std::fs::metadata(store.path()).map_or(0, |m| m.len());
    eprintln!(
        "built {events} events in {:.1} s ({:.0} events/s)",
        build_time.as_secs_f64(),
        events as f64 / build_time.as_secs_f64()
    );

    // 2. Raw baseline: read + decode, no fold (best of two: the first also warms the page cache).
    let mut raw = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let read = read_and_decode(store.as_ref()).await?;
        raw = raw.min(started.elapsed());
        if read != events {
            bail!("基线读到 {read} 个事件 (the baseline read {read} events), expected {events}");
        }
    }
    drop(ids);
    eprintln!(
        "raw read + decode: {:.0} events/s",
        events as f64 / raw.as_secs_f64()
    );

    // 3. Rebuild through `ledger rebuild`'s pipeline; memory before and after.
    let rss_before = rss_kib();
    let (model, report) =
        crate::cli::rebuild::rebuild_model(store.as_ref(), ProgressDrawTarget::hidden()).await?;
    let rss_after = rss_kib();
    let memory = model.memory();
    eprintln!(
        "rebuild: {:.0} events/s; busy: read {:.2} s, decode {:.2} s, fold {:.2} s",
        report.events_per_second, report.read_seconds, report.decode_seconds, report.fold_seconds
    );

    // 5a. Start-up of a new read side with no snapshots kept: its first catch-up folds the log.
    let started = Instant::now();
    let cold = ReadSide::new(store.clone());
    cold.catch_up().await?;
    let cold_start = started.elapsed();
    drop(cold);
    // 5b. Keep the snapshots, as `ledger rebuild` does (sealed with the ledger's key, which a
    // ledger made by `ledger init` has).
    crate::audit::ensure_key(store.path())?;
    let kept = crate::cli::rebuild::write_snapshots(store.as_ref(), &model).await?;
    if kept.written == 0 {
        bail!("没有保存快照 (no snapshot was kept): {:?}", kept.not_kept);
    }
    eprintln!(
        "cold start {:.2} s; snapshots: {} written, {:.1} MiB, {:.2} s",
        cold_start.as_secs_f64(),
        kept.written,
        kept.bytes as f64 / (1024.0 * 1024.0),
        kept.seconds
    );
    let seals = seal_costs(store.as_ref(), &kept.positions).await?;

    // 4. As-of queries through the read side.
    let reads = ReadSide::from_model(store.clone(), model);
    let first = first_last_time(store.as_ref()).await?;
    let today = NaiveDate::from_ymd_opt(2030, 1, 1).expect("valid date");
    let duty: PersonId = id("discipline-committee");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut latencies = Vec::with_capacity(args.queries);
    for q in 0..args.queries {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = x >> 11;
        let at = if q % 2 == 0 {
            ReadAt::Position(1 + r % events)
        } else {
            let span = (first.1 - first.0).num_microseconds().unwrap_or(0).max(1) as u64;
            ReadAt::Time(first.0 + chrono::Duration::microseconds((r % span) as i64))
        };
        let started = Instant::now();
        let answer = reads
            .query(at, |view| {
                let period = view.periods().pop();
                let standings = period.as_ref().and_then(|p| view.standings(p));
                let page = view.changes(&ChangeFilter::default(), None, 50);
                let scope = match &period {
                    Some(p) => Scope::period(p),
                    None => Scope::all(),
                };
                let accountability = view.accountability(&duty, today, &scope);
                (standings.is_some(), page.positions.len(), accountability)
            })
            .await?;
        latencies.push(started.elapsed());
        std::hint::black_box(answer);
    }
    latencies.sort();
    let rss_queried = rss_kib();
    drop(reads);

    // 5c. Start-up of a new read side from the kept snapshots, then as-of queries before the point
    // it started from (each from the stored state snapshot at or before it).
    let started = Instant::now();
    let warm = ReadSide::new(store.clone());
    warm.catch_up().await?;
    let warm_start = started.elapsed();
    let restored_from = warm.restored_from();
    let before_restore =
        standings_before(&warm, restored_from, args.queries.min(40), &mut x).await?;
    // 5d. The backfill `ledger serve` runs in the background, then the same kind of queries.
    let started = Instant::now();
    warm.backfill().await;
    let backfill = started.elapsed();
    let after_backfill =
        standings_before(&warm, restored_from, args.queries.min(40), &mut x).await?;
    drop(warm);

    let mut text = String::new();
    let rate = report.events_per_second;
    let raw_rate = events as f64 / raw.as_secs_f64();
    writeln!(text, "### Results\n")?;
    writeln!(
        text,
        "Ledger: {events} events ({} periods, {} sheets), SQLite file {:.0} MiB, built in {:.1} s ({:.0} events/s, appends of one stream's consecutive events, {IN_FLIGHT} in flight).\n",
        report.periods,
        report.sheets,
        file_bytes as f64 / (1024.0 * 1024.0),
        build_time.as_secs_f64(),
        events as f64 / build_time.as_secs_f64(),
    )?;
    writeln!(text, "| measurement | figure | target |")?;
    writeln!(text, "|---|---|---|")?;
    writeln!(
        text,
        "| rebuild from the embedded store (read + decode + fold, `ledger rebuild`'s pipeline) | {:.0} events/s ({:.2} s) | ≥ 500,000 events/s: {} |",
        rate,
        report.seconds,
        if rate >= 500_000.0 {
            "met"
        } else {
            "**missed**"
        },
    )?;
    writeln!(
        text,
        "| where the rebuild's time went (each thread's busy time) | reading pages {:.2} s, decoding {:.2} s (one thread); folding {:.2} s (another) | |",
        report.read_seconds, report.decode_seconds, report.fold_seconds,
    )?;
    writeln!(
        text,
        "| raw baseline (read + `serde_json` decode, no fold, one thread, best of 2) | {:.0} events/s ({:.2} s) | rebuild / raw = {:.2} |",
        raw_rate,
        raw.as_secs_f64(),
        rate / raw_rate,
    )?;
    writeln!(
        text,
        "| as-of query via `ReadSide` ({} queries, half at random positions, half at random times: plan, tail read from the store, fold, standings of the latest period, a change-log page of 50, accountability in that period) | p50 {}, p99 {}, max {} | p99 < 50 ms: {} |",
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        if percentile(&latencies, 0.99) < Duration::from_millis(50) {
            "met"
        } else {
            "**missed**"
        },
    )?;
    writeln!(
        text,
        "| process RSS (VmRSS) before the rebuild → after → after the queries | {} → {} → {} (read models ≈ {} ) | stated |",
        mib(rss_before),
        mib(rss_after),
        mib(rss_queried),
        mib(rss_after.saturating_sub(rss_before)),
    )?;
    writeln!(
        text,
        "| `ReadModel::memory()` | change log {:.1} MiB ({:.1} bytes/event), {} checkpoints, {} events | stated |",
        memory.change_log_bytes as f64 / (1024.0 * 1024.0),
        memory.change_log_bytes as f64 / memory.events.max(1) as f64,
        memory.checkpoints,
        memory.events,
    )?;
    writeln!(
        text,
        "| snapshots kept beside the log (`ledger rebuild`: the state at the {} most recent checkpoints, one every {} positions, and the whole model at the head) | {} snapshots, {:.1} MiB, written in {:.2} s | stated |",
        crate::cli::rebuild::KEPT_STATE_SNAPSHOTS,
        crate::app::reads::CHECKPOINT_EVERY,
        kept.written,
        kept.bytes as f64 / (1024.0 * 1024.0),
        kept.seconds,
    )?;
    writeln!(
        text,
        "| what the seals cost (`ledger_schemas::seal`: the SHA-256 of a snapshot's bytes and one Ed25519 signature or check): keeping, the hashing of every kept snapshot; starting, the head snapshot's hash beside its decoding (the read side hashes on a thread of its own while it decodes) | keeping: {:.2} s of hashing for {:.1} MiB; starting: hash {:.2} s, decode {:.2} s | stated |",
        seals.hashing_all.as_secs_f64(),
        kept.bytes as f64 / (1024.0 * 1024.0),
        seals.hashing_head.as_secs_f64(),
        seals.decoding_head.as_secs_f64(),
    )?;
    writeln!(
        text,
        "| start-up of a new `ReadSide` (its first catch-up), without → with the snapshots | {:.2} s → {:.2} s (started from position {restored_from}) | stated |",
        cold_start.as_secs_f64(),
        warm_start.as_secs_f64(),
    )?;
    writeln!(
        text,
        "| as-of query before the start point of a read side that started from the snapshots ({} queries at random positions: stored state snapshot loaded and decoded, tail folded, standings of the latest period) | p50 {}, max {} | stated |",
        before_restore.len(),
        ms(percentile(&before_restore, 0.50)),
        ms(before_restore.last().copied().unwrap_or_default()),
    )?;
    writeln!(
        text,
        "| the backfill (`ReadSide::backfill`, run by `ledger serve` in the background: the prefix folded again for its in-memory checkpoints), then the same kind of as-of queries | backfill {:.2} s; queries p50 {}, max {} | stated |",
        backfill.as_secs_f64(),
        ms(percentile(&after_backfill, 0.50)),
        ms(after_backfill.last().copied().unwrap_or_default()),
    )?;
    Ok(text)
}

/// Reads the whole log in pages and decodes every payload. Returns how many events it read.
/// The latencies, sorted, of `queries` as-of queries at random positions before `before` (the
/// standings of the latest period), continuing the pseudo-random walk `x`.
async fn standings_before(
    reads: &ReadSide<SqliteStore>,
    before: u64,
    queries: usize,
    x: &mut u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(queries);
    for q in 0..queries {
        *x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let p = 1 + (*x >> 11) % before.max(1);
        let started = Instant::now();
        let answer = reads
            .query(ReadAt::Position(p), |view| {
                let period = view.periods().pop();
                period.as_ref().and_then(|p| view.standings(p)).is_some()
            })
            .await?;
        latencies.push(started.elapsed());
        std::hint::black_box((q, answer));
    }
    latencies.sort();
    Ok(latencies)
}

async fn read_and_decode<S: EventStore>(store: &S) -> anyhow::Result<u64> {
    let mut next = 1;
    let mut read = 0u64;
    loop {
        let page = store
            .read_all(Direction::Forwards, ReadFrom::At(next), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        next = last.position + 1;
        for envelope in &page {
            std::hint::black_box(envelope.decode()?);
            read += 1;
        }
    }
    Ok(read)
}

/// The times of the first and the last event.
async fn first_last_time<S: EventStore>(
    store: &S,
) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    let first = store
        .read_all(Direction::Forwards, ReadFrom::Edge, 1)
        .await?;
    let last = store
        .read_all(Direction::Backwards, ReadFrom::Edge, 1)
        .await?;
    match (first.first(), last.first()) {
        (Some(a), Some(b)) => Ok((a.recorded_at, b.recorded_at)),
        _ => bail!("账本为空 (the ledger is empty)"),
    }
}

/// The process's resident set size in KiB (`VmRSS` of `/proc/self/status`; 0 where there is none).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn id<T: std::str::FromStr>(s: impl AsRef<str>) -> T
where
    T::Err: std::fmt::Debug,
{
    s.as_ref().parse().expect("a valid generated id")
}

fn actor(person: &str, role: Role) -> Actor {
    Actor::new(id(person), role)
}

/// A value that fits item `code` of the default template.
fn value(code: &str, n: usize) -> ScoreValue {
    let def = default_template();
    let (_, item) = find_item(&def, &id(code)).expect("an item of the default template");
    match &item.kind {
        ItemKind::Points { max } => {
            let cents = cents_of(*max);
            ScoreValue::Points {
                points: Points::from_cents((n as i64 * 37) % (cents + 1)),
            }
        }
        ItemKind::Ladder { .. } => ScoreValue::Level {
            level: id(["good", "fairly_good", "average", "poor"][n % 4]),
        },
        ItemKind::Bonus { .. } => ScoreValue::Awards {
            awards: vec![Award {
                title: "表彰".into(),
                points: Points::from_int((n % 3) as i64),
            }],
        },
        ItemKind::Deduction { .. } => ScoreValue::Cases {
            cases: (n % 3) as u32,
        },
        ItemKind::Veto => ScoreValue::Veto { vetoed: false },
    }
}

/// Whole cents of a non-negative amount, read from its decimal text (no floating point).
fn cents_of(points: Points) -> i64 {
    let text = points.decimal().to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0)
}

/// Events waiting to be appended, in phases: a phase's events touch streams whose relative order
/// does not matter (different sheets, appeals, rectifications), so its appends may commit in any
/// order; phases commit one after another. Period and rubric events are phases of their own.
#[derive(Default)]
struct Batch {
    phases: Vec<Vec<(Event, Actor, Option<&'static str>)>>,
}

impl Batch {
    fn push(&mut self, actor: &Actor, reason: Option<&'static str>, event: impl Into<Event>) {
        let event = event.into();
        let alone = matches!(
            event,
            Event::PeriodOpened(_)
                | Event::PeriodStageChanged(_)
                | Event::PeriodRubricChanged(_)
                | Event::RubricDefined(_)
                | Event::RubricAdjusted(_)
        );
        if alone {
            self.barrier();
        }
        match self.phases.last_mut() {
            Some(phase) => phase.push((event, actor.clone(), reason)),
            None => self.phases.push(vec![(event, actor.clone(), reason)]),
        }
        if alone {
            self.barrier();
        }
    }

    /// Ends the current phase: what follows commits after everything before.
    fn barrier(&mut self) {
        if self.phases.last().is_none_or(|p| !p.is_empty()) {
            self.phases.push(Vec::new());
        }
    }
}

/// The generated log: every event id in generation order, and where each phase ends (exclusive).
#[derive(Default)]
pub(crate) struct Generated {
    ids: Vec<Uuid>,
    phase_ends: Vec<usize>,
}

impl Generated {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Checks that the stored log holds every phase's events within the phase's range of positions
    /// (the order inside a phase is free; see [`Batch`]).
    async fn check<S: EventStore>(&self, store: &S) -> anyhow::Result<()> {
        let phase_of: std::collections::HashMap<Uuid, usize> = self
            .phase_ends
            .iter()
            .enumerate()
            .flat_map(|(phase, &end)| {
                let start = if phase == 0 {
                    0
                } else {
                    self.phase_ends[phase - 1]
                };
                self.ids[start..end].iter().map(move |id| (*id, phase))
            })
            .collect();
        let mut phase = 0;
        let mut next = 1;
        loop {
            let page = store
                .read_all(Direction::Forwards, ReadFrom::At(next), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            next = last.position + 1;
            for envelope in &page {
                while self
                    .phase_ends
                    .get(phase)
                    .is_some_and(|&end| envelope.position as usize > end)
                {
                    phase += 1;
                }
                if phase_of.get(&envelope.event_id) != Some(&phase) {
                    bail!(
                        "第 {} 号事件不在其阶段内 (the event at position {} lies outside its phase): the appends were reordered",
                        envelope.position,
                        envelope.position
                    );
                }
            }
        }
        Ok(())
    }
}

/// Appends `batch`: phase after phase; in a phase, each stream's events (in order) in one append,
/// up to [`IN_FLIGHT`] appends queued at once. Records the ids and the phases in `out`.
async fn append<S: EventStore>(store: &S, batch: Batch, out: &mut Generated) -> anyhow::Result<()> {
    let correlation = Uuid::now_v7();
    for phase in batch.phases {
        if phase.is_empty() {
            continue;
        }
        let mut groups: Vec<(String, Vec<ProposedEvent>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for (event, actor, reason) in phase {
            let stream = event.stream();
            let mut proposed = ProposedEvent::new(&event, actor, Uuid::now_v7(), correlation);
            if let Some(reason) = reason {
                proposed = proposed.with_reason(reason);
            }
            out.ids.push(proposed.event_id);
            match index.get(&stream) {
                Some(&i) => groups[i].1.push(proposed),
                None => {
                    index.insert(stream.clone(), groups.len());
                    groups.push((stream, vec![proposed]));
                }
            }
        }
        out.phase_ends.push(out.ids.len());
        let mut outcomes = futures_util::stream::iter(groups)
            .map(|(stream, events)| async move {
                store.append(&stream, ExpectedRevision::Any, events).await
            })
            .buffer_unordered(IN_FLIGHT);
        while let Some(outcome) = outcomes.next().await {
            outcome?;
        }
    }
    Ok(())
}

/// Writes the synthetic ledger (see the module docs) of at least `target` events; returns the ids
/// in log order.
pub(crate) async fn build<S: EventStore>(store: &S, target: u64) -> anyhow::Result<Generated> {
    let mut ids = Generated::default();
    let values: Vec<Vec<ScoreValue>> = ITEMS
        .iter()
        .map(|code| (0..16).map(|n| value(code, n)).collect())
        .collect();
    let admin = actor("admin", Role::Admin);
    let system = Actor::system();
    let units: Vec<UnitId> = (0..UNITS).map(|u| id(format!("U{u:04}"))).collect();

    let mut b = Batch::default();
    b.push(
        &system,
        None,
        UnitRegistered {
            unit: id("HQ"),
            name: "总部".into(),
            kind: UnitKind::Company,
            parent: None,
        },
    );
    b.barrier();
    for u in &units {
        b.push(
            &system,
            None,
            UnitRegistered {
                unit: u.clone(),
                name: format!("支部 {u}"),
                kind: UnitKind::Branch,
                parent: Some(id("HQ")),
            },
        );
    }
    let mut people: Vec<(String, Role, Vec<UnitId>)> = vec![("admin".into(), Role::Admin, vec![])];
    for a in 0..30 {
        let covered = units.iter().skip(a).step_by(30).cloned().collect();
        people.push((format!("as{a:02}"), Role::Assessor, covered));
    }
    for r in 0..5 {
        people.push((format!("rv{r}"), Role::Reviewer, vec![]));
    }
    for (u, unit) in units.iter().enumerate() {
        people.push((format!("sec{u:04}"), Role::Unit, vec![unit.clone()]));
    }
    for (p, _, _) in DEFAULT_TEMPLATE_PEOPLE {
        people.push((p.to_string(), Role::Auditor, vec![]));
    }
    b.barrier();
    for (person, _, _) in &people {
        b.push(
            &system,
            None,
            PersonRegistered {
                person: id(person),
                name: format!("人员 {person}"),
                unit: None,
            },
        );
    }
    b.barrier();
    for (person, role, covered) in &people {
        b.push(
            &system,
            None,
            AccessGranted {
                person: id(person),
                role: *role,
                units: covered.clone(),
            },
        );
    }
    let rubric: RubricId = id("DT");
    b.push(
        &admin,
        None,
        RubricDefined {
            rubric: rubric.clone(),
            definition: default_template(),
        },
    );
    append(store, b, &mut ids).await?;

    let mut version = 1u32;
    let mut n = 0usize;
    // What each unit's items hold now (index into `values`), so that corrections name it.
    let mut held = vec![[0usize; 33]; UNITS];
    let mut k = 0usize;
    while (ids.len() as u64) < target {
        let mut b = Batch::default();
        let period: PeriodId = id(format!("P{k:03}"));
        let year = 2020 + (k / 4) as i32;
        let month = 1 + 3 * (k % 4) as u32;
        let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d).expect("valid date");
        b.push(
            &admin,
            None,
            PeriodOpened {
                period: period.clone(),
                name: format!("第 {k} 期"),
                cadence: Cadence::Quarterly,
                starts_on: date(month, 1),
                ends_on: date(month + 2, 28),
                rubric: rubric.clone(),
                rubric_version: version,
                units: units.clone(),
            },
        );
        let stage = |b: &mut Batch, from, to| {
            b.push(
                &admin,
                None,
                PeriodStageChanged {
                    period: period.clone(),
                    from,
                    to,
                },
            )
        };
        stage(&mut b, Stage::Opened, Stage::SelfAssessment);
        for (u, unit) in units.iter().enumerate() {
            let sec = actor(&format!("sec{u:04}"), Role::Unit);
            for i in [1, 5, 20] {
                b.push(
                    &sec,
                    None,
                    SelfAssessmentRecorded {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(ITEMS[i]),
                        value: values[i][(u + k) % 16].clone(),
                        note: String::new(),
                        evidence: vec![],
                    },
                );
            }
        }
        stage(&mut b, Stage::SelfAssessment, Stage::Scoring);
        if k % 8 == 7 {
            b.push(
                &admin,
                Some("动态调整"),
                RubricAdjusted {
                    rubric: rubric.clone(),
                    from_version: version,
                    version: version + 1,
                    changes: vec![RubricChange::ChangeDualPolicy {
                        dual_policy: DualPolicy::PointsShare {
                            party_percent: Points::from_int(if version % 2 == 1 { 40 } else { 30 }),
                        },
                    }],
                    approver: id("rv0"),
                },
            );
            b.push(
                &admin,
                Some("执行新版细则"),
                PeriodRubricChanged {
                    period: period.clone(),
                    from_version: version,
                    to_version: version + 1,
                },
            );
            version += 1;
        }
        for (u, unit) in units.iter().enumerate() {
            let assessor = actor(&format!("as{:02}", u % 30), Role::Assessor);
            for (i, code) in ITEMS.iter().enumerate() {
                n += 1;
                held[u][i] = n % 16;
                b.push(
                    &assessor,
                    None,
                    ScoreRecorded {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(code),
                        value: values[i][n % 16].clone(),
                        note: String::new(),
                        evidence: vec![format!("evidence/{period}/{unit}/{code}.pdf")],
                        source: ScoreSource::Manual,
                        file_sha256: None,
                    },
                );
            }
            for i in [2, 14] {
                let previous = values[i][held[u][i]].clone();
                held[u][i] = (held[u][i] + 3) % 16;
                b.push(
                    &assessor,
                    Some("更正 correction"),
                    ScoreCorrected {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(ITEMS[i]),
                        previous,
                        value: values[i][held[u][i]].clone(),
                        note: String::new(),
                        evidence: vec![],
                        source: ScoreSource::Manual,
                        appeal: None,
                        file_sha256: None,
                    },
                );
            }
            b.push(
                &assessor,
                None,
                BusinessResultRecorded {
                    period: period.clone(),
                    unit: unit.clone(),
                    score: Points::from_cents(6_000 + ((u * 137 + k * 11) % 4_000) as i64),
                    vetoed: false,
                    source: "责任书".into(),
                    file_sha256: None,
                },
            );
        }
        stage(&mut b, Stage::Scoring, Stage::Review);
        for (u, unit) in units.iter().enumerate() {
            let reviewer = actor(&format!("rv{}", u % 5), Role::Reviewer);
            b.push(
                &reviewer,
                None,
                ItemReviewed {
                    period: period.clone(),
                    unit: unit.clone(),
                    item: id("B3"),
                    decision: ReviewDecision::Rejected,
                    comment: "依据不足".into(),
                },
            );
            let assessor = actor(&format!("as{:02}", u % 30), Role::Assessor);
            b.push(
                &assessor,
                Some("按审核意见重评"),
                ScoreCorrected {
                    files: Vec::new(),
                    period: period.clone(),
                    unit: unit.clone(),
                    item: id("B3"),
                    previous: values[6][held[u][6]].clone(),
                    value: values[6][(held[u][6] + 1) % 16].clone(),
                    note: String::new(),
                    evidence: vec![],
                    source: ScoreSource::Manual,
                    appeal: None,
                    file_sha256: None,
                },
            );
            held[u][6] = (held[u][6] + 1) % 16;
            b.push(
                &reviewer,
                None,
                SheetReviewed {
                    period: period.clone(),
                    unit: unit.clone(),
                    decision: ReviewDecision::Approved,
                    comment: String::new(),
                },
            );
        }
        stage(&mut b, Stage::Review, Stage::Published);
        for (u, unit) in units.iter().enumerate() {
            let sec = actor(&format!("sec{u:04}"), Role::Unit);
            if u % 10 == 0 {
                let appeal: AppealId = id(format!("AP-{period}-{u}"));
                b.push(
                    &sec,
                    None,
                    AppealFiled {
                        files: Vec::new(),
                        appeal: appeal.clone(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: Some(id("A2")),
                        grounds: "理由".into(),
                        evidence: vec![],
                    },
                );
                b.push(
                    &actor("rv1", Role::Reviewer),
                    Some("不成立"),
                    AppealDismissed {
                        appeal,
                        decision: "不成立".into(),
                    },
                );
            }
            if u % 5 == 0 {
                let r: RectificationId = id(format!("RC-{period}-{u}"));
                b.push(
                    &actor("rv2", Role::Reviewer),
                    None,
                    RectificationRaised {
                        rectification: r.clone(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id("F5"),
                        responsible: id("discipline-committee"),
                        due_on: date(month + 2, 28),
                        finding: "问题".into(),
                        origin: RectificationOrigin::Deduction,
                    },
                );
                b.push(
                    &sec,
                    None,
                    RectificationSubmitted {
                        files: Vec::new(),
                        rectification: r.clone(),
                        note: String::new(),
                        evidence: vec!["fix.pdf".into()],
                    },
                );
                b.push(
                    &actor("rv3", Role::Reviewer),
                    None,
                    RectificationVerified {
                        rectification: r,
                        comment: String::new(),
                    },
                );
            }
        }
        append(store, b, &mut ids).await?;
        k += 1;
    }
    Ok(ids)
}
