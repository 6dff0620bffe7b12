//! `ledger bench evidence`: what evidence files cost to store and to verify, each figure beside raw
//! SHA-256 of the same bytes in the same run (the floor both have to pay, since a file is named by
//! its digest).
//!
//! For each class of files (`--mib1` files of 1 MiB, `--mib20` of 20 MiB, `--small` of 256 KiB),
//! with distinct pseudo-random bytes so that nothing is deduplicated:
//!
//! - **store**: [`EvidenceStore::put`] into the folder backend, one file at a time (hash, temporary
//!   file, `fsync`, rename, directory `fsync`), what an upload does after the bytes have arrived;
//! - **verify**: a ledger whose events cite every file of the class (one `ScoreRecorded` each), checked
//!   by the same [`crate::audit::file::check`] `ledger verify` runs; the figure is its evidence part
//!   (reading each file back and hashing it), the log pass that finds the citations is reported apart.
//!   The files were just written, so they are read from the page cache: this is the rate of the
//!   check, not of a cold disk.
//!
//! - **upload**: every file posted to `POST /api/v1/evidence` (multipart, one file a request, one
//!   client) on a server over a fresh ledger and a new folder: what a person's upload costs end to
//!   end (the bytes crossing loopback, the multipart parse, the limits checked as the body streams,
//!   the type read from the bytes, the hash, the store's fsyncs). The files carry a PDF header so
//!   that they are an accepted type.
//!
//! Each measurement is a [`Row`]; a case is one function that measures a class and returns its row.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::values::{EvidenceFile, Points, ScoreSource, ScoreValue};
use ledger_schemas::{Actor, Event, ProposedEvent, Role};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::evidence::{EvidenceStore, FolderStore};
use crate::store::{EventStore as _, ExpectedRevision, SqliteStore};

#[derive(Debug, Args)]
pub struct EvidenceBenchArgs {
    /// Files of 1 MiB.
    #[arg(long, default_value_t = 64)]
    pub mib1: usize,
    /// Files of 20 MiB.
    #[arg(long, default_value_t = 8)]
    pub mib20: usize,
    /// Files of 256 KiB (many small files: the per-file cost shows in files/s).
    #[arg(long, default_value_t = 1000)]
    pub small: usize,
    /// Where the temporary ledgers and evidence folders go (default: the system's temporary
    /// directory); a disk like the one a server would use.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Files of one size.
struct Class {
    label: &'static str,
    size: usize,
    count: usize,
}

/// One measurement: `files` files of `size` bytes each took `seconds`; raw SHA-256 of the same
/// bytes took `raw_seconds` in the same run.
struct Row {
    case: &'static str,
    label: &'static str,
    files: usize,
    size: usize,
    seconds: f64,
    raw_seconds: f64,
    note: String,
}

impl Row {
    fn mib(&self) -> f64 {
        (self.files * self.size) as f64 / (1024.0 * 1024.0)
    }

