//! Rows of the `events` table as [`Envelope`]s, and the reads that produce them.
//!
//! Reading is strict: a row whose fields cannot be a stored event (a bad UUID, an unknown role, a
//! hash of the wrong length) is reported as [`StoreError::Corrupt`] with its position, never skipped.

use std::path::Path;

use chrono::DateTime;
use ledger_schemas::ids::PersonId;
use ledger_schemas::integrity::Digest;
use ledger_schemas::{Actor, Envelope, Role};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use uuid::Uuid;

use super::error::from_sqlite;
use crate::store::{Direction, ReadFrom, StoreError};

/// The columns of an event, in the order [`envelope`] reads them.
pub const COLUMNS: &str = "position, event_id, stream, revision, event_type, schema_version, \
     recorded_at, actor_person, actor_role, reason, correlation_id, causation_id, payload, \
     prev_hash, hash";

/// Clamps a count or position to SQLite's integer range (a `LIMIT` of "everything").
pub fn sql_int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str, String> {
    match row.get_ref(i).map_err(|e| e.to_string())? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|e| format!("column {i}: {e}")),
        other => Err(format!("column {i} is {:?}, not text", other.data_type())),
    }
}

fn opt_text<'r>(row: &'r Row<'_>, i: usize) -> Result<Option<&'r str>, String> {
    match row.get_ref(i).map_err(|e| e.to_string())? {
        ValueRef::Null => Ok(None),
        _ => text(row, i).map(Some),
    }
}

fn int(row: &Row<'_>, i: usize) -> Result<i64, String> {
    match row.get_ref(i).map_err(|e| e.to_string())? {
        ValueRef::Integer(n) => Ok(n),
        other => Err(format!(
            "column {i} is {:?}, not an integer",
            other.data_type()
        )),
    }
}

fn blob<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r [u8], String> {
    match row.get_ref(i).map_err(|e| e.to_string())? {
        ValueRef::Blob(bytes) => Ok(bytes),
        other => Err(format!("column {i} is {:?}, not a blob", other.data_type())),
    }
}

fn uuid(row: &Row<'_>, i: usize) -> Result<Uuid, String> {
    Uuid::from_slice(blob(row, i)?).map_err(|e| format!("column {i}: {e}"))
}

fn digest(row: &Row<'_>, i: usize) -> Result<Digest, String> {
    Digest::from_slice(blob(row, i)?).ok_or_else(|| format!("column {i} is not 32 bytes"))
}

/// Reads one row selected with [`COLUMNS`].
pub fn envelope(path: &Path, row: &Row<'_>) -> Result<Envelope, StoreError> {
    let position = row.get_ref(0).ok().and_then(|v| v.as_i64().ok());
    decode_row(row).map_err(|detail| StoreError::Corrupt {
        path: path.to_owned(),
        detail: format!(
            "第 {} 号事件无法读取 (the event at position {} cannot be read): {detail}",
            position.unwrap_or(-1),
            position.unwrap_or(-1)
        ),
    })
}

fn decode_row(row: &Row<'_>) -> Result<Envelope, String> {
    let non_negative = |n: i64, what: &str| u64::try_from(n).map_err(|_| format!("{what} {n} < 0"));
    let role_text = text(row, 8)?;
    let role = Role::ALL
        .into_iter()
        .find(|r| r.as_str() == role_text)
        .ok_or_else(|| format!("unknown role {role_text:?}"))?;
    let micros = int(row, 6)?;
    Ok(Envelope {
        position: non_negative(int(row, 0)?, "position")?,
        event_id: uuid(row, 1)?,
        stream: text(row, 2)?.to_owned(),
        revision: non_negative(int(row, 3)?, "revision")?,
        event_type: text(row, 4)?.to_owned(),
        schema_version: u32::try_from(int(row, 5)?).map_err(|e| format!("schema_version: {e}"))?,
        recorded_at: DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| format!("recorded_at {micros} out of range"))?,
        actor: Actor::new(
            PersonId::new(text(row, 7)?).map_err(|e| e.to_string())?,
            role,
        ),
        reason: opt_text(row, 9)?.map(str::to_owned),
        correlation_id: uuid(row, 10)?,
        causation_id: match row.get_ref(11).map_err(|e| e.to_string())? {
            ValueRef::Null => None,
            _ => Some(uuid(row, 11)?),
        },
        payload: text(row, 12)?.to_owned(),
        prev_hash: digest(row, 13)?,
        hash: digest(row, 14)?,
    })
}

