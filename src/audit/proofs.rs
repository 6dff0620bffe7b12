//! Proofs answered from an [`AuditSnapshot`]: the signed checkpoints as read, an inclusion proof of
//! one event against a checkpoint, a consistency proof between two checkpoints.
//!
//! The HTTP API (`GET /api/v1/audit/...`) calls these and only shapes the answer, so the Merkle
//! computation stays here and in `ledger_schemas::merkle`. Proofs are always taken against a
//! **signed** checkpoint, never against a root the server computed on the spot: an auditor must be
//! able to tie every root they are shown to the ledger's key.
//!
//! The tree is rebuilt from the snapshot's event hashes for each answer: O(n) SHA-256 over 32-byte
//! leaves, well under a second for a million events, and nothing cached that could disagree with
//! the file.

use chrono::{DateTime, Utc};
use ledger_schemas::checkpoint::Checkpoint;
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::{ConsistencyProof, InclusionProof, MerkleTree};

use crate::store::sqlite::AuditSnapshot;

/// A stored checkpoint, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub tree_size: u64,
    pub root: Digest,
    pub time: DateTime<Utc>,
    /// The signed note exactly as stored (C2SP signed-note text, signature line included).
    pub note: String,
}

/// An inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    /// The stored hash of the event at `position` (the leaf's data).
    pub event_hash: Digest,
    pub proof: InclusionProof,
    pub checkpoint: SignedCheckpoint,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consistency {
    pub proof: ConsistencyProof,
    pub old: SignedCheckpoint,
    pub new: SignedCheckpoint,
}

/// Why a proof cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofRefusal {
    /// The request itself is wrong (a position of 0, sizes in the wrong order).
    #[error("{0}")]
    Invalid(String),
    /// Nothing signed answers it (no checkpoint of that size, none covering the position).
    #[error("{0}")]
    NotFound(String),
    /// A stored checkpoint cannot be read, or lies beyond the log: `ledger verify` says more.
    #[error("{0}")]
    Damaged(String),
}

/// Every stored checkpoint, parsed, smallest size first.
pub fn checkpoints(snapshot: &AuditSnapshot) -> Result<Vec<SignedCheckpoint>, ProofRefusal> {
    snapshot
        .checkpoints
        .iter()
        .map(|(size, note)| parse(*size, note))
        .collect()
}

/// One stored checkpoint note, parsed.
pub fn parse(tree_size: u64, note: &str) -> Result<SignedCheckpoint, ProofRefusal> {
    let checkpoint = Checkpoint::from_note(note).map_err(|e| {
        ProofRefusal::Damaged(format!(
            "大小为 {tree_size} 的检查点无法解析，请运行 ledger verify (the checkpoint of size {tree_size} cannot be read; run ledger verify): {e}"
        ))
    })?;
    Ok(SignedCheckpoint {
        tree_size,
        root: *checkpoint.root_hash(),
        time: checkpoint.timestamp(),
        note: note.to_owned(),
    })
}

/// The stored checkpoint of exactly `tree_size`.
fn checkpoint_of(
    checkpoints: &[(u64, String)],
    tree_size: u64,
) -> Result<SignedCheckpoint, ProofRefusal> {
    let (_, note) = checkpoints
        .iter()
        .find(|(size, _)| *size == tree_size)
        .ok_or_else(|| {
            ProofRefusal::NotFound(format!(
                "没有大小为 {tree_size} 的已签名检查点 (there is no signed checkpoint of size {tree_size})"
            ))
        })?;
    parse(tree_size, note)
}

/// A log the proofs are computed over: its event hashes, the tree over them, and the signed
/// checkpoints. The HTTP API keeps the tree between requests and grows it with new events only.
#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    pub event_hashes: &'a [Digest],
    pub tree: &'a MerkleTree,
    pub checkpoints: &'a [(u64, String)],
    /// The witnesses' cosignatures kept beside the checkpoints.
    pub cosignatures: &'a [crate::store::sqlite::StoredCosignature],
}

impl AuditLog<'_> {
    /// Refuses a checkpoint the log does not reach (a truncated or replaced file: the proof could not
    /// be computed, and `ledger verify` names the fault).
    fn reaching(&self, size: u64) -> Result<(), ProofRefusal> {
        let log = self.event_hashes.len() as u64;
        if size > log {
            return Err(ProofRefusal::Damaged(format!(
                "大小为 {size} 的检查点超出日志（日志只有 {log} 个事件），请运行 ledger verify (the checkpoint of size {size} is beyond the log, which holds {log} events; run ledger verify)"
            )));
        }
        Ok(())
    }
}

/// The inclusion proof of the event at `position` (from 1) against the checkpoint of `tree_size`,
/// or, without one, against the latest checkpoint (the largest, which covers it if any does).
pub fn inclusion(
    snapshot: &AuditSnapshot,
    position: u64,
    tree_size: Option<u64>,
) -> Result<Inclusion, ProofRefusal> {
    let tree = MerkleTree::from_event_hashes(&snapshot.event_hashes);
    let log = AuditLog {
        event_hashes: &snapshot.event_hashes,
        tree: &tree,
        checkpoints: &snapshot.checkpoints,
        cosignatures: &snapshot.cosignatures,
    };
    inclusion_in(&log, position, tree_size)
}

