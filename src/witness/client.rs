//! The ledger's side of witnessing: a background task of `ledger serve --witness URL=VKEY` that
//! sends each newly signed checkpoint to every configured witness and keeps the cosignatures
//! beside the checkpoint (the `cosignatures` table).
//!
//! Why a task that polls rather than a step of signing: a witness may be slow or down, and neither
//! may ever delay an append or a signature. The task asks the store for its largest checkpoint
//! when this process signs one, and every [`POLL`] for those other processes sign (one indexed
//! `max()`), grows its own Merkle tree with the new event hashes only,
//! and for each witness behind it posts `old <size it cosigned last>`, the consistency proof from
//! there, and the note. A witness that answers 409 `text/x.tlog.size` states its size, and the
//! task proves from that instead (so a restart, or a witness that joined late, costs one round
//! trip). A witness that fails or refuses is retried with a doubling delay up to [`MAX_BACKOFF`];
//! a refusal other than the size (403, 409 fork, 422) is logged as an error: it means the witness
//! saw a history this ledger no longer extends.

use std::time::Duration;

use http_body_util::BodyExt as _;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use ledger_schemas::checkpoint::Checkpoint;
use ledger_schemas::cosignature::{AddCheckpoint, Cosignature, SignedNote};
use ledger_schemas::merkle::MerkleTree;
use tokio::time::Instant;

use super::state::SIZE_CONTENT_TYPE;
use super::{WitnessTarget, Witnessing};
use crate::store::SqliteStore;
use crate::store::sqlite::StoredCosignature;

/// How often the task looks for a new checkpoint signed by another process; one this process
/// signs wakes it at once ([`checkpoint_signed`]).
pub const POLL: Duration = Duration::from_millis(250);

/// Wakes the senders waiting in this process.
static SIGNED: std::sync::LazyLock<tokio::sync::Notify> =
    std::sync::LazyLock::new(tokio::sync::Notify::new);

/// Tells the senders of this process that a checkpoint was just signed, so that witnessing starts
/// now rather than at the next poll.
pub fn checkpoint_signed() {
    SIGNED.notify_waiters();
}
/// The first retry delay after a witness failed, doubled after each failure up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long one request to a witness may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A plain HTTP/1 client (witnesses and ledger servers are reached over `http://`).
pub type HttpClient = Client<HttpConnector, Full<axum::body::Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(HttpConnector::new())
}

