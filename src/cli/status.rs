//! `ledger init`, `ledger status` and `ledger verify`: create a ledger (and its signing key), show
//! its state, walk its hash chain and Merkle tree, check its signed checkpoints and look for missing
//! ones, and check the read-model snapshots kept beside it (their seals, and with `--refold` their
//! content against a fold of the log).
//!
//! Output is for people (zh-CN first, then English) unless `--json` is given. `verify` draws a
//! progress bar on stderr, which indicatif hides when stderr is not a terminal, and exits non-zero
//! when the chain is broken.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::audit::file::{AuditOutcome, FileCheck, VerifyOptions, break_id, break_position};
use crate::audit::schedule;
use crate::audit::schedule::{ScheduleReport, TrustedKey};
use crate::audit::seals::SnapshotsReport;
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
pub fn init(path: &Path, zone: Option<&str>, json: bool) -> anyhow::Result<()> {
    // An unknown zone is refused before anything is created.
    let zone = zone
        .map(|name| {
            ledger_schemas::zone::Zone::named(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "未知的时区“{name}”, 可选: {0} (unknown time zone {name:?}; the business clock knows: {0})",
                    ledger_schemas::zone::Zone::known_names()
                )
            })
        })
        .transpose()?;
    let existed = path.exists();
    let rt = runtime()?;
    let state = rt.block_on(async {
        let store = std::sync::Arc::new(SqliteStore::open(path)?);
        let recorded = match zone {
            Some(zone) => record_zone(&store, zone).await,
            None => Ok(()),
        };
        let state = store.state().await;
        store.close().await;
        recorded?;
        anyhow::Ok(state?)
    })?;
    // The signing key is made with the ledger (see `crate::audit`), once the file is known to be a
    // ledger, so that a path that is not one does not get a key beside it.
    let key = crate::audit::ensure_key(path)?;
    if !json {
        if existed {
            println!("账本已存在 (the ledger already exists)");
        } else {
            println!("已创建账本 (created a new ledger)");
        }
        println!(
            "签名密钥 signing key:    {} ({})",
            crate::audit::key_path(path).display(),
            key.verifying_key().to_note_verifier()
        );
    }
    print_state(&state, json)
}

/// Records `zone` as the ledger's business zone: its first event. A ledger that already recorded the
/// same zone is left as it is; any other ledger with events refuses (the domain's
/// `ZoneAfterEvents`), so the zone never changes under recorded times.
async fn record_zone(
    store: &std::sync::Arc<SqliteStore>,
    zone: ledger_schemas::zone::Zone,
) -> anyhow::Result<()> {
    use crate::app::{Clock, Ledger};
    let app = Ledger::open(store.clone(), Clock::System).await?;
    if app.folded().state.zone.as_deref() == Some(zone.name) {
        return Ok(());
    }
    app.execute(
        ledger_schemas::Actor::system(),
        ledger_projections::domain::Command::SetBusinessZone {
            zone: zone.name.to_owned(),
        },
    )
    .await?;
    crate::app::clock::adopt(Some(zone.name));
    Ok(())
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
            .map(|t| format!(
                "{} (北京时间 Beijing time)",
                crate::app::clock::business_time(t)
            ))
            .unwrap_or(none)
    )?;
    Ok(())
}

/// What `ledger verify --json` prints. The plain output says the same, line for line (see
/// [`report_verify`]); README.md, "For auditors", describes both.
#[derive(Debug, Serialize)]
struct VerifyOutput {
    file: String,
    /// Whether the hash chain holds (the checkpoints and snapshots are judged apart, below).
    intact: bool,
    /// Whether every check holds: the exit status is 0 exactly when this is true.
    passed: bool,
    verified: u64,
    head_hash: String,
    seconds: f64,
    events_per_second: f64,
    /// The first event that does not fit, in words.
    broken: Option<String>,
    broken_position: Option<u64>,
    broken_event_id: Option<String>,
    /// The key the checkpoints and snapshot seals were checked with, and where it came from
    /// (`None`: there was none).
    key: Option<TrustedKey>,
    /// The Merkle root of the whole log as recomputed from the stored (and chain-checked) hashes.
    tree_root: String,
    /// Stored checkpoints, and the ones that do not agree with the log or the key, in words.
    checkpoints: usize,
    checkpoint_faults: Vec<String>,
    /// Checkpoints that should be there: deleted ones (faults), absent ones and the events past the
    /// last valid checkpoint (warnings).
    checkpoint_schedule: ScheduleReport,
    /// With `--witness-key`: the checkpoints the trusted witnesses cosigned, how far the log is
    /// witnessed, rewrites of cosigned checkpoints and invalid cosignatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    witnesses: Option<crate::witness::verify::WitnessReport>,
    /// The outcome of `--against`: `None` when not asked, else `"ok"` or the reason it failed.
    against: Option<String>,
    /// The read-model snapshots kept beside the log: each one's seal, log and (with `--refold`)
    /// content.
    snapshots: SnapshotsReport,
    /// What deserves a look without proving anything wrong, one line each.
    warnings: Vec<String>,
    /// The evidence files the log cites: how many, how many bytes were hashed, and each one missing
    /// or altered with the event that cites it.
    evidence: Option<crate::audit::evidence::EvidenceReport>,
}

