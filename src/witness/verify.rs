//! Which checkpoints trusted witnesses cosigned, and how far the log is witnessed: verification
//! that trusts only the keys an auditor holds (`ledger verify --witness-key VKEY --quorum N`).
//!
//! A checkpoint is **witnessed** when at least `quorum` distinct trusted witness keys cosigned it
//! (their cosignatures verify over its text) and the log still gives its root at its size. The
//! history is accepted up to the largest witnessed checkpoint; the events after it are reported as
//! not witnessed. A checkpoint that some trusted witness cosigned but whose root the log no longer
//! gives is a **rewrite** of what the witnesses saw, named by its size; a cosignature stored under
//! a checkpoint that does not verify (its checkpoint was changed after cosigning, or forged) is
//! named as invalid. Cosignatures by keys the auditor did not name are ignored.

use ledger_schemas::checkpoint::Checkpoint;
use ledger_schemas::cosignature::{Cosignature, WitnessVerifyingKey};
use ledger_schemas::merkle::MerkleTree;
use serde::Serialize;

use crate::store::sqlite::StoredCosignature;

/// One checkpoint's cosignatures, as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointWitnesses {
    pub tree_size: u64,
    /// The trusted witnesses whose cosignature verifies, by name, with the time they cosigned.
    pub cosigned_by: Vec<(String, u64)>,
    /// Whether the log still gives this checkpoint's root at its size.
    pub matches_log: bool,
    pub witnessed: bool,
}

/// What a witnessed verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessReport {
    pub quorum: usize,
    pub log_size: u64,
    /// The largest witnessed checkpoint's size (0: none).
    pub witnessed_size: u64,
    /// Events after the witnessed size: recorded, perhaps signed, but seen by no quorum.
    pub not_witnessed: u64,
    pub checkpoints: Vec<CheckpointWitnesses>,
    /// Checkpoints trusted witnesses cosigned whose root the log no longer gives.
    pub rewrites: Vec<String>,
    /// Stored cosignatures by trusted keys that do not verify.
    pub invalid: Vec<String>,
}

impl WitnessReport {
    /// Whether nothing is wrong: no rewrite, no invalid cosignature. (Unwitnessed events are not a
    /// fault in themselves: witnessing lags signing; the report says how many there are.)
    pub fn clean(&self) -> bool {
        self.rewrites.is_empty() && self.invalid.is_empty()
    }
}

/// The trusted, valid cosigners of `checkpoint` among `lines`, and the invalid ones named.
pub fn cosigners(
    checkpoint: &Checkpoint,
    lines: &[&StoredCosignature],
    keys: &[WitnessVerifyingKey],
) -> (Vec<(String, u64)>, Vec<String>) {
    let body = checkpoint.signed_message();
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for stored in lines {
        let Ok(cosignature) = Cosignature::from_line(&stored.line) else {
            invalid.push(format!(
                "大小为 {} 的检查点上的联署行无法解析 (a cosignature line on the checkpoint of size {} cannot be read): {:?}",
                checkpoint.tree_size(),
                checkpoint.tree_size(),
                stored.line
            ));
            continue;
        };
        let Some(key) = keys
            .iter()
            .find(|k| k.name() == cosignature.name() && k.key_id() == cosignature.key_id())
        else {
            continue; // a witness the auditor does not trust
        };
        match key.verify(&cosignature, &body) {
            Ok(()) => {
                let name = key.name().to_string();
                if !valid.iter().any(|(n, _)| *n == name) {
                    valid.push((name, cosignature.time()));
                }
            }
            Err(e) => invalid.push(format!(
                "大小为 {} 的检查点 (the checkpoint of size {}): {e}",
                checkpoint.tree_size(),
                checkpoint.tree_size()
            )),
        }
    }
    (valid, invalid)
}

