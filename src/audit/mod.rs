//! Audit integrity for the embedded ledger: its signing key, its signed checkpoints, and the checks
//! that tie stored checkpoints to the log recomputed from the file.
//!
//! What lives here is glue between the pure proofs of `ledger_schemas::{merkle, checkpoint}` and the
//! store; SQL stays in `crate::store::sqlite` (`audit_snapshot`, `add_checkpoint`).
//!
//! # The key
//!
//! The Ed25519 key is created from the operating system's randomness (`getrandom`) when the ledger is
//! created by `ledger init` (or, for a ledger that has no checkpoint yet, by the first
//! `ledger audit checkpoint`). Its private half is kept **beside** the ledger, in `FILE.key`
//! (permissions 0600 on Unix), as a signed-note signer key, and never inside the database: the
//! database file is what gets copied, backed up, handed to auditors and exported, and anyone holding
//! a copy with the key in it could sign checkpoints for a rewritten log. Apart, the file can be moved
//! to another host or a hardware token later without touching the log format.
//!
//! # Checkpoints
//!
//! A checkpoint signs `(origin, tree size, Merkle root, time)`. They are made on demand
//! (`ledger audit checkpoint`), which also signs every missing multiple of `every` (default
//! [`DEFAULT_EVERY`]) up to the head, so that every N events have a checkpoint once the command has
//! run. The tree is rebuilt from the stored event hashes each time: O(n) SHA-256 over 32-byte
//! leaves (a million events take well under a second), and 32 bytes per event in memory; no tree
//! state is kept in the file, so there is nothing more to keep consistent.
//!
//! Every checkpoint the program signs states the schedule it was signed under (`every N`, see
//! `ledger_schemas::checkpoint`), and the missing multiples of N are always signed first, so a
//! verifier can tell a deleted checkpoint from one never signed ([`schedule`]).
//!
//! [`bundle`] writes and verifies the audit bundle; [`schemas`] holds the JSON Schemas it carries;
//! [`proofs`] answers the HTTP API's checkpoint and proof reads from a store snapshot; [`seals`]
//! checks the read-model snapshots kept beside the log, sealed with the same key; [`schedule`]
//! finds the checkpoints that should be there and are not, and describes the key an audit trusted;
//! [`evidence`] checks the evidence files the log cites, in the evidence store or in a bundle.

pub mod auto;
pub mod bundle;
pub mod evidence;
pub mod file;
pub mod proofs;
pub mod schedule;
pub mod schemas;
pub mod seals;

use std::io::Write as _;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use ledger_schemas::checkpoint::{
    Checkpoint, ExtensionError, LogSigningKey, LogVerifyingKey, Origin, verify_extends,
};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::{ConsistencyProof, MerkleTree};

use crate::store::SqliteStore;

/// Events between automatic checkpoints.
pub const DEFAULT_EVERY: u64 = 1000;

/// Where the private key of the ledger at `ledger` is kept: the ledger's path with `.key` appended.
pub fn key_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Loads the ledger's signing key from `FILE.key`.
pub fn load_key(ledger: &Path) -> anyhow::Result<LogSigningKey> {
    let path = key_path(ledger);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "无法读取签名密钥 {0} (cannot read the signing key {0})",
            path.display()
        )
    })?;
    LogSigningKey::from_note_signer(text.trim_end()).with_context(|| {
        format!(
            "{0} 不是签名密钥 ({0} is not a signing key)",
            path.display()
        )
    })
}

/// Creates `FILE.key` with a fresh key if it does not exist; returns the key either way.
///
/// The origin (the log's name in every checkpoint) is `ledger/` and a UUID v7, so two ledgers never
/// share a name even when their files do.
pub fn ensure_key(ledger: &Path) -> anyhow::Result<LogSigningKey> {
    let path = key_path(ledger);
    if path.exists() {
        return load_key(ledger);
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        anyhow::anyhow!("无法取得系统随机数 (cannot get the operating system's randomness): {e}")
    })?;
    let origin = Origin::new(format!("ledger/{}", uuid::Uuid::now_v7()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = LogSigningKey::from_seed(origin, &seed);
    let mut options = std::fs::OpenOptions::new();
    // `create_new`: two processes creating the key at once cannot overwrite each other's.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).with_context(|| {
        format!(
            "无法创建签名密钥 {0} (cannot create the signing key {0})",
            path.display()
        )
    })?;
    writeln!(file, "{}", key.to_note_signer())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("无法写入 {0} (cannot write {0})", path.display()))?;
    Ok(key)
}

/// Signs and stores the checkpoints the log is missing: every multiple of `every` up to the head, and
/// the head itself. Returns the checkpoints made, smallest first.
pub async fn make_checkpoints(
    store: &SqliteStore,
    key: &LogSigningKey,
    every: u64,
) -> anyhow::Result<Vec<Checkpoint>> {
    sign_missing(store, key, every, true).await
}