/// `ledger verify`: walks the whole chain, recomputes the Merkle tree, checks every stored checkpoint
/// and looks for the ones that should be there (and, with `--against`, that the log still extends a
/// kept one), and checks every read-model snapshot kept beside the log; exits non-zero on any
/// failure.
pub fn verify(path: &Path, json: bool, options: VerifyOptions<'_>) -> anyhow::Result<()> {
    let rt = runtime()?;
    let checked = rt.block_on(crate::audit::file::check(path, options, true))?;
    report_verify(path, &checked, json)
}

fn report_verify(path: &Path, checked: &FileCheck, json: bool) -> anyhow::Result<()> {
    let FileCheck {
        report,
        total,
        seconds,
        audit,
        ..
    } = checked;
    let (total, seconds) = (*total, *seconds);
    let rate = report.verified as f64 / seconds.max(1e-9);
    let failures = checked.failures();
    if json {
        let out = VerifyOutput {
            file: path.display().to_string(),
            intact: report.is_intact(),
            passed: failures.is_empty(),
            verified: report.verified,
            head_hash: report.head.to_hex(),
            seconds,
            events_per_second: rate,
            broken: report.broken.as_ref().map(|b| b.to_string()),
            broken_position: report.broken.as_ref().map(break_position),
            broken_event_id: report.broken.as_ref().map(|b| break_id(b).to_string()),
            key: audit.key.clone(),
            tree_root: audit.root.to_hex(),
            checkpoints: audit.checkpoints,
            checkpoint_faults: audit.faults.clone(),
            checkpoint_schedule: audit.schedule.clone(),
            against: audit.against.as_ref().map(|r| match r {
                Ok(_) => "ok".to_owned(),
                Err(why) => why.clone(),
            }),
            snapshots: audit.snapshots.clone(),
            warnings: audit.warnings.clone(),
            witnesses: audit.witnesses.clone(),
            evidence: audit.evidence.clone(),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_verify(report, total, seconds, rate, audit)?;
    }
    match failures.first() {
        None => Ok(()),
        Some(first) => anyhow::bail!(
            "{}: 校验失败 verification FAILED ({} 个问题 problems); 第一个 first: {first}",
            path.display(),
            failures.len()
        ),
    }
}

/// The plain form of `ledger verify`'s report: one line per finding, each naming in English what
/// the JSON field of the same finding holds.
fn print_verify(
    report: &ChainReport,
    total: u64,
    seconds: f64,
    rate: f64,
    audit: &AuditOutcome,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match &report.broken {
        None => {
            writeln!(
                out,
                "哈希链完整 chain OK: {} 个事件已校验 ({} events verified) 用时 {seconds:.2} s, {rate:.0} 事件/秒 (events/s); 头哈希 head hash {}",
                report.verified, report.verified, report.head
            )?;
            if total != report.verified {
                writeln!(
                    out,
                    "注意 note: 校验期间账本增长到 {total} (the ledger grew to {total} while being verified)"
                )?;
            }
        }
        Some(broken) => writeln!(
            out,
            "哈希链断裂 chain BROKEN: 前 {} 个事件完好 (the first {} events are intact); 第一个问题 first break: {broken}",
            report.verified, report.verified
        )?,
    }
    match &audit.key {
        Some(key) => writeln!(out, "{}", key.describe())?,
        None => writeln!(
            out,
            "没有密钥 no key: 账本旁没有 FILE.key, 也没有给出 --public-key, 检查点和快照封印都无法核对 (no key beside the ledger and no --public-key: neither checkpoints nor snapshot seals can be checked)"
        )?,
    }
    writeln!(
        out,
        "默克尔树根 Merkle root: {}; 检查点 checkpoints: {} 个, 其中 {} 个有问题 ({} stored, {} at fault)",
        audit.root,
        audit.checkpoints,
        audit.faults.len(),
        audit.checkpoints,
        audit.faults.len()
    )?;
    for fault in &audit.faults {
        writeln!(out, "检查点有问题 checkpoint FAULT: {fault}")?;
    }
    for missing in &audit.schedule.missing {
        writeln!(out, "检查点缺失 checkpoint MISSING: {missing}")?;
    }
    match &audit.against {
        Some(Ok(size)) => writeln!(
            out,
            "日志延续保存的检查点 the log extends the kept checkpoint (checked against the stored checkpoint of size {size})"
        )?,
        Some(Err(why)) => writeln!(out, "保存的检查点 kept checkpoint FAILED: {why}")?,
        None => {}
    }
    let snapshots = &audit.snapshots;
    let positions: Vec<u64> = snapshots.entries.iter().map(|e| e.position).collect();
    writeln!(
        out,
        "读模型快照 read-model snapshots: 核对 {} 个, {} 个可信 ({} checked, {} valid{}){}",
        snapshots.checked,
        snapshots.valid,
        snapshots.checked,
        snapshots.valid,
        if snapshots.refolded {
            "; 已与从头折叠的结果逐字节比较 compared byte for byte with a fold of the log"
        } else {
            ""
        },
        if positions.is_empty() {
            String::new()
        } else {
            format!("; 位置 positions {}", schedule::sizes(&positions))
        }
    )?;
    for fault in snapshots.faults() {
        writeln!(out, "读模型快照有问题 snapshot FAULT: {fault}")?;
    }
    if let Some(evidence) = &audit.evidence {
        print_evidence(&mut out, evidence)?;
    }
    for warning in &audit.warnings {
        writeln!(out, "警告 WARNING: {warning}")?;
    }
    if let Some(w) = &audit.witnesses {
        writeln!(
            out,
            "见证 witnessed: 前 {} 个事件经 {} 个见证人联署 (the first {} events are witnessed by a quorum of {}); 之后 {} 个事件未经见证 ({} events after it are NOT witnessed)",
            w.witnessed_size,
            w.quorum,
            w.witnessed_size,
            w.quorum,
            w.not_witnessed,
            w.not_witnessed
        )?;
        for c in w.checkpoints.iter().filter(|c| !c.cosigned_by.is_empty()) {
            let names: Vec<&str> = c.cosigned_by.iter().map(|(n, _)| n.as_str()).collect();
            writeln!(
                out,
                "  检查点 checkpoint {}: 联署 cosigned by {}{}",
                c.tree_size,
                names.join(", "),
                if c.witnessed {
                    " (已见证 witnessed)"
                } else {
                    ""
                }
            )?;
        }
        for rewrite in &w.rewrites {
            writeln!(out, "见证有问题 witness FAULT: {rewrite}")?;
        }
        for invalid in &w.invalid {
            writeln!(out, "联署无效 cosignature INVALID: {invalid}")?;
        }
    }
    Ok(())
}

/// The evidence lines of `ledger verify`: the count, then every fault naming its event and file.
fn print_evidence(
    out: &mut impl Write,
    evidence: &crate::audit::evidence::EvidenceReport,
) -> std::io::Result<()> {
    writeln!(
        out,
        "佐证材料 evidence files: {} 个文件被 {} 处引用, 已校验 {} 字节, {} 个有问题 ({} files cited {} times, {} bytes hashed in {:.2} s, {:.0} MiB/s, {:.0} files/s; {} at fault) in {}",
        evidence.files,
        evidence.citations,
        evidence.bytes,
        evidence.faults.len() + evidence.undecodable.len(),
        evidence.files,
        evidence.citations,
        evidence.bytes,
        evidence.seconds,
        evidence.mib_per_second(),
        evidence.files_per_second(),
        evidence.faults.len() + evidence.undecodable.len(),
        evidence.source
    )?;
    for fault in evidence.failures() {
        writeln!(out, "佐证材料有问题 evidence FAULT: {fault}")?;
    }
    Ok(())
}

/// `ledger verify --bundle DIR [--event ID]`: verifies an audit bundle without the ledger file (see
/// `crate::audit::bundle`); with `--event`, prints the event's inclusion proof. Exits non-zero on any
/// fault, naming the file, event or checkpoint.
pub fn verify_bundle(
    dir: &Path,
    json: bool,
    public_key: Option<&Path>,
    event: Option<uuid::Uuid>,
) -> anyhow::Result<()> {
    // The ledger path is irrelevant here: with `public_key` absent, the bundle's own key is used.
    let key = match public_key {
        Some(file) => crate::audit::verifying_key(Path::new(""), Some(file))?,
        None => None,
    };
    let (report, inclusion) = crate::audit::bundle::verify(dir, key.as_ref(), event)?;
    if json {
        let out = serde_json::json!({ "report": report, "inclusion": inclusion });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "审计包 bundle {}: {} 个事件 events ({} 个链接完好 chain-verified), {} 个检查点 checkpoints, 默克尔根 Merkle root {}",
            dir.display(),
            report.events,
            report.verified,
            report.checkpoints,
            report.tree_root
        );
        let evidence = &report.evidence;
        match (evidence.included, &evidence.check) {
            (Some(true), Some(check)) => println!(
                "佐证材料 evidence files: 包内 {} 个文件被 {} 处引用, 已校验 {} 字节 ({} files in the bundle cited {} times, {} bytes hashed), {} 个有问题 ({} at fault)",
                check.files,
                check.citations,
                check.bytes,
                check.files,
                check.citations,
                check.bytes,
                check.faults.len(),
                check.faults.len()
            ),
            (Some(_), _) => println!(
                "佐证材料 evidence files: 未包含在审计包中, 只有清单 (NOT included in the bundle, only their list): {} 个文件 {} 字节被 {} 处引用, 清单与事件核对 ({} files, {} bytes, cited {} times; the list was checked against the events)",
                evidence.files,
                evidence.bytes,
                evidence.citations,
                evidence.files,
                evidence.bytes,
                evidence.citations
            ),
            (None, _) => println!(
                "佐证材料 evidence files: 事件引用 {} 个文件, 审计包没有佐证材料清单 (the events cite {} files; the bundle has no evidence list)",
                evidence.files, evidence.files
            ),
        }
        for fault in &report.faults {
            println!("问题 FAULT: {fault}");
        }
        for warning in &report.warnings {
            println!("提醒 WARNING: {warning}");
        }
        if let Some(inclusion) = &inclusion {
            println!(
                "事件 event {} 位于第 {} 号 (at position {}), 哈希 hash {}",
                inclusion.event_id, inclusion.position, inclusion.position, inclusion.event_hash
            );
            println!(
                "包含证明 inclusion proof (leaf index {}, tree size {}), 自叶向上 from the leaf up:",
                inclusion.proof.leaf_index, inclusion.proof.tree_size
            );
            for hash in &inclusion.proof.path {
                println!("  {hash}");
            }
            print!(
                "对照的检查点 against the checkpoint:\n{}",
                inclusion.checkpoint
            );
            println!("包含证明有效 inclusion proof OK");
        }
    }
    match report.faults.first() {
        None => Ok(()),
        Some(first) => anyhow::bail!(
            "{}: 审计包校验失败 bundle verification FAILED ({} 个问题 problems); 第一个 first: {first}",
            dir.display(),
            report.faults.len()
        ),
    }
}

