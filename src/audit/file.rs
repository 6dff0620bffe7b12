//! Checking a ledger file the way `ledger verify` does, as a function: the chain walked, the
//! Merkle tree recomputed, every checkpoint checked against it and the key, the schedule of
//! checkpoints that should be there, `--against` a kept checkpoint, the sealed read-model
//! snapshots, and (when given the evidence store) every evidence file the log cites. `ledger verify` prints what [`check`] finds; `ledger backup` and `ledger restore`
//! refuse a copy for which [`FileCheck::failures`] is not empty.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::audit::schedule::{self, KeySource, ScheduleReport, TrustedKey};
use crate::audit::seals::{self, SnapshotsReport};
use crate::store::{ChainReport, EventStore, Progress, SqliteStore};

/// What the audit part of `ledger verify` found beyond the chain.
pub struct AuditOutcome {
    pub root: ledger_schemas::integrity::Digest,
    pub key: Option<TrustedKey>,
    pub checkpoints: usize,
    pub faults: Vec<String>,
    pub schedule: ScheduleReport,
    pub against: Option<Result<u64, String>>,
    pub snapshots: SnapshotsReport,
    pub warnings: Vec<String>,
    /// With `--witness-key`: how far trusted witnesses cosigned the log (issue 21).
    pub witnesses: Option<crate::witness::verify::WitnessReport>,
    /// The cited evidence files, when an evidence store was given to check them in.
    pub evidence: Option<crate::audit::evidence::EvidenceReport>,
}

/// How `ledger verify` checks a ledger file beyond its chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// The auditor's own copy of the public key (default: the key beside the file).
    pub public_key: Option<&'a Path>,
    /// A checkpoint kept earlier, which the log must still extend.
    pub against: Option<&'a Path>,
    /// The schedule the server signed checkpoints by (default: the one the last checkpoint states).
    pub checkpoint_every: Option<u64>,
    /// Also compare each kept snapshot with a fold of the log from the first event.
    pub refold: bool,
    /// Accept the history only as far as checkpoints this many of these witness keys cosigned.
    pub witnesses: Option<(
        &'a [ledger_schemas::cosignature::WitnessVerifyingKey],
        usize,
    )>,
    /// Check that every evidence file the log cites is in this store and hashes to its digest.
    pub evidence: Option<&'a crate::evidence::EvidenceStore>,
}

/// What [`check`] found: the chain walk, the log's length, how long it took, and the rest.
pub struct FileCheck {
    pub report: ChainReport,
    pub total: u64,
    pub seconds: f64,
    pub audit: AuditOutcome,
    /// The log's Merkle tree and stored checkpoints as checked, and the key they were checked with,
    /// so that a caller can check against another checkpoint without reading the log again.
    pub tree: ledger_schemas::merkle::MerkleTree,
    pub checkpoints: Vec<(u64, String)>,
    pub key: Option<ledger_schemas::checkpoint::LogVerifyingKey>,
}

impl FileCheck {
    /// Whether the checked log extends `kept` (as `ledger verify --against` asks).
    pub fn extends(&self, kept: &ledger_schemas::checkpoint::Checkpoint) -> Result<u64, String> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| "没有公钥 (no public key to check it with)".to_owned())?;
        crate::audit::check_against(kept, &self.tree, &self.checkpoints, key)
            .map_err(|e| e.to_string())
    }

    /// Every failure, one line each; empty exactly when the file passes.
    pub fn failures(&self) -> Vec<String> {
        let (report, audit) = (&self.report, &self.audit);
        let mut failures = Vec::new();
        if let Some(broken) = &report.broken {
            failures.push(format!(
                "哈希链在第 {} 号事件 {} 处断裂 (the hash chain breaks at position {}, event {})",
                break_position(broken),
                break_id(broken),
                break_position(broken),
                break_id(broken)
            ));
        }
        failures.extend(audit.faults.iter().cloned());
        failures.extend(audit.schedule.missing.iter().map(ToString::to_string));
        if let Some(Err(why)) = &audit.against {
            failures.push(why.clone());
        }
        failures.extend(audit.snapshots.faults());
        if let Some(witnesses) = &audit.witnesses {
            failures.extend(witnesses.rewrites.iter().cloned());
            failures.extend(witnesses.invalid.iter().cloned());
        }
        if let Some(evidence) = &audit.evidence {
            failures.extend(evidence.failures());
        }
        failures
    }
}

