//! The canonical encoding that the hash chain covers, and the chain itself.
//!
//! Every stored event carries `prev_hash` (the hash of the event before it in the global log, 32 zero
//! bytes before the first) and `hash`, the SHA-256 of the following bytes, in this order:
//!
//! | field            | encoding                                                        |
//! |------------------|-----------------------------------------------------------------|
//! | magic            | the 16 ASCII bytes `ledger-event-v1\n`                          |
//! | `prev_hash`      | 32 bytes                                                        |
//! | `position`       | u64, big-endian                                                 |
//! | `event_id`       | 16 bytes (the UUID's bytes in RFC 9562 order)                   |
//! | `stream`         | str                                                             |
//! | `revision`       | u64, big-endian                                                 |
//! | `event_type`     | str                                                             |
//! | `schema_version` | u32, big-endian                                                 |
//! | `recorded_at`    | i64, big-endian: microseconds since 1970-01-01T00:00:00Z        |
//! | `actor.person`   | str                                                             |
//! | `actor.role`     | str (`admin`, `assessor`, ...)                                  |
//! | `reason`         | `0x00` when absent, else `0x01` then str                        |
//! | `correlation_id` | 16 bytes                                                        |
//! | `causation_id`   | `0x00` when absent, else `0x01` then 16 bytes                   |
//! | `payload`        | str: the canonical JSON text (see [`canonical_json`])           |
//!
//! where *str* is a u32 big-endian byte length followed by that many bytes of UTF-8.
//!
//! Because `prev_hash` is inside the hashed bytes, changing, removing, inserting or reordering any
//! event changes every hash after it; [`verify_chain`] finds the first event that does not match.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::envelope::Envelope;

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The `prev_hash` of the first event.
    pub const ZERO: Digest = Digest([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Result<Self, String> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out)
            .map_err(|e| format!("not a SHA-256 digest in hex ({e}): {text:?}"))?;
        Ok(Digest(out))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Digest(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Hex".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "SHA-256 digest, 64 lowercase hex digits"
        })
    }
}

const MAGIC: &[u8; 16] = b"ledger-event-v1\n";

/// The fields of an event that the hash covers, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    pub prev_hash: &'a Digest,
    pub position: u64,
    pub event_id: &'a uuid::Uuid,
    pub stream: &'a str,
    pub revision: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub recorded_at_micros: i64,
    pub actor_person: &'a str,
    pub actor_role: &'a str,
    pub reason: Option<&'a str>,
    pub correlation_id: &'a uuid::Uuid,
    pub causation_id: Option<&'a uuid::Uuid>,
    pub payload: &'a str,
}

impl<'a> HashInput<'a> {
    pub fn of(envelope: &'a Envelope) -> Self {
        Self {
            prev_hash: &envelope.prev_hash,
            position: envelope.position,
            event_id: &envelope.event_id,
            stream: &envelope.stream,
            revision: envelope.revision,
            event_type: &envelope.event_type,
            schema_version: envelope.schema_version,
            recorded_at_micros: envelope.recorded_at.timestamp_micros(),
            actor_person: envelope.actor.person.as_str(),
            actor_role: envelope.actor.role.as_str(),
            reason: envelope.reason.as_deref(),
            correlation_id: &envelope.correlation_id,
            causation_id: envelope.causation_id.as_ref(),
            payload: &envelope.payload,
        }
    }

    /// Writes the canonical encoding (the table in the module docs) to `out`.
    pub fn encode_into(&self, out: &mut impl Sink) {
        fn str_(out: &mut impl Sink, s: &str) {
            out.put(&(s.len() as u32).to_be_bytes());
            out.put(s.as_bytes());
        }
        out.put(MAGIC);
        out.put(&self.prev_hash.0);
        out.put(&self.position.to_be_bytes());
        out.put(self.event_id.as_bytes());
        str_(out, self.stream);
        out.put(&self.revision.to_be_bytes());
        str_(out, self.event_type);
        out.put(&self.schema_version.to_be_bytes());
        out.put(&self.recorded_at_micros.to_be_bytes());
        str_(out, self.actor_person);
        str_(out, self.actor_role);
        match self.reason {
            None => out.put(&[0]),
            Some(r) => {
                out.put(&[1]);
                str_(out, r);
            }
        }
        out.put(self.correlation_id.as_bytes());
        match self.causation_id {
            None => out.put(&[0]),
            Some(c) => {
                out.put(&[1]);
                out.put(c.as_bytes());
            }
        }
        str_(out, self.payload);
    }

    /// The canonical encoding as bytes (for documentation, tests and independent verifiers).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.payload.len());
        self.encode_into(&mut out);
        out
    }

    /// SHA-256 of the canonical encoding, computed without building it in memory.
    pub fn hash(&self) -> Digest {
        let mut hasher = Sha256::new();
        self.encode_into(&mut hasher);
        Digest(hasher.finalize().into())
    }
}

