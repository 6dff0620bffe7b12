//! `ledger audit watch`: an auditor's process that trusts only what the auditor gave it (the log's
//! public key, the witnesses' keys and a quorum) and what it saw itself (its state file), polls a
//! ledger server's audit API, and names the checkpoint or event at fault when the server's history
//! stops extending what it saw.
//!
//! Each round ([`check_once`]): read the server's checkpoints; every one must carry the log's valid
//! signature, and, with witness keys, every cosignature by a trusted key must verify. The newest
//! *trusted* checkpoint is the newest one (with witness keys: the newest cosigned by the quorum).
//! Against the kept one: a smaller size is a rollback; the same size with another root (also any
//! listed checkpoint of the kept size with another root) is a fork, i.e. two views of one history;
//! a larger one must come with a consistency proof from the kept root (the server's proof endpoint,
//! checked here against the roots this process holds), else the history was rewritten. Then the
//! inclusion of the newest event and of a few random ones is checked against the trusted root, and
//! each such event, as the server serves it, must hash to its proven leaf (else it was edited in
//! place, and is named by position and id). Only
//! a round that passes replaces the state (written tmp, fsync, rename).
//!
//! With `--bundle DIR` it watches an audit bundle (`ledger export --audit`) instead, read afresh
//! each round: the bundle's checkpoints stand in for the server's list and the proofs are made
//! here from its events, so the same checks hold (a bundle carries no witness cosignatures).
//!
//! On a failure it runs `--hook` (`sh -c`, with `LEDGER_WATCH_KIND`, `LEDGER_WATCH_AT_FAULT` and
//! `LEDGER_WATCH_REASON` in its environment) and goes on watching, or without a hook exits
//! non-zero. `--listen ADDR` serves the last result as JSON at `/status` for monitoring.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ledger_schemas::checkpoint::{Checkpoint, LogVerifyingKey};
use ledger_schemas::cosignature::{SignedNote, WitnessVerifyingKey};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::{verify_consistency, verify_inclusion};
use serde::{Deserialize, Serialize};

use super::client::{HttpClient, http_client, request};
use crate::http::views::{CheckpointList, ConsistencyView, EventPage, InclusionView};
use ledger_schemas::integrity::HashInput;

/// What the watcher trusts.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The server's base URL, `http://host:port`; empty when watching a bundle.
    pub url: String,
    /// An audit bundle (`ledger export --audit DIR`) to watch instead of a server: its
    /// checkpoints, and proofs made here from its events, stand in for the server's audit API.
    pub bundle: Option<PathBuf>,
    /// An auditor's bearer token (the audit API is for auditors).
    pub token: Option<String>,
    pub log_key: LogVerifyingKey,
    pub witness_keys: Vec<WitnessVerifyingKey>,
    pub quorum: usize,
    pub state: PathBuf,
    /// Random events whose inclusion is checked each round, besides the newest.
    pub samples: usize,
}

/// The checkpoint the watcher trusts, kept in its state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trusted {
    pub size: u64,
    pub root: Digest,
    pub note: String,
}

/// One round's result: what `/status` shows and what a hook is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    /// `ok`, `unreachable`, `bad-signature`, `bad-cosignature`, `rollback`, `fork`, `rewrite`,
    /// `inclusion`, `event` (an event that no longer hashes to its leaf).
    pub kind: String,
    /// The size of the checkpoint trusted after this round (the kept one if it failed).
    pub trusted_size: u64,
    /// What is at fault, e.g. `checkpoint 20` or `event 13`.
    pub at_fault: Option<String>,
    pub reason: Option<String>,
}

struct Fault {
    kind: &'static str,
    at_fault: Option<String>,
    reason: String,
}

fn fault(kind: &'static str, at: Option<String>, reason: impl Into<String>) -> Fault {
    Fault {
        kind,
        at_fault: at,
        reason: reason.into(),
    }
}

