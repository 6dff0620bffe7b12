//! The envelope: what every stored event carries besides its payload.
//!
//! A writer proposes a [`ProposedEvent`]; the store stamps the position, the revision, the time and the
//! hash chain and returns an [`Envelope`]. The acting person comes from authentication and the time
//! from the ledger's clock: neither is ever taken from a request body.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::PersonId;
use crate::integrity::Digest;

/// A role a person acts in. One person may hold several; each event records the one they acted in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Units, people, rubrics and access (管理员).
    Admin,
    /// Scores for the units assigned to them (考评员).
    Assessor,
    /// Reviews, appeals, verification of rectification (审核人).
    Reviewer,
    /// Reads everything, writes nothing (纪检审计).
    Auditor,
    /// A unit's own secretary: self-assessment, appeals, rectification (被考核单位).
    Unit,
    /// A responsible person (责任人) signing in as such: reads what they answer for and acts on the
    /// rectifications raised to them. The rights follow from being named responsible (on an item
    /// of the rubric, on a rectification), which the domain checks; the role only lets them in.
    Responsible,
    /// The ledger itself, acting from its own command line on the machine that holds it.
    System,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Auditor,
        Role::Unit,
        Role::Responsible,
        Role::System,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assessor => "assessor",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
            Role::Unit => "unit",
            Role::Responsible => "responsible",
            Role::System => "system",
        }
    }

    /// The role's name for people, zh-CN first.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员 admin",
            Role::Assessor => "考评员 assessor",
            Role::Reviewer => "审核人 reviewer",
            Role::Auditor => "纪检审计 auditor",
            Role::Unit => "被考核单位 unit",
            Role::Responsible => "责任人 responsible person",
            Role::System => "系统 system",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "未知角色“{s}”(unknown role {s:?}); 可选 (one of): admin, assessor, reviewer, auditor, unit, responsible, system"
                )
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it: the authenticated person and the role they acted in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub person: PersonId,
    pub role: Role,
}

impl Actor {
    pub fn new(person: PersonId, role: Role) -> Self {
        Self { person, role }
    }

    /// The ledger acting on its own behalf (its command line on the machine that holds it).
    pub fn system() -> Self {
        Self {
            person: PersonId::new("system").expect("valid id"),
            role: Role::System,
        }
    }
}

/// An event as a writer proposes it, before the store has placed it in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedEvent {
    /// UUID v7, chosen by the writer; appending the same ids again is an idempotent retry.
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// The payload; the store keeps it in canonical form (see [`crate::integrity::canonical_json`]).
    pub payload: serde_json::Value,
    pub actor: Actor,
    pub reason: Option<String>,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
}

impl ProposedEvent {
    /// Proposes a typed event at its current schema version.
    pub fn new(event: &crate::Event, actor: Actor, event_id: Uuid, correlation_id: Uuid) -> Self {
        Self {
            event_id,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            payload: event.payload(),
            actor,
            reason: None,
            correlation_id,
            causation_id: None,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn caused_by(mut self, causation_id: Uuid) -> Self {
        self.causation_id = Some(causation_id);
        self
    }
}

/// A stored event: the envelope and its payload, exactly as the log holds it.
///
/// `payload` is the canonical JSON text that the hash covers; decode it with [`Envelope::decode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// UUID v7.
    pub event_id: Uuid,
    /// The aggregate's stream, `{category}-{id}`.
    pub stream: String,
    /// Revision within the stream, from 0.
    pub revision: u64,
    /// Position in the global log, from 1, without gaps.
    pub position: u64,
    pub event_type: String,
    pub schema_version: u32,
    /// When the ledger recorded it (UTC, microseconds; never later than the next event's).
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    /// Why (see [`crate::text::Note`]; events recorded before the text rules may hold any text).
    #[schemars(with = "Option<crate::text::Note>")]
    pub reason: Option<String>,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// Canonical JSON text of the payload.
    pub payload: String,
    /// SHA-256 of the previous event in the global log (64 zeros before the first).
    pub prev_hash: Digest,
    /// SHA-256 of this event's canonical encoding, see [`crate::integrity`].
    pub hash: Digest,
}

impl Envelope {
    /// Decodes the payload into the current version of its event type, upcasting older versions.
    pub fn decode(&self) -> Result<crate::Event, crate::ContractError> {
        crate::events::decode(&self.event_type, self.schema_version, &self.payload)
    }
}