/// Where the canonical encoding goes: a byte vector or a running hash.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// The first place where a sequence of events stops being an unbroken chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "第 {position} 号事件 {event_id} 的哈希不符 (event at position {position}, id {event_id}: stored hash {stored} but its content hashes to {computed}); 该事件在记录后被改动 (the event was altered after it was recorded)"
    )]
    HashMismatch {
        position: u64,
        event_id: uuid::Uuid,
        stored: Digest,
        computed: Digest,
    },
    #[error(
        "第 {position} 号事件 {event_id} 与前一事件不相连 (event at position {position}, id {event_id}: prev_hash {stored} but the event before it hashes to {expected}); 有事件被删除、插入或调换 (an event was removed, inserted or reordered)"
    )]
    Unlinked {
        position: u64,
        event_id: uuid::Uuid,
        stored: Digest,
        expected: Digest,
    },
    #[error(
        "第 {position} 号事件 {event_id} 的位置不连续 (event id {event_id} is at position {position} but position {expected} was expected); 有事件被删除或插入 (an event was removed or inserted)"
    )]
    PositionGap {
        position: u64,
        event_id: uuid::Uuid,
        expected: u64,
    },
    #[error(
        "第 {position} 号事件 {event_id} 的记录时间早于前一事件 (event at position {position}, id {event_id}, recorded at {recorded_at}, before the previous event's {previous}); 时间被回拨 (back-dated)"
    )]
    BackDated {
        position: u64,
        event_id: uuid::Uuid,
        recorded_at: chrono::DateTime<chrono::Utc>,
        previous: chrono::DateTime<chrono::Utc>,
    },
}

impl ChainBreak {
    /// The position of the event at fault.
    pub fn position(&self) -> u64 {
        match self {
            ChainBreak::HashMismatch { position, .. }
            | ChainBreak::Unlinked { position, .. }
            | ChainBreak::PositionGap { position, .. }
            | ChainBreak::BackDated { position, .. } => *position,
        }
    }
}

/// A running check of the chain: feed it events in log order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: Digest,
    next_position: u64,
    last_time: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// Starts at the beginning of the log.
    pub fn new() -> Self {
        Self {
            prev_hash: Digest::ZERO,
            next_position: 1,
            last_time: None,
        }
    }

    /// Continues after an event already trusted (e.g. one covered by a verified checkpoint).
    pub fn resume(after: &Envelope) -> Self {
        Self {
            prev_hash: after.hash,
            next_position: after.position + 1,
            last_time: Some(after.recorded_at),
        }
    }

    /// Checks the next event; on success it becomes the link for the one after.
    pub fn check(&mut self, event: &Envelope) -> Result<(), ChainBreak> {
        if event.position != self.next_position {
            return Err(ChainBreak::PositionGap {
                position: event.position,
                event_id: event.event_id,
                expected: self.next_position,
            });
        }
        if event.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked {
                position: event.position,
                event_id: event.event_id,
                stored: event.prev_hash,
                expected: self.prev_hash,
            });
        }
        let computed = HashInput::of(event).hash();
        if computed != event.hash {
            return Err(ChainBreak::HashMismatch {
                position: event.position,
                event_id: event.event_id,
                stored: event.hash,
                computed,
            });
        }
        if let Some(previous) = self.last_time
            && event.recorded_at < previous
        {
            return Err(ChainBreak::BackDated {
                position: event.position,
                event_id: event.event_id,
                recorded_at: event.recorded_at,
                previous,
            });
        }
        self.prev_hash = event.hash;
        self.next_position += 1;
        self.last_time = Some(event.recorded_at);
        Ok(())
    }

    /// How many events have been checked so far, counting any trusted prefix.
    pub fn verified_through(&self) -> u64 {
        self.next_position - 1
    }

    /// The hash of the last event checked.
    pub fn head(&self) -> Digest {
        self.prev_hash
    }
}

/// Verifies a whole sequence of events from the start of the log.
pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for event in events {
        verifier.check(event)?;
    }
    Ok(verifier.verified_through())
}

/// The canonical JSON text of a payload: compact, object keys sorted by their UTF-8 bytes, numbers as
/// serde_json writes them. Independent of whether serde_json preserves insertion order, so that the
/// same value always yields the same bytes, and re-encoding a stored payload reproduces it exactly.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::with_capacity(256);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("string serialises"));
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).expect("scalar serialises")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_is_compact() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{ "b": 1, "a": {"z": [1, 2, {"y": null, "x": "é"}], "c": true} }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":true,"z":[1,2,{"x":"é","y":null}]},"b":1}"#
        );
        let reparsed: serde_json::Value = serde_json::from_str(&canonical_json(&v)).unwrap();
        assert_eq!(canonical_json(&reparsed), canonical_json(&v));
    }

    #[test]
    fn digest_hex_round_trips_and_refuses_junk() {
        let d = Digest([0xab; 32]);
        assert_eq!(Digest::from_hex(&d.to_hex()).unwrap(), d);
        assert!(Digest::from_hex("abc").is_err());
        assert!(Digest::from_hex(&"zz".repeat(32)).is_err());
    }
}
