//! The ledger file format: how a file is recognised as a ledger, created, checked and migrated.
//!
//! A ledger is a SQLite database whose header carries [`APPLICATION_ID`] (`PRAGMA application_id`) and
//! whose `PRAGMA user_version` is its format version. Opening a file walks these steps, and refuses
//! with a typed [`StoreError`] naming the file at the first one that fails, before anything is
//! written:
//!
//! 1. the path is a regular file (or absent, when creating) and its first 16 bytes are SQLite's
//!    magic string (or it is empty): otherwise [`StoreError::NotALedger`];
//! 2. SQLite can read the header and the schema: otherwise `NotALedger` (SQLite says "not a
//!    database") or [`StoreError::Corrupt`];
//! 3. the application id is the ledger's, or the file is a brand-new empty database: otherwise
//!    `NotALedger` (another application's database);
//! 4. the format version is one this program knows: otherwise [`StoreError::NewerFormat`];
//! 5. the file is writable: otherwise [`StoreError::ReadOnly`];
//! 6. older formats are brought up to [`FORMAT_VERSION`] by [`MIGRATIONS`], all steps in one
//!    transaction together with the header fields, so that a crash leaves the old format or the new
//!    one, never a mixture.
//!
//! Every step of [`MIGRATIONS`] stays in this file forever: a file written by any earlier release is
//! migrated by replaying the steps after its version.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::{from_io, from_sqlite};
use crate::store::StoreError;

/// `PRAGMA application_id` of a ledger file: the ASCII bytes `LDGR`.
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"LDGR");

/// The format version this program writes, `PRAGMA user_version`.
pub const FORMAT_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a connection waits for another process's lock before reporting the ledger busy.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One step of the file format: the SQL that takes a file from version `to - 1` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub to: i64,
    pub what: &'static str,
    pub sql: &'static str,
}

