//! `ledger backup` and `ledger restore`: a consistent copy of a ledger file taken while a server
//! writes to it, proven before it is called a backup, and put back only when it still proves.
//!
//! **Backup.** SQLite's `VACUUM INTO` writes, from one read transaction, a compact copy of the file
//! as it stood when the transaction began: in WAL mode writers go on meanwhile, and every event
//! acknowledged before the backup began is in the copy. The copy goes to a temporary name beside
//! the destination, is flushed to disk, then checked exactly as `ledger verify` checks a ledger
//! ([`crate::audit::file::check`]: chain, checkpoints against the ledger's public key, schedule,
//! sealed snapshots); only a copy that passes is renamed to the destination. The public key is
//! written beside the copy (`OUT.pub`) so that the copy can be verified and restored without the
//! private key; the private key (`FILE.key`) is copied only when asked, with a warning, since
//! whoever holds it can sign checkpoints.
//!
//! **Restore.** The copy is checked the same way (its own `OUT.pub`, or `--public-key`), and must
//! extend the newest checkpoint of the ledger it replaces and a checkpoint the operator kept
//! (`--against`): a copy older than either would silently drop events that were acknowledged and
//! signed. Either refusal can be overridden with `--force`, which says what it overrides. A ledger
//! still open by a server (its `-wal`/`-shm` files present) is never replaced. The file replaced is
//! kept beside, renamed, never deleted.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use ledger_schemas::checkpoint::Checkpoint;
use serde::Serialize;

use crate::audit::file::VerifyOptions;

/// What a backup did.
#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub source: String,
    pub copy: String,
    pub events: u64,
    pub head_hash: String,
    pub tree_root: String,
    pub checkpoints: usize,
    pub bytes: u64,
    pub seconds: f64,
    /// The public key written beside the copy (`None`: the ledger has no key).
    pub public_key: Option<String>,
    /// The private key copied beside it (only with `with_key`).
    pub private_key: Option<String>,
    /// What was not copied, and warnings from the check of the copy, one line each.
    pub notes: Vec<String>,
}

/// Copies the ledger file `source` (which a server may be writing to) to `out`, checks the copy,
/// and keeps it only if it passes. `with_key` also copies the private signing key; `force`
/// replaces an existing `out`.
pub async fn backup(
    source: &Path,
    out: &Path,
    with_key: bool,
    force: bool,
) -> anyhow::Result<BackupReport> {
    let started = Instant::now();
    if !source.is_file() {
        bail!(
            "账本文件不存在 (no ledger file at {}): check --ledger",
            source.display()
        );
    }
    if out.exists() && !force {
        bail!(
            "{} 已存在 (already exists): choose another name, or pass --force to replace it",
            out.display()
        );
    }
    if same_file(source, out) {
        bail!("备份不能覆盖账本本身 (the backup cannot be the ledger file itself)");
    }
    let partial = sibling(out, ".partial");
    remove_if_exists(&partial)?;
    copy_consistently(source, &partial)?;

    // The copy is checked with the source's public key, written beside the copy's temporary name
    // (where `ledger verify` looks for a key is `FILE.key`; a public key is passed explicitly).
    let key = crate::audit::verifying_key(source, None)?;
    let partial_pub = sibling(&partial, ".pub");
    if let Some(key) = &key {
        write_synced(&partial_pub, &public_key_text(key))?;
    }
    let checked = crate::audit::file::check(
        &partial,
        VerifyOptions {
            public_key: key.as_ref().map(|_| partial_pub.as_path()),
            ..VerifyOptions::default()
        },
        false,
    )
    .await;
    let checked = match checked {
        Ok(checked) => checked,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(&partial_pub);
            return Err(err.context("无法校验备份 (cannot check the copy)"));
        }
    };
    let failures = checked.failures();
    if !failures.is_empty() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(&partial_pub);
        bail!(
            "备份未通过校验，未保留 (the copy does not verify and was not kept):\n  {}",
            failures.join("\n  ")
        );
    }

    // Only a copy that passed gets the destination's name.
    let out_pub = sibling(out, ".pub");
    std::fs::rename(&partial, out)
        .with_context(|| format!("无法写入 (cannot write) {}", out.display()))?;
    let mut public_key = None;
    if key.is_some() {
        std::fs::rename(&partial_pub, &out_pub)
            .with_context(|| format!("无法写入 (cannot write) {}", out_pub.display()))?;
        public_key = Some(out_pub.display().to_string());
    }
    let mut notes = Vec::new();
    let mut private_key = None;
    let source_key = crate::audit::key_path(source);
    if source_key.exists() {
        if with_key {
            let out_key = crate::audit::key_path(out);
            copy_private(&source_key, &out_key)?;
            notes.push(format!(
                "警告: 私钥已复制到 {} (warning: the private signing key was copied; whoever holds it can sign checkpoints: keep the copy as safe as the original)",
                out_key.display()
            ));
            private_key = Some(out_key.display().to_string());
        } else {
            notes.push(format!(
                "未复制私钥 {} (the private signing key was not copied; keep it backed up separately, or pass --with-key)",
                source_key.display()
            ));
        }
    } else {
        notes.push(
            "账本没有签名密钥 (the ledger has no signing key: the copy has no checkpoints to prove it)"
                .to_owned(),
        );
    }
    sync_dir(out);
    notes.extend(checked.audit.warnings.iter().cloned());
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        source: source.display().to_string(),
        copy: out.display().to_string(),
        events: checked.report.verified,
        head_hash: checked.report.head.to_hex(),
        tree_root: checked.audit.root.to_hex(),
        checkpoints: checked.audit.checkpoints,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        public_key,
        private_key,
        notes,
    })
}