/// Checks every stored checkpoint's cosignatures against `keys` and the log's tree.
pub fn check(
    tree: &MerkleTree,
    checkpoints: &[(u64, String)],
    cosignatures: &[StoredCosignature],
    keys: &[WitnessVerifyingKey],
    quorum: usize,
) -> WitnessReport {
    let mut report = WitnessReport {
        quorum,
        log_size: tree.len(),
        witnessed_size: 0,
        not_witnessed: 0,
        checkpoints: Vec::new(),
        rewrites: Vec::new(),
        invalid: Vec::new(),
    };
    for (size, note) in checkpoints {
        let lines = super::client::stored_for(cosignatures, *size);
        let Ok(checkpoint) = Checkpoint::from_note(note) else {
            continue; // `ledger verify` names an unreadable checkpoint already
        };
        let (valid, invalid) = cosigners(&checkpoint, &lines, keys);
        report.invalid.extend(invalid);
        let matches_log = tree.root(*size).ok().as_ref() == Some(checkpoint.root_hash());
        if !valid.is_empty() && !matches_log {
            let names: Vec<&str> = valid.iter().map(|(n, _)| n.as_str()).collect();
            report.rewrites.push(format!(
                "改写：见证人 {} 联署的大小为 {size} 的检查点（根 {}）与现在的日志不符 (rewrite: the checkpoint of size {size}, root {}, cosigned by {}, is not what the log now gives)",
                names.join(", "),
                checkpoint.root_hash(),
                checkpoint.root_hash(),
                names.join(", ")
            ));
        }
        let witnessed = quorum > 0 && valid.len() >= quorum && matches_log;
        if witnessed {
            report.witnessed_size = report.witnessed_size.max(*size);
        }
        report.checkpoints.push(CheckpointWitnesses {
            tree_size: *size,
            cosigned_by: valid,
            matches_log,
            witnessed,
        });
    }
    // Cosignatures by trusted keys kept for a checkpoint the ledger no longer has: the checkpoint
    // the witnesses saw was deleted (they cannot be checked without it, but they are evidence).
    for c in cosignatures {
        let trusted = keys
            .iter()
            .any(|k| k.name().as_str() == c.witness && k.key_id().to_hex() == c.key_id);
        if trusted && !checkpoints.iter().any(|(size, _)| *size == c.tree_size) {
            report.rewrites.push(format!(
                "删除：见证人 {} 联署过大小为 {} 的检查点，账本中已没有它 (deleted: witness {} cosigned the checkpoint of size {}, which the ledger no longer holds)",
                c.witness, c.tree_size, c.witness, c.tree_size
            ));
        }
    }
    report.not_witnessed = report.log_size.saturating_sub(report.witnessed_size);
    report
}

/// One stored cosignature as a server shows it beside its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub witness: String,
    pub key_id: String,
    pub time: u64,
    /// Whether it verifies under a witness key the server is configured with.
    pub valid: bool,
}