/// Reads the state file (`None`: nothing seen yet).
pub fn load_state(path: &Path) -> anyhow::Result<Option<Trusted>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "监视状态 {0} 无法解析 (the watch state {0} cannot be read)",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save_state(path: &Path, trusted: &Trusted) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(trusted)?)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Runs one round against the server and updates the state when it passes.
pub async fn check_once(client: &HttpClient, options: &WatchOptions) -> anyhow::Result<Outcome> {
    let kept = load_state(&options.state)?;
    let kept_size = kept.as_ref().map_or(0, |k| k.size);
    let result = match &options.bundle {
        None => round(&Source::Server(client, options), options, kept.as_ref()).await,
        Some(dir) => match LoadedBundle::read(dir) {
            Ok(bundle) => round(&Source::Bundle(bundle), options, kept.as_ref()).await,
            Err(f) => Err(f),
        },
    };
    let outcome = match result {
        Ok(Some(newest)) => {
            save_state(&options.state, &newest)?;
            Outcome {
                checked_at: Utc::now(),
                ok: true,
                kind: "ok".into(),
                trusted_size: newest.size,
                at_fault: None,
                reason: None,
            }
        }
        Ok(None) => Outcome {
            checked_at: Utc::now(),
            ok: true,
            kind: "ok".into(),
            trusted_size: kept_size,
            at_fault: None,
            reason: Some("尚无可信检查点 (no trusted checkpoint yet)".into()),
        },
        Err(f) => Outcome {
            checked_at: Utc::now(),
            ok: false,
            kind: f.kind.into(),
            trusted_size: kept_size,
            at_fault: f.at_fault,
            reason: Some(f.reason),
        },
    };
    Ok(outcome)
}

async fn get<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    options: &WatchOptions,
    path: &str,
) -> Result<T, Fault> {
    let url = format!("{}{path}", options.url.trim_end_matches('/'));
    let reply = request(client, &url, None, options.token.as_deref())
        .await
        .map_err(|e| fault("unreachable", None, format!("{url}: {e:#}")))?;
    if reply.status != 200 {
        return Err(fault(
            "unreachable",
            None,
            format!("{url}: HTTP {}: {}", reply.status, reply.body.trim()),
        ));
    }
    serde_json::from_str(&reply.body).map_err(|e| fault("unreachable", None, format!("{url}: {e}")))
}