/// How `ledger restore` may proceed.
#[derive(Debug, Default, Clone, Copy)]
pub struct RestoreOptions<'a> {
    /// The public key to check the copy with (default: `BACKUP.pub`, else the replaced ledger's).
    pub public_key: Option<&'a Path>,
    /// A checkpoint the operator kept, which the copy must extend.
    pub against: Option<&'a Path>,
    /// Restore a copy that fails the checks or is older than a checkpoint; each override is named.
    pub force: bool,
}

/// What a restore did.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub copy: String,
    pub ledger: String,
    pub events: u64,
    pub head_hash: String,
    /// Where the ledger that was replaced now is (`None`: there was none).
    pub replaced_kept_at: Option<String>,
    /// The checks `--force` overrode, one line each (empty without `--force`).
    pub overridden: Vec<String>,
    pub notes: Vec<String>,
}

/// Puts the backup `copy` in place of the ledger file `ledger`, after checking it.
pub async fn restore(
    copy: &Path,
    ledger: &Path,
    options: RestoreOptions<'_>,
) -> anyhow::Result<RestoreReport> {
    if !copy.is_file() {
        bail!("备份不存在 (no backup at {})", copy.display());
    }
    if same_file(copy, ledger) {
        bail!("备份就是账本本身 (the backup is the ledger file itself)");
    }
    if in_use(ledger) {
        bail!(
            "账本仍被打开 (the ledger {} is open in another process): stop `ledger serve` first, then restore",
            ledger.display()
        );
    }
    let copy_pub = sibling(copy, ".pub");
    let public_key = match options.public_key {
        Some(file) => Some(file.to_path_buf()),
        None if copy_pub.exists() => Some(copy_pub),
        None => None,
    };
    // Without a public key of its own, the copy is checked with the key of the ledger it replaces.
    let replaced_key = crate::audit::verifying_key(ledger, None).ok().flatten();
    let fallback_pub = if public_key.is_none() {
        replaced_key.as_ref().map(|key| {
            let path = sibling(copy, ".restore-check.pub");
            (path, public_key_text(key))
        })
    } else {
        None
    };
    if let Some((path, text)) = &fallback_pub {
        write_synced(path, text)?;
    }
    let key_file = public_key
        .clone()
        .or_else(|| fallback_pub.as_ref().map(|(p, _)| p.clone()));
    let checked = crate::audit::file::check(
        copy,
        VerifyOptions {
            public_key: key_file.as_deref(),
            against: options.against,
            ..VerifyOptions::default()
        },
        false,
    )
    .await;
    if let Some((path, _)) = &fallback_pub {
        let _ = std::fs::remove_file(path);
    }
    let checked = checked.context("无法校验备份 (cannot check the backup)")?;
    let mut refusals = checked.failures();
    // The ledger being replaced: the copy must extend its newest checkpoint.
    if ledger.exists() {
        match newest_checkpoint(ledger).await {
            Ok(Some(newest)) => {
                if let Err(why) = checked.extends(&newest) {
                    refusals.push(format!(
                        "备份早于被替换账本的检查点 (the backup is older than, or departs from, the newest checkpoint of the ledger it would replace, size {}): {why}",
                        newest.tree_size()
                    ));
                }
            }
            Ok(None) => {}
            Err(err) => refusals.push(format!(
                "无法读取被替换账本的检查点 (cannot read the checkpoints of the ledger it would replace): {err:#}"
            )),
        }
    }
    let overridden = if refusals.is_empty() {
        Vec::new()
    } else if options.force {
        refusals
    } else {
        bail!(
            "拒绝恢复 (the backup was not restored):\n  {}\n(--force restores it anyway, and says so)",
            refusals.join("\n  ")
        );
    };

    // Copy under a temporary name, flush, then move the old ledger aside and the copy in.
    let incoming = sibling(ledger, ".restoring");
    remove_if_exists(&incoming)?;
    std::fs::copy(copy, &incoming)
        .with_context(|| format!("无法写入 (cannot write) {}", incoming.display()))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("无法写入 (cannot write) {}", incoming.display()))?;
    let mut replaced_kept_at = None;
    if ledger.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = sibling(ledger, &format!(".replaced-{stamp}"));
        std::fs::rename(ledger, &aside)
            .with_context(|| format!("无法移开 (cannot move aside) {}", ledger.display()))?;
        replaced_kept_at = Some(aside.display().to_string());
    }
    std::fs::rename(&incoming, ledger)
        .with_context(|| format!("无法写入 (cannot write) {}", ledger.display()))?;
    sync_dir(ledger);
    let mut notes = Vec::new();
    let ledger_key = crate::audit::key_path(ledger);
    let copy_key = crate::audit::key_path(copy);
    if !ledger_key.exists() && copy_key.exists() {
        copy_private(&copy_key, &ledger_key)?;
        notes.push(format!(
            "已恢复私钥 {} (the private signing key came from the backup)",
            ledger_key.display()
        ));
    } else if !ledger_key.exists() {
        notes.push(format!(
            "没有私钥 {} (no private signing key: put the ledger's key back before serving, or new checkpoints cannot be signed)",
            ledger_key.display()
        ));
    }
    notes.extend(checked.audit.warnings.iter().cloned());
    Ok(RestoreReport {
        copy: copy.display().to_string(),
        ledger: ledger.display().to_string(),
        events: checked.report.verified,
        head_hash: checked.report.head.to_hex(),
        replaced_kept_at,
        overridden,
        notes,
    })
}

