//! The `ledger` command line. Each subcommand's work lives in `ledger::cli::*`; this file only parses
//! arguments, sets up logging and turns failures into a one-line reason and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use ledger::cli::{Cli, run};

/// mimalloc instead of the system allocator: the folds, the HTTP layer and the store's writer
/// allocate many small objects per event, where glibc's malloc spent about 15 % of a rebuild.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LEDGER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the reason and its causes, outermost first.
            let reason = err
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("错误 error: {reason}");
            ExitCode::FAILURE
        }
    }
}
