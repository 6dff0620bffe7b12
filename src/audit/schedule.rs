//! What an audit can say about the checkpoints that are *not* there, and about the key it trusted.
//!
//! The server signs a checkpoint at every multiple of `--checkpoint-every` (`super::auto`), and every
//! checkpoint the program signs states that schedule under its signature (`every N`, see
//! `ledger_schemas::checkpoint`): its signer made sure every multiple of N up to its size had a
//! checkpoint first. So a multiple below a valid checkpoint that vouches for it, and absent from the
//! file, was **deleted** ([`MissingCheckpoint`], a fault). Past the last valid checkpoint nothing
//! signed vouches for anything: multiples of the schedule there are only **absent** (no server ran
//! while those events were written, or they were deleted together with every later checkpoint: no
//! one can tell which), and the events there are covered by no signature at all. Both are warnings
//! with their numbers, so that an auditor knows how much of the log rests on nothing but the file.
//!
//! The schedule for the absent ones is the one the auditor gives (`ledger verify --checkpoint-every`),
//! else the one the last valid checkpoint states, else the server's default ([`super::DEFAULT_EVERY`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use ledger_schemas::checkpoint::{Checkpoint, LogVerifyingKey};
use ledger_schemas::merkle::MerkleTree;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the schedule of the absent checkpoints came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleSource {
    /// Given by the auditor (`ledger verify --checkpoint-every N`).
    Given,
    /// Stated under the signature of the last valid checkpoint.
    Signed,
    /// The server's default, for lack of either.
    Default,
}

/// A checkpoint a valid, later checkpoint vouches for that the file does not hold: it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MissingCheckpoint {
    /// The size of the absent checkpoint.
    pub size: u64,
    /// The smallest valid checkpoint whose signed schedule includes it.
    pub vouched_by: u64,
    /// That checkpoint's schedule.
    pub every: u64,
}

impl std::fmt::Display for MissingCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "大小为 {0} 的检查点缺失: 大小为 {1} 的检查点签名声明其按每 {2} 个事件签署时它已存在, 故是被删除的 (the checkpoint of size {0} is missing: the checkpoint of size {1} states under its signature that it was signed every {2} events with this one present, so it was deleted)",
            self.size, self.vouched_by, self.every
        )
    }
}

/// What is known about the checkpoints the file lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleReport {
    /// Deleted checkpoints (faults), smallest first.
    pub missing: Vec<MissingCheckpoint>,
    /// The schedule the absent ones were looked for by, and where it came from.
    pub every: u64,
    pub every_source: ScheduleSource,
    /// Multiples of `every` up to the head that no checkpoint covers and none vouches for (a
    /// warning: never signed, or deleted with everything after), smallest first.
    pub absent: Vec<u64>,
    /// The size of the largest checkpoint that verifies and agrees with the log; `None` if none.
    pub last_checkpoint: Option<u64>,
    /// Events after it (all of them when there is none): no signature covers them.
    pub events_past_last: u64,
}