/// The round itself: `Ok(Some(newest trusted))`, `Ok(None)` when nothing is trusted yet, or the
/// fault.
async fn round(
    source: &Source<'_>,
    options: &WatchOptions,
    kept: Option<&Trusted>,
) -> Result<Option<Trusted>, Fault> {
    let list: CheckpointList = source.checkpoints().await?;
    let mut trusted: Vec<(Checkpoint, String)> = Vec::new();
    for view in &list.checkpoints {
        let at = Some(format!("checkpoint {}", view.tree_size));
        let checkpoint = Checkpoint::from_note(&view.note)
            .and_then(|c| c.verify(&options.log_key).map(|()| c))
            .map_err(|e| fault("bad-signature", at.clone(), e.to_string()))?;
        if let Some(kept) = kept
            && checkpoint.tree_size() == kept.size
            && *checkpoint.root_hash() != kept.root
        {
            return Err(fault(
                "fork",
                at,
                format!(
                    "分叉：服务器所示大小为 {0} 的检查点根 {1}，与本审计员保存的 {2} 不同 (fork: the server shows the checkpoint of size {0} with root {1}, but this auditor kept root {2}: two views of one history)",
                    kept.size,
                    checkpoint.root_hash(),
                    kept.root
                ),
            ));
        }
        if options.witness_keys.is_empty() {
            trusted.push((checkpoint, view.note.clone()));
            continue;
        }
        let note = if view.cosigned_note.is_empty() {
            &view.note
        } else {
            &view.cosigned_note
        };
        let signed = SignedNote::parse(note)
            .map_err(|e| fault("bad-cosignature", at.clone(), e.to_string()))?;
        let mut cosigners = Vec::new();
        for cosignature in signed.cosignatures() {
            let Some(key) = options
                .witness_keys
                .iter()
                .find(|k| k.name() == cosignature.name() && k.key_id() == cosignature.key_id())
            else {
                continue;
            };
            key.verify(&cosignature, &signed.body)
                .map_err(|e| fault("bad-cosignature", at.clone(), e.to_string()))?;
            if !cosigners.contains(key.name()) {
                cosigners.push(key.name().clone());
            }
        }
        if cosigners.len() >= options.quorum {
            trusted.push((checkpoint, view.note.clone()));
        }
    }
    let Some((newest, note)) = trusted.into_iter().max_by_key(|(c, _)| c.tree_size()) else {
        return match kept {
            // What this auditor trusted has gone: the server shows nothing it can trust now.
            Some(kept) => Err(fault(
                "rollback",
                Some(format!("checkpoint {}", kept.size)),
                format!(
                    "服务器不再显示可信的检查点（本审计员保存的大小为 {0}） (the server shows no trusted checkpoint any more; this auditor kept the one of size {0})",
                    kept.size
                ),
            )),
            None => Ok(None),
        };
    };
    let size = newest.tree_size();
    if let Some(kept) = kept {
        if size < kept.size {
            return Err(fault(
                "rollback",
                Some(format!("checkpoint {}", kept.size)),
                format!(
                    "回滚：服务器最新的可信检查点大小 {size}，小于本审计员保存的 {} (rollback: the server's newest trusted checkpoint covers {size} events, fewer than the {} this auditor kept)",
                    kept.size, kept.size
                ),
            ));
        }
        if size > kept.size {
            let proof = source.consistency(kept.size, size).await.map_err(|f| {
                fault(
                    "rewrite",
                    Some(format!("checkpoint {}", kept.size)),
                    format!(
                        "服务器无法证明大小 {} 到 {size} 的一致性 (the server cannot prove that size {size} extends the kept size {}): {}",
                        kept.size, kept.size, f.reason
                    ),
                )
            })?;
            verify_consistency(kept.size, size, &kept.root, newest.root_hash(), &proof)
                .map_err(|e| {
                    fault(
                        "rewrite",
                        Some(format!("checkpoint {}", kept.size)),
                        format!(
                            "改写：大小为 {size} 的日志不是本审计员保存的大小为 {} 的检查点的延续 (rewrite: the log of size {size} does not extend the checkpoint of size {} this auditor kept): {e}",
                            kept.size, kept.size
                        ),
                    )
                })?;
        }
    }
    // Spot checks: the newest event, and a few at random.
    let mut positions = vec![size];
    for _ in 0..options.samples {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_ok() && size > 0 {
            positions.push(u64::from_le_bytes(bytes) % size + 1);
        }
    }
    for position in positions.into_iter().filter(|p| *p > 0) {
        let at_event = Some(format!("event {position}"));
        let (event_hash, path) = source
            .inclusion(position, size)
            .await
            .map_err(|f| fault("inclusion", at_event.clone(), f.reason))?;
        verify_inclusion(&event_hash, position - 1, size, &path, newest.root_hash())
            .map_err(|e| {
                fault(
                    "inclusion",
                    at_event.clone(),
                    format!(
                        "第 {position} 号事件的包含证明不通向大小为 {size} 的检查点的根 (the inclusion proof of the event at position {position} does not lead to the root of the checkpoint of size {size}): {e}"
                    ),
                )
            })?;
        // The event as served must hash to the leaf the proof proved: else it was changed in place.
        let event = source
            .event(position)
            .await
            .map_err(|f| fault("inclusion", at_event.clone(), f.reason))?;
        let event = event.as_ref().filter(|e| e.position == position);
        let recomputed = event.map(|e| HashInput::of(e).hash());
        if recomputed != Some(event_hash) {
            return Err(fault(
                "event",
                at_event,
                format!(
                    "第 {position} 号事件（{}）的内容与签名树中的哈希 {} 不符：它在签名后被改动 (the event at position {position}, id {}, does not hash to {} as the signed tree holds: it was changed after signing)",
                    event.map_or("?".to_owned(), |e| e.event_id.to_string()),
                    event_hash,
                    event.map_or("?".to_owned(), |e| e.event_id.to_string()),
                    event_hash
                ),
            ));
        }
    }
    Ok(Some(Trusted {
        size,
        root: *newest.root_hash(),
        note,
    }))
}