    fn markdown(&self) -> String {
        let rate = |s: f64| self.mib() / s.max(1e-9);
        format!(
            "| {} | {} × {} | {:.2} s | {:.0} MiB/s | {:.1} files/s | {:.0} MiB/s | {:.2}× | {} |\n",
            self.case,
            self.files,
            self.label,
            self.seconds,
            rate(self.seconds),
            self.files as f64 / self.seconds.max(1e-9),
            rate(self.raw_seconds),
            self.seconds / self.raw_seconds.max(1e-9),
            self.note
        )
    }
}

/// `count` files of `size` distinct pseudo-random bytes (xorshift; the first 8 bytes number the
/// file, so no two are alike).
fn files(class: &Class, seed: u64) -> Vec<Vec<u8>> {
    (0..class.count)
        .map(|i| {
            let mut state = seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut bytes = Vec::with_capacity(class.size);
            while bytes.len() < class.size {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.extend_from_slice(&state.to_le_bytes());
            }
            bytes.truncate(class.size);
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            bytes
        })
        .collect()
}

/// Raw SHA-256 of every file, in memory.
fn raw_sha256(files: &[Vec<u8>]) -> Duration {
    let started = Instant::now();
    for bytes in files {
        std::hint::black_box(Sha256::digest(bytes));
    }
    started.elapsed()
}

/// The store case: every file through [`EvidenceStore::put`] into an empty folder, one at a time.
async fn store(
    class: &Class,
    files: &[Vec<u8>],
    evidence: &EvidenceStore,
    raw: Duration,
) -> anyhow::Result<(Row, Vec<EvidenceFile>)> {
    let uploader = PersonId::new("bench-uploader").expect("valid id");
    let started = Instant::now();
    let mut cited = Vec::with_capacity(files.len());
    for (i, bytes) in files.iter().enumerate() {
        let stored = evidence.put(bytes).await?;
        anyhow::ensure!(stored.created, "file {i} was already stored");
        cited.push(EvidenceFile {
            sha256: stored.digest,
            size: stored.size,
            media_type: "application/pdf".into(),
            name: format!("minutes-{i}.pdf"),
            uploaded_by: uploader.clone(),
        });
    }
    let row = Row {
        case: "store: `EvidenceStore::put`, folder",
        label: class.label,
        files: files.len(),
        size: class.size,
        seconds: started.elapsed().as_secs_f64(),
        raw_seconds: raw.as_secs_f64(),
        note: "fsync per file".into(),
    };
    Ok((row, cited))
}

/// The upload case: every file posted to `POST /api/v1/evidence` on a server of its own, one
/// request at a time, each answered 201 with the digest of the bytes sent.
async fn upload(
    class: &Class,
    files: &[Vec<u8>],
    ledger_path: &Path,
    raw: Duration,
) -> anyhow::Result<Row> {
    use crate::http::evidence::EvidenceLimits;
    let store = Arc::new(SqliteStore::open(ledger_path)?);
    let (ledger, token) = super::http::setup(store.clone(), 1, &[]).await?;
    let api = crate::http::Api::new(ledger.clone());
    let _ = api
        .evidence
        .set(EvidenceStore::Folder(FolderStore::beside(ledger_path)));
    let options = crate::http::ServeOptions {
        // Above the largest class, so that the 20 MiB files (the default limit) pass whole.
        evidence: EvidenceLimits {
            max_file: 2 * class.size as u64 + 4096,
            max_request: 2 * class.size as u64 + 4096,
        },
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::http::serve_with(listener, api, options, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/evidence");
    let boundary = "ledger-bench-evidence-boundary";
    let bodies: Vec<Vec<u8>> = files
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"minutes-{i}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .into_bytes();
            let start = body.len();
            body.extend_from_slice(bytes);
            body[start..start + 9].copy_from_slice(b"%PDF-1.4\n");
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            body
        })
        .collect();
    let started = Instant::now();
    for (i, body) in bodies.into_iter().enumerate() {
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.as_u16() == 201, "upload {i}: {status} {text}");
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    server.await??;
    store.close().await;
    drop(ledger);
    Ok(Row {
        case: "upload: `POST /api/v1/evidence`, folder",
        label: class.label,
        files: files.len(),
        size: class.size,
        seconds,
        raw_seconds: raw.as_secs_f64(),
        note: "one request per file, loopback".into(),
    })
}

/// The verify case: a ledger at `path` whose events cite `cited`, checked as `ledger verify` does.
async fn verify(
    class: &Class,
    path: &Path,
    cited: Vec<EvidenceFile>,
    evidence: &EvidenceStore,
    raw: Duration,
) -> anyhow::Result<Row> {
    let store = SqliteStore::open(path)?;
    let actor = Actor::new(
        PersonId::new("bench-assessor").expect("valid"),
        Role::Assessor,
    );
    let count = cited.len();
    let events: Vec<ProposedEvent> = cited
        .into_iter()
        .enumerate()
        .map(|(i, file)| {
            let event = Event::ScoreRecorded(ledger_schemas::events::ScoreRecorded {
                period: PeriodId::new("2026Q1").expect("valid"),
                unit: UnitId::new(format!("SH-{:02}", i % 8)).expect("valid"),
                item: ItemCode::new("A2").expect("valid"),
                value: ScoreValue::Points {
                    points: Points::from_cents(250),
                },
                note: "支委会会议记录 (committee minutes)".into(),
                evidence: Vec::new(),
                source: ScoreSource::Manual,
                file_sha256: None,
                files: vec![file],
            });
            ProposedEvent::new(&event, actor.clone(), Uuid::now_v7(), Uuid::now_v7())
        })
        .collect();
    for chunk in events.chunks(500) {
        store
            .append("sheet-bench", ExpectedRevision::Any, chunk.to_vec())
            .await?;
    }
    store.close().await;
    let started = Instant::now();
    let checked = crate::audit::file::check(
        path,
        crate::audit::file::VerifyOptions {
            evidence: Some(evidence),
            ..Default::default()
        },
        false,
    )
    .await?;
    let whole = started.elapsed().as_secs_f64();
    let report = checked
        .audit
        .evidence
        .ok_or_else(|| anyhow::anyhow!("verify checked no evidence"))?;
    anyhow::ensure!(
        report.faults.is_empty() && report.files as usize == count,
        "verify found {} faults in {} files",
        report.faults.len(),
        report.files
    );
    Ok(Row {
        case: "verify: the evidence part of `ledger verify`",
        label: class.label,
        files: count,
        size: class.size,
        seconds: report.seconds,
        raw_seconds: raw.as_secs_f64(),
        note: format!(
            "whole verify {whole:.2} s ({} events)",
            checked.report.verified
        ),
    })
}

pub fn run(args: EvidenceBenchArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if cfg!(debug_assertions) {
        eprintln!(
            "警告: 调试构建, 数字没有意义 (warning: a debug build; the figures mean little — use --release)"
        );
    }
    let classes = [
        Class {
            label: "1 MiB",
            size: 1 << 20,
            count: args.mib1,
        },
        Class {
            label: "20 MiB",
            size: 20 << 20,
            count: args.mib20,
        },
        Class {
            label: "256 KiB",
            size: 256 << 10,
            count: args.small,
        },
    ];
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!(
        "ledger-bench-evidence-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: 无法创建 (cannot create)", dir.display()))?;
    let rt = crate::cli::runtime()?;
    let started = chrono::Utc::now();
    let measured = rt.block_on(async {
        let mut rows = Vec::new();
        for (n, class) in classes.iter().enumerate().filter(|(_, c)| c.count > 0) {
            eprintln!("{} × {} …", class.count, class.label);
            let bytes = files(class, n as u64 + 1);
            let raw = raw_sha256(&bytes);
            let ledger = dir.join(format!("class-{n}.db"));
            let evidence = EvidenceStore::Folder(FolderStore::beside(&ledger));
            let (row, cited) = store(class, &bytes, &evidence, raw).await?;
            rows.push(row);
            rows.push(upload(class, &bytes, &dir.join(format!("upload-{n}.db")), raw).await?);
            drop(bytes);
            rows.push(verify(class, &ledger, cited, &evidence, raw).await?);
        }
        anyhow::Ok(rows)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let rows = measured?;
    let mut text = format!(
        "## `ledger bench evidence`\n\n\
         Machine: {}. Started {}. Files under {}.\n\n\
         | case | files | time | MiB/s | files/s | raw SHA-256 of the same bytes | time vs raw | note |\n\
         |---|---|---|---|---|---|---|---|\n",
        super::http::machine(),
        started.format("%Y-%m-%d %H:%M UTC"),
        base.display()
    );
    for row in &rows {
        text.push_str(&row.markdown());
    }
    print!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text)
            .with_context(|| format!("无法写入 (cannot write) {}", out.display()))?;
    }
    Ok(())
}
