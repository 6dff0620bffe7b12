//! `ledger bench audit`: what audit integrity costs, each figure beside a raw baseline measured in
//! the same run.
//!
//! - **Verify rate**: the hash chain over in-memory envelopes (re-encoding and hashing every event,
//!   checking links, positions and times) plus the Merkle tree over the resulting hashes, against
//!   raw SHA-256 over the same encoded bytes. The file read is left out on purpose: `ledger bench
//!   store` measures `verify` through SQLite.
//! - **Proof latency** on a tree of `--tree` leaves (default 1,000,000): inclusion proofs at random
//!   positions and consistency proofs between random sizes, median and 99th percentile.
//! - **Checkpoint cost**: rebuilding the tree from the event hashes (what `ledger audit checkpoint`
//!   does), and signing and verifying one checkpoint.
//!
//! Events are built the way the store stamps them, so the encoding is the real one; the tree's
//! leaves are the real event hashes for the verify part and pseudo-random digests for the proof part
//! (a proof's cost does not depend on the values hashed).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone as _, Utc};
use clap::Args;
use ledger_schemas::checkpoint::{Checkpoint, LogSigningKey, Origin};
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::PersonId;
use ledger_schemas::integrity::{ChainVerifier, Digest, HashInput, canonical_json};
use ledger_schemas::merkle::MerkleTree;
use ledger_schemas::{Actor, Envelope};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct AuditBenchArgs {
    /// Events in the log whose chain and tree are verified.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Leaves in the tree that proofs are generated from.
    #[arg(long, default_value_t = 1_000_000)]
    pub tree: u64,
    /// Proofs of each kind generated.
    #[arg(long, default_value_t = 2_000)]
    pub proofs: usize,
    /// Rounds of each measurement; each reports its best.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// A log of `n` events chained as the store would chain them.
fn log(n: u64) -> Vec<Envelope> {
    let actor = Actor::new(PersonId::new("P-0042").expect("valid id"), Role::Assessor);
    let start = Utc
        .timestamp_opt(1_767_225_600, 0)
        .single()
        .expect("a time");
    let mut prev = Digest::ZERO;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let proposed = super::score_event(i, i % 8, actor.clone(), Uuid::now_v7());
        let mut envelope = Envelope {
            event_id: proposed.event_id,
            stream: format!("sheet-2026Q1-SH-{:02}", i % 8),
            revision: i / 8,
            position: i + 1,
            event_type: proposed.event_type,
            schema_version: proposed.schema_version,
            recorded_at: start + chrono::Duration::microseconds(i as i64),
            actor: proposed.actor,
            reason: proposed.reason,
            correlation_id: proposed.correlation_id,
            causation_id: proposed.causation_id,
            payload: canonical_json(&proposed.payload),
            prev_hash: prev,
            hash: Digest::ZERO,
        };
        envelope.hash = HashInput::of(&envelope).hash();
        prev = envelope.hash;
        out.push(envelope);
    }
    out
}

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let value = f();
        let took = started.elapsed();
        if best.as_ref().is_none_or(|(b, _)| took < *b) {
            best = Some((took, value));
        }
    }
    best.expect("at least one round")
}

/// A small deterministic generator (xorshift), so runs pick the same positions.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{model}, {cores} cores visible")
}

