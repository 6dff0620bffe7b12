//! The command line: argument definitions (clap) and one module per subcommand.
//!
//! Conventions other tools rely on: the ledger file is `--ledger FILE` or `LEDGER_PATH`, defaulting
//! to `ledger.db` in the working directory; every command exits non-zero with a one-line reason on
//! failure; `--json` gives machine-readable output where a command prints data.

pub mod bench;
pub mod debug;
pub mod status;

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
    /// 校验哈希链 Walk the hash chain and report the first event that does not match.
    Verify {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
    },
    /// 性能测试 Run a benchmark and print its results beside a raw baseline.
    Bench(bench::BenchArgs),
    /// Tools for tests; not for everyday use.
    #[command(hide = true, subcommand)]
    Debug(debug::DebugCommand),
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init { ledger, json } => status::init(&ledger.path, json),
        Command::Status { ledger, json } => status::status(&ledger.path, json),
        Command::Verify { ledger, json } => status::verify(&ledger.path, json),
        Command::Bench(args) => bench::run(args),
        Command::Debug(cmd) => debug::run(cmd),
    }
}
