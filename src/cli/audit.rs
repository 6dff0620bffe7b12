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
    /// 审计监视 Watch a ledger server: keep this auditor's own trusted checkpoint, check that each
    /// newer one extends it, spot-check events' inclusion; name the checkpoint or event at fault.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// 服务器地址 The ledger server, `http://HOST:PORT`.
    #[arg(long, required_unless_present = "bundle", conflicts_with = "bundle")]
    pub url: Option<String>,
    /// 审计包 Watch an audit bundle (`ledger export --audit DIR`) instead of a server: each round
    /// reads it afresh, e.g. as the operators replace it with a newer export.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<std::path::PathBuf>,
    /// 审计员令牌 An auditor's bearer token.
    #[arg(long, env = "LEDGER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// 日志公钥 The ledger's verifier key as the operators handed it over (text or file).
    #[arg(long, value_name = "VKEY")]
    pub log_key: String,
    /// 见证人公钥 A trusted witness's verifier key; repeatable. With these, only checkpoints
    /// --quorum of them cosigned are trusted.
    #[arg(long, value_name = "VKEY")]
    pub witness_key: Vec<String>,
    /// 见证法定数 [default: all the --witness-key].
    #[arg(long, value_name = "N", requires = "witness_key")]
    pub quorum: Option<usize>,
    /// 状态文件 This auditor's trusted checkpoint (JSON; created on the first passing round).
    #[arg(long, value_name = "FILE")]
    pub state: std::path::PathBuf,
    /// 间隔 Seconds between rounds.
    #[arg(long, default_value_t = 60)]
    pub interval: u64,
    /// 只检查一次 One round, then exit (non-zero on a failure).
    #[arg(long)]
    pub once: bool,
    /// 钩子 A shell command run on a failure (with LEDGER_WATCH_KIND, LEDGER_WATCH_AT_FAULT,
    /// LEDGER_WATCH_REASON); with it, watching goes on instead of exiting.
    #[arg(long, value_name = "CMD")]
    pub hook: Option<String>,
    /// 状态接口 Serve the last result as JSON at `http://ADDR/status`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// 抽查数 Random events whose inclusion is checked each round, besides the newest.
    #[arg(long, default_value_t = 3)]
    pub samples: usize,
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::PublicKey { ledger } => public_key(&ledger.path),
        AuditCommand::Checkpoint { ledger, every } => checkpoint(&ledger.path, every),
        AuditCommand::Watch(args) => watch(args),
    }
}

fn watch(args: WatchArgs) -> anyhow::Result<()> {
    if args.bundle.is_some() && !args.witness_key.is_empty() {
        anyhow::bail!(
            "审计包不含见证方联署, 不能与 --witness-key 同用; 见证请监视服务器 (--url) (a bundle carries no witness cosignatures: watch the server with --url to check witnessing)"
        );
    }
    let log_key = if Path::new(&args.log_key).is_file() {
        std::fs::read_to_string(&args.log_key)?
    } else {
        args.log_key.clone()
    };
    let log_key = audit::parse_public_key(&log_key)
        .map_err(|e| anyhow::anyhow!("日志公钥无效 (invalid --log-key): {e}"))?;
    let witness_keys = args
        .witness_key
        .iter()
        .map(|k| crate::witness::parse_witness_key(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let quorum = args.quorum.unwrap_or(witness_keys.len());
    if !witness_keys.is_empty() && !(1..=witness_keys.len()).contains(&quorum) {
        anyhow::bail!(
            "--quorum 须在 1 与 --witness-key 个数之间 (--quorum must be between 1 and the number of --witness-key)"
        );
    }
    let options = crate::witness::watch::WatchOptions {
        url: args.url.unwrap_or_default(),
        bundle: args.bundle,
        token: args.token,
        log_key,
        witness_keys,
        quorum,
        state: args.state,
        samples: args.samples,
    };
    let run = crate::witness::watch::RunOptions {
        interval: std::time::Duration::from_secs(args.interval.max(1)),
        once: args.once,
        hook: args.hook,
        listen: args.listen,
    };
    super::runtime()?.block_on(crate::witness::watch::run(options, run))
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
