//! `ledger backup` and `ledger restore`: parse, call [`crate::backup`], print what it did.

use std::path::PathBuf;

use clap::Args;

use super::LedgerArg;

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 备份文件 Where the copy goes (its public key beside it as `OUT.pub`).
    pub out: PathBuf,
    /// 连同私钥 Also copy the private signing key (`OUT.key`): whoever holds it can sign checkpoints.
    #[arg(long)]
    pub with_key: bool,
    /// 覆盖 Replace `OUT` if it exists.
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// 备份文件 The copy `ledger backup` made.
    pub copy: PathBuf,
    /// 账本文件 The ledger file to put it in place of (kept beside, renamed, if it exists).
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 公钥 The public key to check the copy with (default: `COPY.pub`, else the replaced ledger's).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// 保存的检查点 A checkpoint kept earlier, which the copy must extend.
    #[arg(long, value_name = "CHECKPOINT")]
    pub against: Option<PathBuf>,
    /// 强制 Restore even a copy that fails a check or is older than a checkpoint (each is named).
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let report = rt.block_on(crate::backup::backup(
        &args.ledger.path,
        &args.out,
        args.with_key,
        args.force,
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "已备份并校验 backed up and verified: {} → {} ({} 个事件 events, {} 个检查点 checkpoints, {:.1} MiB, {:.1} s)",
        report.source,
        report.copy,
        report.events,
        report.checkpoints,
        report.bytes as f64 / (1024.0 * 1024.0),
        report.seconds
    );
    println!("链头 head hash: {}", report.head_hash);
    println!("树根 tree root: {}", report.tree_root);
    if let Some(public) = &report.public_key {
        println!("公钥 public key: {public}");
    }
    for note in &report.notes {
        println!("注意 note: {note}");
    }
    Ok(())
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let report = rt.block_on(crate::backup::restore(
        &args.copy,
        &args.ledger.path,
        crate::backup::RestoreOptions {
            public_key: args.public_key.as_deref(),
            against: args.against.as_deref(),
            force: args.force,
        },
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "已恢复 restored: {} → {} ({} 个事件 events, 链头 head {})",
        report.copy, report.ledger, report.events, report.head_hash
    );
    if let Some(aside) = &report.replaced_kept_at {
        println!("原账本保留在 the replaced ledger is kept at: {aside}");
    }
    for why in &report.overridden {
        println!("警告 --force 越过 overridden by --force: {why}");
    }
    for note in &report.notes {
        println!("注意 note: {note}");
    }
    Ok(())
}
