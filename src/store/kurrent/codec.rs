//! How a ledger event is stored as a KurrentDB event, and read back (the mapping table is in the
//! module docs of [`super`]).
//!
//! Also the writer's *content digest*: the canonical hash encoding of everything the writer knows
//! before the event is stored (the chain fields, the position, the revision and the time zeroed),
//! written into the metadata at append time. The notary checks it before sealing and `verify`
//! checks it again, so that an event changed between its append and its seal is caught. It is not
//! a signature: whoever can rewrite an event can rewrite its metadata too; the seal chain is what
//! makes later changes evident.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kurrentdb::RecordedEvent;
use ledger_schemas::integrity::{Digest, HashInput, canonical_json};
use ledger_schemas::{Actor, Envelope, ProposedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::StoreError;

/// The stream the notary writes its seal records to. Not `$`-prefixed, so it needs no admin rights;
/// its category (`ledger`) is not an aggregate kind, so no read model mistakes it for one.
pub const NOTARY_STREAM: &str = "ledger-notary";

/// The event type of a seal record.
pub const SEAL_TYPE: &str = "ChainSealed";

/// The value of the `ledger` marker in the metadata of every event the ledger writes: events of the
/// same database without it are someone else's and are not part of the ledger's log.
pub const FORMAT: u32 = 1;

const MAX_STREAM_LEN: usize = 256;

/// The custom metadata (JSON) of a ledger event. `$correlationId` and `$causationId` use
/// KurrentDB's own names, so the server's `$by_correlation_id` projection works on ledger events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerMeta {
    pub ledger: u32,
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "$correlationId")]
    pub correlation_id: Uuid,
    #[serde(
        rename = "$causationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub causation_id: Option<Uuid>,
    #[serde(rename = "contentHash")]
    pub content_hash: Digest,
}

/// An append's events checked and put in stored form.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub event_id: Uuid,
    pub event_type: String,
    /// The canonical JSON text of the payload: exactly the bytes stored as the event's data.
    pub payload: String,
    pub meta: LedgerMeta,
}

/// The canonical hash input of an event's content, with the fields the store stamps given: zero
/// them all for the writer's content digest, or pass the sealed ones for the chain hash.
#[allow(clippy::too_many_arguments)]
fn hash_with(
    stamped: Stamped<'_>,
    stream: &str,
    event_id: &Uuid,
    event_type: &str,
    schema_version: u32,
    actor: &Actor,
    reason: Option<&str>,
    correlation_id: &Uuid,
    causation_id: Option<&Uuid>,
    payload: &str,
) -> Digest {
    HashInput {
        prev_hash: stamped.prev_hash,
        position: stamped.position,
        event_id,
        stream,
        revision: stamped.revision,
        event_type,
        schema_version,
        recorded_at_micros: stamped.recorded_at_micros,
        actor_person: actor.person.as_str(),
        actor_role: actor.role.as_str(),
        reason,
        correlation_id,
        causation_id,
        payload,
    }
    .hash()
}

/// What the store stamps on an event (its place in the chain and the log, and its time).
#[derive(Debug, Clone, Copy)]
pub struct Stamped<'a> {
    pub prev_hash: &'a Digest,
    pub position: u64,
    pub revision: u64,
    pub recorded_at_micros: i64,
}

impl Stamped<'_> {
    /// Everything zeroed: the writer's content digest, the canonical encoding with everything the
    /// store stamps zeroed.
    const NONE: Stamped<'static> = Stamped {
        prev_hash: &Digest::ZERO,
        position: 0,
        revision: 0,
        recorded_at_micros: 0,
    };
}

/// The content digest of a stored envelope (its chain fields, position, revision and time are
/// ignored), to compare with what the writer recorded.
pub fn envelope_content_digest(env: &Envelope) -> Digest {
    hash_with(
        Stamped::NONE,
        &env.stream,
        &env.event_id,
        &env.event_type,
        env.schema_version,
        &env.actor,
        env.reason.as_deref(),
        &env.correlation_id,
        env.causation_id.as_ref(),
        &env.payload,
    )
}

/// Checks an append the way the embedded store does (same rules, same messages) and prepares the
/// stored form.
pub fn prepare(stream: &str, events: Vec<ProposedEvent>) -> Result<Vec<Prepared>, StoreError> {
    let invalid = |why: String| Err(StoreError::InvalidAppend(why));
    if events.is_empty() {
        return invalid("没有要追加的事件 (no events to append)".into());
    }
    if stream.is_empty() || stream.len() > MAX_STREAM_LEN {
        return invalid(format!(
            "流名称须为 1 到 {MAX_STREAM_LEN} 字节 (a stream name must be 1 to {MAX_STREAM_LEN} bytes): {stream:?}"
        ));
    }
    if stream.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return invalid(format!(
            "流名称不能包含空白或控制字符 (a stream name cannot contain whitespace or control characters): {stream:?}"
        ));
    }
    // `$` streams belong to the server, and the notary's stream to the notary.
    if stream.starts_with('$') || stream == NOTARY_STREAM {
        return invalid(format!(
            "流名称 {stream:?} 为系统保留 (stream name {stream:?} is reserved: `$` streams belong to KurrentDB, {NOTARY_STREAM:?} to the notary)"
        ));
    }
    let mut seen = HashSet::with_capacity(events.len());
    let mut prepared = Vec::with_capacity(events.len());
    for event in events {
        if event.event_id.is_nil() {
            return invalid("事件 ID 不能为空 UUID (an event id cannot be the nil UUID)".into());
        }
        if !seen.insert(event.event_id) {
            return invalid(format!(
                "同一追加中事件 ID {} 重复 (event id {} appears twice in one append)",
                event.event_id, event.event_id
            ));
        }
        if event.event_type.is_empty()
            || event.event_type.starts_with('$')
            || event.event_type.chars().any(char::is_whitespace)
        {
            return invalid(format!(
                "事件 {} 的类型无效 (event {} has an invalid event type {:?})",
                event.event_id, event.event_id, event.event_type
            ));
        }
        if !event.payload.is_object() {
            return invalid(format!(
                "事件 {} 的内容须为 JSON 对象 (the payload of event {} must be a JSON object)",
                event.event_id, event.event_id
            ));
        }
        let payload = canonical_json(&event.payload);
        let content_hash = hash_with(
            Stamped::NONE,
            stream,
            &event.event_id,
            &event.event_type,
            event.schema_version,
            &event.actor,
            event.reason.as_deref(),
            &event.correlation_id,
            event.causation_id.as_ref(),
            &payload,
        );
        prepared.push(Prepared {
            event_id: event.event_id,
            event_type: event.event_type,
            payload,
            meta: LedgerMeta {
                ledger: FORMAT,
                schema_version: event.schema_version,
                actor: event.actor,
                reason: event.reason,
                correlation_id: event.correlation_id,
                causation_id: event.causation_id,
                content_hash,
            },
        });
    }
    Ok(prepared)
}