/// [`inclusion`] over a log whose tree is already built.
pub fn inclusion_in(
    log: &AuditLog<'_>,
    position: u64,
    tree_size: Option<u64>,
) -> Result<Inclusion, ProofRefusal> {
    let snapshot = log;
    if position == 0 {
        return Err(ProofRefusal::Invalid(
            "position 从 1 起 (positions start at 1)".to_owned(),
        ));
    }
    let size = match tree_size {
        Some(size) => size,
        None => snapshot
            .checkpoints
            .last()
            .map(|(size, _)| *size)
            .filter(|size| *size >= position)
            .ok_or_else(|| {
                ProofRefusal::NotFound(format!(
                    "尚无覆盖第 {position} 号事件的已签名检查点 (no signed checkpoint covers position {position} yet)"
                ))
            })?,
    };
    if position > size {
        return Err(ProofRefusal::Invalid(format!(
            "第 {position} 号事件不在大小为 {size} 的树中 (position {position} is not in the tree of size {size})"
        )));
    }
    let checkpoint = checkpoint_of(snapshot.checkpoints, size)?;
    snapshot.reaching(size)?;
    let proof = snapshot
        .tree
        .inclusion_proof(position - 1, size)
        .map_err(|e| ProofRefusal::Invalid(e.to_string()))?;
    Ok(Inclusion {
        event_hash: snapshot.event_hashes[(position - 1) as usize],
        proof,
        checkpoint,
    })
}

/// The consistency proof from the checkpoint of size `old` to the checkpoint of size `new`.
pub fn consistency(
    snapshot: &AuditSnapshot,
    old: u64,
    new: u64,
) -> Result<Consistency, ProofRefusal> {
    let tree = MerkleTree::from_event_hashes(&snapshot.event_hashes);
    let log = AuditLog {
        event_hashes: &snapshot.event_hashes,
        tree: &tree,
        checkpoints: &snapshot.checkpoints,
        cosignatures: &snapshot.cosignatures,
    };
    consistency_in(&log, old, new)
}

/// [`consistency`] over a log whose tree is already built.
pub fn consistency_in(log: &AuditLog<'_>, old: u64, new: u64) -> Result<Consistency, ProofRefusal> {
    if old > new {
        return Err(ProofRefusal::Invalid(format!(
            "old ({old}) 不能大于 new ({new}) (old ({old}) must not exceed new ({new}))"
        )));
    }
    let old_checkpoint = checkpoint_of(log.checkpoints, old)?;
    let new_checkpoint = checkpoint_of(log.checkpoints, new)?;
    log.reaching(new)?;
    let proof = log
        .tree
        .consistency_proof(old, new)
        .map_err(|e| ProofRefusal::Invalid(e.to_string()))?;
    Ok(Consistency {
        proof,
        old: old_checkpoint,
        new: new_checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use ledger_schemas::checkpoint::{LogSigningKey, Origin};
    use ledger_schemas::merkle::{verify_consistency, verify_inclusion};

    use super::*;

    /// A log of `n` made-up event hashes with signed checkpoints at `sizes`.
    fn snapshot(n: u8, sizes: &[u64]) -> AuditSnapshot {
        let key = LogSigningKey::from_seed(Origin::new("ledger/test").unwrap(), &[7; 32]);
        let event_hashes: Vec<Digest> = (1..=n).map(|i| Digest([i; 32])).collect();
        let tree = MerkleTree::from_event_hashes(&event_hashes);
        let checkpoints = sizes
            .iter()
            .map(|&size| {
                let root = tree.root(size).unwrap();
                (
                    size,
                    Checkpoint::sign(&key, size, root, Utc::now()).to_note(),
                )
            })
            .collect();
        AuditSnapshot {
            event_hashes,
            checkpoints,
            public_key: None,
            cosignatures: Vec::new(),
        }
    }

    /// Every position's inclusion proof, against every checkpoint covering it and by default
    /// against the latest, verifies against that checkpoint's signed root; every pair of
    /// checkpoints in order has a consistency proof that verifies.
    #[test]
    fn every_proof_verifies_against_the_signed_roots() {
        let sizes = [1, 2, 3, 7, 8, 13, 20];
        let snap = snapshot(21, &sizes);
        for &size in &sizes {
            for position in 1..=size {
                let inc = inclusion(&snap, position, Some(size)).unwrap();
                verify_inclusion(
                    &snap.event_hashes[(position - 1) as usize],
                    position - 1,
                    size,
                    &inc.proof.path,
                    &inc.checkpoint.root,
                )
                .unwrap();
            }
            for &newer in sizes.iter().filter(|&&s| s >= size) {
                let c = consistency(&snap, size, newer).unwrap();
                verify_consistency(size, newer, &c.old.root, &c.new.root, &c.proof.path).unwrap();
            }
        }
        assert_eq!(inclusion(&snap, 4, None).unwrap().proof.tree_size, 20);
    }

    /// Position 0, a position past the chosen size and sizes out of order are invalid; a size
    /// without a checkpoint and a position past the latest checkpoint find nothing; a checkpoint
    /// beyond the log (a truncated file) is reported as damage, not answered.
    #[test]
    fn refusals_name_their_kind() {
        let snap = snapshot(10, &[4, 8]);
        assert!(matches!(
            inclusion(&snap, 0, None),
            Err(ProofRefusal::Invalid(_))
        ));
        assert!(matches!(
            inclusion(&snap, 5, Some(4)),
            Err(ProofRefusal::Invalid(_))
        ));
        assert!(matches!(
            consistency(&snap, 8, 4),
            Err(ProofRefusal::Invalid(_))
        ));
        assert!(matches!(
            inclusion(&snap, 1, Some(5)),
            Err(ProofRefusal::NotFound(_))
        ));
        assert!(matches!(
            inclusion(&snap, 9, None),
            Err(ProofRefusal::NotFound(_))
        ));
        assert!(matches!(
            consistency(&snap, 4, 6),
            Err(ProofRefusal::NotFound(_))
        ));
        let mut truncated = snap.clone();
        truncated.event_hashes.truncate(6);
        assert!(matches!(
            inclusion(&truncated, 1, Some(8)),
            Err(ProofRefusal::Damaged(_))
        ));
    }
}
