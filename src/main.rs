//! The `ledger` command line. Each subcommand's work lives in `ledger::cli::*`; this file only parses
//! arguments and turns failures into a one-line reason and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use ledger::cli::{Cli, run};

/// mimalloc instead of the system allocator: the folds, the HTTP layer and the store's writer
/// allocate many small objects per event, where glibc's malloc spent about 15 % of a rebuild.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    without_transparent_huge_pages();
    let cli = Cli::parse();
    // Logging is set up by `run`: `ledger serve` may ask for JSON in its configuration.
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

/// Turns transparent huge pages off for this process. mimalloc asks the kernel for huge pages on
/// its arenas (`madvise(MADV_HUGEPAGE)`), and then returns freed memory a few pages at a time; every
/// later touch of such a range faults in and zeroes a whole fresh 2 MiB page. A rebuild, which
/// allocates and frees each page of events on one thread after another, spent a third of its CPU
/// zeroing pages that way: 560,000–650,000 events/s at a million events with huge pages, about
/// 850,000 without (`BENCHMARKS.md`). It is the same as `MIMALLOC_ALLOW_THP=0`, without needing the
/// variable; on kernels where huge pages are already off it changes nothing.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and sets a flag of this process;
    // it cannot fail in a way that matters (on an old kernel it returns EINVAL and nothing changes).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
