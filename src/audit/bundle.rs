//! The audit bundle: a directory an auditor can verify without the ledger file or this program's
//! store, written by `ledger export --audit DIR` and checked by `ledger verify --bundle DIR`.
//!
//! Layout (every path relative to the directory):
//!
//! ```text
//! events.jsonl                 one envelope per line (JSON, as `envelope.schema.json` describes)
//! checkpoints/<size>.note      every signed checkpoint, as a C2SP signed note
//! public-key                   the ledger's public key: PEM, then the signed-note verifier string
//! schemas/...                  the envelope's and every event type's JSON Schema
//! evidence.json                every evidence file the events cite (one row per citing event:
//!                              position, stream, type, time, and the file's SHA-256, size, media
//!                              type, name, uploader), and whether the files are included
//! evidence/<sha256>            each cited file, named by its digest (absent with `--evidence list`)
//! manifest.json                counts, head hash, Merkle root, and the SHA-256 of every other file
//! ```
//!
//! The evidence rows are derived from the events, so `verify` recomputes them and compares; the files
//! themselves are checked against the digests the events recorded, which the chain covers. Bundles
//! written before evidence existed have no `evidence.json`; they verify as before as long as their
//! events cite no file. The manifest's shape did not change, so the format stays `/1`.
//!
//! The manifest is a table of contents, not a trust anchor: it is not signed, so checking it only
//! shows that the files are the ones exported together. Trust comes from the checkpoints' signatures
//! under a public key the auditor got from elsewhere (`--public-key`), and from the chain and the tree
//! recomputed from the events themselves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ledger_schemas::Envelope;
use ledger_schemas::checkpoint::{Checkpoint, LogVerifyingKey};
use ledger_schemas::integrity::{ChainVerifier, Digest};
use ledger_schemas::merkle::{InclusionProof, MerkleTree};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::check_checkpoints;
use super::evidence::{Citation, Citations, EvidenceReport};

/// The bundle format's name and version, in the manifest.
pub const FORMAT: &str = "ledger-audit-bundle/1";

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// The log's name, as in every checkpoint.
    pub origin: String,
    pub events: u64,
    /// The last event's hash (64 zero digits for an empty log).
    pub head_hash: Digest,
    /// The Merkle root over all `events`.
    pub tree_root: Digest,
    pub checkpoints: u64,
    /// SHA-256 (hex) of every file in the bundle except the manifest, by relative path with `/`.
    pub files: BTreeMap<String, String>,
}

/// SHA-256 of `bytes` in lowercase hex (also the file hash `ledger import` records).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `evidence.json`: the evidence files the bundle's events cite, and whether they are included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceList {
    /// Whether every cited file is in `evidence/<sha256>` (`false`: `--evidence list`).
    pub included: bool,
    /// Distinct files cited, and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// One row per (citing event, file), in log order.
    pub citations: Vec<Citation>,
}

/// The name of a cited file in a bundle.
pub fn evidence_path(digest: &Digest) -> String {
    format!("evidence/{}", digest.to_hex())
}

/// What a bundle carries of the evidence its events cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EvidenceMode {
    /// The files themselves, in `evidence/<sha256>`, and their list.
    #[default]
    Files,
    /// Only their list (`evidence.json`): SHA-256, size, media type, name, citing event.
    List,
}

