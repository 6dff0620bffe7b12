//! The ledger's event contract: what can be recorded, and nothing else.
//!
//! This crate is pure: no IO, no async, no clock. It holds
//!
//! - [`envelope`]: the envelope every stored event wears ([`Envelope`]) and what a writer proposes
//!   before the store stamps it ([`ProposedEvent`]);
//! - [`ids`]: the validated identifiers (units, people, items, ...) and stream names;
//! - [`values`]: points (fixed-point decimals), ladder levels, grades and the other small values;
//! - [`text`]: free text (names, notes, reasons, evidence) and the rules new text obeys: lengths,
//!   no control or bidirectional formatting characters;
//! - [`rubric`]: the rubric definition carried by rubric events;
//! - [`events`]: every event type as a Rust type, its name and schema version, and
//!   [`events::decode`], which refuses unknown types and versions and upcasts old versions;
//! - [`integrity`]: the canonical byte encoding that the hash chain covers, and the chain itself;
//! - [`merkle`]: the RFC 6962/9162 Merkle tree over the global log, inclusion and consistency proofs;
//! - [`checkpoint`]: Ed25519-signed checkpoints of the tree (C2SP signed notes), keys, rollback checks;
//! - [`cosignature`]: witnesses' cosignatures on checkpoints (C2SP tlog-cosignature), signed notes;
//! - [`seal`]: the same key's seal on read-model snapshots kept beside the log;
//! - [`zone`]: the business clock's time zones, which a ledger records by name.
//!
//! The JSON Schema files beside this crate (`schemas/events/*.schema.json`) are generated from these
//! types by `cargo run -p ledger-schemas --example write-schemas` and checked by tests to be current.

pub mod checkpoint;
pub mod cosignature;
pub mod envelope;
pub mod events;
pub mod ids;
pub mod integrity;
pub mod merkle;
pub mod rubric;
pub mod seal;
pub mod text;
pub mod values;
pub mod zone;

pub use envelope::{Actor, Envelope, ProposedEvent, Role};
pub use events::{ContractError, Event};