/// Signs and stores the missing checkpoints at multiples of `every` up to the head, and at the head
/// itself if `at_head`, smallest first, each stating the schedule `every` under its signature (which
/// is true of each: every smaller multiple was there or signed before it). Returns the checkpoints
/// made, smallest first.
pub(crate) async fn sign_missing(
    store: &SqliteStore,
    key: &LogSigningKey,
    every: u64,
    at_head: bool,
) -> anyhow::Result<Vec<Checkpoint>> {
    let snapshot = store.audit_snapshot().await?;
    let tree = MerkleTree::from_event_hashes(&snapshot.event_hashes);
    let have: std::collections::BTreeSet<u64> =
        snapshot.checkpoints.iter().map(|(size, _)| *size).collect();
    let head = tree.len();
    let mut sizes: Vec<u64> = (1..=head / every.max(1))
        .map(|k| k * every.max(1))
        .collect();
    if at_head {
        sizes.push(head);
    }
    sizes.dedup();
    let now = Utc::now();
    let schedule = NonZeroU64::new(every.max(1)).expect("at least 1");
    let mut made = Vec::new();
    for size in sizes.into_iter().filter(|s| !have.contains(s)) {
        let root = tree.root(size).expect("size within the tree");
        let checkpoint = Checkpoint::sign_scheduled(key, size, root, now, schedule);
        if store.add_checkpoint(size, checkpoint.to_note()).await? {
            made.push(checkpoint);
        }
    }
    if !made.is_empty() {
        crate::witness::client::checkpoint_signed();
    }
    Ok(made)
}

/// Why a stored checkpoint does not agree with the log or the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointFault {
    #[error(
        "大小为 {tree_size} 的检查点无法解析 (the checkpoint of size {tree_size} cannot be read): {why}"
    )]
    Unreadable { tree_size: u64, why: String },
    #[error("{0}")]
    Signature(ledger_schemas::checkpoint::CheckpointError),
    #[error(
        "大小为 {tree_size} 的检查点超出日志：日志只有 {log_size} 个事件，尾部被截断或文件被换成旧副本 (the checkpoint of size {tree_size} is beyond the log, which holds only {log_size} events: its tail was truncated or the file replaced by an older copy)"
    )]
    BeyondLog { tree_size: u64, log_size: u64 },
    #[error(
        "大小为 {tree_size} 的检查点根哈希 {signed} 与重算的 {recomputed} 不符：前 {tree_size} 个事件在签名后被改写 (the checkpoint of size {tree_size} signed root {signed}, but the log's first {tree_size} events give {recomputed}: they were rewritten after signing)"
    )]
    RootMismatch {
        tree_size: u64,
        signed: Digest,
        recomputed: Digest,
    },
}

/// Checks every stored checkpoint: it parses, its signature verifies under `key`, and its root
/// equals the root of the recomputed tree at its size. Returns the faults, smallest size first.
pub fn check_checkpoints(
    tree: &MerkleTree,
    checkpoints: &[(u64, String)],
    key: &LogVerifyingKey,
) -> Vec<CheckpointFault> {
    let mut faults = Vec::new();
    for (tree_size, note) in checkpoints {
        let tree_size = *tree_size;
        let checkpoint = match Checkpoint::from_note(note) {
            Ok(c) if c.tree_size() == tree_size => c,
            Ok(c) => {
                faults.push(CheckpointFault::Unreadable {
                    tree_size,
                    why: format!(
                        "存于大小 {tree_size} 之下，却签的是大小 {} (stored under size {tree_size} but signs size {})",
                        c.tree_size(),
                        c.tree_size()
                    ),
                });
                continue;
            }
            Err(e) => {
                faults.push(CheckpointFault::Unreadable {
                    tree_size,
                    why: e.to_string(),
                });
                continue;
            }
        };
        if let Err(e) = checkpoint.verify(key) {
            faults.push(CheckpointFault::Signature(e));
            continue;
        }
        match tree.root(tree_size) {
            Err(_) => faults.push(CheckpointFault::BeyondLog {
                tree_size,
                log_size: tree.len(),
            }),
            Ok(root) if root != *checkpoint.root_hash() => {
                faults.push(CheckpointFault::RootMismatch {
                    tree_size,
                    signed: *checkpoint.root_hash(),
                    recomputed: root,
                })
            }
            Ok(_) => {}
        }
    }
    faults
}