/// Whether another process has the ledger open. Every SQLite connection to a WAL database holds a
/// shared lock on the "dead man switch" byte of its `-shm` file (byte 128: the 8 WAL-index locks
/// start at 120) for as long as it is open; whoever can take a write lock on that byte knows
/// nobody holds one. A leftover `-wal` or `-shm` of a closed ledger is therefore not mistaken for an
/// open one. (POSIX record locks are per process: this is only asked in `ledger restore`'s own.)
#[cfg(unix)]
fn in_use(ledger: &Path) -> bool {
    use std::os::fd::AsRawFd as _;
    let shm = sibling(ledger, "-shm");
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&shm)
    else {
        return false; // no shared memory: no connection in WAL mode
    };
    let lock = libc::flock {
        l_type: libc::F_WRLCK as _,
        l_whence: libc::SEEK_SET as _,
        l_start: 128,
        l_len: 1,
        l_pid: 0,
    };
    // SAFETY: F_SETLK reads the struct passed and touches nothing else; the lock goes with `file`.
    let taken = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } == 0;
    !taken
}

#[cfg(not(unix))]
fn in_use(ledger: &Path) -> bool {
    sibling(ledger, "-shm").exists()
}

/// `VACUUM INTO` from a read-only connection: one read transaction, so one consistent state of the
/// log, while writers in WAL mode go on.
fn copy_consistently(source: &Path, out: &Path) -> anyhow::Result<()> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("无法打开账本 (cannot open the ledger) {}", source.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = out
        .to_str()
        .context("备份路径须为 UTF-8 (the backup's path must be UTF-8)")?;
    conn.execute("VACUUM INTO ?1", [target]).with_context(|| {
        format!(
            "无法复制账本 (cannot copy the ledger {} to {})",
            source.display(),
            out.display()
        )
    })?;
    drop(conn);
    std::fs::File::open(out)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("无法写入 (cannot write) {}", out.display()))
}

async fn newest_checkpoint(ledger: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let store = crate::store::SqliteStore::open_existing(ledger)?;
    let snapshot = store.audit_snapshot().await;
    store.close().await;
    let newest = snapshot?
        .checkpoints
        .into_iter()
        .max_by_key(|(size, _)| *size);
    newest
        .map(|(_, note)| Checkpoint::from_note(&note).map_err(|e| anyhow::anyhow!("{e}")))
        .transpose()
}

fn public_key_text(key: &ledger_schemas::checkpoint::LogVerifyingKey) -> String {
    let mut text = key.to_pem();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&key.to_note_verifier());
    text.push('\n');
    text
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("无法删除 (cannot remove) {}", path.display())),
    }
}

fn write_synced(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)
        .with_context(|| format!("无法写入 (cannot write) {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("无法写入 (cannot write) {}", path.display()))
}

/// Copies a private key, readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let text = std::fs::read(from)
        .with_context(|| format!("无法读取 (cannot read) {}", from.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write as _;
    let mut file = options
        .open(to)
        .with_context(|| format!("无法写入 (cannot write) {}", to.display()))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("无法写入 (cannot write) {}", to.display()))
}

/// Flushes the directory holding `path`, so that a rename survives a power cut.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
}