/// Checks the ledger file at `path` as `options` say; `progress` draws a bar on standard error.
pub async fn check(
    path: &Path,
    options: VerifyOptions<'_>,
    progress: bool,
) -> anyhow::Result<FileCheck> {
    // Read the inputs given by the auditor first, so a bad file fails before the long walk.
    let trusted = crate::audit::trusted_key(path, options.public_key)?;
    let key = trusted.as_ref().map(|(key, _)| key);
    let kept = options
        .against
        .map(|file| {
            let note = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "无法读取检查点 {0} (cannot read the checkpoint {0})",
                    file.display()
                )
            })?;
            ledger_schemas::checkpoint::Checkpoint::from_note(&note)
                .with_context(|| format!("{}", file.display()))
        })
        .transpose()?;
    if options.checkpoint_every == Some(0) {
        anyhow::bail!(
            "--checkpoint-every 须为正整数 (must be at least 1): 服务签署检查点的间隔 (the interval the server signed checkpoints at)"
        );
    }
    let (report, total, seconds, audit, tree, checkpoints) = async {
        let store = SqliteStore::open_existing(path)?;
        let total = store.state().await?.head_position;
        let counter = Progress::new();
        let bar = bar(
            total,
            progress,
            "校验 verifying {bar:40} {pos}/{len} ({per_sec}, 剩余 eta {eta})",
        );
        let ticker = {
            let (bar, progress) = (bar.clone(), counter.clone());
            tokio::spawn(async move {
                loop {
                    bar.set_position(progress.get());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let started = Instant::now();
        let report = store.verify_chain(counter.clone()).await;
        let snapshot = store.audit_snapshot().await;
        let entries = EventStore::list_snapshots(&store).await;
        let seconds = started.elapsed().as_secs_f64();
        ticker.abort();
        bar.set_position(counter.get());
        bar.finish_and_clear();
        let (snapshot, entries) = match (snapshot, entries) {
            (Ok(snapshot), Ok(entries)) => (snapshot, entries),
            (Err(e), _) | (_, Err(e)) => {
                store.close().await;
                return Err(e.into());
            }
        };
        let evidence = match options.evidence {
            Some(evidence) => match check_evidence(&store, evidence, progress).await {
                Ok(report) => Some(report),
                Err(e) => {
                    store.close().await;
                    return Err(e);
                }
            },
            None => None,
        };
        let mut snapshots = seals::check(&entries, &snapshot.event_hashes, key);
        if options.refold {
            let refolded = seals::refold(&store, &entries, &mut snapshots).await;
            if let Err(e) = refolded {
                store.close().await;
                return Err(e.context("无法重新折叠日志 (cannot fold the log again)"));
            }
        }
        store.close().await;
        // The chain walk recomputed every hash and compared it with the stored one, so when it is
        // intact the stored hashes are the recomputed ones and the tree over them is the log's.
        let tree = ledger_schemas::merkle::MerkleTree::from_event_hashes(&snapshot.event_hashes);
        let mut faults = Vec::new();
        match key {
            Some(key) => faults.extend(
                crate::audit::check_checkpoints(&tree, &snapshot.checkpoints, key)
                    .iter()
                    .map(ToString::to_string),
            ),
            None if !snapshot.checkpoints.is_empty() => faults.push(format!(
                "没有公钥，无法校验 {} 个检查点：请用 --public-key (no public key to check the {} checkpoints with: pass --public-key)",
                snapshot.checkpoints.len(),
                snapshot.checkpoints.len()
            )),
            None => {}
        }
        let against = match (&kept, key) {
            (Some(kept), Some(key)) => Some(
                crate::audit::check_against(kept, &tree, &snapshot.checkpoints, key)
                    .map_err(|e| e.to_string()),
            ),
            (Some(_), None) => Some(Err(
                "没有公钥，无法比较保存的检查点 (no public key to check the kept checkpoint with)"
                    .to_owned(),
            )),
            (None, _) => None,
        };
        let schedule = schedule::check(
            &tree,
            &snapshot.checkpoints,
            key,
            options.checkpoint_every,
        );
        let mut warnings = schedule.warnings(tree.len());
        if let Some((key, described)) = &trusted
            && described.source == KeySource::BesideLedger
        {
            warnings.extend(schedule::key_changed_after_signing(
                &crate::audit::key_path(path),
                &snapshot.checkpoints,
                key,
            ));
        }
        let witnesses = options.witnesses.map(|(keys, quorum)| {
            crate::witness::verify::check(
                &tree,
                &snapshot.checkpoints,
                &snapshot.cosignatures,
                keys,
                quorum,
            )
        });
        let audit = AuditOutcome {
            evidence,
            witnesses,
            root: tree.current_root(),
            key: trusted.as_ref().map(|(_, described)| described.clone()),
            checkpoints: snapshot.checkpoints.len(),
            faults,
            schedule,
            against,
            snapshots,
            warnings,
        };
        Ok::<_, anyhow::Error>((report?, total, seconds, audit, tree, snapshot.checkpoints))
    }
    .await?;
    Ok(FileCheck {
        report,
        total,
        seconds,
        audit,
        tree,
        checkpoints,
        key: trusted.map(|(key, _)| key),
    })
}

/// A progress bar of `len` on standard error when `progress`, else hidden.
fn bar(len: u64, progress: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar
}

/// Reads the log once more for the files its events cite, and checks each in `evidence`, with a
/// bar of bytes read when `progress`. The chain walk does not decode payloads (it hashes their
/// bytes), so this is a pass of its own, and decodes only the event types that cite files.
async fn check_evidence(
    store: &SqliteStore,
    evidence: &crate::evidence::EvidenceStore,
    progress: bool,
) -> anyhow::Result<crate::audit::evidence::EvidenceReport> {
    use futures_util::TryStreamExt as _;
    let mut citations = crate::audit::evidence::Citations::default();
    let mut pages = std::pin::pin!(store.stream_pages(0, 4096));
    while let Some(page) = pages.try_next().await? {
        page.iter().for_each(|envelope| citations.add(envelope));
    }
    let bytes: u64 = citations.distinct().values().sum();
    let bar = bar(
        bytes,
        progress,
        "佐证材料 evidence {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, 剩余 eta {eta})",
    );
    let report = crate::audit::evidence::check_store(citations, evidence, &bar).await;
    bar.finish_and_clear();
    Ok(report)
}

/// The position of the first event that does not fit the chain.
pub fn break_position(broken: &ledger_schemas::integrity::ChainBreak) -> u64 {
    use ledger_schemas::integrity::ChainBreak::*;
    match broken {
        HashMismatch { position, .. }
        | Unlinked { position, .. }
        | PositionGap { position, .. }
        | BackDated { position, .. } => *position,
    }
}

/// The id of the first event that does not fit the chain.
pub fn break_id(broken: &ledger_schemas::integrity::ChainBreak) -> uuid::Uuid {
    use ledger_schemas::integrity::ChainBreak::*;
    match broken {
        HashMismatch { event_id, .. }
        | Unlinked { event_id, .. }
        | PositionGap { event_id, .. }
        | BackDated { event_id, .. } => *event_id,
    }
}