/// Where a round reads the history: a server's audit API, or an audit bundle read whole.
enum Source<'a> {
    Server(&'a HttpClient, &'a WatchOptions),
    Bundle(LoadedBundle),
}

impl Source<'_> {
    async fn checkpoints(&self) -> Result<CheckpointList, Fault> {
        match self {
            Source::Server(client, options) => {
                get(client, options, "/api/v1/audit/checkpoints").await
            }
            Source::Bundle(b) => Ok(b.checkpoints.clone()),
        }
    }

    async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Digest>, Fault> {
        match self {
            Source::Server(client, options) => {
                let path = format!("/api/v1/audit/proofs/consistency?old={old}&new={new}");
                let proof: ConsistencyView = get(client, options, &path).await?;
                Ok(proof.path)
            }
            Source::Bundle(b) => b
                .tree
                .consistency_proof(old, new)
                .map(|p| p.path)
                .map_err(|e| fault("rewrite", None, e.to_string())),
        }
    }

    /// The event's hash as the tree holds it, and its audit path to the root of `size`.
    async fn inclusion(&self, position: u64, size: u64) -> Result<(Digest, Vec<Digest>), Fault> {
        match self {
            Source::Server(client, options) => {
                let path =
                    format!("/api/v1/audit/proofs/inclusion?position={position}&tree_size={size}");
                let proof: InclusionView = get(client, options, &path).await?;
                Ok((proof.event_hash, proof.path))
            }
            Source::Bundle(b) => {
                let leaf = b.events.get(position as usize - 1).map(|e| e.hash);
                let proof = b
                    .tree
                    .inclusion_proof(position - 1, size)
                    .map_err(|e| fault("inclusion", None, e.to_string()))?;
                leaf.map(|hash| (hash, proof.path)).ok_or_else(|| {
                    fault(
                        "inclusion",
                        None,
                        format!("no event at position {position}"),
                    )
                })
            }
        }
    }

    async fn event(&self, position: u64) -> Result<Option<ledger_schemas::Envelope>, Fault> {
        match self {
            Source::Server(client, options) => {
                let path = format!("/api/v1/events?after={}&limit=1", position - 1);
                let page: EventPage = get(client, options, &path).await?;
                Ok(page.events.into_iter().next())
            }
            Source::Bundle(b) => Ok(b.events.get(position as usize - 1).cloned()),
        }
    }
}

/// An audit bundle as a round reads it: its events (the tree built from their stored hashes, as
/// the ledger's is) and its checkpoints. A bundle carries no witness cosignatures.
struct LoadedBundle {
    events: Vec<ledger_schemas::Envelope>,
    tree: ledger_schemas::merkle::MerkleTree,
    checkpoints: CheckpointList,
}

