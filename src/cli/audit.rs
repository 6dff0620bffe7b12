//! `ledger audit public-key` and `ledger audit checkpoint`: export the ledger's public key, and sign
//! checkpoints on demand.
//!
//! `checkpoint` prints the head's signed note alone on stdout, so that an auditor can keep it
//! (`ledger audit checkpoint > kept.note`) and later run `ledger verify --against kept.note`; what
//! it did goes to stderr, zh-CN first then English.

use std::path::Path;

use clap::Subcommand;
use ledger_schemas::checkpoint::Checkpoint;

use super::LedgerArg;
use crate::audit;
use crate::store::SqliteStore;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// 导出公钥 Print the ledger's public key: PEM, then the signed-note verifier string.
    PublicKey {
        #[command(flatten)]
        ledger: LedgerArg,
    },
    /// 签署检查点 Sign the missing checkpoints (every N events, and the head); print the head's.
    Checkpoint {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 每隔多少个事件一个检查点 Events between automatic checkpoints.
        #[arg(long, default_value_t = audit::DEFAULT_EVERY, value_parser = clap::value_parser!(u64).range(1..))]
        every: u64,
    },
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::PublicKey { ledger } => public_key(&ledger.path),
        AuditCommand::Checkpoint { ledger, every } => checkpoint(&ledger.path, every),
    }
}

fn public_key(path: &Path) -> anyhow::Result<()> {
    let key = audit::load_key(path)?.verifying_key();
    print!("{}", key.to_pem());
    if !key.to_pem().ends_with('\n') {
        println!();
    }
    println!("{}", key.to_note_verifier());
    Ok(())
}

fn checkpoint(path: &Path, every: u64) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open_existing(path)?;
        let result = async {
            let snapshot = store.audit_snapshot().await?;
            // A ledger that already has checkpoints must keep its key: a new one would make every
            // earlier checkpoint unverifiable, so a missing key file is an error, not a fresh start.
            let key = if snapshot.checkpoints.is_empty() {
                audit::ensure_key(path)?
            } else {
                audit::load_key(path)?
            };
            let made = audit::make_checkpoints(&store, &key, every).await?;
            let head = store.audit_snapshot().await?;
            let (size, note) = head
                .checkpoints
                .iter()
                .max_by_key(|(size, _)| *size)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("没有检查点 (no checkpoint)"))?;
            let checkpoint = Checkpoint::from_note(&note)?;
            eprintln!(
                "已签署 {} 个检查点；头检查点大小 {size}，根 {} (signed {} checkpoints; the head checkpoint covers {size} events, root {})",
                made.len(),
                checkpoint.root_hash(),
                made.len(),
                checkpoint.root_hash()
            );
            print!("{note}");
            anyhow::Ok(())
        }
        .await;
        store.close().await;
        result
    })
}
