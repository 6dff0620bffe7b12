//! Where the evidence files are: the command-line options every subcommand that opens a ledger's
//! evidence shares (`serve`, `verify`, `export --audit`, `demo`), so that they all find the same store.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{EvidenceError, EvidenceStore, FolderStore, S3Config, S3Store};

/// The evidence store's options. With none given, the files live in the folder beside the ledger
/// file (`<ledger>.evidence/`).
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceArgs {
    /// 佐证材料目录 The folder of evidence files (default: FILE.evidence/ beside the ledger file).
    #[arg(long, value_name = "DIR", env = "LEDGER_EVIDENCE_DIR")]
    pub evidence_dir: Option<PathBuf>,
    /// 佐证材料对象存储 An S3-compatible server for the evidence files instead of a folder, e.g.
    /// https://s3.example.internal:9000 (keys from LEDGER_EVIDENCE_S3_ACCESS_KEY and
    /// LEDGER_EVIDENCE_S3_SECRET_KEY).
    #[arg(
        long,
        value_name = "URL",
        env = "LEDGER_EVIDENCE_S3_ENDPOINT",
        conflicts_with = "evidence_dir",
        requires = "evidence_s3_bucket"
    )]
    pub evidence_s3_endpoint: Option<String>,
    /// 存储桶 The bucket of the S3-compatible server.
    #[arg(long, value_name = "BUCKET", env = "LEDGER_EVIDENCE_S3_BUCKET")]
    pub evidence_s3_bucket: Option<String>,
    /// 区域 The region the S3-compatible server signs for.
    #[arg(
        long,
        value_name = "REGION",
        env = "LEDGER_EVIDENCE_S3_REGION",
        default_value = "us-east-1"
    )]
    pub evidence_s3_region: String,
}

impl EvidenceArgs {
    /// Opens the store these options name, for the ledger file at `ledger`.
    pub fn open(&self, ledger: &Path) -> Result<EvidenceStore, EvidenceError> {
        match (&self.evidence_s3_endpoint, &self.evidence_s3_bucket) {
            (Some(endpoint), Some(bucket)) => {
                let key = |name: &str| {
                    std::env::var(name).map_err(|_| {
                        EvidenceError::Unavailable(format!(
                            "未设置环境变量 {name} (set {name} to the S3 key of the evidence store)"
                        ))
                    })
                };
                let config = S3Config {
                    endpoint: endpoint.clone(),
                    bucket: bucket.clone(),
                    region: self.evidence_s3_region.clone(),
                    access_key: key("LEDGER_EVIDENCE_S3_ACCESS_KEY")?,
                    secret_key: key("LEDGER_EVIDENCE_S3_SECRET_KEY")?,
                };
                Ok(EvidenceStore::S3(S3Store::new(&config)?))
            }
            _ => Ok(EvidenceStore::Folder(match &self.evidence_dir {
                Some(dir) => FolderStore::new(dir),
                None => FolderStore::beside(ledger),
            })),
        }
    }
}