impl Prepared {
    /// The client's event: JSON data (the canonical payload bytes), JSON custom metadata, our id.
    pub fn to_event_data(&self) -> kurrentdb::EventData {
        // The client serialises the data itself; a value parsed back from the canonical text
        // serialises to exactly that text again (its keys arrive in sorted order, whether or not
        // serde_json preserves insertion order), so the stored bytes are the canonical payload.
        let value: serde_json::Value =
            serde_json::from_str(&self.payload).expect("canonical JSON parses");
        kurrentdb::EventData::json(&self.event_type, &value)
            .expect("a JSON value serialises")
            .id(self.event_id)
            .metadata_as_json(&self.meta)
            .expect("ledger metadata serialises")
    }

    /// The chain hash this event has when stored in `stream` with these stamps: what the notary's
    /// seal entry holds if the stored event is exactly this one.
    pub fn chain_hash(&self, stream: &str, stamped: Stamped<'_>) -> Digest {
        hash_with(
            stamped,
            stream,
            &self.event_id,
            &self.event_type,
            self.meta.schema_version,
            &self.meta.actor,
            self.meta.reason.as_deref(),
            &self.meta.correlation_id,
            self.meta.causation_id.as_ref(),
            &self.payload,
        )
    }

    /// Whether a stored envelope holds exactly this event in `stream`.
    pub fn matches(&self, stream: &str, env: &Envelope) -> bool {
        env.event_id == self.event_id
            && env.stream == stream
            && envelope_content_digest(env) == self.meta.content_hash
    }
}

/// What a record of `$all` is, to the ledger.
#[derive(Debug)]
pub enum Kind {
    /// An event the ledger wrote (its metadata parsed).
    Ledger(Box<LedgerMeta>),
    /// One of the notary's seal records.
    Seal,
    /// Anything else: server housekeeping (`$`-streams and `$`-types), other applications' events.
    Other,
}

/// Sorts a record of `$all`.
pub fn classify(event: &RecordedEvent) -> Kind {
    let stream = event.stream_id();
    if stream == NOTARY_STREAM {
        return if event.event_type == SEAL_TYPE {
            Kind::Seal
        } else {
            Kind::Other
        };
    }
    if stream.starts_with('$') || event.event_type.starts_with('$') {
        return Kind::Other;
    }
    match serde_json::from_slice::<LedgerMeta>(&event.custom_metadata) {
        Ok(meta) if meta.ledger == FORMAT => Kind::Ledger(Box::new(meta)),
        _ => Kind::Other,
    }
}

/// The server's `created` stamp at microsecond precision. The client's own `created` field keeps
/// whole seconds only, so this reads the raw 100 ns ticks since the Unix epoch from the system
/// metadata. The leader's wall clock: on a cluster it can go back (a clock step, a failover to a
/// node whose clock is behind), which is why the ledger's recorded time is the sealed one.
pub fn recorded_at(event: &RecordedEvent) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(created_micros(event)?)
}

/// [`recorded_at`] in microseconds since the Unix epoch.
pub fn created_micros(event: &RecordedEvent) -> Option<i64> {
    let ticks: i64 = event.metadata.get("created")?.parse().ok()?;
    Some(ticks.div_euclid(10))
}

/// The error for a stored event without a `created` stamp.
pub fn no_stamp(event: &RecordedEvent) -> String {
    format!(
        "事件 {} 缺少服务器时间戳 (event {} has no server `created` stamp)",
        event.id, event.id
    )
}

/// Builds the envelope of a ledger event, given its place in the chain and its recorded time (the
/// sealed time, see [`super::seal`]; never the client's clock).
pub fn envelope(
    event: &RecordedEvent,
    meta: LedgerMeta,
    position: u64,
    prev_hash: Digest,
    hash: Digest,
    recorded_at: DateTime<Utc>,
) -> Result<Envelope, String> {
    let payload = String::from_utf8(event.data.to_vec()).map_err(|_| {
        format!(
            "事件 {} 的内容不是 UTF-8 (the data of event {} is not UTF-8)",
            event.id, event.id
        )
    })?;
    Ok(Envelope {
        event_id: event.id,
        stream: event.stream_id().to_owned(),
        revision: event.revision,
        position,
        event_type: event.event_type.clone(),
        schema_version: meta.schema_version,
        recorded_at,
        actor: meta.actor,
        reason: meta.reason,
        correlation_id: meta.correlation_id,
        causation_id: meta.causation_id,
        payload,
        prev_hash,
        hash,
    })
}
