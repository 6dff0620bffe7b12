//! What an audit checks about the read-model snapshots kept beside the log (`projection_snapshots`).
//!
//! A snapshot is derived data outside the hash chain, but the read side starts from it, so a forged
//! one would serve forged standings while the chain still verifies (issue 14). Each is sealed by the
//! ledger's key (`ledger_schemas::seal`); [`check`] verifies every seal under the key the audit
//! trusts and that the event hash each records is the log's at its position; [`refold`]
//! (`ledger verify --refold`) also folds the log from the first event and compares each snapshot
//! of today's projection code with the fold at its position, byte for byte, which needs no key at
//! all and catches even a snapshot forged by whoever holds the key.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;
use ledger_projections::read::{PROJECTION_CODE_VERSION, ReadModel, Snapshot};
use ledger_schemas::checkpoint::LogVerifyingKey;
use ledger_schemas::integrity::Digest;
use ledger_schemas::seal::{SnapshotSeal, content_digest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::store::{EventStore, SnapshotEntry};

/// What was found about one kept snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotCheck {
    /// The projection code version that folded it.
    pub code_version: u32,
    /// The position of the last event folded into it.
    pub position: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Of today's projection code version: the only ones a read side would start from (others are
    /// never used, and deleted when snapshots are next kept).
    pub current: bool,
    /// Whether it holds: sealed by the trusted key, of this log, and (when compared) equal to a fold.
    pub valid: bool,
    /// Why it does not hold, naming it.
    pub fault: Option<String>,
    /// With `--refold`: whether its bytes are a fresh fold's at its position (`None`: not compared).
    pub equals_fold: Option<bool>,
}

/// What was found about the snapshots kept beside the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotsReport {
    /// How many were checked (every row of the table).
    pub checked: usize,
    /// How many hold.
    pub valid: usize,
    /// Whether each of today's code version was also compared with a fold of the log.
    pub refolded: bool,
    /// Each, by code version then position.
    pub entries: Vec<SnapshotCheck>,
}

impl SnapshotsReport {
    /// The faults, one line each.
    pub fn faults(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| e.fault.clone())
            .collect()
    }

    fn fail(&mut self, index: usize, why: String) {
        let entry = &mut self.entries[index];
        if entry.valid {
            self.valid -= 1;
        }
        entry.valid = false;
        let named = format!(
            "位置 {0} 的读模型快照 (投影代码第 {1} 版) 不可信, 不会被使用 (the read-model snapshot at position {0}, code version {1}, does not hold and is never used): {why}",
            entry.position, entry.code_version
        );
        entry.fault = Some(match entry.fault.take() {
            Some(earlier) => format!("{earlier}; {why}"),
            None => named,
        });
    }
}

/// Checks every kept snapshot's seal under `key` and its recorded event hash against the log's
/// (`event_hashes`, by position from 1). Without a key no seal can be checked, and each snapshot
/// is at fault: the program keeps none without a key.
pub fn check(
    entries: &[SnapshotEntry],
    event_hashes: &[Digest],
    key: Option<&LogVerifyingKey>,
) -> SnapshotsReport {
    let mut report = SnapshotsReport {
        checked: entries.len(),
        valid: entries.len(),
        refolded: false,
        entries: entries
            .iter()
            .map(|e| SnapshotCheck {
                code_version: e.code_version,
                position: e.position,
                size: e.size,
                current: e.code_version == PROJECTION_CODE_VERSION,
                valid: true,
                fault: None,
                equals_fold: None,
            })
            .collect(),
    };
    for (index, entry) in entries.iter().enumerate() {
        let sealed = match key {
            None => Err(
                "没有密钥核对其封印 (no key to check its seal with): 程序在没有密钥时不保存快照 (the program keeps none without a key)"
                    .to_owned(),
            ),
            Some(key) => SnapshotSeal::from_bytes(&entry.seal)
                .and_then(|seal| seal.verify(key, &entry.subject()))
                .map_err(|e| e.to_string()),
        };
        if let Err(why) = sealed {
            report.fail(index, why);
        }
        let logged = usize::try_from(entry.position)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .and_then(|i| event_hashes.get(i));
        match logged {
            None => report.fail(
                index,
                format!(
                    "日志只有 {0} 个事件 (the log holds {0} events, none at its position)",
                    event_hashes.len()
                ),
            ),
            Some(hash) if *hash != entry.event_hash => report.fail(
                index,
                format!(
                    "不属于本日志: 该位置事件的哈希为 {hash}, 快照所记为 {} (not of this log: the event there has hash {hash}, the snapshot records {})",
                    entry.event_hash, entry.event_hash
                ),
            ),
            Some(_) => {}
        }
    }
    report
}

/// Folds the log of `store` from its first event and compares each kept snapshot of today's code
/// version with the fold at its position: its bytes must be those of the state alone or of the
/// whole model there (both encodings are deterministic), by SHA-256. Costs a fold of the log up
/// to the last snapshot and an encoding per snapshot: about as long as `ledger rebuild`.
pub async fn refold<S: EventStore>(
    store: &S,
    entries: &[SnapshotEntry],
    report: &mut SnapshotsReport,
) -> anyhow::Result<()> {
    report.refolded = true;
    let mut targets: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.code_version == PROJECTION_CODE_VERSION && entry.position > 0 {
            targets.entry(entry.position).or_default().push(index);
        }
    }
    let Some(&last) = targets.keys().next_back() else {
        return Ok(());
    };
    // No in-memory checkpoints: only the fold's state at each target is needed.
    let mut model = ReadModel::with_checkpoints_every(u64::MAX);
    let mut pages = store.read_pages(0, 4096);
    'log: while let Some(page) = pages.next().await {
        for envelope in page? {
            let event = envelope.decode()?;
            model.apply(&envelope, &event)?;
            let position = envelope.position;
            if let Some(indices) = targets.remove(&position) {
                compare(&model, entries, &indices, report);
            }
            if position >= last {
                break 'log;
            }
        }
    }
    for indices in targets.into_values() {
        for index in indices {
            report.entries[index].equals_fold = Some(false);
            report.fail(
                index,
                "日志在其位置之前结束, 无法比较 (the log ends before its position: nothing to compare it with)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Compares the snapshots at `indices` (all at the model's position) with the model.
fn compare(
    model: &ReadModel,
    entries: &[SnapshotEntry],
    indices: &[usize],
    report: &mut SnapshotsReport,
) {
    let state = content_digest(
        &Snapshot {
            code_version: PROJECTION_CODE_VERSION,
            position: model.position(),
            state: model.state().clone(),
        }
        .encode(),
    );
    let mut whole = None;
    for &index in indices {
        let content = entries[index].content;
        let equal = content == state
            || content == *whole.get_or_insert_with(|| content_digest(&model.encode_stored()));
        report.entries[index].equals_fold = Some(equal);
        if !equal {
            report.fail(
                index,
                format!(
                    "内容与从头折叠日志至第 {0} 号事件的结果不同 (its content differs from a fold of the log up to position {0}): 读模型快照被改动过 (the snapshot was changed)",
                    model.position()
                ),
            );
        }
    }
}