/// Writes a bundle into `dir`, which must be absent or empty. `events` must be the whole log in
/// order and `checkpoints` the stored notes; with [`EvidenceMode::Files`], `fetch` gives each cited
/// file's bytes by digest (`None`: not in the store). A cited file missing or altered refuses the
/// export, naming the event and the file, and leaves `dir` as it was. Returns the manifest written
/// and the evidence list.
pub fn write(
    dir: &Path,
    events: &[Envelope],
    checkpoints: &[(u64, String)],
    key: &LogVerifyingKey,
    evidence: EvidenceMode,
    fetch: impl FnMut(&Digest) -> anyhow::Result<Option<Vec<u8>>>,
) -> anyhow::Result<(Manifest, EvidenceList)> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| {
                format!(
                    "无法读取目录 {0} (cannot read directory {0})",
                    dir.display()
                )
            })?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "{0} 不是空目录，拒绝覆盖 ({0} is not empty; refusing to overwrite)",
            dir.display()
        );
    }
    let existed = dir.exists();
    let written = write_into(dir, events, checkpoints, key, evidence, fetch);
    if written.is_err() {
        // Nothing half-written: the directory was absent or empty, so it goes back to that.
        let _ = std::fs::remove_dir_all(dir);
        if existed {
            let _ = std::fs::create_dir(dir);
        }
    }
    written
}

fn write_into(
    dir: &Path,
    events: &[Envelope],
    checkpoints: &[(u64, String)],
    key: &LogVerifyingKey,
    mode: EvidenceMode,
    mut fetch: impl FnMut(&Digest) -> anyhow::Result<Option<Vec<u8>>>,
) -> anyhow::Result<(Manifest, EvidenceList)> {
    let mut citations = Citations::default();
    events.iter().for_each(|e| citations.add(e));
    if let Some(why) = citations.undecodable.first() {
        anyhow::bail!("{why}");
    }
    let distinct = citations.distinct();
    let mut hashes: Vec<(String, String)> = Vec::new();
    if mode == EvidenceMode::Files {
        for digest in distinct.keys() {
            let bytes = fetch(digest)?;
            let problem = match &bytes {
                None => Some("缺失 is missing".to_owned()),
                Some(bytes) if crate::evidence::digest(bytes) != *digest => Some(format!(
                    "已被改动 was altered (now {})",
                    crate::evidence::digest(bytes)
                )),
                Some(_) => None,
            };
            if let Some(problem) = problem {
                let cited = citations
                    .list
                    .iter()
                    .find(|c| c.file.sha256 == *digest)
                    .expect("a distinct digest is cited");
                anyhow::bail!(
                    "{} 引用的佐证材料 “{}” (sha256 {digest}) {problem}; 未导出 (nothing exported): 用 `ledger verify` 查看全部问题, 或用 --evidence list 只导出清单 (run `ledger verify` to see every problem, or export only the list with --evidence list)",
                    cited.event(),
                    cited.file.name
                );
            }
            let bytes = bytes.expect("checked above");
            let name = evidence_path(digest);
            let path = dir.join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("无法创建 {0} (cannot create {0})", parent.display())
                })?;
            }
            std::fs::write(&path, &bytes)
                .with_context(|| format!("无法写入 {0} (cannot write {0})", path.display()))?;
            hashes.push((name, digest.to_hex()));
        }
    }
    let list = EvidenceList {
        included: mode == EvidenceMode::Files,
        files: distinct.len() as u64,
        bytes: distinct.values().sum(),
        citations: citations.list,
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut text = serde_json::to_vec_pretty(&list)?;
    text.push(b'\n');
    files.push(("evidence.json".into(), text));
    let mut jsonl = Vec::with_capacity(events.len() * 600);
    for event in events {
        serde_json::to_writer(&mut jsonl, event)?;
        jsonl.push(b'\n');
    }
    files.push(("events.jsonl".into(), jsonl));
    for (size, note) in checkpoints {
        files.push((
            format!("checkpoints/{size}.note"),
            note.clone().into_bytes(),
        ));
    }
    files.push((
        "public-key".into(),
        format!("{}\n{}\n", key.to_pem().trim_end(), key.to_note_verifier()).into_bytes(),
    ));
    for (name, text) in super::schemas::SCHEMAS {
        files.push((format!("schemas/{name}"), text.as_bytes().to_vec()));
    }
    let tree = MerkleTree::from_event_hashes(events.iter().map(|e| &e.hash));
    let manifest = Manifest {
        format: FORMAT.into(),
        origin: key.origin().to_string(),
        events: events.len() as u64,
        head_hash: events.last().map_or(Digest::ZERO, |e| e.hash),
        tree_root: tree.current_root(),
        checkpoints: checkpoints.len() as u64,
        files: files
            .iter()
            .map(|(name, bytes)| (name.clone(), sha256_hex(bytes)))
            .chain(hashes)
            .collect(),
    };
    for (name, bytes) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("无法创建 {0} (cannot create {0})", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .with_context(|| format!("无法写入 {0} (cannot write {0})", path.display()))?;
    }
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    std::fs::write(dir.join("manifest.json"), text)
        .with_context(|| format!("无法写入 {0}/manifest.json (cannot write)", dir.display()))?;
    Ok((manifest, list))
}

