//! The witness itself (`ledger witness serve`): what it decides on an `add-checkpoint` request, and
//! the small state it keeps, durably, between requests and restarts.
//!
//! The decision follows C2SP tlog-witness, in its order: a body that cannot be read is 400; an
//! origin no trusted log key names is 404; a note no trusted key signed is 403; `old` larger than
//! the checkpoint is 400; `old` other than the size of the latest checkpoint cosigned for the origin
//! is 409 with that size (`text/x.tlog.size`), which is how a log learns where to prove from; the
//! same size with another root is 409 (a fork); a consistency proof that does not lead from the
//! cosigned root to the new one is 422. Otherwise the witness cosigns, **persists the new latest
//! checkpoint, and only then answers** 200 with its cosignature line.
//!
//! The check of `old` and the update of the state happen under one lock, so two concurrent
//! requests cannot both extend the same old checkpoint (the rollback race the specification warns
//! about). One process per state file: the state is read at start and kept in memory, and
//! `STATE.lock` is held locked (an OS file lock, released when the process ends) so that a second
//! witness on the same state is refused instead of racing the first.
//!
//! # The state file
//!
//! JSON, `{"logs": {"<origin>": {"size", "root" (hex), "note" (the checkpoint's signed note with
//! this witness's cosignature line)}}}`, replaced atomically: written to `FILE.tmp`, fsynced,
//! renamed over `FILE`, and the directory fsynced, so a crash leaves the old state or the new one.
//! Refused requests that show misbehaviour (a bad signature, a rollback, a fork, a proof that does
//! not verify) are appended to `FILE.refused.jsonl`, one JSON object a line with the reason, the
//! sizes and the note as submitted: evidence to hand to whoever oversees the log.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use ledger_schemas::checkpoint::{CheckpointError, LogVerifyingKey};
use ledger_schemas::cosignature::{AddCheckpoint, WitnessSigningKey};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::verify_consistency;
use serde::{Deserialize, Serialize};

/// The content type of a 409 answer that states the witness's latest size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// What the witness kept for one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    pub size: u64,
    pub root: Digest,
    /// The checkpoint's signed note with this witness's cosignature line.
    pub note: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    logs: BTreeMap<String, Latest>,
}

/// The witness's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }
}

/// Why a request was refused, as recorded in the refusal log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    Malformed,
    UnknownOrigin,
    BadSignature,
    Rollback,
    StaleOld,
    Fork,
    BadProof,
}

impl Refusal {
    /// Whether it is evidence against the log (worth keeping), rather than a client's mistake or
    /// the ordinary "prove from here" answer.
    fn is_evidence(self) -> bool {
        matches!(
            self,
            Refusal::BadSignature | Refusal::Rollback | Refusal::Fork | Refusal::BadProof
        )
    }
}

