//! `ledger export --audit DIR`: writes the audit bundle (see `crate::audit::bundle`) of the whole
//! log, which `ledger verify --bundle DIR` checks without the ledger file.
//!
//! The checkpoints are read before the events, so every exported checkpoint is covered by the
//! exported events even while others append.

use std::path::PathBuf;

use clap::Args;
use futures_util::TryStreamExt as _;

use super::LedgerArg;
use crate::audit;
use crate::store::SqliteStore;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 审计包目录 Write the audit bundle into this directory (absent or empty).
    #[arg(long, value_name = "DIR")]
    pub audit: PathBuf,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let path = args.ledger.path;
    let key = audit::load_key(&path)?.verifying_key();
    let rt = super::runtime()?;
    let (events, checkpoints) = rt.block_on(async {
        let store = SqliteStore::open_existing(&path)?;
        let result = async {
            let checkpoints = store.audit_snapshot().await?.checkpoints;
            let pages: Vec<Vec<ledger_schemas::Envelope>> =
                store.stream_pages(0, 4096).try_collect().await?;
            anyhow::Ok((pages.concat(), checkpoints))
        }
        .await;
        store.close().await;
        result
    })?;
    let manifest = audit::bundle::write(&args.audit, &events, &checkpoints, &key)?;
    println!(
        "已导出审计包 exported the audit bundle to {}: {} 个事件 events, {} 个检查点 checkpoints, 默克尔根 Merkle root {}",
        args.audit.display(),
        manifest.events,
        manifest.checkpoints,
        manifest.tree_root
    );
    Ok(())
}