pub fn run(args: AuditBenchArgs) -> anyhow::Result<()> {
    let n = args.events.max(1);
    eprintln!("构造 {n} 个事件 (building {n} events)…");
    let events = log(n);
    let encoded: Vec<Vec<u8>> = events.iter().map(|e| HashInput::of(e).encode()).collect();
    let bytes: usize = encoded.iter().map(Vec::len).sum();

    // Raw SHA-256 over the same bytes: the floor any verification of these events has to pay.
    let (raw, _) = best(args.rounds, || {
        let mut last = [0u8; 32];
        for e in &encoded {
            last = Sha256::digest(e).into();
        }
        last
    });
    let (chain, verified) = best(args.rounds, || {
        let mut verifier = ChainVerifier::new();
        for e in &events {
            verifier.check(e).expect("a chained log");
        }
        verifier.verified_through()
    });
    assert_eq!(verified, n);
    let (tree_time, root) = best(args.rounds, || {
        MerkleTree::from_event_hashes(events.iter().map(|e| &e.hash)).current_root()
    });
    let verify_total = chain + tree_time;
    let rate = |d: Duration| n as f64 / d.as_secs_f64().max(1e-9);

    // Proofs on a big tree.
    let size = args.tree.max(2);
    eprintln!("构造 {size} 叶的树 (building a tree of {size} leaves)…");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let leaves: Vec<Digest> = (0..size)
        .map(|i| Digest(Sha256::digest(i.to_be_bytes()).into()))
        .collect();
    let (rebuild, big) = best(args.rounds, || MerkleTree::from_event_hashes(&leaves));
    let mut inclusion = Vec::with_capacity(args.proofs);
    let mut consistency = Vec::with_capacity(args.proofs);
    for _ in 0..args.proofs.max(1) {
        let index = rng.below(size);
        let started = Instant::now();
        let proof = big.inclusion_proof(index, size).expect("in range");
        inclusion.push(started.elapsed());
        std::hint::black_box(proof);
        let old = 1 + rng.below(size - 1);
        let started = Instant::now();
        let proof = big.consistency_proof(old, size).expect("in order");
        consistency.push(started.elapsed());
        std::hint::black_box(proof);
    }
    let (inc_p50, inc_p99) = percentiles(inclusion);
    let (con_p50, con_p99) = percentiles(consistency);

    // Signing and verifying one checkpoint.
    let key = LogSigningKey::from_seed(Origin::new("ledger/bench").expect("valid"), &[7; 32]);
    let public = key.verifying_key();
    let (sign, checkpoint) = best(args.rounds, || {
        Checkpoint::sign(&key, size, big.current_root(), Utc::now())
    });
    let (verify_sig, ()) = best(args.rounds, || {
        checkpoint.verify(&public).expect("genuine");
    });

    let report = format!(
        "## `ledger bench audit`\n\n\
         Machine: {machine}. Best of {rounds} rounds.\n\n\
         | measurement | time | rate | vs raw SHA-256 |\n|---|---|---|---|\n\
         | raw SHA-256 over {n} encoded events ({mb:.1} MB) | {raw} | {raw_rate:.0} events/s | 1.00 |\n\
         | hash chain (re-encode, hash, link, position, time) | {chain_t} | {chain_rate:.0} events/s | {chain_x:.2} |\n\
         | Merkle tree over the {n} hashes | {tree_t} | {tree_rate:.0} events/s | {tree_x:.2} |\n\
         | chain + tree (what `verify` computes) | {total_t} | {total_rate:.0} events/s | {total_x:.2} |\n\n\
         Tree of {size} leaves (root {big_root_short}…):\n\n\
         | operation | median | p99 |\n|---|---|---|\n\
         | inclusion proof ({proofs} at random positions) | {inc_p50} | {inc_p99} |\n\
         | consistency proof ({proofs} from random sizes) | {con_p50} | {con_p99} |\n\n\
         Checkpoint cost: rebuilding the {size}-leaf tree from event hashes {rebuild}; signing {sign}; \
         verifying a signature {verify_sig}.\n\n\
         (Merkle root of the verified {n}-event log: {root}.)\n",
        machine = machine(),
        rounds = args.rounds.max(1),
        mb = bytes as f64 / 1e6,
        raw = ms(raw),
        raw_rate = rate(raw),
        chain_t = ms(chain),
        chain_rate = rate(chain),
        chain_x = chain.as_secs_f64() / raw.as_secs_f64().max(1e-9),
        tree_t = ms(tree_time),
        tree_rate = rate(tree_time),
        tree_x = tree_time.as_secs_f64() / raw.as_secs_f64().max(1e-9),
        total_t = ms(verify_total),
        total_rate = rate(verify_total),
        total_x = verify_total.as_secs_f64() / raw.as_secs_f64().max(1e-9),
        big_root_short = &big.current_root().to_hex()[..16],
        proofs = args.proofs.max(1),
        inc_p50 = us(inc_p50),
        inc_p99 = us(inc_p99),
        con_p50 = us(con_p50),
        con_p99 = us(con_p99),
        rebuild = ms(rebuild),
        sign = us(sign),
        verify_sig = us(verify_sig),
    );
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}
