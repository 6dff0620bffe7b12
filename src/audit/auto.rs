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
//! Only the embedded store has checkpoints, and only a ledger with a key signs them: the key is
//! looked for at every crossing (`FILE.key`), so one created later by `ledger audit checkpoint`
//! is picked up, and a ledger without one is served exactly as before. A failure to sign is logged
//! and retried at the next crossing (which also signs any multiple missed), never fatal to serving.

use std::path::PathBuf;

use futures_util::StreamExt as _;
use ledger_schemas::checkpoint::Checkpoint;

use crate::store::{EventStore, SqliteStore};

/// Signs the missing checkpoints at multiples of `every` now (those crossed while no server ran),
/// then at each multiple the log reaches, until the store's subscription ends. `every` 0 disables.
pub async fn run(store: SqliteStore, every: u64) {
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
    sign(&store, every).await;
    while let Some(next) = live.next().await {
        match next {
            Ok(event) if event.position % every == 0 => {
                sign(&store, every).await;
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!("自动检查点停止 (automatic checkpoints stopped): {err}");
                return;
            }
        }
    }
}

/// Signs what is missing at multiples of `every` if the ledger has a key; logs the outcome.
async fn sign(store: &SqliteStore, every: u64) -> Vec<Checkpoint> {
    let ledger: PathBuf = store.path().to_owned();
    if !super::key_path(&ledger).exists() {
        return Vec::new();
    }
    let signed = async {
        let key = super::load_key(&ledger)?;
        super::sign_missing(store, &key, every, false).await
    }
    .await;
    match signed {
        Ok(made) => {
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
