//! The read-model snapshots kept beside the log (the `projection_snapshots` table, format version
//! 4, sealed since 5). Derived data: not part of the hash chain, replaced and pruned freely; this
//! module stores and returns the bytes and their seals and never looks inside the bytes (that is
//! `crate::app::reads` and `ledger_projections::read`) nor checks a seal (`crate::audit::seals`):
//! it only hashes the bytes when listing them for an audit.

use ledger_schemas::integrity::Digest;
use rusqlite::OptionalExtension as _;

use super::SqliteStore;
use super::error::from_sqlite;
use super::row::sql_int;
use crate::store::{SnapshotEntry, SnapshotSelection, StoreError, StoredSnapshot};

impl SqliteStore {
    pub(super) async fn put_snapshot(&self, snapshot: StoredSnapshot) -> Result<bool, StoreError> {
        self.write_aside(move |path, conn| {
            conn.execute(
                "INSERT OR REPLACE INTO projection_snapshots (code_version, position, event_hash, seal, bytes) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    i64::from(snapshot.code_version),
                    sql_int(snapshot.position),
                    &snapshot.event_hash.0[..],
                    snapshot.seal,
                    snapshot.bytes,
                ],
            )
            .map_err(|e| from_sqlite(path, e))?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn get_snapshot(
        &self,
        code_version: u32,
        at_or_before: u64,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        let at_or_before = sql_int(at_or_before);
        self.read(move |path, conn| {
            let row = conn
                .query_row(
                    "SELECT position, event_hash, seal, bytes FROM projection_snapshots \
                     WHERE code_version = ?1 AND position <= ?2 ORDER BY position DESC LIMIT 1",
                    rusqlite::params![i64::from(code_version), at_or_before],
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, Vec<u8>>(1)?,
                            row.get::<_, Vec<u8>>(2)?,
                            row.get::<_, Vec<u8>>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| from_sqlite(path, e))?;
            let Some((position, hash, seal, bytes)) = row else {
                return Ok(None);
            };
            Ok(Some(StoredSnapshot {
                code_version,
                position: u64::try_from(position).unwrap_or(0),
                event_hash: event_hash(path, position, &hash)?,
                seal,
                bytes,
            }))
        })
        .await
    }

    pub(super) async fn snapshot_entries(&self) -> Result<Vec<SnapshotEntry>, StoreError> {
        self.read(move |path, conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT code_version, position, event_hash, seal, bytes FROM projection_snapshots \
                     ORDER BY code_version, position",
                )
                .map_err(|e| from_sqlite(path, e))?;
            let mut rows = stmt.query([]).map_err(|e| from_sqlite(path, e))?;
            let mut entries = Vec::new();
            while let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? {
                let get = |i| row.get_ref(i).map_err(|e| from_sqlite(path, e));
                let code_version = get(0)?.as_i64().map_err(|e| from_sqlite(path, e.into()))?;
                let position = get(1)?.as_i64().map_err(|e| from_sqlite(path, e.into()))?;
                let hash = get(2)?.as_blob().map_err(|e| from_sqlite(path, e.into()))?;
                let seal = get(3)?.as_blob().map_err(|e| from_sqlite(path, e.into()))?;
                // Hashed where it lies in SQLite's page buffer: nothing the size of a snapshot is
                // copied, so a table of several snapshots of a large ledger is listed in little memory.
                let bytes = get(4)?.as_blob().map_err(|e| from_sqlite(path, e.into()))?;
                entries.push(SnapshotEntry {
                    code_version: u32::try_from(code_version).unwrap_or(u32::MAX),
                    position: u64::try_from(position).unwrap_or(0),
                    event_hash: event_hash(path, position, hash)?,
                    seal: seal.to_vec(),
                    size: bytes.len() as u64,
                    content: ledger_schemas::seal::content_digest(bytes),
                });
            }
            Ok(entries)
        })
        .await
    }

    pub(super) async fn drop_snapshots(&self, which: SnapshotSelection) -> Result<u64, StoreError> {
        self.write_aside(move |path, conn| {
            let deleted = match which {
                SnapshotSelection::OtherVersions(v) => conn
                    .execute(
                        "DELETE FROM projection_snapshots WHERE code_version <> ?1",
                        [i64::from(v)],
                    )
                    .map_err(|e| from_sqlite(path, e))?,
                SnapshotSelection::VersionExcept(v, keep) => {
                    let tx = conn
                        .unchecked_transaction()
                        .map_err(|e| from_sqlite(path, e))?;
                    let positions: Vec<i64> = {
                        let mut stmt = tx
                            .prepare(
                                "SELECT position FROM projection_snapshots WHERE code_version = ?1",
                            )
                            .map_err(|e| from_sqlite(path, e))?;
                        stmt.query_map([i64::from(v)], |row| row.get(0))
                            .and_then(|rows| rows.collect::<Result<_, _>>())
                            .map_err(|e| from_sqlite(path, e))?
                    };
                    let mut deleted = 0;
                    for position in positions {
                        if !keep.contains(&u64::try_from(position).unwrap_or(u64::MAX)) {
                            deleted += tx
                                .execute(
                                    "DELETE FROM projection_snapshots \
                                     WHERE code_version = ?1 AND position = ?2",
                                    [i64::from(v), position],
                                )
                                .map_err(|e| from_sqlite(path, e))?;
                        }
                    }
                    tx.commit().map_err(|e| from_sqlite(path, e))?;
                    deleted
                }
            };
            Ok(deleted as u64)
        })
        .await
    }
}

/// The event hash a snapshot row records, which the table's CHECK keeps at 32 bytes.
fn event_hash(path: &std::path::Path, position: i64, bytes: &[u8]) -> Result<Digest, StoreError> {
    Digest::from_slice(bytes).ok_or_else(|| StoreError::Corrupt {
        path: path.to_owned(),
        detail: format!(
            "位置 {position} 的读模型快照所记事件哈希不是 32 字节 (the event hash of the read-model snapshot at position {position} is not 32 bytes)"
        ),
    })
}
