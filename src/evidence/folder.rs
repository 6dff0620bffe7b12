//! The embedded evidence store: a folder beside the ledger file.
//!
//! Layout: `<root>/sha256/<first two hex digits>/<64 hex digits>`, and `<root>/tmp/` for files
//! being written. A file is written to `tmp/`, synced, and renamed into place (a rename within one
//! file system is atomic), then the directory is synced; so a crash leaves either the whole file
//! under its digest or a stray temporary file, never a half file under a digest that a record could
//! cite.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ledger_schemas::integrity::Digest;

use super::{EvidenceError, Stored};

/// Evidence files in a folder.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    /// The store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store beside the ledger file `ledger`: `<ledger>.evidence/`.
    pub fn beside(ledger: &Path) -> Self {
        let mut name = ledger.as_os_str().to_owned();
        name.push(".evidence");
        Self::new(PathBuf::from(name))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file named `digest` lives.
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    pub async fn put(&self, bytes: &[u8]) -> Result<Stored, EvidenceError> {
        let this = self.clone();
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || this.put_blocking(&bytes))
            .await
            .map_err(|e| EvidenceError::Io(e.to_string()))?
    }

    fn put_blocking(&self, bytes: &[u8]) -> Result<Stored, EvidenceError> {
        let digest = super::digest(bytes);
        let size = bytes.len() as u64;
        let target = self.path_of(&digest);
        if target.is_file() {
            return Ok(Stored {
                digest,
                size,
                created: false,
            });
        }
        let io = |what: &str, path: &Path, e: std::io::Error| {
            EvidenceError::Io(format!("{what} {}: {e}", path.display()))
        };
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)
            .map_err(|e| io("无法创建目录 (cannot create)", &tmp_dir, e))?;
        let dir = target.parent().unwrap_or(&self.root).to_owned();
        std::fs::create_dir_all(&dir).map_err(|e| io("无法创建目录 (cannot create)", &dir, e))?;
        let tmp = tmp_dir.join(format!("{}.part", uuid::Uuid::now_v7()));
        let written = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &target)?;
            std::fs::File::open(&dir)?.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io("无法写入 (cannot write)", &target, e));
        }
        Ok(Stored {
            digest,
            size,
            created: true,
        })
    }

    pub async fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, EvidenceError> {
        let path = self.path_of(digest);
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EvidenceError::Io(format!(
                "无法读取 (cannot read) {}: {e}",
                path.display()
            ))),
        })
        .await
        .map_err(|e| EvidenceError::Io(e.to_string()))?
    }
}
