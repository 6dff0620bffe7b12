//! `verify` for the KurrentDB backend: walks `$all` from its start in lockstep with the seal
//! entries and judges each sealed event with the same [`ChainVerifier`] as the embedded store.
//!
//! For the `seq`-th seal entry, the next ledger event in `$all` must be the event sealed there: its
//! envelope is rebuilt from what is stored now (content, stream, revision, server time) with
//! `position = seq` and `prev_hash` = the previous entry's hash, and must hash to the entry's hash.
//! So an event altered after sealing, a sealed event removed from `$all` (the next one takes its
//! place and does not fit), an event inserted between sealed ones, or two events swapped, all show
//! as a break at the first `seq` affected. The writer's content digest in the metadata is checked
//! too, which catches a change made between the append and the seal. The recorded time is
//! recomputed by the notary's rule (the stored stamp, never earlier than the previous sealed
//! event's), so a seal entry that claims another time breaks the hash too. Ledger events after the last
//! seal are not yet part of the chain and are not judged.

use kurrentdb::StreamPosition;
use ledger_schemas::integrity::{ChainBreak, ChainVerifier, Digest};

use super::codec::{self, Kind};
use super::seal::{self, Shared};
use crate::store::{ChainReport, Progress, StoreError};

const PAGE: usize = 1024;

pub async fn verify(shared: &Shared, progress: Progress) -> Result<ChainReport, StoreError> {
    shared.sync().await?;
    let (entries, broken_record) = {
        let index = shared.index();
        let entries: Vec<seal::SealEntry> = (1..=index.len())
            .map(|seq| *index.entry(seq).expect("in range"))
            .collect();
        (entries, index.broken)
    };
    progress.set(0);
    let mut verifier = ChainVerifier::new();
    let mut broken: Option<ChainBreak> = None;
    let mut k = 0usize;
    let mut unsealed = 0u64;
    let mut from = StreamPosition::Start;
    // The recorded time of the last sealed event, recomputed from the stored stamps by the
    // notary's rule, so that a seal entry cannot claim another time than the rule gives.
    let mut last_time: Option<i64> = None;
    'walk: loop {
        let page = seal::read_all_raw(&shared.conn, from, PAGE).await?;
        let mut fresh = 0;
        for event in &page {
            if let StreamPosition::Position(p) = from
                && event.position == p
            {
                // The page starts with the last record of the previous one.
                continue;
            }
            fresh += 1;
            let Kind::Ledger(meta) = codec::classify(event) else {
                continue;
            };
            let Some(entry) = entries.get(k) else {
                unsealed += 1;
                continue;
            };
            let seq = k as u64 + 1;
            let prev = if k == 0 {
                Digest::ZERO
            } else {
                entries[k - 1].h
            };
            let writer_digest = meta.content_hash;
            let time = match (entry.t, codec::created_micros(event)) {
                // Format 1 entries: the stamp as it was.
                (None, Some(created)) => Some(created),
                (Some(_), Some(created)) => Some(seal::sealed_time(created, last_time)),
                (_, None) => None,
            };
            last_time = time;
            let Some(recorded_at) = time.and_then(chrono::DateTime::from_timestamp_micros) else {
                return Err(StoreError::Corrupt {
                    path: shared.conn.url().into(),
                    detail: codec::no_stamp(event),
                });
            };
            let env = match codec::envelope(event, *meta, seq, prev, entry.h, recorded_at) {
                Ok(env) => env,
                Err(why) => {
                    return Err(StoreError::Corrupt {
                        path: shared.conn.url().into(),
                        detail: why,
                    });
                }
            };
            if let Err(found) = verifier.check(&env) {
                broken = Some(found);
                break 'walk;
            }
            let content = codec::envelope_content_digest(&env);
            if content != writer_digest {
                broken = Some(ChainBreak::HashMismatch {
                    position: seq,
                    event_id: env.event_id,
                    stored: writer_digest,
                    computed: content,
                });
                break 'walk;
            }
            k += 1;
        }
        progress.set(verifier.verified_through());
        match page.last() {
            Some(last) if fresh > 0 => from = StreamPosition::Position(last.position),
            _ => break,
        }
    }
    if broken.is_none() && k < entries.len() {
        // Sealed events are missing from the end of `$all`.
        let seq = k as u64 + 1;
        broken = Some(ChainBreak::Unlinked {
            position: seq,
            event_id: entries[k].id,
            stored: Digest::ZERO,
            expected: verifier.head(),
        });
    }
    let mut verified = verifier.verified_through();
    let mut head = verifier.head();
    if let Some((found, expected, event_id)) = broken_record {
        // The seal stream itself skips or repeats sequence numbers from `expected` on: nothing
        // from there is trusted, whatever the walk found later.
        let walk_broke_earlier = broken
            .as_ref()
            .is_some_and(|b| break_position(b) < expected);
        if !walk_broke_earlier {
            verified = verified.min(expected - 1);
            head = match expected {
                1 => Digest::ZERO,
                _ => entries[(expected - 2) as usize].h,
            };
            broken = Some(ChainBreak::PositionGap {
                position: found,
                event_id,
                expected,
            });
        }
    }
    if unsealed > 0 {
        tracing::info!(
            unsealed,
            "ledger events after the last seal are not yet in the chain"
        );
    }
    progress.set(verified);
    Ok(ChainReport {
        verified,
        head,
        broken,
    })
}

fn break_position(b: &ChainBreak) -> u64 {
    match b {
        ChainBreak::HashMismatch { position, .. }
        | ChainBreak::Unlinked { position, .. }
        | ChainBreak::PositionGap { position, .. }
        | ChainBreak::BackDated { position, .. } => *position,
    }
}