/// A running witness: its key, the logs it trusts, its state.
pub struct Witness {
    key: WitnessSigningKey,
    log_keys: Vec<LogVerifyingKey>,
    path: PathBuf,
    state: Mutex<StateFile>,
    /// Held for the witness's life: one process per state file.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.key)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// Opens the witness with its state at `path` (an absent file is an empty state).
    pub fn open(
        key: WitnessSigningKey,
        log_keys: Vec<LogVerifyingKey>,
        path: &Path,
    ) -> anyhow::Result<Self> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", PathBuf::from(&lock_path).display()))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "另一个见证人正在使用状态文件 {0} (another witness is using the state file {0})",
                path.display()
            )
        })?;
        let state = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "见证人状态文件 {0} 无法解析 (the witness state file {0} cannot be read)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateFile::default(),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("无法读取 {0} (cannot read {0})", path.display()));
            }
        };
        Ok(Self {
            key,
            log_keys,
            path: path.to_owned(),
            state: Mutex::new(state),
            _lock: lock,
        })
    }

    pub fn key(&self) -> &WitnessSigningKey {
        &self.key
    }

    /// The latest checkpoint cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<Latest> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .logs
            .get(origin)
            .cloned()
    }

    /// Decides one `add-checkpoint` request body at `now` (POSIX seconds). Blocking: it writes the
    /// state file before it answers 200.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Answer {
        let parsed = std::str::from_utf8(body)
            .map_err(|_| "请求不是 UTF-8 (the body is not UTF-8)".to_owned())
            .and_then(AddCheckpoint::parse);
        let (request, signed) = match parsed {
            Ok(parsed) => parsed,
            Err(why) => return self.refuse(Refusal::Malformed, 400, why, None),
        };
        let note = request.note.as_str();
        let keys: Vec<&LogVerifyingKey> = self
            .log_keys
            .iter()
            .filter(|k| k.origin().as_str() == signed.origin())
            .collect();
        if keys.is_empty() {
            let why = format!("未知的日志 {:?} (unknown log origin)", signed.origin());
            return self.refuse(Refusal::UnknownOrigin, 404, why, None);
        }
        let mut checkpoint = Err(CheckpointError::MalformedNote { why: String::new() });
        for key in keys {
            checkpoint = signed.checkpoint(key);
            if checkpoint.is_ok() {
                break;
            }
        }
        let checkpoint = match checkpoint {
            Ok(c) => c,
            Err(CheckpointError::MalformedNote { why }) => {
                return self.refuse(Refusal::Malformed, 400, why, None);
            }
            Err(e) => return self.refuse(Refusal::BadSignature, 403, e.to_string(), Some(note)),
        };
        let size = checkpoint.tree_size();
        if request.old > size {
            let below_latest = self
                .latest(checkpoint.origin().as_str())
                .is_some_and(|l| l.size > size);
            return self.refuse(
                if below_latest {
                    Refusal::Rollback
                } else {
                    Refusal::Malformed
                },
                400,
                format!(
                    "old {} 大于检查点大小 {size} (old exceeds the checkpoint's size)",
                    request.old
                ),
                Some(note),
            );
        }
        if request.old == 0 && !request.proof.is_empty() {
            return self.refuse(
                Refusal::Malformed,
                400,
                "old 为 0 时一致性证明须为空 (the proof must be empty when old is 0)",
                Some(note),
            );
        }
        // From here to the persisted state, one lock: the check of `old` and the update are atomic.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let origin = checkpoint.origin().as_str().to_owned();
        let latest = state.logs.get(&origin);
        let latest_size = latest.map_or(0, |l| l.size);
        if size < latest_size {
            let why = format!(
                "回滚：检查点大小 {size} 小于已联署的 {latest_size} (rollback: size {size} is below the cosigned {latest_size})"
            );
            self.record(Refusal::Rollback, &why, Some(note));
            return Answer {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{latest_size}\n"),
            };
        }
        if request.old != latest_size {
            self.record(Refusal::StaleOld, "old is not the latest size", None);
            return Answer {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{latest_size}\n"),
            };
        }
        if let Some(latest) = latest {
            if size == latest.size && *checkpoint.root_hash() != latest.root {
                let why = format!(
                    "分叉：大小 {size} 的根 {} 与已联署的 {} 不同 (fork: another root for the cosigned size {size})",
                    checkpoint.root_hash(),
                    latest.root
                );
                return self.refuse(Refusal::Fork, 409, why, Some(note));
            }
            if let Err(e) = verify_consistency(
                latest.size,
                size,
                &latest.root,
                checkpoint.root_hash(),
                &request.proof,
            ) {
                let why = format!(
                    "一致性证明 {} → {size} 无效：日志被改写或分叉 (the consistency proof from {} to {size} does not verify: the log was rewritten or forked): {e}",
                    latest.size, latest.size
                );
                return self.refuse(Refusal::BadProof, 422, why, Some(note));
            }
        }
        let cosignature = match self.key.cosign(&signed.body, now) {
            Ok(c) => c,
            Err(e) => return Answer::text(500, e.to_string()),
        };
        let line = cosignature.to_line();
        let kept = Latest {
            size,
            root: *checkpoint.root_hash(),
            note: format!("{}{line}", checkpoint.to_note()),
        };
        let previous = state.logs.insert(origin.clone(), kept);
        if let Err(e) = write_state(&self.path, &state) {
            // Not persisted: put the old state back and refuse, so nothing was promised.
            match previous {
                Some(previous) => state.logs.insert(origin, previous),
                None => state.logs.remove(&origin),
            };
            tracing::error!("见证人状态无法写入 (cannot write the witness state): {e:#}");
            return Answer::text(500, "cannot persist the witness state");
        }
        Answer {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: line,
        }
    }

    fn refuse(
        &self,
        why: Refusal,
        status: u16,
        text: impl Into<String>,
        note: Option<&str>,
    ) -> Answer {
        let text = text.into();
        self.record(why, &text, note);
        Answer::text(status, text)
    }

    /// Appends an evidential refusal to `STATE.refused.jsonl` (best effort: a failure is logged).
    fn record(&self, why: Refusal, text: &str, note: Option<&str>) {
        if !why.is_evidence() {
            // A client's mistake, or the ordinary "prove from here" answer: not worth a warning.
            tracing::debug!(reason = ?why, "见证人拒绝 (witness refused): {text}");
            return;
        }
        tracing::warn!(reason = ?why, "见证人拒绝 (witness refused): {text}");
        let line = serde_json::json!({
            "time": chrono::Utc::now(),
            "reason": why,
            "detail": text,
            "note": note,
        });
        let path = refusals_path(&self.path);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                writeln!(f, "{line}")?;
                f.sync_data()
            });
        if let Err(e) = written {
            tracing::error!(
                "无法记录拒绝 {} (cannot record the refusal): {e}",
                path.display()
            );
        }
    }
}

/// Where refusals are recorded: the state file's path with `.refused.jsonl` appended.
pub fn refusals_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".refused.jsonl");
    PathBuf::from(name)
}

/// Replaces the state file atomically and durably: tmp, fsync, rename, fsync the directory.
fn write_state(path: &Path, state: &StateFile) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes = serde_json::to_vec_pretty(state)?;
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
