//! Evidence files (佐证材料): the bytes behind the records, stored once, by their SHA-256.
//!
//! The port is [`EvidenceStore`], one enum over its backends, as [`crate::store::any::Store`] is for
//! events:
//!
//! - [`folder`]: the embedded default, a folder beside the ledger file (`<ledger>.evidence/`).
//!   A folder rather than a table in the SQLite file, because evidence is large (scans, photos) and
//!   the log is small: kept apart, the ledger file stays quick to back up, copy and verify, its
//!   write-ahead log never carries megabytes of images, and every file can be checked by anyone with
//!   `sha256sum`, since its name is its digest.
//! - [`s3`]: any S3-compatible object store, for deployments whose several servers share the files.
//!
//! Every backend keeps the same contract, which `tests/it/evidence_store.rs` runs against each:
//!
//! - **content-addressed**: a file is named by the SHA-256 of its bytes; the same bytes stored twice
//!   are stored once ([`Stored::created`] says whether this call wrote them);
//! - **atomic**: a file is either wholly present under its digest or absent, never half-written
//!   (the folder writes a temporary file, syncs it and renames it into place; an S3 `PUT` is atomic);
//! - **checkable**: [`EvidenceStore::check`] reads a file back and says whether it is present, intact
//!   or altered, which is what `ledger verify` asks of every cited file.
//!
//! Beside the port: [`sniff`] (what a file is, from its bytes) and [`names`] (file names made safe to
//! show and to send in `Content-Disposition`). The HTTP side is `crate::http::evidence`.

pub mod config;
pub mod folder;
pub mod names;
pub mod s3;
pub mod sniff;

use ledger_schemas::integrity::Digest;
use sha2::{Digest as _, Sha256};

pub use config::EvidenceArgs;
pub use folder::FolderStore;
pub use s3::{S3Config, S3Store};

/// The SHA-256 of `bytes`, as the evidence store names files.
pub fn digest(bytes: &[u8]) -> Digest {
    Digest(Sha256::digest(bytes).into())
}

/// What storing a file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub digest: Digest,
    pub size: u64,
    /// Whether this call wrote the bytes (`false`: the same file was already stored).
    pub created: bool,
}

/// A cited file as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Present and hashing to its name.
    Intact {
        size: u64,
    },
    /// Present, but its bytes hash to something else: altered after it was stored.
    Altered {
        actual: Digest,
        size: u64,
    },
    Missing,
}

/// Why the evidence store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("佐证材料存储不可用 (the evidence store is unavailable): {0}")]
    Unavailable(String),
    #[error("佐证材料存储出错 (the evidence store failed): {0}")]
    Io(String),
}

/// The evidence store: one of its backends.
#[derive(Debug, Clone)]
pub enum EvidenceStore {
    Folder(FolderStore),
    S3(S3Store),
}

impl EvidenceStore {
    /// Stores `bytes` under their SHA-256, once.
    pub async fn put(&self, bytes: &[u8]) -> Result<Stored, EvidenceError> {
        match self {
            EvidenceStore::Folder(store) => store.put(bytes).await,
            EvidenceStore::S3(store) => store.put(bytes).await,
        }
    }

    /// The file named `digest`, or `None` when the store does not hold it. The bytes are returned
    /// as stored; [`check`](Self::check) is what says whether they still hash to their name.
    pub async fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, EvidenceError> {
        match self {
            EvidenceStore::Folder(store) => store.get(digest).await,
            EvidenceStore::S3(store) => store.get(digest).await,
        }
    }

    /// Reads the file named `digest` back and hashes it.
    pub async fn check(&self, digest: &Digest) -> Result<FileState, EvidenceError> {
        Ok(match self.get(digest).await? {
            None => FileState::Missing,
            Some(bytes) => {
                let actual = self::digest(&bytes);
                let size = bytes.len() as u64;
                if actual == *digest {
                    FileState::Intact { size }
                } else {
                    FileState::Altered { actual, size }
                }
            }
        })
    }

    /// Where the files are, for messages.
    pub fn describe(&self) -> String {
        match self {
            EvidenceStore::Folder(store) => store.root().display().to_string(),
            EvidenceStore::S3(store) => store.describe(),
        }
    }
}
