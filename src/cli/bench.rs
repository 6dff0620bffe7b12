//! `ledger bench`: parses which benchmark to run and calls its harness in `crate::bench`.

use clap::{Args, Subcommand};

use crate::bench;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// 事件存储 The event store: append (one at a time, concurrent), read, verify.
    Store(bench::store::StoreBenchArgs),
    /// HTTP 接口 Concurrent clients recording scores over HTTP on loopback, beside direct calls.
    Http(bench::http::HttpBenchArgs),
    /// KurrentDB 适配器 The KurrentDB adapter through the test server, beside the embedded store.
    Kurrent(bench::kurrent::KurrentBenchArgs),
    /// 审计 Audit integrity: verify rate vs raw SHA-256, proof latency on a 1,000,000-event tree,
    /// checkpoint cost.
    Audit(bench::audit::AuditBenchArgs),
    /// 读模型 Read models on a 1,000,000-event ledger: rebuild rate, as-of latency, memory.
    Projections(bench::projections::ProjectionsBenchArgs),
    /// 网页控制台 The web console's pages on a 1,000,000-event ledger: time to first byte.
    Console(bench::console::ConsoleBenchArgs),
    /// 混合负载 A running server under writers, readers, as-of readers and change-log readers for
    /// minutes: throughput, p99 per kind, and its memory beside a fresh server's.
    Mixed(bench::mixed::MixedBenchArgs),
    /// 见证 Witnessing: checkpoint-to-cosigned latency with two witnesses, and the append rate
    /// with witnessing on beside off.
    Witness(bench::witness::WitnessBenchArgs),
    /// 佐证材料 Evidence files: storing 1 MiB and 20 MiB files, and verify's rate over the files a
    /// ledger cites, beside raw SHA-256 of the same bytes.
    Evidence(bench::evidence::EvidenceBenchArgs),
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Store(args) => bench::store::run(args),
        BenchTarget::Http(args) => bench::http::run(args),
        BenchTarget::Kurrent(args) => bench::kurrent::run(args),
        BenchTarget::Audit(args) => bench::audit::run(args),
        BenchTarget::Projections(args) => bench::projections::run(args),
        BenchTarget::Console(args) => bench::console::run(args),
        BenchTarget::Mixed(args) => bench::mixed::run(args),
        BenchTarget::Witness(args) => bench::witness::run(args),
        BenchTarget::Evidence(args) => bench::evidence::run(args),
    }
}