impl ScheduleReport {
    /// The warnings for people: the absent checkpoints and the events past the last one.
    pub fn warnings(&self, log_size: u64) -> Vec<String> {
        let mut out = Vec::new();
        if !self.absent.is_empty() {
            let source = match self.every_source {
                ScheduleSource::Given => {
                    "按给定的 --checkpoint-every (as given by --checkpoint-every)"
                }
                ScheduleSource::Signed => {
                    "按最后一个检查点签名所记 (as the last checkpoint states under its signature)"
                }
                ScheduleSource::Default => "按服务的默认间隔 (the server's default)",
            };
            out.push(format!(
                "按每 {every} 个事件的计划, {n} 个检查点不存在 (by the schedule of every {every} events, {source}, {n} checkpoints are absent): {list}; 没有签名的检查点为它们担保: 或是签署时没有服务在运行, 或是连同其后的检查点一起被删除 (no signed checkpoint vouches for them: either no server ran while those events were written, or they were deleted with every later checkpoint)",
                every = self.every,
                n = self.absent.len(),
                list = sizes(&self.absent),
            ));
        }
        if self.events_past_last > 0 {
            let first = log_size - self.events_past_last + 1;
            out.push(match self.last_checkpoint {
                Some(last) => format!(
                    "{n} 个事件 (第 {first}–{log_size} 号) 在最后一个有效检查点 (大小 {last}) 之后, 没有任何签名覆盖: 它们可被改写或删去而不留痕迹; 请持有密钥者签署检查点 (`ledger audit checkpoint`), 并保存一份用于 --against ({n} events, positions {first}–{log_size}, lie past the last valid checkpoint, of size {last}: no signature covers them, so they could be rewritten or dropped without trace; have the key holder sign one with `ledger audit checkpoint`, and keep a copy for --against)",
                    n = self.events_past_last,
                ),
                None => format!(
                    "没有有效的检查点: 全部 {n} 个事件没有任何签名覆盖 (there is no valid checkpoint: none of the {n} events is covered by a signature)",
                    n = self.events_past_last,
                ),
            });
        }
        out
    }
}

/// Sizes as a short list for people: `1000, 2000, 3000`.
pub fn sizes(list: &[u64]) -> String {
    list.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Looks for the checkpoints that should be there and are not (see the module docs). `key`
/// decides which checkpoints are valid (only those vouch, and only they count as the last); without
/// one, none is, and every event is past the last. `given` is the auditor's schedule.
pub fn check(
    tree: &MerkleTree,
    checkpoints: &[(u64, String)],
    key: Option<&LogVerifyingKey>,
    given: Option<u64>,
) -> ScheduleReport {
    let stored: BTreeSet<u64> = checkpoints.iter().map(|(size, _)| *size).collect();
    let valid: Vec<Checkpoint> = key
        .map(|key| {
            checkpoints
                .iter()
                .filter_map(|(size, note)| {
                    Checkpoint::from_note(note)
                        .ok()
                        .filter(|c| c.tree_size() == *size && c.verify(key).is_ok())
                        .filter(|c| tree.root(c.tree_size()).ok() == Some(*c.root_hash()))
                })
                .collect()
        })
        .unwrap_or_default();
    // The valid checkpoints' sizes by the schedule they state, smallest first.
    let mut by_schedule: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for checkpoint in &valid {
        if let Some(every) = checkpoint.schedule() {
            by_schedule
                .entry(every.get())
                .or_default()
                .push(checkpoint.tree_size());
        }
    }
    // Each size a valid checkpoint vouches for, with the smallest such checkpoint: one pass over
    // the multiples of each schedule (not one per checkpoint, which would be quadratic).
    let mut vouched: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (&every, vouchers) in &mut by_schedule {
        vouchers.sort_unstable();
        let largest = *vouchers.last().expect("a schedule has a checkpoint");
        for size in (1..=largest / every).map(|k| k * every) {
            let voucher = vouchers[vouchers.partition_point(|&s| s < size)];
            vouched
                .entry(size)
                .and_modify(|v| {
                    if voucher < v.0 {
                        *v = (voucher, every);
                    }
                })
                .or_insert((voucher, every));
        }
    }
    let missing: Vec<MissingCheckpoint> = vouched
        .iter()
        .filter(|(size, _)| !stored.contains(size))
        .map(|(&size, &(vouched_by, every))| MissingCheckpoint {
            size,
            vouched_by,
            every,
        })
        .collect();
    let last = valid.iter().map(Checkpoint::tree_size).max();
    let (every, every_source) = match (given, valid.iter().max_by_key(|c| c.tree_size())) {
        (Some(n), _) => (n.max(1), ScheduleSource::Given),
        (None, Some(c)) if c.schedule().is_some() => {
            (c.schedule().map_or(1, |n| n.get()), ScheduleSource::Signed)
        }
        _ => (super::DEFAULT_EVERY, ScheduleSource::Default),
    };
    let head = tree.len();
    let absent = (1..=head / every)
        .map(|k| k * every)
        .filter(|size| !stored.contains(size) && !vouched.contains_key(size))
        .collect();
    ScheduleReport {
        missing,
        every,
        every_source,
        absent,
        last_checkpoint: last,
        events_past_last: head - last.unwrap_or(0).min(head),
    }
}

/// Where the key an audit trusted came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// `FILE.key` beside the ledger: whoever can replace the file can replace it.
    BesideLedger,
    /// The auditor's own copy (`ledger verify --public-key FILE`).
    PublicKeyOption,
}

