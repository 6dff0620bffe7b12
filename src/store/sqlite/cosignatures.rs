//! Witnesses' cosignatures kept beside the signed checkpoints (the `cosignatures` table, format
//! version 6, issue 21).
//!
//! Stored as the C2SP signature lines the witnesses answered, with the witness's name, key id and
//! time beside them for queries. This module stores and returns text; `crate::witness` verifies a
//! cosignature before storing it and again whenever it is shown.

use super::SqliteStore;
use super::error::from_sqlite;
use super::row::sql_int;
use crate::store::StoreError;

/// One stored cosignature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    /// The size of the checkpoint it cosigns.
    pub tree_size: u64,
    /// The witness's name and key id (8 hex digits), as the line states them.
    pub witness: String,
    pub key_id: String,
    /// The cosigning time, POSIX seconds.
    pub time: u64,
    /// The signature line without its final newline.
    pub line: String,
}

impl SqliteStore {
    /// Keeps a cosignature; returns false if that witness key's cosignature on that checkpoint is
    /// already kept (the first one stays).
    pub async fn add_cosignature(&self, c: StoredCosignature) -> Result<bool, StoreError> {
        self.write_aside(move |path, conn| {
            let inserted = conn
                .execute(
                    "INSERT INTO cosignatures (tree_size, witness, key_id, time, line) \
                     VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (tree_size, witness, key_id) DO NOTHING",
                    rusqlite::params![
                        sql_int(c.tree_size),
                        c.witness,
                        c.key_id,
                        sql_int(c.time),
                        c.line
                    ],
                )
                .map_err(|e| from_sqlite(path, e))?;
            Ok(inserted == 1)
        })
        .await
    }

    /// The size of the largest stored checkpoint (0 when there is none): a cheap question a
    /// background task can ask every second.
    pub async fn latest_checkpoint_size(&self) -> Result<u64, StoreError> {
        self.read(move |path, conn| {
            conn.query_row(
                "SELECT coalesce(max(tree_size), 0) FROM checkpoints",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|size| u64::try_from(size).unwrap_or(0))
            .map_err(|e| from_sqlite(path, e))
        })
        .await
    }
}