/// Checks that the log still extends a checkpoint an auditor kept (`ledger verify --against`).
///
/// The newer side is the largest stored checkpoint that itself agrees with the recomputed tree; the
/// consistency proof between the two is computed from that tree and checked by
/// [`verify_extends`], which names a rollback (the file replaced by an older copy) or a fork.
pub fn check_against(
    kept: &Checkpoint,
    tree: &MerkleTree,
    checkpoints: &[(u64, String)],
    key: &LogVerifyingKey,
) -> Result<u64, AgainstFault> {
    let newer = checkpoints
        .iter()
        .rev()
        .filter_map(|(_, note)| Checkpoint::from_note(note).ok())
        .find(|c| c.verify(key).is_ok() && tree.root(c.tree_size()).ok() == Some(*c.root_hash()))
        .ok_or(AgainstFault::NoCheckpoint {
            kept_size: kept.tree_size(),
            log_size: tree.len(),
        })?;
    let proof = if kept.tree_size() <= newer.tree_size() {
        tree.consistency_proof(kept.tree_size(), newer.tree_size())
            .expect("sizes within the tree and in order")
    } else {
        // A rollback: `verify_extends` refuses on the sizes before it looks at any proof.
        ConsistencyProof {
            old_size: kept.tree_size(),
            new_size: newer.tree_size(),
            path: Vec::new(),
        }
    };
    verify_extends(kept, &newer, &proof, key).map_err(AgainstFault::Extension)?;
    Ok(newer.tree_size())
}

/// Why the log does not extend a kept checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgainstFault {
    #[error(
        "账本没有与日志相符的检查点，无法与保存的大小为 {kept_size} 的检查点比较（日志有 {log_size} 个事件） (the ledger has no checkpoint that agrees with its log to compare with the kept checkpoint of size {kept_size}; the log holds {log_size} events)"
    )]
    NoCheckpoint { kept_size: u64, log_size: u64 },
    #[error("{0}")]
    Extension(ExtensionError),
}

/// The verifying key an audit uses: the one in `public_key` (a signed-note verifier string, as
/// `ledger audit public-key` prints it) if given, else the one derived from `FILE.key`.
///
/// An auditor should pass the public key they were given: whoever can replace the ledger file can
/// replace the key file beside it too.
pub fn verifying_key(
    ledger: &Path,
    public_key: Option<&Path>,
) -> anyhow::Result<Option<LogVerifyingKey>> {
    match public_key {
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "无法读取公钥 {0} (cannot read the public key {0})",
                    file.display()
                )
            })?;
            Ok(Some(
                parse_public_key(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            ))
        }
        None if key_path(ledger).exists() => Ok(Some(load_key(ledger)?.verifying_key())),
        None => Ok(None),
    }
}

/// [`verifying_key`] with what an audit says about it: which key, and whether it came from beside
/// the ledger or from the auditor.
pub fn trusted_key(
    ledger: &Path,
    public_key: Option<&Path>,
) -> anyhow::Result<Option<(LogVerifyingKey, schedule::TrustedKey)>> {
    let Some(key) = verifying_key(ledger, public_key)? else {
        return Ok(None);
    };
    let (source, file) = match public_key {
        Some(file) => (schedule::KeySource::PublicKeyOption, file.to_path_buf()),
        None => (schedule::KeySource::BesideLedger, key_path(ledger)),
    };
    let described = schedule::TrustedKey::new(&key, source, Some(&file));
    Ok(Some((key, described)))
}

/// Reads a public key file as `ledger audit public-key` writes it: an optional PEM block, then the
/// signed-note verifier string (which carries the origin the PEM lacks). Lines inside the PEM block
/// are skipped by position, not by content, since base64 may contain the `+` the verifier uses.
pub fn parse_public_key(text: &str) -> Result<LogVerifyingKey, String> {
    let mut in_pem = false;
    let mut verifier = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN") {
            in_pem = true;
        } else if line.starts_with("-----END") {
            in_pem = false;
        } else if !in_pem && !line.is_empty() {
            verifier = Some(line);
            break;
        }
    }
    let verifier = verifier.ok_or(
        "没有验证者密钥行 (no signed-note verifier key line after the PEM block)".to_owned(),
    )?;
    LogVerifyingKey::from_note_verifier(verifier).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key file as `ledger audit public-key` prints it parses back to the same key, even when the
    /// PEM's base64 contains `+` (which the verifier string uses as its separator).
    #[test]
    fn public_key_file_round_trips_whatever_the_pem_holds() {
        let origin = Origin::new("ledger/test").unwrap();
        let mut saw_plus = false;
        for seed in 0..64u8 {
            let key = LogSigningKey::from_seed(origin.clone(), &[seed; 32]).verifying_key();
            let pem = key.to_pem();
            saw_plus |= pem
                .lines()
                .any(|l| !l.starts_with("-----") && l.contains('+'));
            let text = format!("{}\n{}\n", pem.trim_end(), key.to_note_verifier());
            assert_eq!(parse_public_key(&text).unwrap(), key);
        }
        assert!(saw_plus, "some PEM among 64 keys holds a '+'");
    }
}