impl LoadedBundle {
    fn read(dir: &Path) -> Result<Self, Fault> {
        let unreadable = |what: String| fault("unreachable", None, what);
        let text = std::fs::read_to_string(dir.join("events.jsonl"))
            .map_err(|e| unreadable(format!("{}/events.jsonl: {e}", dir.display())))?;
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let event: ledger_schemas::Envelope = serde_json::from_str(line)
                .map_err(|e| unreadable(format!("events.jsonl line {}: {e}", i + 1)))?;
            events.push(event);
        }
        let tree =
            ledger_schemas::merkle::MerkleTree::from_event_hashes(events.iter().map(|e| &e.hash));
        let mut checkpoints = Vec::new();
        let listing = std::fs::read_dir(dir.join("checkpoints"))
            .map_err(|e| unreadable(format!("{}/checkpoints: {e}", dir.display())))?;
        for entry in listing.flatten() {
            let note = std::fs::read_to_string(entry.path())
                .map_err(|e| unreadable(format!("{}: {e}", entry.path().display())))?;
            let Ok(c) = Checkpoint::from_note(&note) else {
                return Err(fault(
                    "bad-signature",
                    Some(entry.file_name().to_string_lossy().into_owned()),
                    "不是签名检查点 (not a signed checkpoint note)",
                ));
            };
            checkpoints.push(crate::http::views::CheckpointView {
                tree_size: c.tree_size(),
                root: *c.root_hash(),
                time: c.timestamp(),
                cosigned_note: note.clone(),
                note,
                cosignatures: Vec::new(),
                witnessed: false,
            });
        }
        checkpoints.sort_by_key(|c| c.tree_size);
        Ok(Self {
            checkpoints: CheckpointList {
                public_key: None,
                log_size: events.len() as u64,
                checkpoints,
            },
            events,
            tree,
        })
    }
}

/// How `ledger audit watch` runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub interval: Duration,
    pub once: bool,
    pub hook: Option<String>,
    pub listen: Option<String>,
}

/// Watches until a failure without a hook (an error), or after one round with `once`.
pub async fn run(options: WatchOptions, run: RunOptions) -> anyhow::Result<()> {
    let client = http_client();
    let last: Arc<Mutex<Option<Outcome>>> = Arc::default();
    let _server = match &run.listen {
        Some(listen) => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("无法监听 (cannot listen on) {listen}"))?;
            eprintln!("状态 status on http://{}/status", listener.local_addr()?);
            let last = last.clone();
            let app = axum::Router::new().route(
                "/status",
                axum::routing::get(move || {
                    let last = last.clone();
                    async move {
                        let outcome = last.lock().unwrap_or_else(|e| e.into_inner()).clone();
                        axum::Json(outcome)
                    }
                }),
            );
            Some(AbortOnDrop(tokio::spawn(async move {
                let _ = crate::http::serve::serve_router(
                    listener,
                    app,
                    crate::http::serve::Limits::default(),
                    std::future::pending(),
                )
                .await;
            })))
        }
        None => None,
    };
    loop {
        let outcome = check_once(&client, &options).await?;
        println!("{}", serde_json::to_string(&outcome)?);
        *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome.clone());
        if !outcome.ok {
            if let Some(hook) = &run.hook {
                let (hook, o) = (hook.clone(), outcome.clone());
                let status = tokio::task::spawn_blocking(move || {
                    std::process::Command::new("sh")
                        .arg("-c")
                        .arg(hook)
                        .env("LEDGER_WATCH_KIND", &o.kind)
                        .env("LEDGER_WATCH_AT_FAULT", o.at_fault.as_deref().unwrap_or(""))
                        .env("LEDGER_WATCH_REASON", o.reason.as_deref().unwrap_or(""))
                        .status()
                })
                .await
                .map_err(std::io::Error::other)
                .and_then(|s| s);
                if let Err(e) = status {
                    eprintln!("无法运行钩子 (cannot run the hook): {e}");
                }
            } else if outcome.kind != "unreachable" || run.once {
                anyhow::bail!(
                    "审计监视发现问题 audit watch FAILED ({}) at {}: {}",
                    outcome.kind,
                    outcome.at_fault.as_deref().unwrap_or("-"),
                    outcome.reason.as_deref().unwrap_or("")
                );
            }
        }
        if run.once {
            return if outcome.ok {
                Ok(())
            } else {
                anyhow::bail!("{}", outcome.reason.unwrap_or_default())
            };
        }
        tokio::time::sleep(run.interval).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
