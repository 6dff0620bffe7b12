//! Checkpoints: the state at every N-th position, kept in memory (structure-shared) and storable
//! beside the log (serde), tagged with [`PROJECTION_CODE_VERSION`] so that a stored snapshot made by
//! other code is never served.
//!
//! # The code-version rule
//!
//! A snapshot is only as good as the code that folded it. **Bump [`PROJECTION_CODE_VERSION`] by hand
//! whenever `State::evolve` would fold any event differently, or the serialised form of
//! [`State`] changes** (a field added, renamed, retyped; an enum variant; a serde attribute), **or
//! the change log would record an event differently or its stored form changes** (a whole model is
//! stored with its change log: [`ReadModel::encode_stored`]; the tripwire below covers the state
//! only). A reader
//! refuses a snapshot of another version ([`SnapshotError::Stale`]) and the caller folds from an
//! older valid snapshot or from the start instead.
//!
//! The tripwire: [`SNAPSHOT_FINGERPRINTS`] lists, per code version, the FNV-1a 64 fingerprint of the
//! serialised reference snapshot (a fixed log exercising every event type, anomalies included,
//! folded by the current code; `tests/read_it/golden.rs`). A test fails when the fingerprint of
//! today's code differs from the last entry, or when the last entry's version is not
//! [`PROJECTION_CODE_VERSION`]: change the code, bump the version, append `(version, fingerprint)`.
//! Entries are only ever appended, never edited.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ReadModel;
use super::changes::{ChangeLog, LogImage};
use crate::domain::State;

/// The version of the fold and of the snapshot form; see the module docs for when to bump it.
pub const PROJECTION_CODE_VERSION: u32 = 5;

/// `(code version, fingerprint of the reference snapshot)`, oldest first; append only.
pub const SNAPSHOT_FINGERPRINTS: &[(u32, u64)] = &[
    (1, 0x2cbb_26a4_8952_d88e),
    (2, 0x0350_bf2d_317b_b0ef),
    (3, 0x3e9c_388e_869f_95ba),
    (4, 0x33ec_bc63_0d03_a413),
    // 5: records keep the evidence files they cite, and the state indexes every cited file.
    (5, 0x53bc_8422_3c5f_b79d),
];

/// How many positions apart the in-memory checkpoints are by default: an as-of query folds at most
/// this many events after loading one (see `READ-MODELS.md` for the measurements behind it).
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 8_192;

/// The state after the event at `position`. Cloning it is O(1) (see [`State`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: u64,
    pub state: State,
}

/// A checkpoint as stored beside the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`PROJECTION_CODE_VERSION`] of the code that folded it.
    pub code_version: u32,
    /// The position of the last event folded into it.
    pub position: u64,
    pub state: State,
}

/// Why a stored snapshot cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "快照由第 {found} 版投影代码生成, 当前为第 {current} 版, 须重新折叠 (the snapshot was folded by projection code version {found}, this is version {current}: fold again)"
    )]
    Stale { found: u32, current: u32 },
    #[error("快照无法读取 (the snapshot is unreadable): {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("快照内容不一致 (the snapshot does not hold together): {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Header {
    code_version: u32,
}

/// Reads a stored form in one pass and refuses it if another code version wrote it. Bytes that do
/// not read as today's form are read once more for their header alone, so that another version's
/// snapshot is still refused as [`SnapshotError::Stale`] rather than as unreadable. (Reading the
/// header first, as a separate pass, made every start-up scan the whole snapshot twice: a JSON
/// header is only known once the whole object has been skimmed.)
fn decode_current<T: DeserializeOwned>(
    bytes: &[u8],
    code_version: impl Fn(&T) -> u32,
) -> Result<T, SnapshotError> {
    let stale = |found| SnapshotError::Stale {
        found,
        current: PROJECTION_CODE_VERSION,
    };
    match serde_json::from_slice::<T>(bytes) {
        Ok(read) => match code_version(&read) {
            PROJECTION_CODE_VERSION => Ok(read),
            found => Err(stale(found)),
        },
        Err(unreadable) => match serde_json::from_slice::<Header>(bytes) {
            Ok(header) if header.code_version != PROJECTION_CODE_VERSION => {
                Err(stale(header.code_version))
            }
            _ => Err(SnapshotError::Unreadable(unreadable)),
        },
    }
}

/// A whole read model as written ([`ReadModel::encode_stored`]): a [`Snapshot`]'s fields and the
/// change log beside them.
#[derive(Serialize)]
struct StoredOut<'a> {
    code_version: u32,
    position: u64,
    state: &'a State,
    log: LogImage,
}

/// A whole read model as read back; `log` is absent in a snapshot of the state alone.
#[derive(Deserialize)]
struct StoredIn {
    code_version: u32,
    position: u64,
    state: State,
    log: Option<LogImage>,
}

impl ReadModel {
    /// The whole model as stored beside the log: the [`Snapshot`] of its state now (same fields, so
    /// [`Snapshot::decode`] reads it as one) plus its change log, which as-of queries, histories and
    /// change pages need from the first event on. Read it back with [`ReadModel::decode_stored`].
    pub fn encode_stored(&self) -> Vec<u8> {
        serde_json::to_vec(&StoredOut {
            code_version: PROJECTION_CODE_VERSION,
            position: self.position(),
            state: &self.state,
            log: self.log.image(),
        })
        .expect("a read model always serialises")
    }

    /// A model read back from [`ReadModel::encode_stored`]'s bytes, keeping a checkpoint every
    /// `every` positions from then on (its first checkpoint is the stored state itself). Refuses a
    /// snapshot of other code ([`SnapshotError::Stale`]), a snapshot of the
    /// state alone, and one whose change log does not hold together or does not end at its
    /// position ([`SnapshotError::Invalid`]).
    pub fn decode_stored(bytes: &[u8], every: u64) -> Result<ReadModel, SnapshotError> {
        let stored: StoredIn = decode_current(bytes, |s: &StoredIn| s.code_version)?;
        let image = stored.log.ok_or_else(|| {
            SnapshotError::Invalid("没有变更日志 (it holds no change log)".into())
        })?;
        let log = ChangeLog::from_image(image)
            .map_err(|e| SnapshotError::Invalid(format!("变更日志 (the change log): {e}")))?;
        let last = log.entries.last().map_or(0, |e| e.position);
        if last != stored.position {
            return Err(SnapshotError::Invalid(format!(
                "变更日志止于位置 {last}, 快照位置为 {} (the change log ends at position {last}, the snapshot is at {})",
                stored.position, stored.position
            )));
        }
        let checkpoints = if stored.position == 0 {
            Vec::new()
        } else {
            vec![Checkpoint {
                position: stored.position,
                state: stored.state.clone(),
            }]
        };
        Ok(ReadModel {
            state: stored.state,
            log,
            checkpoints,
            every,
        })
    }
}

impl Snapshot {
    /// The snapshot of a checkpoint, tagged with the current code version.
    pub fn of(checkpoint: &Checkpoint) -> Self {
        Self {
            code_version: PROJECTION_CODE_VERSION,
            position: checkpoint.position,
            state: checkpoint.state.clone(),
        }
    }

    /// The stored form: JSON (keys in a fixed order, so equal states give equal bytes).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a state always serialises")
    }

    /// Reads a stored snapshot, refusing one made by other code.
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, SnapshotError> {
        let snapshot: Snapshot = decode_current(bytes, |s: &Snapshot| s.code_version)?;
        Ok(Checkpoint {
            position: snapshot.position,
            state: snapshot.state,
        })
    }
}