/// One page of the global log.
pub fn read_all(
    path: &Path,
    conn: &Connection,
    direction: Direction,
    from: ReadFrom,
    max: usize,
) -> Result<Vec<Envelope>, StoreError> {
    const FORWARDS: &str = "SELECT position, event_id, stream, revision, event_type, schema_version, \
         recorded_at, actor_person, actor_role, reason, correlation_id, causation_id, payload, \
         prev_hash, hash FROM events WHERE position >= ?1 ORDER BY position ASC LIMIT ?2";
    const BACKWARDS: &str = "SELECT position, event_id, stream, revision, event_type, schema_version, \
         recorded_at, actor_person, actor_role, reason, correlation_id, causation_id, payload, \
         prev_hash, hash FROM events WHERE position <= ?1 ORDER BY position DESC LIMIT ?2";
    let (sql, start) = match (direction, from) {
        (Direction::Forwards, ReadFrom::Edge) => (FORWARDS, 0),
        (Direction::Forwards, ReadFrom::At(p)) => (FORWARDS, sql_int(p)),
        (Direction::Backwards, ReadFrom::Edge) => (BACKWARDS, i64::MAX),
        (Direction::Backwards, ReadFrom::At(p)) => (BACKWARDS, sql_int(p)),
    };
    query(path, conn, sql, rusqlite::params![start, sql_int(max)], max)
}

/// Up to `max` events of one stream.
pub fn read_stream(
    path: &Path,
    conn: &Connection,
    stream: &str,
    direction: Direction,
    from: ReadFrom,
    max: usize,
) -> Result<Vec<Envelope>, StoreError> {
    let (sql, start) = match direction {
        Direction::Forwards => (
            "SELECT position, event_id, stream, revision, event_type, schema_version, recorded_at, \
             actor_person, actor_role, reason, correlation_id, causation_id, payload, prev_hash, hash \
             FROM events WHERE stream = ?1 AND revision >= ?2 ORDER BY revision ASC LIMIT ?3",
            match from {
                ReadFrom::Edge => 0,
                ReadFrom::At(r) => sql_int(r),
            },
        ),
        Direction::Backwards => (
            "SELECT position, event_id, stream, revision, event_type, schema_version, recorded_at, \
             actor_person, actor_role, reason, correlation_id, causation_id, payload, prev_hash, hash \
             FROM events WHERE stream = ?1 AND revision <= ?2 ORDER BY revision DESC LIMIT ?3",
            match from {
                ReadFrom::Edge => i64::MAX,
                ReadFrom::At(r) => sql_int(r),
            },
        ),
    };
    query(
        path,
        conn,
        sql,
        rusqlite::params![stream, start, sql_int(max)],
        max,
    )
}

fn query(
    path: &Path,
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    max: usize,
) -> Result<Vec<Envelope>, StoreError> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(sql).map_err(|e| from_sqlite(path, e))?;
    let mut rows = stmt.query(params).map_err(|e| from_sqlite(path, e))?;
    let mut out = Vec::with_capacity(max.min(4096));
    while let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? {
        out.push(envelope(path, row)?);
    }
    Ok(out)
}

/// The last event of the log: its position, hash and time, or `None` for an empty log.
pub fn head(path: &Path, conn: &Connection) -> Result<Option<(u64, Digest, i64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1",
        )
        .map_err(|e| from_sqlite(path, e))?;
    let mut rows = stmt.query([]).map_err(|e| from_sqlite(path, e))?;
    let Some(row) = rows.next().map_err(|e| from_sqlite(path, e))? else {
        return Ok(None);
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.to_owned(),
        detail: format!("最后一个事件无法读取 (the last event cannot be read): {detail}"),
    };
    let position = int(row, 0).map_err(corrupt)?;
    let hash = digest(row, 1).map_err(corrupt)?;
    let recorded_at = int(row, 2).map_err(corrupt)?;
    Ok(Some((
        u64::try_from(position).map_err(|e| corrupt(e.to_string()))?,
        hash,
        recorded_at,
    )))
}