/// An answer: status, content type, body text.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Sends one request (`body` for a POST, none for a GET) with an optional bearer token.
pub async fn request(
    client: &HttpClient,
    url: &str,
    body: Option<String>,
    token: Option<&str>,
) -> anyhow::Result<Reply> {
    let mut builder = axum::http::Request::builder()
        .method(if body.is_some() { "POST" } else { "GET" })
        .uri(url);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let request = builder.body(Full::new(axum::body::Bytes::from(body.unwrap_or_default())))?;
    let response = tokio::time::timeout(TIMEOUT, async {
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.into_body().collect().await?.to_bytes();
        anyhow::Ok(Reply {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    })
    .await
    .map_err(|_| anyhow::anyhow!("{url}: 超时 (timed out after {TIMEOUT:?})"))??;
    Ok(response)
}

/// What the task knows of one witness.
struct Peer {
    target: WitnessTarget,
    /// The size the witness cosigned last, as far as this task knows.
    cosigned: u64,
    /// Not before this instant (after a failure).
    next_try: Instant,
    backoff: Duration,
}

/// Sends checkpoints to the witnesses until aborted.
pub async fn run(store: SqliteStore, witnessing: Witnessing) {
    if witnessing.witnesses.is_empty() {
        return;
    }
    let client = http_client();
    let mut tree = MerkleTree::new();
    let mut peers: Vec<Peer> = Vec::new();
    // What was cosigned before this start: each witness's largest kept cosignature.
    match store.audit_snapshot_after(u64::MAX).await {
        Ok(snapshot) => {
            for target in witnessing.witnesses {
                let cosigned = snapshot
                    .cosignatures
                    .iter()
                    .filter(|c| {
                        c.witness == target.key.name().as_str()
                            && c.key_id == target.key.key_id().to_hex()
                    })
                    .map(|c| c.tree_size)
                    .max()
                    .unwrap_or(0);
                peers.push(Peer {
                    target,
                    cosigned,
                    next_try: Instant::now(),
                    backoff: MIN_BACKOFF,
                });
            }
        }
        Err(err) => {
            tracing::error!("见证未启动 (witnessing not started): {err}");
            return;
        }
    }
    loop {
        if let Err(err) = round(&store, &client, &mut tree, &mut peers).await {
            tracing::warn!("见证轮次失败 (a witnessing round failed): {err:#}");
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = SIGNED.notified() => {}
        }
    }
}

/// Sends the latest checkpoint to every witness behind it whose retry time has come.
async fn round(
    store: &SqliteStore,
    client: &HttpClient,
    tree: &mut MerkleTree,
    peers: &mut [Peer],
) -> anyhow::Result<()> {
    let latest = store.latest_checkpoint_size().await?;
    let now = Instant::now();
    if latest == 0
        || !peers
            .iter()
            .any(|p| p.cosigned < latest && p.next_try <= now)
    {
        return Ok(());
    }
    let snapshot = store.audit_snapshot_after(tree.len()).await?;
    for hash in &snapshot.event_hashes {
        tree.push(hash);
    }
    let Some((_, note)) = snapshot
        .checkpoints
        .iter()
        .rev()
        .find(|(s, _)| *s == latest)
    else {
        return Ok(());
    };
    let checkpoint = Checkpoint::from_note(note)?;
    let due = peers
        .iter_mut()
        .filter(|p| p.cosigned < latest && p.next_try <= now);
    let sends = due.map(|peer| send(store, client, tree, peer, &checkpoint, note));
    futures_util::future::join_all(sends).await;
    Ok(())
}

/// Brings one witness up to `checkpoint`: at most a few requests (a 409 with its size, then the
/// proof from there).
async fn send(
    store: &SqliteStore,
    client: &HttpClient,
    tree: &MerkleTree,
    peer: &mut Peer,
    checkpoint: &Checkpoint,
    note: &str,
) {
    let name = peer.target.key.name().to_string();
    for _ in 0..3 {
        match send_once(store, client, tree, peer, checkpoint, note).await {
            Ok(Sent::Cosigned) => {
                peer.backoff = MIN_BACKOFF;
                peer.cosigned = checkpoint.tree_size();
                tracing::info!(
                    witness = name,
                    size = checkpoint.tree_size(),
                    "见证人已联署 (cosigned)"
                );
                return;
            }
            Ok(Sent::ProveFrom(size)) => {
                peer.cosigned = size;
                if size > checkpoint.tree_size() {
                    tracing::error!(
                        witness = name,
                        "见证人已联署大小 {size}，大于本账本最新检查点 {}：账本被回滚？ (the witness cosigned size {size}, beyond this ledger's latest checkpoint: a rollback?)",
                        checkpoint.tree_size()
                    );
                    break;
                }
            }
            Err(err) => {
                tracing::warn!(
                    witness = name,
                    "见证失败，稍后重试 (witnessing failed; will retry): {err:#}"
                );
                break;
            }
        }
    }
    peer.next_try = Instant::now() + peer.backoff;
    peer.backoff = (peer.backoff * 2).min(MAX_BACKOFF);
}

enum Sent {
    Cosigned,
    ProveFrom(u64),
}

async fn send_once(
    store: &SqliteStore,
    client: &HttpClient,
    tree: &MerkleTree,
    peer: &Peer,
    checkpoint: &Checkpoint,
    note: &str,
) -> anyhow::Result<Sent> {
    let size = checkpoint.tree_size();
    let old = peer.cosigned;
    let proof = if old == 0 {
        Vec::new()
    } else {
        tree.consistency_proof(old, size)
            .map_err(|e| {
                anyhow::anyhow!("无法证明 {old} → {size} (cannot prove {old} to {size}): {e}")
            })?
            .path
    };
    let url = format!("{}/add-checkpoint", peer.target.url);
    let body = AddCheckpoint {
        old,
        proof,
        note: note.to_owned(),
    }
    .to_body();
    let reply = request(client, &url, Some(body), None).await?;
    match reply.status {
        200 => {
            let body = checkpoint.signed_message();
            let cosignatures: Vec<Cosignature> = reply
                .body
                .lines()
                .filter_map(|line| Cosignature::from_line(line).ok())
                .filter(|c| peer.target.key.verify(c, &body).is_ok())
                .collect();
            let Some(cosignature) = cosignatures.into_iter().next() else {
                anyhow::bail!(
                    "见证人的回答中没有可验证的联署 (the witness answered no cosignature that verifies under its key): {:?}",
                    reply.body
                );
            };
            store
                .add_cosignature(StoredCosignature {
                    tree_size: size,
                    witness: cosignature.name().to_string(),
                    key_id: cosignature.key_id().to_hex(),
                    time: cosignature.time(),
                    line: cosignature.to_line().trim_end().to_owned(),
                })
                .await?;
            Ok(Sent::Cosigned)
        }
        409 if reply.content_type.starts_with(SIZE_CONTENT_TYPE) => {
            let size = reply.body.trim().parse::<u64>().map_err(|_| {
                anyhow::anyhow!(
                    "见证人的 409 回答不是大小 (the witness's 409 is not a size): {:?}",
                    reply.body
                )
            })?;
            Ok(Sent::ProveFrom(size))
        }
        status => {
            tracing::error!(
                witness = %peer.target.key.name(),
                status,
                "见证人拒绝大小为 {size} 的检查点 (the witness refused the checkpoint of size {size}): {}",
                reply.body.trim()
            );
            anyhow::bail!("HTTP {status}: {}", reply.body.trim())
        }
    }
}

/// The cosignatures kept for a checkpoint, as lines, verified against nothing yet.
pub fn stored_for(cosignatures: &[StoredCosignature], tree_size: u64) -> Vec<&StoredCosignature> {
    cosignatures
        .iter()
        .filter(|c| c.tree_size == tree_size)
        .collect()
}

/// The note of `checkpoint` with the given stored cosignature lines added (C2SP signed note with
/// several signatures).
pub fn with_lines(note: &str, lines: &[&StoredCosignature]) -> String {
    let mut out = note.to_owned();
    for line in lines {
        out.push_str(&line.line);
        out.push('\n');
    }
    debug_assert!(SignedNote::parse(&out).is_ok());
    out
}