/// `ledger verify --store URL`: walks a KurrentDB/EventStoreDB cluster's chain (the notary's seal
/// records over `$all`, see `store/kurrent`) and reports the first event that does not match.
pub fn verify_store(url: &str, json: bool) -> anyhow::Result<()> {
    use crate::store::EventStore as _;
    if !crate::store::kurrent::is_connection_string(url) {
        anyhow::bail!(
            "“{url}”不是 KurrentDB 连接串 (not a KurrentDB connection string); 例如 e.g. kurrentdb://host:2113?tls=false; 账本文件用 --ledger (a ledger file goes in --ledger)"
        );
    }
    let rt = runtime()?;
    let started = Instant::now();
    let report = rt.block_on(async {
        let store = crate::store::any::open_store(url).await?;
        store.verify(Progress::new()).await
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let out = serde_json::json!({
            "verified": report.verified,
            "head": report.head.to_hex(),
            "broken": report.broken.as_ref().map(|b| b.to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if report.broken.is_none() {
        println!(
            "哈希链完整 chain OK: {} 个事件已校验 ({} events verified) 用时 {seconds:.2} s; 头哈希 head hash {}",
            report.verified, report.verified, report.head
        );
    }
    match report.broken {
        None => Ok(()),
        Some(brk) => anyhow::bail!("哈希链断裂 chain broken: {brk}"),
    }
}