/// What verifying a bundle found.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    /// Events whose chain links checked out, from the first.
    pub verified: u64,
    pub events: u64,
    pub tree_root: Digest,
    pub checkpoints: u64,
    /// Every problem, in words naming the file, event or checkpoint at fault; empty when intact.
    pub faults: Vec<String>,
    /// What no signature covers, not a fault: checkpoints of the schedule never signed, events
    /// past the last checkpoint.
    pub warnings: Vec<String>,
    /// The evidence files the verified events cite, and what the bundle holds of them.
    pub evidence: BundleEvidence,
}

/// What a bundle holds of the evidence its events cite.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BundleEvidence {
    /// `None`: no `evidence.json` (a bundle from before evidence); else whether the files are in it.
    pub included: Option<bool>,
    /// Citations and distinct files the verified events make, and the bytes those files hold.
    pub citations: u64,
    pub files: u64,
    pub bytes: u64,
    /// With the files included: each one checked against the digest its events recorded.
    pub check: Option<EvidenceReport>,
}

/// One event's inclusion, proven from the bundle alone.
#[derive(Debug, Clone, Serialize)]
pub struct Inclusion {
    pub event_id: Uuid,
    pub position: u64,
    pub event_hash: Digest,
    /// The signed checkpoint the proof leads to (the largest one that covers the event).
    pub checkpoint: String,
    pub proof: InclusionProof,
}

fn relative_files(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(at)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out).with_context(|| {
        format!(
            "无法读取目录 {0} (cannot read directory {0})",
            dir.display()
        )
    })?;
    out.sort();
    Ok(out)
}