/// A stored checkpoint's cosignatures as a server shows them: each (valid under the configured
/// keys or not), the note with every cosignature line, and whether the quorum is met.
pub fn shown(
    tree_size: u64,
    note: &str,
    cosignatures: &[StoredCosignature],
    witnessing: Option<&super::Witnessing>,
) -> (Vec<Shown>, String, bool) {
    let lines = super::client::stored_for(cosignatures, tree_size);
    let keys = witnessing.map(super::Witnessing::keys).unwrap_or_default();
    let valid: Vec<String> = Checkpoint::from_note(note)
        .map(|c| cosigners(&c, &lines, &keys).0)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let quorum = witnessing.map_or(0, |w| w.quorum);
    let witnessed = quorum > 0 && valid.len() >= quorum;
    let list = lines
        .iter()
        .map(|c| Shown {
            witness: c.witness.clone(),
            key_id: c.key_id.clone(),
            time: c.time,
            valid: valid.contains(&c.witness)
                && keys
                    .iter()
                    .any(|k| k.name().as_str() == c.witness && k.key_id().to_hex() == c.key_id),
        })
        .collect();
    (list, super::client::with_lines(note, &lines), witnessed)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use ledger_schemas::checkpoint::{LogSigningKey, Origin};
    use ledger_schemas::cosignature::WitnessSigningKey;
    use ledger_schemas::integrity::Digest;

    use super::*;

    fn stored(size: u64, c: &Cosignature) -> StoredCosignature {
        StoredCosignature {
            tree_size: size,
            witness: c.name().to_string(),
            key_id: c.key_id().to_hex(),
            time: c.time(),
            line: c.to_line().trim_end().to_owned(),
        }
    }

    /// With two witnesses and quorum 2: the checkpoint both cosigned is witnessed, the one only
    /// one cosigned is not; the events past it are counted; a checkpoint re-signed with another
    /// root after cosigning makes its cosignatures invalid (named); a cosigned checkpoint the log
    /// no longer matches is a rewrite (named); an untrusted witness's cosignature counts for nothing.
    #[test]
    fn quorum_rewrites_and_invalid_cosignatures() {
        let log = LogSigningKey::from_seed(Origin::new("ledger/t").unwrap(), &[1; 32]);
        let w1 = WitnessSigningKey::from_seed(Origin::new("w1").unwrap(), &[2; 32]);
        let w2 = WitnessSigningKey::from_seed(Origin::new("w2").unwrap(), &[3; 32]);
        let stranger = WitnessSigningKey::from_seed(Origin::new("w3").unwrap(), &[4; 32]);
        let keys = [w1.verifying_key(), w2.verifying_key()];
        let hashes: Vec<Digest> = (1..=12u8).map(|i| Digest([i; 32])).collect();
        let tree = MerkleTree::from_event_hashes(&hashes);
        let sign = |size| Checkpoint::sign(&log, size, tree.root(size).unwrap(), Utc::now());
        let (c4, c8) = (sign(4), sign(8));
        let cos =
            |w: &WitnessSigningKey, c: &Checkpoint| w.cosign(&c.signed_message(), 100).unwrap();
        let checkpoints = vec![(4, c4.to_note()), (8, c8.to_note())];
        let mut cosignatures = vec![
            stored(4, &cos(&w1, &c4)),
            stored(4, &cos(&w2, &c4)),
            stored(8, &cos(&w1, &c8)),
            stored(8, &cos(&stranger, &c8)),
        ];
        let report = check(&tree, &checkpoints, &cosignatures, &keys, 2);
        assert_eq!((report.witnessed_size, report.not_witnessed), (4, 8));
        assert!(report.clean(), "{report:?}");
        assert_eq!(
            check(&tree, &checkpoints, &cosignatures, &keys, 1).witnessed_size,
            8
        );

        // The log rewritten below 8: the cosigned checkpoint of 8 no longer matches.
        let mut other = hashes.clone();
        other[5] = Digest([99; 32]);
        let rewritten = MerkleTree::from_event_hashes(&other);
        let report = check(&rewritten, &checkpoints, &cosignatures, &keys, 1);
        assert_eq!(report.witnessed_size, 4);
        assert!(
            report.rewrites[0].contains("size 8"),
            "{:?}",
            report.rewrites
        );

        // The checkpoint of 4 re-signed over another root: both cosignatures on it are invalid.
        let forged = Checkpoint::sign(&log, 4, Digest([7; 32]), Utc::now());
        let checkpoints = vec![(4, forged.to_note()), (8, c8.to_note())];
        cosignatures.truncate(3);
        let report = check(&tree, &checkpoints, &cosignatures, &keys, 2);
        assert_eq!(report.invalid.len(), 2, "{:?}", report.invalid);
        assert!(report.invalid[0].contains("w1"));
        assert_eq!(report.witnessed_size, 0);

        // The checkpoint of 8 deleted: its trusted cosignature is named, not silently dropped.
        let report = check(&tree, &checkpoints[..1], &cosignatures, &keys, 1);
        assert!(
            report
                .rewrites
                .iter()
                .any(|r| r.contains("w1 cosigned the checkpoint of size 8")),
            "{:?}",
            report.rewrites
        );
    }
}