/// The format's history, oldest first; step `i` produces version `i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 1,
        what: "the events table: the global log, one row per event",
        // `position` is the rowid, so the global log is the table's own b-tree order and a page of it is
        // a range scan. The two unique indexes serve idempotent retry (by id) and stream reads and
        // revision checks (by stream, revision). Times are microseconds since the epoch (UTC); ids
        // and hashes are raw bytes. STRICT makes SQLite refuse a value of the wrong type instead of
        // storing it anyway.
        sql: "
            CREATE TABLE events (
                position       INTEGER PRIMARY KEY,
                event_id       BLOB    NOT NULL UNIQUE CHECK (length(event_id) = 16),
                stream         TEXT    NOT NULL,
                revision       INTEGER NOT NULL CHECK (revision >= 0),
                event_type     TEXT    NOT NULL,
                schema_version INTEGER NOT NULL,
                recorded_at    INTEGER NOT NULL,
                actor_person   TEXT    NOT NULL,
                actor_role     TEXT    NOT NULL,
                reason         TEXT,
                correlation_id BLOB    NOT NULL CHECK (length(correlation_id) = 16),
                causation_id   BLOB    CHECK (causation_id IS NULL OR length(causation_id) = 16),
                payload        TEXT    NOT NULL,
                prev_hash      BLOB    NOT NULL CHECK (length(prev_hash) = 32),
                hash           BLOB    NOT NULL CHECK (length(hash) = 32),
                UNIQUE (stream, revision)
            ) STRICT;
        ",
    },
    Migration {
        to: 2,
        what: "append-only triggers: UPDATE and DELETE on events are refused",
        // Defence in depth: the program never issues either statement, and the hash chain detects any
        // change made with the triggers dropped; the triggers stop an accidental `sqlite3` session.
        sql: "
            CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
            BEGIN
                SELECT RAISE(ABORT, 'events are append-only: UPDATE refused / 事件只能追加，拒绝修改');
            END;
            CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
            BEGIN
                SELECT RAISE(ABORT, 'events are append-only: DELETE refused / 事件只能追加，拒绝删除');
            END;
        ",
    },
    Migration {
        to: 3,
        what: "the checkpoints table: signed tree heads kept beside the log, append-only",
        // One signed note per tree size (a size has one root, so a second signature over it adds
        // nothing). The note is stored exactly as signed, so what an auditor receives is byte for
        // byte what the key signed. The triggers refuse edits for the same reason as the events':
        // a checkpoint is evidence, and a changed one is detected by its signature anyway.
        sql: "
            CREATE TABLE checkpoints (
                tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
                note      TEXT    NOT NULL
            ) STRICT;
            CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
            BEGIN
                SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused / 检查点只能追加，拒绝修改');
            END;
            CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
            BEGIN
                SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused / 检查点只能追加，拒绝删除');
            END;
        ",
    },
    Migration {
        to: 4,
        what: "the projection_snapshots table: read-model snapshots kept beside the log, replaceable",
        // Derived data, not evidence: a snapshot is the read models folded up to `position` by the
        // projection code of `code_version` (`ledger_projections::read::PROJECTION_CODE_VERSION`),
        // with the hash of the event at `position` so that a snapshot that does not belong to this
        // log is never used. Nothing here is covered by the hash chain, so there are deliberately no
        // append-only triggers: `ledger rebuild` replaces and prunes rows, and deleting them all only
        // costs the next start a fold from the first event.
        sql: "
            CREATE TABLE projection_snapshots (
                code_version INTEGER NOT NULL CHECK (code_version >= 0),
                position     INTEGER NOT NULL CHECK (position >= 0),
                event_hash   BLOB    NOT NULL CHECK (length(event_hash) = 32),
                bytes        BLOB    NOT NULL,
                PRIMARY KEY (code_version, position)
            ) STRICT;
        ",
    },
    Migration {
        to: 5,
        what: "projection_snapshots gets a seal: the ledger key's signature on each snapshot",
        // A snapshot was trusted when the event at its position had the recorded hash, which an
        // editor of the snapshot leaves alone (issue 14): forged standings were served while every
        // verification passed. Each row now carries the ledger key's seal over its identity and the
        // SHA-256 of its bytes (`ledger_schemas::seal`); a row whose seal does not verify is never
        // used. The old rows have no seal and are derived data, so the table is made anew: the next
        // start folds from the first event, and keeps sealed snapshots from then on.
        sql: "
            DROP TABLE projection_snapshots;
            CREATE TABLE projection_snapshots (
                code_version INTEGER NOT NULL CHECK (code_version >= 0),
                position     INTEGER NOT NULL CHECK (position >= 0),
                event_hash   BLOB    NOT NULL CHECK (length(event_hash) = 32),
                seal         BLOB    NOT NULL CHECK (length(seal) = 68),
                bytes        BLOB    NOT NULL,
                PRIMARY KEY (code_version, position)
            ) STRICT;
        ",
    },
    Migration {
        to: 6,
        what: "the cosignatures table: witnesses' cosignatures on the signed checkpoints",
        // Issue 21: each row is one witness's C2SP cosignature line on the checkpoint of
        // `tree_size`, as the witness answered it (verified before it is stored). Evidence like the
        // checkpoints, so append-only as they are: a cosignature is added, never changed.
        sql: "
            CREATE TABLE cosignatures (
                tree_size INTEGER NOT NULL CHECK (tree_size >= 0),
                witness   TEXT    NOT NULL,
                key_id    TEXT    NOT NULL CHECK (length(key_id) = 8),
                time      INTEGER NOT NULL CHECK (time >= 0),
                line      TEXT    NOT NULL,
                PRIMARY KEY (tree_size, witness, key_id)
            ) STRICT;
            CREATE TRIGGER cosignatures_append_only_update BEFORE UPDATE ON cosignatures
            BEGIN
                SELECT RAISE(ABORT, 'cosignatures are append-only: UPDATE refused / 联署只能追加，拒绝修改');
            END;
            CREATE TRIGGER cosignatures_append_only_delete BEFORE DELETE ON cosignatures
            BEGIN
                SELECT RAISE(ABORT, 'cosignatures are append-only: DELETE refused / 联署只能追加，拒绝删除');
            END;
        ",
    },
];