/// The key an audit trusted: which one, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TrustedKey {
    /// The log's name the key signs for.
    pub origin: String,
    /// Its C2SP key id (8 hex digits): compare it with the one you were given.
    pub key_id: String,
    /// The whole public key as a signed-note verifier string.
    pub verifier: String,
    pub source: KeySource,
    /// The file it was read from (`None` from the API, which does not show the server's paths).
    pub path: Option<String>,
}

impl TrustedKey {
    pub fn new(key: &LogVerifyingKey, source: KeySource, path: Option<&Path>) -> Self {
        Self {
            origin: key.origin().to_string(),
            key_id: key.key_id().to_hex(),
            verifier: key.to_note_verifier(),
            source,
            path: path.map(|p| p.display().to_string()),
        }
    }

    /// One line for people: which key, from where, and what that means.
    pub fn describe(&self) -> String {
        let path = self.path.as_deref().unwrap_or("FILE.key");
        match self.source {
            KeySource::BesideLedger => format!(
                "信任的密钥 trusted key: {} (密钥号 key id {}), 取自账本旁的 {} (from beside the ledger file); 能替换账本文件的人也能替换它: 请与交给您的公钥核对密钥号, 或用 --public-key 指定 (whoever can replace the ledger file can replace it too: compare the key id with the public key you were given, or pass it with --public-key)",
                self.origin, self.key_id, path
            ),
            KeySource::PublicKeyOption => format!(
                "信任的密钥 trusted key: {} (密钥号 key id {}), 取自审计者给定的 {} (the auditor's own, from --public-key)",
                self.origin, self.key_id, path
            ),
        }
    }
}

