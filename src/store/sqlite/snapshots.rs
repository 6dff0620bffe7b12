//! The read-model snapshots kept beside the log (the `projection_snapshots` table, format version
//! 4). Derived data: not part of the hash chain, replaced and pruned freely; this module stores and
//! returns the bytes and never looks inside them (that is `crate::app::reads` and
//! `ledger_projections::read`).

use ledger_schemas::integrity::Digest;
use rusqlite::OptionalExtension as _;

use super::SqliteStore;
use super::error::from_sqlite;
use super::row::sql_int;
use crate::store::{SnapshotSelection, StoreError, StoredSnapshot};

impl SqliteStore {
    pub(super) async fn put_snapshot(&self, snapshot: StoredSnapshot) -> Result<bool, StoreError> {
        self.write_aside(move |path, conn| {
            conn.execute(
                "INSERT OR REPLACE INTO projection_snapshots (code_version, position, event_hash, bytes) \
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    i64::from(snapshot.code_version),
                    sql_int(snapshot.position),
                    &snapshot.event_hash.0[..],
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
                    "SELECT position, event_hash, bytes FROM projection_snapshots \
                     WHERE code_version = ?1 AND position <= ?2 ORDER BY position DESC LIMIT 1",
                    rusqlite::params![i64::from(code_version), at_or_before],
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, Vec<u8>>(1)?,
                            row.get::<_, Vec<u8>>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| from_sqlite(path, e))?;
            let Some((position, hash, bytes)) = row else {
                return Ok(None);
            };
            let event_hash = Digest::from_slice(&hash).ok_or_else(|| StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "位置 {position} 的读模型快照所记事件哈希不是 32 字节 (the event hash of the read-model snapshot at position {position} is not 32 bytes)"
                ),
            })?;
            Ok(Some(StoredSnapshot {
                code_version,
                position: u64::try_from(position).unwrap_or(0),
                event_hash,
                bytes,
            }))
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
