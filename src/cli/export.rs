//! `ledger export --audit DIR`: writes the audit bundle (see `crate::audit::bundle`) of the whole
//! log, which `ledger verify --bundle DIR` checks without the ledger file.
//!
//! The checkpoints are read before the events, so every exported checkpoint is covered by the
//! exported events even while others append. The evidence files the events cite are copied from the
//! evidence store (`--evidence-dir`, or S3; default the folder beside the ledger) into the bundle,
//! or, with `--evidence list`, only listed.

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
    /// 佐证材料 What the bundle carries of the cited evidence files: the files themselves
    /// (`files`), or only their list with hashes (`list`).
    #[arg(long, value_enum, value_name = "WHAT", default_value = "files")]
    pub evidence: audit::bundle::EvidenceMode,
    /// Where the cited evidence files are read from (default: FILE.evidence/ beside the ledger).
    #[command(flatten)]
    pub evidence_store: crate::evidence::EvidenceArgs,
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
    let store = args.evidence_store.open(&path)?;
    let (manifest, evidence) = audit::bundle::write(
        &args.audit,
        &events,
        &checkpoints,
        &key,
        args.evidence,
        |digest| Ok(rt.block_on(store.get(digest))?),
    )?;
    println!(
        "已导出审计包 exported the audit bundle to {}: {} 个事件 events, {} 个检查点 checkpoints, 默克尔根 Merkle root {}",
        args.audit.display(),
        manifest.events,
        manifest.checkpoints,
        manifest.tree_root
    );
    println!(
        "佐证材料 evidence: {} 个文件 files, {} 字节 bytes, 被引用 {} 处 (cited {} times); {}",
        evidence.files,
        evidence.bytes,
        evidence.citations.len(),
        evidence.citations.len(),
        if evidence.included {
            "文件已导出 files included (evidence/<sha256>)"
        } else {
            "只导出清单 list only (evidence.json), 文件未导出 files NOT included"
        }
    );
    Ok(())
}
