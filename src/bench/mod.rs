//! The benchmark harnesses behind `ledger bench` (the subcommand in `cli/bench.rs` only parses and
//! calls). Each measures the ledger beside a baseline taken in the same run; BENCHMARKS.md holds the
//! figures and the machine they were taken on.

pub mod audit;
pub mod console;
pub mod evidence;
pub mod http;
pub mod kurrent;
pub mod mixed;
pub mod projections;
pub mod store;
pub mod witness;

use ledger_schemas::events::ScoreRecorded;
use ledger_schemas::ids::{ItemCode, PeriodId, UnitId};
use ledger_schemas::values::{Points, ScoreSource, ScoreValue};
use ledger_schemas::{Actor, Event, ProposedEvent};
use uuid::Uuid;

use crate::store::SqliteStore;

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
        files: Vec::new(),
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
    let rt = crate::cli::runtime()?;
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