/// Verifies the bundle in `dir`: the manifest's hashes and file list, the hash chain over
/// `events.jsonl`, the Merkle tree, the manifest's counts and root, and every checkpoint under `key`
/// (or, if `None`, the bundle's own `public-key`). With `event`, also proves that event's inclusion.
///
/// An `Err` means the bundle could not be read at all (no manifest); everything else is a fault in
/// the report.
pub fn verify(
    dir: &Path,
    key: Option<&LogVerifyingKey>,
    event: Option<Uuid>,
) -> anyhow::Result<(BundleReport, Option<Inclusion>)> {
    let manifest_path: PathBuf = dir.join("manifest.json");
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&manifest_path)
            .with_context(|| format!("无法读取 {0} (cannot read {0})", manifest_path.display()))?,
    )
    .with_context(|| {
        format!(
            "{} 不是清单 (is not a bundle manifest)",
            manifest_path.display()
        )
    })?;
    let mut faults = Vec::new();

    // The files: exactly the listed ones, each with its listed hash.
    let present = relative_files(dir)?;
    for name in &present {
        if name != "manifest.json" && !manifest.files.contains_key(name) {
            faults.push(format!(
                "文件 {name} 不在清单中 (file {name} is not in the manifest)"
            ));
        }
    }
    for (name, expected) in &manifest.files {
        match std::fs::read(dir.join(name)) {
            Ok(bytes) if sha256_hex(&bytes) == *expected => {}
            Ok(_) => faults.push(format!(
                "文件 {name} 的 SHA-256 与清单不符 (file {name} does not match its SHA-256 in the manifest)"
            )),
            Err(_) => faults.push(format!(
                "清单中的文件 {name} 缺失 (file {name} listed in the manifest is missing)"
            )),
        }
    }

    // The events: parsed line by line, the chain recomputed.
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    let mut verifier = ChainVerifier::new();
    let mut events: Vec<Envelope> = Vec::new();
    let mut chain_broken = false;
    for (i, line) in text.lines().enumerate() {
        let envelope: Envelope = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => {
                faults.push(format!(
                    "events.jsonl 第 {0} 行不是事件 (line {0} of events.jsonl is not an event): {e}",
                    i + 1
                ));
                chain_broken = true;
                break;
            }
        };
        if let Err(broken) = verifier.check(&envelope) {
            faults.push(broken.to_string());
            chain_broken = true;
            break;
        }
        events.push(envelope);
    }
    let verified = verifier.verified_through();
    let tree = MerkleTree::from_event_hashes(events.iter().map(|e| &e.hash));
    if !chain_broken {
        if manifest.events != tree.len() {
            faults.push(format!(
                "清单说有 {} 个事件，events.jsonl 有 {} 个 (the manifest says {} events, events.jsonl holds {})",
                manifest.events,
                tree.len(),
                manifest.events,
                tree.len()
            ));
        }
        if manifest.tree_root != tree.current_root() {
            faults.push(format!(
                "清单的默克尔根 {} 与重算的 {} 不符 (the manifest's Merkle root {} is not the recomputed {})",
                manifest.tree_root,
                tree.current_root(),
                manifest.tree_root,
                tree.current_root()
            ));
        }
    }

    // The checkpoints, under the auditor's key or the bundle's own.
    let bundled_key;
    let key = match key {
        Some(key) => Some(key),
        None => {
            bundled_key = std::fs::read_to_string(dir.join("public-key"))
                .ok()
                .and_then(|text| super::parse_public_key(&text).ok());
            bundled_key.as_ref()
        }
    };
    let mut notes: Vec<(u64, String)> = Vec::new();
    for name in present.iter().filter(|n| n.starts_with("checkpoints/")) {
        let note = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        match Checkpoint::from_note(&note) {
            Ok(c) => notes.push((c.tree_size(), note)),
            Err(e) => faults.push(format!("{name}: {e}")),
        }
    }
    notes.sort_by_key(|(size, _)| *size);
    match key {
        Some(key) => faults.extend(
            check_checkpoints(&tree, &notes, key)
                .iter()
                .map(ToString::to_string),
        ),
        None => faults.push(
            "没有可用的公钥 (no usable public key: public-key is missing or unreadable, and none was given)"
                .to_owned(),
        ),
    }

    // The schedule: a checkpoint that a later one vouches for under its signature and the bundle
    // lacks was deleted (its file and its manifest line alike).
    let schedule = super::schedule::check(&tree, &notes, key, None);
    if !chain_broken {
        faults.extend(schedule.missing.iter().map(ToString::to_string));
    }
    let warnings = if chain_broken {
        Vec::new()
    } else {
        schedule.warnings(tree.len())
    };

    let evidence = check_evidence(dir, &events, chain_broken, &mut faults);

    let inclusion = match event {
        None => None,
        Some(id) => match prove(id, &events, &tree, &notes, key) {
            Ok(inclusion) => Some(inclusion),
            Err(why) => {
                faults.push(why);
                None
            }
        },
    };
    let report = BundleReport {
        verified,
        events: events.len() as u64,
        tree_root: tree.current_root(),
        checkpoints: notes.len() as u64,
        faults,
        warnings,
        evidence,
    };
    Ok((report, inclusion))
}

