//! Automatic checkpoints while `ledger serve` runs: each time the log's head crosses a multiple of
//! `every` (default [`super::DEFAULT_EVERY`], `--checkpoint-every`), the checkpoint of exactly that
//! size is signed and stored, so a ledger that is written only through the server still gets a
//! checkpoint every N events without anyone running `ledger audit checkpoint`.
//!
//! Why a task beside the server rather than a step of every commit: signing rebuilds the Merkle tree
//! from the stored hashes (O(n), see the module above) and must never slow or fail an append; a
//! checkpoint that lags the commit by a moment proves the same thing. The task follows the store's
//! live subscription, which delivers every position in order, so a batch that jumps from 999 to
//! 1003 still shows position 1000.
//!
//! Between multiples, the events after the last checkpoint are covered by no signature, so the head
//! is also signed on a timer when the log has grown since the last such signature
//! ([`CheckpointPolicy::interval`], `--checkpoint-interval`, default 5 minutes) and once more when
//! the server stops cleanly ([`sign_at_stop`]): a running server leaves at most a few minutes of
//! events unsigned, and a stopped one none.
//!
//! Only the embedded store has checkpoints, and only a ledger with a key signs them: the key is
//! looked for at every crossing (`FILE.key`), so one created later by `ledger audit checkpoint`
//! is picked up, and a ledger without one is served exactly as before. A failure to sign is logged
//! and retried at the next crossing (which also signs any multiple missed), never fatal to serving.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt as _;
use ledger_schemas::checkpoint::Checkpoint;

use crate::store::{EventStore, SqliteStore};

/// When a running server signs checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Sign each multiple of this many events (0: sign nothing automatically, not even on the
    /// timer or at stop).
    pub every: u64,
    /// Sign the head this often when the log has grown since it was last signed (`None`: never on a
    /// timer).
    pub interval: Option<Duration>,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every: super::DEFAULT_EVERY,
            interval: Some(DEFAULT_INTERVAL),
        }
    }
}

/// How often a running server signs its head when the log has grown.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// Signs the missing checkpoints at multiples of `policy.every` now (those crossed while no server
/// ran), then at each multiple the log reaches, and the head on the policy's timer when the log has
/// grown, until the store's subscription ends. `every` 0 disables all of it.
pub async fn run(store: SqliteStore, policy: CheckpointPolicy) {
    let every = policy.every;
    if every == 0 {
        return;
    }
    let after = match store.head().await {
        Ok(head) => head,
        Err(err) => {
            tracing::warn!("自动检查点未启动 (automatic checkpoints not started): {err}");
            return;
        }
    };
    // Subscribe before catching up, so that no multiple reached in between is missed.
    let mut live = store.subscribe_all(after);
    sign(&store, every, false).await;
    // The head the timer last signed (or found signed); the first tick signs whatever is unsigned.
    let mut signed_head = 0;
    let mut timer = policy.interval.map(|period| {
        let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer
    });
    loop {
        let tick = async {
            match timer.as_mut() {
                Some(timer) => {
                    timer.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            next = live.next() => match next {
                Some(Ok(event)) if event.position % every == 0 => {
                    sign(&store, every, false).await;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    tracing::warn!("自动检查点停止 (automatic checkpoints stopped): {err}");
                    return;
                }
                None => return,
            },
            () = tick => {
                match store.head().await {
                    Ok(head) if head > signed_head => {
                        sign(&store, every, true).await;
                        signed_head = head;
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!("无法读取日志头 (cannot read the log's head): {err}"),
                }
            }
        }
    }
}

/// Signs the head (and any multiple of `every` missing) when a server stops cleanly, so that no
/// event it served is left past the last checkpoint. `every` 0 signs nothing, as while serving.
pub async fn sign_at_stop(store: &SqliteStore, every: u64) -> Vec<Checkpoint> {
    if every == 0 {
        return Vec::new();
    }
    sign(store, every, true).await
}

/// Signs what is missing at multiples of `every` (and the head, if `at_head`) if the ledger has a
/// key; logs the outcome.
async fn sign(store: &SqliteStore, every: u64, at_head: bool) -> Vec<Checkpoint> {
    let ledger: PathBuf = store.path().to_owned();
    if !super::key_path(&ledger).exists() {
        return Vec::new();
    }
    let signed = async {
        let key = super::load_key(&ledger)?;
        super::sign_missing(store, &key, every, at_head).await
    }
    .await;
    match signed {
        Ok(made) => {
            if !made.is_empty() {
                let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
                crate::metrics::metrics().checkpoint_signed_at.set(now);
            }
            for checkpoint in &made {
                tracing::info!(
                    "已签署检查点 (signed the checkpoint) size {} root {}",
                    checkpoint.tree_size(),
                    checkpoint.root_hash()
                );
            }
            made
        }
        Err(err) => {
            tracing::warn!("无法签署检查点 (cannot sign a checkpoint): {err:#}");
            Vec::new()
        }
    }
}