/// What an opened file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A ledger at this format version.
    Ledger(i64),
    /// An empty database (a new or zero-length file): becomes a ledger when creating.
    Fresh,
}

/// Opens the writer's connection: checks the file, creates or migrates it to [`FORMAT_VERSION`], and
/// sets the durable pragmas.
pub fn open_writer(path: &Path, create: bool) -> Result<Connection, StoreError> {
    precheck(path, create)?;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| from_sqlite(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| from_sqlite(path, e))?;
    let found = inspect(path, &conn)?;
    if found == Found::Fresh && !create {
        return Err(StoreError::NotALedger {
            path: path.to_owned(),
            detail: "空的数据库文件 (an empty database file); 用 `ledger init` 创建账本 (create it with `ledger init`)"
                .into(),
        });
    }
    // SQLite quietly opens a file it may not write read-only; say so now rather than at the first
    // append.
    if conn.is_readonly("main").map_err(|e| from_sqlite(path, e))? {
        return Err(StoreError::ReadOnly {
            path: path.to_owned(),
            detail: "文件不可写 (the file is not writable)".into(),
        });
    }
    // WAL lets readers run beside the writer; it is a property of the file, set once, outside any
    // transaction. It needs `-wal` and `-shm` files beside the ledger, so a read-only directory fails
    // here (mapped to ReadOnly).
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
        .map_err(|e| from_sqlite(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Io {
            path: path.to_owned(),
            detail: format!(
                "无法启用 WAL 日志模式 (cannot switch to WAL journal mode; SQLite kept {mode:?})"
            ),
        });
    }
    // FULL: in WAL mode every commit fsyncs the WAL before it returns, so an acknowledged append
    // survives a power cut, not only a crash of the process.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| from_sqlite(path, e))?;
    tune(path, &conn, 32)?;
    migrate(path, &conn)?;
    Ok(conn)
}

/// Opens a writing connection beside the writer thread's, on a file the writer has already checked
/// and migrated: for the rare writes that stay off the group-commit path (signed checkpoints,
/// read-model snapshots) and for WAL checkpoints (`wal.rs`). SQLite's lock serialises it with the
/// writer; it waits up to [`BUSY_TIMEOUT`] for it, and is as durable (`synchronous = FULL`).
pub fn open_aside(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| from_sqlite(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| from_sqlite(path, e))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| from_sqlite(path, e))?;
    Ok(conn)
}

/// Opens a reader's connection on a file the writer has already checked and migrated.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    // Read-write at the SQLite level because a WAL reader updates the shared-memory index; the
    // `query_only` pragma makes any write through it an error.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| from_sqlite(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| from_sqlite(path, e))?;
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| from_sqlite(path, e))?;
    tune(path, &conn, 16)?;
    Ok(conn)
}

/// Settings for speed that every connection shares.
fn tune(path: &Path, conn: &Connection, statements: usize) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(statements);
    // The query-planner stability guarantee: plans do not depend on bound values. Without it SQLite
    // re-compiled the writer's `... WHERE stream = ?1 ...` on every use inside a write transaction
    // (measured: one re-prepare per append). Our queries have one good plan each.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(|e| from_sqlite(path, e))?;
    // Savepoint journals stay in memory rather than in temporary files.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| from_sqlite(path, e))?;
    Ok(())
}

