//! The command line: argument definitions (clap) and one module per subcommand.
//!
//! Conventions other tools rely on: the ledger file is `--ledger FILE` or `LEDGER_PATH`, defaulting
//! to `ledger.db` in the working directory; every command exits non-zero with a one-line reason on
//! failure; `--json` gives machine-readable output where a command prints data.

pub mod annual;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod debug;
pub mod demo;
pub mod export;
pub mod import;
pub mod read;
pub mod rebuild;
pub mod rubric;
pub mod serve;
pub mod status;
pub mod table;
pub mod token;
pub mod witness;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// 「双考核」审计账本 — an event-sourced audit ledger for organisational assessment.
#[derive(Debug, Parser)]
#[command(name = "ledger", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The ledger file, shared by every subcommand that opens one.
#[derive(Debug, Clone, Args)]
pub struct LedgerArg {
    /// 账本文件 The ledger file (SQLite).
    #[arg(long = "ledger", env = "LEDGER_PATH", default_value = "ledger.db")]
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 初始化账本并显示其状态 Create the ledger if needed and print its state.
    Init {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 业务时区 The ledger's business zone, recorded as its first event when the ledger is
        /// created (every time read or typed, and every due date, is on its clock): an IANA name
        /// such as Asia/Tokyo. Default (and for a ledger that records none): Asia/Shanghai.
        #[arg(long, value_name = "ZONE")]
        zone: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// 显示账本状态 Print the ledger's state: events, head, chain.
    Status {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
    },
    /// 校验账本 Walk the hash chain and the Merkle tree, report the first event that does not match,
    /// every stored checkpoint that does not agree with the log or the key, every deleted one,
    /// every read-model snapshot whose seal or log does not hold, and every cited evidence file that
    /// is missing or altered, with the event that cites it.
    Verify {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
        /// 公钥文件 The ledger's public key as `ledger audit public-key` prints it (default: derived
        /// from FILE.key beside the ledger).
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// 保存的检查点 A checkpoint note kept earlier: the log must still extend it (rollback/fork).
        #[arg(long, value_name = "CHECKPOINT_FILE")]
        against: Option<PathBuf>,
        /// 检查点间隔 The interval the server signed checkpoints at (`ledger serve
        /// --checkpoint-every`), to name the absent ones by (default: the one the last checkpoint
        /// states under its signature, else 1000).
        #[arg(long, value_name = "N", conflicts_with_all = ["bundle", "store"])]
        checkpoint_every: Option<u64>,
        /// 重新折叠 Also fold the log from the first event and compare every read-model snapshot
        /// kept beside it with the fold, byte for byte (needs no key; about as long as `ledger
        /// rebuild`).
        #[arg(long, conflicts_with_all = ["bundle", "store"])]
        refold: bool,
        /// 审计包 Verify an audit bundle (from `ledger export --audit`) instead of the ledger file.
        #[arg(long, value_name = "DIR", conflicts_with = "against")]
        bundle: Option<PathBuf>,
        /// 事件 ID With --bundle: prove this event's inclusion from the bundle alone, print the proof.
        #[arg(long, value_name = "ID", requires = "bundle")]
        event: Option<uuid::Uuid>,
        /// 事件存储 Verify a KurrentDB/EventStoreDB cluster's notary chain instead of the ledger file
        /// (`kurrentdb://host:2113?tls=false`, `esdb://...`).
        #[arg(long, value_name = "URL", conflicts_with_all = ["bundle", "against"])]
        store: Option<String>,
        /// 见证人公钥 A trusted witness's verifier key (or a file holding it); repeatable. The
        /// history is accepted only as far as checkpoints --quorum of them cosigned.
        #[arg(long, value_name = "VKEY", conflicts_with_all = ["bundle", "store"])]
        witness_key: Vec<String>,
        /// 见证法定数 How many of the --witness-key witnesses must have cosigned [default: all].
        #[arg(long, value_name = "N", requires = "witness_key")]
        quorum: Option<usize>,
        /// Where the cited evidence files are checked (default: FILE.evidence/ beside the ledger).
        #[command(flatten)]
        evidence: crate::evidence::EvidenceArgs,
    },
    /// 导出 Export the audit bundle (`--audit DIR`), with the cited evidence files or their list.
    Export(export::ExportArgs),
    /// 审计 The signing key and signed checkpoints: export the public key, sign checkpoints.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// 提供 HTTP 接口 Serve the HTTP API (`--listen ADDR:PORT`) until Ctrl-C or SIGTERM.
    Serve(serve::ServeArgs),
    /// 备份 A consistent copy of the ledger file, taken while a server writes, kept only if it
    /// verifies.
    Backup(backup::BackupArgs),
    /// 恢复 Put a backup in place of the ledger file, if it verifies and is not older than a
    /// checkpoint.
    Restore(backup::RestoreArgs),
    /// 性能测试 Run a benchmark and print its results beside a raw baseline.
    Bench(bench::BenchArgs),
    /// 评分细则 Rubrics: load the default template or a file, list versions.
    #[command(subcommand)]
    Rubric(rubric::RubricCommand),
    /// 演示账本 Build the demo ledger (two periods, eight units) into a new ledger; `--serve` to serve it.
    Demo(demo::DemoArgs),
    /// 令牌 Bearer tokens: issue (prints the token alone), revoke, list.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// 导入 Import a rubric file, score sheets or business results from CSV or .xlsx (all rows or
    /// none), or write the business-results template.
    Import(import::ImportArgs),
    /// 排名 A period's standings, now or as of a past time or position.
    Standings(read::StandingsArgs),
    /// 年度考核 The year's result: a year's periods (or the periods named) combined per unit by the
    /// rubric's annual rule, now or as of a past time or position.
    Annual(annual::AnnualArgs),
    /// 变更历史 The history of a unit's score sheet, or of one item.
    History(read::HistoryArgs),
    /// 变更记录 The change log, filtered by person, unit, item, aspect, type and time.
    Changes(read::ChangesArgs),
    /// 重建读模型 Rebuild every read model from the log, with progress; report the rate; keep their
    /// snapshots beside the log (replacing this version's, pruning other versions').
    Rebuild {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
    },
    /// 见证人 Run a witness that cosigns other ledgers' checkpoints (C2SP tlog-witness).
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// Tools for tests; not for everyday use.
    #[command(hide = true, subcommand)]
    Debug(debug::DebugCommand),
}

/// Sets up logging to standard error once: levels from `RUST_LOG` (or the older `LEDGER_LOG`),
/// `warn` when neither is set; `json` writes one JSON object a line. Later calls do nothing.
pub fn init_logging(format: crate::server::config::LogFormat) {
    init_logging_with(format, None);
}

/// As [`init_logging`], with `directives` (e.g. `ledger::http=info`) instead of the environment's.
pub fn init_logging_with(format: crate::server::config::LogFormat, directives: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match directives {
        Some(directives) => EnvFilter::new(directives),
        None => EnvFilter::try_from_env("RUST_LOG")
            .or_else(|_| EnvFilter::try_from_env("LEDGER_LOG"))
            .unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::server::config::LogFormat::Text => builder.try_init(),
        crate::server::config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // `ledger serve` and `ledger bench http` set up their own logging.
    let own_logging = match &cli.command {
        Command::Serve(_) => true,
        Command::Bench(args) => matches!(args.target, bench::BenchTarget::Http(_)),
        _ => false,
    };
    if !own_logging {
        init_logging(crate::server::config::LogFormat::Text);
    }
    match cli.command {
        Command::Init { ledger, zone, json } => status::init(&ledger.path, zone.as_deref(), json),
        Command::Status { ledger, json } => status::status(&ledger.path, json),
        Command::Verify {
            json,
            store: Some(url),
            ..
        } => status::verify_store(&url, json),
        Command::Verify {
            json,
            public_key,
            bundle: Some(bundle),
            event,
            ..
        } => status::verify_bundle(&bundle, json, public_key.as_deref(), event),
        Command::Verify {
            ledger,
            json,
            public_key,
            against,
            checkpoint_every,
            refold,
            bundle: None,
            witness_key,
            quorum,
            evidence,
            ..
        } => {
            let keys = witness_key
                .iter()
                .map(|k| crate::witness::parse_witness_key(k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let quorum = quorum.unwrap_or(keys.len());
            if !keys.is_empty() && !(1..=keys.len()).contains(&quorum) {
                anyhow::bail!(
                    "--quorum 须在 1 与 --witness-key 个数之间 (--quorum must be between 1 and the number of --witness-key)"
                );
            }
            let evidence = evidence.open(&ledger.path)?;
            status::verify(
                &ledger.path,
                json,
                crate::audit::file::VerifyOptions {
                    public_key: public_key.as_deref(),
                    against: against.as_deref(),
                    checkpoint_every,
                    refold,
                    witnesses: (!keys.is_empty()).then_some((keys.as_slice(), quorum)),
                    evidence: Some(&evidence),
                },
            )
        }
        Command::Export(args) => export::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Serve(args) => serve::run(args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Bench(args) => bench::run(args),
        Command::Rubric(cmd) => rubric::run(cmd),
        Command::Demo(args) => demo::run(args),
        Command::Token(cmd) => token::run(cmd),
        Command::Import(args) => import::run(args),
        Command::Standings(args) => read::standings(args),
        Command::Annual(args) => annual::run(args),
        Command::History(args) => read::history(args),
        Command::Changes(args) => read::changes(args),
        Command::Rebuild { ledger, json } => rebuild::run(ledger, json),
        Command::Witness(cmd) => witness::run(cmd),
        Command::Debug(cmd) => debug::run(cmd),
    }
}

/// The async runtime the command line runs the store and the service on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("无法启动异步运行时 (cannot start the async runtime)")
}