/// The evidence part of [`verify`]: `evidence.json` must list exactly what the verified events cite
/// (unless the chain broke, when the events after the break are unknown), and every listed file
/// must be in `evidence/` and hash to its recorded digest when the list says they are included.
fn check_evidence(
    dir: &Path,
    events: &[Envelope],
    chain_broken: bool,
    faults: &mut Vec<String>,
) -> BundleEvidence {
    let mut citations = Citations::default();
    events.iter().for_each(|e| citations.add(e));
    faults.append(&mut citations.undecodable);
    let distinct = citations.distinct();
    let mut out = BundleEvidence {
        included: None,
        citations: citations.list.len() as u64,
        files: distinct.len() as u64,
        bytes: distinct.values().sum(),
        check: None,
    };
    let list: EvidenceList = match std::fs::read(dir.join("evidence.json")) {
        Err(_) => {
            if !citations.list.is_empty() {
                faults.push(format!(
                    "事件引用了 {0} 个佐证材料, 审计包却没有 evidence.json, 既无文件也无清单 (the events cite {0} evidence files, but the bundle has no evidence.json: neither the files nor their list)",
                    distinct.len()
                ));
            }
            return out;
        }
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(list) => list,
            Err(e) => {
                faults.push(format!(
                    "evidence.json 不是佐证材料清单 (evidence.json is not an evidence list): {e}"
                ));
                return out;
            }
        },
    };
    out.included = Some(list.included);
    if !chain_broken {
        let listed: std::collections::HashSet<&Citation> = list.citations.iter().collect();
        let cited: std::collections::HashSet<&Citation> = citations.list.iter().collect();
        for c in citations.list.iter().filter(|c| !listed.contains(c)) {
            faults.push(format!(
                "evidence.json 漏列了 {} 引用的佐证材料 “{}” (sha256 {}) (evidence.json leaves out this file cited by the event)",
                c.event(),
                c.file.name,
                c.file.sha256
            ));
        }
        for c in list.citations.iter().filter(|c| !cited.contains(c)) {
            faults.push(format!(
                "evidence.json 所列 {} 引用 “{}” (sha256 {}), 事件中并无此引用 (evidence.json lists a citation the events do not make)",
                c.event(),
                c.file.name,
                c.file.sha256
            ));
        }
    }
    if list.included {
        let report = super::evidence::check_bytes(
            format!("{}/evidence", dir.display()),
            citations,
            |digest| match std::fs::read(dir.join(evidence_path(digest))) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.to_string()),
            },
        );
        faults.extend(report.failures());
        out.check = Some(report);
    }
    out
}

/// The inclusion proof of event `id` against the largest valid checkpoint that covers it, verified.
fn prove(
    id: Uuid,
    events: &[Envelope],
    tree: &MerkleTree,
    notes: &[(u64, String)],
    key: Option<&LogVerifyingKey>,
) -> Result<Inclusion, String> {
    let event = events.iter().find(|e| e.event_id == id).ok_or_else(|| {
        format!("包中没有事件 {id} (event {id} is not in the bundle's verified events)")
    })?;
    let key = key.ok_or("没有公钥 (no public key)")?;
    let (note, checkpoint) = notes
        .iter()
        .rev()
        .filter(|(size, _)| *size >= event.position)
        .filter_map(|(_, note)| Checkpoint::from_note(note).ok().map(|c| (note, c)))
        .find(|(_, c)| {
            c.verify(key).is_ok() && tree.root(c.tree_size()).ok() == Some(*c.root_hash())
        })
        .ok_or_else(|| {
            format!(
                "没有覆盖第 {0} 号事件的有效检查点 (no valid checkpoint covers position {0})",
                event.position
            )
        })?;
    let proof = tree
        .inclusion_proof(event.position - 1, checkpoint.tree_size())
        .map_err(|e| e.to_string())?;
    proof
        .verify(&event.hash, checkpoint.root_hash())
        .map_err(|e| {
            format!("事件 {id} 的包含证明无效 (the inclusion proof of event {id} fails): {e}")
        })?;
    Ok(Inclusion {
        event_id: id,
        position: event.position,
        event_hash: event.hash,
        checkpoint: note.clone(),
        proof,
    })
}