/// Refuses what is clearly not a ledger before SQLite touches it, and creates a missing file ourselves
/// so that a read-only directory is reported as such rather than as SQLite's "unable to open".
fn precheck(path: &Path, create: bool) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(StoreError::NotALedger {
            path: path.to_owned(),
            detail: "这是一个目录 (it is a directory)".into(),
        }),
        Ok(meta) if meta.len() == 0 => Ok(()),
        Ok(_) => {
            let mut magic = [0u8; 16];
            let read = std::fs::File::open(path)
                .and_then(|mut f| {
                    let mut n = 0;
                    while n < magic.len() {
                        match f.read(&mut magic[n..])? {
                            0 => break,
                            k => n += k,
                        }
                    }
                    Ok(n)
                })
                .map_err(|e| from_io(path, &e))?;
            if read < magic.len() || &magic != b"SQLite format 3\0" {
                return Err(StoreError::NotALedger {
                    path: path.to_owned(),
                    detail: format!(
                        "不是 SQLite 数据库 (not a SQLite database; it starts with {:?})",
                        String::from_utf8_lossy(&magic[..read])
                    ),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !create {
                return Err(StoreError::Missing {
                    path: path.to_owned(),
                });
            }
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map(drop)
                .or_else(|e| {
                    // Another process may have created it in between; that is its business.
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Ok(())
                    } else {
                        Err(from_io(path, &e))
                    }
                })
        }
        Err(e) => Err(from_io(path, &e)),
    }
}

/// Reads the header fields and decides what the file is.
fn inspect(path: &Path, conn: &Connection) -> Result<Found, StoreError> {
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| from_sqlite(path, e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| from_sqlite(path, e))?;
    if app_id == APPLICATION_ID {
        if version > FORMAT_VERSION {
            return Err(StoreError::NewerFormat {
                path: path.to_owned(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if version < 1 {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "账本头的格式版本为 {version} (the ledger header says format {version})"
                ),
            });
        }
        return Ok(Found::Ledger(version));
    }
    let mut names = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 6")
            .map_err(|e| from_sqlite(path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| from_sqlite(path, e))?;
        for name in rows {
            names.push(name.map_err(|e| from_sqlite(path, e))?);
        }
    }
    if app_id == 0 && version == 0 && names.is_empty() {
        return Ok(Found::Fresh);
    }
    Err(StoreError::NotALedger {
        path: path.to_owned(),
        detail: if app_id != 0 {
            format!(
                "另一个应用的 SQLite 数据库 (a SQLite database of another application: application_id {app_id:#010x}, the ledger's is {APPLICATION_ID:#010x})"
            )
        } else {
            format!(
                "另一个应用的 SQLite 数据库 (a SQLite database of another application, with tables {})",
                names.join(", ")
            )
        },
    })
}

/// Brings the file to [`FORMAT_VERSION`] in one transaction. The version is re-read under the write
/// lock, so two processes opening a new file at once migrate it once.
fn migrate(path: &Path, conn: &Connection) -> Result<(), StoreError> {
    let run = || -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for step in MIGRATIONS.iter().filter(|m| m.to > version) {
            tracing::info!(path = %path.display(), to = step.to, what = step.what, "migrating ledger");
            conn.execute_batch(step.sql)?;
        }
        if version < FORMAT_VERSION {
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
            conn.pragma_update(None, "user_version", FORMAT_VERSION)?;
        }
        conn.execute_batch("COMMIT")
    };
    run().map_err(|e| {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        from_sqlite(path, e)
    })
}

/// Creates a ledger file at an older format `version` (for tests of the migrations).
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: i64) -> Result<(), StoreError> {
    let conn = Connection::open(path).map_err(|e| from_sqlite(path, e))?;
    let run = || -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for step in MIGRATIONS.iter().filter(|m| m.to <= version) {
            conn.execute_batch(step.sql)?;
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        conn.pragma_update(None, "user_version", version)?;
        conn.execute_batch("COMMIT")
    };
    run().map_err(|e| from_sqlite(path, e))
}

/// The format version of an open ledger connection.
pub fn format_version(path: &Path, conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| from_sqlite(path, e))
}
