//! The signed checkpoints kept beside the log (the `checkpoints` table, format version 3), and the
//! one read the Merkle tree is rebuilt from: every event's stored hash, in log order.
//!
//! This module stores and returns checkpoint notes as text; it does not parse, sign or verify them
//! (that is `crate::audit`, over `ledger_schemas::checkpoint`). The event hashes returned are the
//! stored ones: they are the recomputed ones exactly when the hash chain verifies, which is why
//! `ledger verify` walks the chain first.

use ledger_schemas::integrity::Digest;

use super::SqliteStore;
use super::error::from_sqlite;
use super::row::sql_int;
use crate::store::StoreError;

/// What the audit needs from the file, read in one transaction so the two agree.
#[derive(Debug, Clone, Default)]
pub struct AuditSnapshot {
    /// Every event's stored hash, by position (index 0 is position 1).
    pub event_hashes: Vec<Digest>,
    /// Every stored checkpoint as `(tree_size, signed note)`, smallest size first.
    pub checkpoints: Vec<(u64, String)>,
    /// The ledger's public key as a signed-note verifier string, when `FILE.key` exists. Only the
    /// port's `EventStore::audit_snapshot` fills it (for the HTTP API, which has no path to look
    /// beside); the commands load the key themselves, and may be given the auditor's own copy.
    pub public_key: Option<String>,
    /// Every kept witness cosignature (issue 21), by checkpoint size, unverified.
    pub cosignatures: Vec<super::StoredCosignature>,
}

impl SqliteStore {
    /// Reads every event hash and every checkpoint in one read transaction.
    ///
    /// Cost: 32 bytes per event in memory (32 MB for a million events) and one sequential scan of the
    /// `events` table's hash column.
    pub async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        self.audit_snapshot_after(0).await
    }

    /// As [`SqliteStore::audit_snapshot`], with only the hashes of the events after `after`.
    pub async fn audit_snapshot_after(&self, after: u64) -> Result<AuditSnapshot, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read(move |path, conn| {
            let tx = conn
                .unchecked_transaction()
                .map_err(|e| from_sqlite(path, e))?;
            let mut event_hashes = Vec::new();
            {
                let mut stmt = tx
                    .prepare(
                        "SELECT position, hash FROM events WHERE position > ?1 ORDER BY position ASC",
                    )
                    .map_err(|e| from_sqlite(path, e))?;
                let mut rows = stmt.query([after]).map_err(|e| from_sqlite(path, e))?;
                while let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? {
                    let position: i64 = row.get(0).map_err(|e| from_sqlite(path, e))?;
                    let bytes: Vec<u8> = row.get(1).map_err(|e| from_sqlite(path, e))?;
                    let hash = Digest::from_slice(&bytes).ok_or_else(|| StoreError::Corrupt {
                        path: path.to_owned(),
                        detail: format!(
                            "第 {position} 号事件的哈希不是 32 字节 (the hash of the event at position {position} is not 32 bytes)"
                        ),
                    })?;
                    event_hashes.push(hash);
                }
            }
            let mut checkpoints = Vec::new();
            {
                let mut stmt = tx
                    .prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size ASC")
                    .map_err(|e| from_sqlite(path, e))?;
                let mut rows = stmt.query([]).map_err(|e| from_sqlite(path, e))?;
                while let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? {
                    let size: i64 = row.get(0).map_err(|e| from_sqlite(path, e))?;
                    let note: String = row.get(1).map_err(|e| from_sqlite(path, e))?;
                    checkpoints.push((u64::try_from(size).unwrap_or(0), note));
                }
            }
            let mut cosignatures = Vec::new();
            {
                let mut stmt = tx
                    .prepare(
                        "SELECT tree_size, witness, key_id, time, line FROM cosignatures \
                         ORDER BY tree_size, witness, key_id",
                    )
                    .map_err(|e| from_sqlite(path, e))?;
                let mut rows = stmt.query([]).map_err(|e| from_sqlite(path, e))?;
                while let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? {
                    let get = |i| row.get::<_, i64>(i).map_err(|e| from_sqlite(path, e));
                    cosignatures.push(super::StoredCosignature {
                        tree_size: u64::try_from(get(0)?).unwrap_or(0),
                        witness: row.get(1).map_err(|e| from_sqlite(path, e))?,
                        key_id: row.get(2).map_err(|e| from_sqlite(path, e))?,
                        time: u64::try_from(get(3)?).unwrap_or(0),
                        line: row.get(4).map_err(|e| from_sqlite(path, e))?,
                    });
                }
            }
            Ok(AuditSnapshot {
                event_hashes,
                checkpoints,
                public_key: None,
                cosignatures,
            })
        })
        .await
    }

    /// Stores a signed checkpoint note for `tree_size`; returns false if one for that size exists.
    ///
    /// It uses a connection of its own rather than the writer thread's: checkpoints are rare (one per
    /// thousand events or on demand) and SQLite serialises the two writers with its lock, so the
    /// group-commit path stays untouched.
    pub async fn add_checkpoint(&self, tree_size: u64, note: String) -> Result<bool, StoreError> {
        self.write_aside(move |path, conn| {
            let inserted = conn
                .execute(
                    "INSERT INTO checkpoints (tree_size, note) VALUES (?1, ?2) \
                     ON CONFLICT (tree_size) DO NOTHING",
                    rusqlite::params![sql_int(tree_size), note],
                )
                .map_err(|e| from_sqlite(path, e))?;
            Ok(inserted == 1)
        })
        .await
    }
}
