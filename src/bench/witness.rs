//! `ledger bench witness`: what witnessing costs (issue 21), with two witnesses served in process
//! on loopback.
//!
//! - **Checkpoint to cosigned**: the head signed, then the time until both witnesses' cosignatures
//!   are kept beside it (the sender's poll, two HTTP round trips in parallel, each witness's
//!   consistency check, cosignature and fsynced state file, the ledger's own write of the
//!   cosignatures), median and 99th percentile; beside it, signing alone.
//! - **Append rate with witnessing on, beside off**: `--writers` concurrent writers append single
//!   events while the automatic signer signs every `--checkpoint-every` events; the same run
//!   without the witness sender before and after, so the baseline is measured on the same machine
//!   and the same ledger size.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use ledger_schemas::Actor;
use ledger_schemas::checkpoint::Origin;
use ledger_schemas::cosignature::WitnessSigningKey;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::PersonId;
use uuid::Uuid;

use crate::store::{EventStore, ExpectedRevision, SqliteStore};
use crate::witness::{WitnessTarget, Witnessing};

#[derive(Debug, Args)]
pub struct WitnessBenchArgs {
    /// Events appended in each append-rate phase.
    #[arg(long, default_value_t = 20_000)]
    pub events: u64,
    /// Concurrent writers, one stream each.
    #[arg(long, default_value_t = 8)]
    pub writers: u64,
    /// The automatic signer's schedule during the append phases.
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: u64,
    /// Checkpoints timed from signing to cosigned.
    #[arg(long, default_value_t = 50)]
    pub samples: usize,
    /// Where the temporary ledger goes (default: the system's temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: WitnessBenchArgs) -> anyhow::Result<()> {
    let (dir, out) = (args.dir.clone(), args.out.clone());
    super::on_temporary_ledger("witness", dir.as_deref(), out.as_deref(), move |store| {
        measure(store, args)
    })
}

/// Serves one witness trusting `log` on a random loopback port; returns its target.
async fn witness(
    name: &str,
    seed: u8,
    log: &ledger_schemas::checkpoint::LogVerifyingKey,
    state: PathBuf,
) -> anyhow::Result<(WitnessTarget, tokio::task::JoinHandle<()>)> {
    let key =
        WitnessSigningKey::from_seed(Origin::new(name).map_err(anyhow::Error::msg)?, &[seed; 32]);
    let vkey = key.verifying_key().to_vkey();
    let witness = Arc::new(crate::witness::state::Witness::open(
        key,
        vec![log.clone()],
        &state,
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = crate::witness::server::serve(listener, witness, std::future::pending()).await;
    });
    let target = format!("{url}={vkey}")
        .parse()
        .map_err(anyhow::Error::msg)?;
    Ok((target, task))
}

async fn cosignatures_of(store: &SqliteStore, size: u64) -> anyhow::Result<usize> {
    let snapshot = store.audit_snapshot_after(u64::MAX).await?;
    Ok(snapshot
        .cosignatures
        .iter()
        .filter(|c| c.tree_size == size)
        .count())
}

/// Appends `events` single events from `writers` concurrent writers; returns events per second.
async fn append_phase(
    store: &Arc<SqliteStore>,
    events: u64,
    writers: u64,
    phase: &str,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let per = events / writers.max(1);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let stream = format!("sheet-bench-{phase}-{w}");
        tasks.push(tokio::spawn(async move {
            let actor = Actor::new(PersonId::new("P-0042").expect("valid id"), Role::Assessor);
            for i in 0..per {
                let expected = if i == 0 {
                    ExpectedRevision::NoStream
                } else {
                    ExpectedRevision::Exact(i - 1)
                };
                let event = super::score_event(i, w, actor.clone(), Uuid::now_v7());
                store.append(&stream, expected, vec![event]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((per * writers) as f64 / started.elapsed().as_secs_f64())
}

async fn measure(store: Arc<SqliteStore>, args: WitnessBenchArgs) -> anyhow::Result<String> {
    let key = crate::audit::ensure_key(store.path())?;
    let dir = store.path().parent().map(PathBuf::from).unwrap_or_default();
    let (t1, w1) = witness("bench/w1", 2, &key.verifying_key(), dir.join("w1.json")).await?;
    let (t2, w2) = witness("bench/w2", 3, &key.verifying_key(), dir.join("w2.json")).await?;
    let witnessing = Witnessing {
        witnesses: vec![t1, t2],
        quorum: 2,
    };

    // Append rate: off, on, off.
    let signer = tokio::spawn(crate::audit::auto::run(
        (*store).clone(),
        crate::audit::auto::CheckpointPolicy {
            every: args.checkpoint_every,
            interval: None,
        },
    ));
    let off_before = append_phase(&store, args.events, args.writers, "off1").await?;
    let sender = tokio::spawn(crate::witness::client::run(
        (*store).clone(),
        witnessing.clone(),
    ));
    let on = append_phase(&store, args.events, args.writers, "on").await?;
    sender.abort();
    let off_after = append_phase(&store, args.events, args.writers, "off2").await?;
    signer.abort();

    // Checkpoint to cosigned.
    let sender = tokio::spawn(crate::witness::client::run((*store).clone(), witnessing));
    let (mut signing, mut cosigned) = (Vec::new(), Vec::new());
    let actor = Actor::new(PersonId::new("P-0042").expect("valid id"), Role::Assessor);
    for i in 0..args.samples as u64 {
        let expected = if i == 0 {
            ExpectedRevision::NoStream
        } else {
            ExpectedRevision::Exact(i - 1)
        };
        store
            .append(
                "sheet-bench-latency",
                expected,
                vec![super::score_event(i, 0, actor.clone(), Uuid::now_v7())],
            )
            .await?;
        let started = Instant::now();
        let made = crate::audit::make_checkpoints(&store, &key, u64::MAX).await?;
        signing.push(started.elapsed());
        let size = made.last().map(|c| c.tree_size()).unwrap_or_default();
        while cosignatures_of(&store, size).await? < 2 {
            if started.elapsed() > Duration::from_secs(30) {
                anyhow::bail!(
                    "检查点 {size} 30 秒内未获两位见证人联署 (checkpoint {size} not cosigned by both within 30 s)"
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        cosigned.push(started.elapsed());
    }
    sender.abort();
    w1.abort();
    w2.abort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    Ok(format!(
        "## Witnessing (issue 21) — `ledger bench witness`\n\n\
         Two witnesses in process on loopback, quorum 2; each fsyncs its state file before answering.\n\n\
         | measure | value |\n|---|---|\n\
         | checkpoint to cosigned by both, median | {:.1} ms |\n\
         | checkpoint to cosigned by both, p99 | {:.1} ms |\n\
         | signing the head alone (tree rebuilt from the stored hashes), median | {:.1} ms |\n\
         | appends/s, {} writers, checkpoint every {}, witnessing off (before) | {:.0} |\n\
         | appends/s, witnessing on | {:.0} |\n\
         | appends/s, witnessing off (after) | {:.0} |\n\n\
         The sender is woken when this process signs a checkpoint (and polls every {} ms for other \
         processes' checkpoints).\n",
        ms(pct(&mut cosigned, 0.5)),
        ms(pct(&mut cosigned, 0.99)),
        ms(pct(&mut signing, 0.5)),
        args.writers,
        args.checkpoint_every,
        off_before,
        on,
        off_after,
        crate::witness::client::POLL.as_millis(),
    ))
}
