//! The evidence files (佐证材料) the log cites, checked as `ledger verify` and `ledger verify --bundle`
//! check them: every file any event cites must be present and hash to the SHA-256 the event
//! recorded, which the hash chain covers.
//!
//! [`Citation`] is one file cited by one event, with what names the event to a reader (position,
//! stream, type, recorded time). [`check_store`] checks citations against an
//! [`EvidenceStore`](crate::evidence::EvidenceStore) (the ledger's folder or S3), [`check_bytes`]
//! the same against any other source of bytes (an audit bundle's `evidence/` folder); both read each
//! distinct file once, however many events cite it, and report a fault for every event that cites a
//! bad one, so each event is named.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use ledger_schemas::Envelope;
use ledger_schemas::integrity::Digest;
use ledger_schemas::values::EvidenceFile;
use serde::{Deserialize, Serialize};

use crate::evidence::{EvidenceStore, FileState};

/// The event types whose payloads cite files (`Event::files`); the others are not decoded.
const CITING_TYPES: [&str; 5] = [
    "SelfAssessmentRecorded",
    "ScoreRecorded",
    "ScoreCorrected",
    "AppealFiled",
    "RectificationSubmitted",
];

/// One evidence file as one event cites it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The citing event's position in the log.
    pub position: u64,
    pub stream: String,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    /// The file as the event recorded it.
    pub file: EvidenceFile,
}

impl Citation {
    /// The event, in words: "第 N 号事件 TYPE (stream S, recorded T)".
    pub fn event(&self) -> String {
        format!(
            "第 {0} 号事件 event at position {0}, {1} (stream {2}, 记录于 recorded {3})",
            self.position,
            self.event_type,
            self.stream,
            self.recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// The files `envelope` cites; an event of a citing type whose payload does not decode is an
/// error naming it (the chain check has said whether its bytes are the recorded ones).
pub fn cited_by(envelope: &Envelope) -> Result<Vec<Citation>, String> {
    if !CITING_TYPES.contains(&envelope.event_type.as_str()) {
        return Ok(Vec::new());
    }
    let event = envelope.decode().map_err(|e| {
        format!(
            "第 {0} 号事件 {1} 无法解码, 无法得知其引用的佐证材料 (event at position {0}, {1}, does not decode, so the files it cites are unknown): {e}",
            envelope.position, envelope.event_type
        )
    })?;
    Ok(event
        .files()
        .iter()
        .map(|file| Citation {
            position: envelope.position,
            stream: envelope.stream.clone(),
            event_type: envelope.event_type.clone(),
            recorded_at: envelope.recorded_at,
            file: file.clone(),
        })
        .collect())
}

/// What is wrong with one cited file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// No file under the recorded digest.
    Missing,
    /// A file is there, but its bytes hash to `actual`.
    Altered { actual: Digest, size: u64 },
    /// The bytes hash to the recorded digest, but the event recorded another size.
    WrongSize { actual: u64 },
    /// The store could not be read.
    Unreadable { why: String },
}

/// A cited file that does not check out, and the event that cites it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceFault {
    #[serde(flatten)]
    pub citation: Citation,
    #[serde(flatten)]
    pub problem: Problem,
}

impl std::fmt::Display for EvidenceFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.citation;
        let file = format!("“{}” (sha256 {})", c.file.name, c.file.sha256);
        match &self.problem {
            Problem::Missing => write!(
                f,
                "{} 引用的佐证材料 {file} 缺失 (the evidence file cited by the {} is missing)",
                c.event(),
                c.event()
            ),
            Problem::Altered { actual, size } => write!(
                f,
                "{} 引用的佐证材料 {file} 已被改动: 现有 {size} 字节的 SHA-256 为 {actual} (the evidence file cited by the {} was altered: its {size} bytes now hash to {actual})",
                c.event(),
                c.event()
            ),
            Problem::WrongSize { actual } => write!(
                f,
                "{} 记录的佐证材料 {file} 大小为 {} 字节, 文件有 {actual} 字节 (the {} recorded {} bytes for it; the file holds {actual})",
                c.event(),
                c.file.size,
                c.event(),
                c.file.size
            ),
            Problem::Unreadable { why } => write!(
                f,
                "{} 引用的佐证材料 {file} 无法读取 (the evidence file cited by the {} cannot be read): {why}",
                c.event(),
                c.event()
            ),
        }
    }
}