/// A warning when the key file beside the ledger changed (its contents or its metadata: the later
/// of its modification and status-change times) after the earliest checkpoint it verifies was
/// signed. The program writes a key once, before it signs anything, so this is either a copy or
/// restore of the file (which resets those times) or a replaced key with the checkpoints re-signed:
/// only a public key kept elsewhere tells which, and the warning says so.
pub fn key_changed_after_signing(
    key_file: &Path,
    checkpoints: &[(u64, String)],
    key: &LogVerifyingKey,
) -> Option<String> {
    let meta = std::fs::metadata(key_file).ok()?;
    let changed = changed_at(&meta)?;
    let earliest = checkpoints
        .iter()
        .filter_map(|(_, note)| Checkpoint::from_note(note).ok())
        .filter(|c| c.verify(key).is_ok())
        .min_by_key(Checkpoint::timestamp)?;
    (changed > earliest.timestamp()).then(|| {
        format!(
            "密钥文件 {path} 最后改动于 {changed}, 晚于它所验证的最早检查点 (大小 {size}) 的签署时间 {signed}: 本程序只写一次密钥, 且在签署之前; 这是文件被复制或恢复过, 或是密钥被替换且检查点被重签; 只有另存的公钥能分辨, 请用 --public-key 核对 (the key file {path} last changed at {changed}, after the earliest checkpoint it verifies, of size {size}, was signed at {signed}: the program writes a key once, before signing anything, so either the file was copied or restored, or the key was replaced and the checkpoints re-signed; only a public key kept elsewhere tells which: check with --public-key)",
            path = key_file.display(),
            changed = changed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            size = earliest.tree_size(),
            signed = earliest
                .timestamp()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
    })
}

/// The later of a file's modification and status-change times (the latter cannot be set back by
/// an ordinary user, unlike the former).
fn changed_at(meta: &std::fs::Metadata) -> Option<DateTime<Utc>> {
    let modified: DateTime<Utc> = meta.modified().ok()?.into();
    #[cfg(unix)]
    let modified = {
        use std::os::unix::fs::MetadataExt as _;
        let nanos = u32::try_from(meta.ctime_nsec()).unwrap_or(0);
        DateTime::<Utc>::from_timestamp(meta.ctime(), nanos).map_or(modified, |s| s.max(modified))
    };
    Some(modified)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use chrono::TimeZone as _;
    use ledger_schemas::checkpoint::{LogSigningKey, Origin};
    use ledger_schemas::integrity::Digest;

    use super::*;

    fn key() -> LogSigningKey {
        LogSigningKey::from_seed(Origin::new("ledger/test").unwrap(), &[3; 32])
    }

    fn tree(n: u64) -> MerkleTree {
        let hashes: Vec<Digest> = (0..n).map(|i| Digest([i as u8; 32])).collect();
        MerkleTree::from_event_hashes(&hashes)
    }

    fn note(tree: &MerkleTree, size: u64, every: Option<u64>) -> (u64, String) {
        let time = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let root = tree.root(size).unwrap();
        let checkpoint = match every.and_then(NonZeroU64::new) {
            Some(every) => Checkpoint::sign_scheduled(&key(), size, root, time, every),
            None => Checkpoint::sign(&key(), size, root, time),
        };
        (size, checkpoint.to_note())
    }

    /// Deleted multiples below a checkpoint that vouches for them are missing (named with their
    /// voucher); multiples past the last valid checkpoint are only absent, by its signed schedule;
    /// the events past it are counted.
    #[test]
    fn deleted_checkpoints_are_missing_and_the_tail_is_absent() {
        let tree = tree(95);
        let stored = vec![
            note(&tree, 10, Some(10)),
            note(&tree, 30, Some(10)),
            note(&tree, 45, Some(10)),
        ];
        let report = check(&tree, &stored, Some(&key().verifying_key()), None);
        assert_eq!(
            report.missing,
            vec![
                MissingCheckpoint {
                    size: 20,
                    vouched_by: 30,
                    every: 10
                },
                MissingCheckpoint {
                    size: 40,
                    vouched_by: 45,
                    every: 10
                },
            ]
        );
        assert_eq!(
            (report.every, report.every_source),
            (10, ScheduleSource::Signed)
        );
        assert_eq!(report.absent, vec![50, 60, 70, 80, 90]);
        assert_eq!(report.last_checkpoint, Some(45));
        assert_eq!(report.events_past_last, 50);
        let warnings = report.warnings(95).join("\n");
        assert!(
            warnings.contains("5 checkpoints are absent): 50, 60, 70, 80, 90"),
            "{warnings}"
        );
        assert!(
            warnings.contains("50 events, positions 46–95"),
            "{warnings}"
        );
    }

    /// Old four-line checkpoints vouch for nothing: absences are warnings by the default schedule or
    /// the one given; without a key no checkpoint is valid and every event is past the last.
    #[test]
    fn without_a_signed_schedule_or_a_key_nothing_is_vouched_for() {
        let tree = tree(2500);
        let stored = vec![note(&tree, 2000, None)];
        let key = key().verifying_key();
        let report = check(&tree, &stored, Some(&key), None);
        assert!(report.missing.is_empty());
        assert_eq!(report.every_source, ScheduleSource::Default);
        assert_eq!(report.absent, vec![1000]);
        assert_eq!(report.events_past_last, 500);
        let given = check(&tree, &stored, Some(&key), Some(500));
        assert_eq!(given.every_source, ScheduleSource::Given);
        assert_eq!(given.absent, vec![500, 1000, 1500, 2500]);
        let keyless = check(&tree, &stored, None, None);
        assert_eq!(
            (keyless.last_checkpoint, keyless.events_past_last),
            (None, 2500)
        );
    }
}