/// What checking the cited files found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvidenceReport {
    /// Where the files were read from (a folder, an S3 bucket, a bundle's `evidence/`).
    pub source: String,
    /// Citations: one per (event, file).
    pub citations: u64,
    /// Distinct files cited (by digest), each read once.
    pub files: u64,
    /// Bytes read and hashed.
    pub bytes: u64,
    pub seconds: f64,
    /// Every bad citation, in log order; empty when every cited file is intact.
    pub faults: Vec<EvidenceFault>,
    /// Events of a citing type that did not decode, in words.
    pub undecodable: Vec<String>,
}

impl EvidenceReport {
    /// Every fault in words, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self.undecodable.clone();
        out.extend(self.faults.iter().map(ToString::to_string));
        out
    }

    /// MiB hashed per second.
    pub fn mib_per_second(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0) / self.seconds.max(1e-9)
    }

    /// Distinct files checked per second.
    pub fn files_per_second(&self) -> f64 {
        self.files as f64 / self.seconds.max(1e-9)
    }
}

/// Collects citations from events as they stream by, keeping the decode failures apart.
#[derive(Debug, Default)]
pub struct Citations {
    pub list: Vec<Citation>,
    pub undecodable: Vec<String>,
}

impl Citations {
    pub fn add(&mut self, envelope: &Envelope) {
        match cited_by(envelope) {
            Ok(found) => self.list.extend(found),
            Err(why) => self.undecodable.push(why),
        }
    }

    /// The distinct digests cited, each with the size of its first citation.
    pub fn distinct(&self) -> BTreeMap<Digest, u64> {
        let mut out = BTreeMap::new();
        for c in &self.list {
            out.entry(c.file.sha256).or_insert(c.file.size);
        }
        out
    }
}

/// How many files are read at once: a folder gains little beyond the disk's queue, an S3 server
/// hides its latency behind a few requests in flight.
const IN_FLIGHT: usize = 4;

/// Checks every cited file against `store`; `progress` is advanced by the bytes read.
pub async fn check_store(
    citations: Citations,
    store: &EvidenceStore,
    progress: &indicatif::ProgressBar,
) -> EvidenceReport {
    let started = std::time::Instant::now();
    let states: BTreeMap<Digest, Result<FileState, String>> =
        futures_util::stream::iter(citations.distinct().into_keys())
            .map(|digest| async move {
                let state = store.check(&digest).await.map_err(|e| e.to_string());
                if let Ok(FileState::Intact { size } | FileState::Altered { size, .. }) = &state {
                    progress.inc(*size);
                }
                (digest, state)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
    report(store.describe(), citations, states, started)
}

/// Checks every cited file against `read`, which returns a file's bytes by digest (`None`: absent).
pub fn check_bytes(
    source: String,
    citations: Citations,
    mut read: impl FnMut(&Digest) -> Result<Option<Vec<u8>>, String>,
) -> EvidenceReport {
    let started = std::time::Instant::now();
    let states = citations
        .distinct()
        .into_keys()
        .map(|digest| {
            let state = read(&digest).map(|bytes| match bytes {
                None => FileState::Missing,
                Some(bytes) => {
                    let actual = crate::evidence::digest(&bytes);
                    let size = bytes.len() as u64;
                    if actual == digest {
                        FileState::Intact { size }
                    } else {
                        FileState::Altered { actual, size }
                    }
                }
            });
            (digest, state)
        })
        .collect();
    report(source, citations, states, started)
}

fn report(
    source: String,
    citations: Citations,
    states: BTreeMap<Digest, Result<FileState, String>>,
    started: std::time::Instant,
) -> EvidenceReport {
    let bytes = states
        .values()
        .map(|state| match state {
            Ok(FileState::Intact { size } | FileState::Altered { size, .. }) => *size,
            _ => 0,
        })
        .sum();
    let faults = citations
        .list
        .iter()
        .filter_map(|citation| {
            let problem = match states.get(&citation.file.sha256)? {
                Ok(FileState::Intact { size }) if *size == citation.file.size => return None,
                Ok(FileState::Intact { size }) => Problem::WrongSize { actual: *size },
                Ok(FileState::Altered { actual, size }) => Problem::Altered {
                    actual: *actual,
                    size: *size,
                },
                Ok(FileState::Missing) => Problem::Missing,
                Err(why) => Problem::Unreadable { why: why.clone() },
            };
            Some(EvidenceFault {
                citation: citation.clone(),
                problem,
            })
        })
        .collect();
    EvidenceReport {
        source,
        citations: citations.list.len() as u64,
        files: states.len() as u64,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        faults,
        undecodable: citations.undecodable,
    }
}
