//! Seals on read-model snapshots: the ledger's Ed25519 key (the one that signs its checkpoints,
//! [`crate::checkpoint`]) signs what a snapshot kept beside the log is and the SHA-256 of its bytes,
//! so that whoever can edit the file but does not hold the key cannot change a snapshot, or move one
//! to another position, code version or log, without its seal failing.
//!
//! Why a signature rather than a MAC: the seal is checked with the public key alone, so an auditor
//! checks it with the key they were given (`ledger verify --public-key`), not with a secret that
//! lives beside the file; and it needs no key of its own, nor a second crate.
//!
//! # The signed message, byte for byte
//!
//! Six lines of UTF-8, each ending in one `\n`:
//!
//! ```text
//! ledger read-model snapshot\n
//! <origin>\n
//! <code version>\n
//! <position>\n
//! <hash of the event at position: 64 lowercase hex digits>\n
//! <SHA-256 of the stored bytes: 64 lowercase hex digits>\n
//! ```
//!
//! The first line holds spaces, which no origin does, so a seal's message can never be the body
//! of a checkpoint note (whose first line is the origin) nor the other way round: a seal cannot be
//! passed off as a checkpoint's signature. Stored form: 68 bytes, the 4-byte key id and the 64-byte
//! signature, as in a signed note's signature line.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::checkpoint::{KeyId, LogSigningKey, LogVerifyingKey, Origin};
use crate::integrity::Digest;

/// The first line of every seal's message.
const DOMAIN: &str = "ledger read-model snapshot";

/// The SHA-256 of a snapshot's stored bytes (what the seal covers of its content).
pub fn content_digest(bytes: &[u8]) -> Digest {
    Digest(Sha256::digest(bytes).into())
}

/// What a seal vouches for: a snapshot's identity and the digest of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotSubject {
    /// The projection code version that folded it.
    pub code_version: u32,
    /// The position of the last event folded into it.
    pub position: u64,
    /// The hash of the event at `position`: ties it to one log (the hash chains the prefix).
    pub event_hash: Digest,
    /// [`content_digest`] of the stored bytes.
    pub content: Digest,
}

impl SnapshotSubject {
    /// The exact bytes a seal signs (see the module docs).
    pub fn message(&self, origin: &Origin) -> String {
        format!(
            "{DOMAIN}\n{origin}\n{}\n{}\n{}\n{}\n",
            self.code_version,
            self.position,
            self.event_hash.to_hex(),
            self.content.to_hex()
        )
    }
}

/// A seal: which key made it, and its signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SnapshotSeal {
    key_id: KeyId,
    signature: [u8; 64],
}

impl fmt::Debug for SnapshotSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotSeal")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Why a seal does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "没有封印 (it has no seal): 不是本程序用密钥保存的 (not kept by this program with a key)"
    )]
    Missing,
    #[error("封印有 {len} 字节而非 68 (the seal is {len} bytes, not 68)")]
    Malformed { len: usize },
    #[error(
        "封印由另一把密钥 {found} 所做, 而不是 {expected} (sealed by another key {found}, not by {expected})"
    )]
    OtherKey { found: KeyId, expected: KeyId },
    #[error(
        "封印不成立: 内容、位置或所记事件哈希在封印后被改动 (the seal does not verify: its content, position or recorded event hash was changed after it was sealed)"
    )]
    BadSignature,
}

impl SnapshotSeal {
    /// Seals `subject` with the ledger's key.
    pub fn sign(key: &LogSigningKey, subject: &SnapshotSubject) -> Self {
        let signature = key.sign_note_text(&subject.message(key.origin()));
        Self {
            key_id: key.key_id(),
            signature: signature.to_bytes(),
        }
    }

    /// Checks that `key` sealed exactly `subject`: the key id first (so that a seal by another key
    /// is named as such), then the signature over the rebuilt message.
    pub fn verify(
        &self,
        key: &LogVerifyingKey,
        subject: &SnapshotSubject,
    ) -> Result<(), SealError> {
        if self.key_id != key.key_id() {
            return Err(SealError::OtherKey {
                found: self.key_id,
                expected: key.key_id(),
            });
        }
        if key.verifies(subject.message(key.origin()).as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(SealError::BadSignature)
        }
    }

    /// The key id of the key that made it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The stored form: key id, then signature.
    pub fn to_bytes(&self) -> [u8; 68] {
        let mut out = [0u8; 68];
        out[..4].copy_from_slice(&self.key_id.0);
        out[4..].copy_from_slice(&self.signature);
        out
    }

    /// Reads the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != 68 {
            return Err(SealError::Malformed { len: bytes.len() });
        }
        Ok(Self {
            key_id: KeyId(bytes[..4].try_into().expect("4 bytes")),
            signature: bytes[4..].try_into().expect("64 bytes"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;

    fn key(seed: u8) -> LogSigningKey {
        LogSigningKey::from_seed(Origin::new("ledger/test").unwrap(), &[seed; 32])
    }

    fn subject() -> SnapshotSubject {
        SnapshotSubject {
            code_version: 2,
            position: 4096,
            event_hash: Digest([7; 32]),
            content: content_digest(b"{\"code_version\":2}"),
        }
    }

    /// A seal verifies under its key and round-trips through its stored form; changing any field
    /// of what it vouches for, or checking it with another key, fails, naming the other key.
    #[test]
    fn a_seal_holds_for_exactly_what_it_sealed() {
        let seal = SnapshotSeal::sign(&key(1), &subject());
        let public = key(1).verifying_key();
        assert_eq!(seal.verify(&public, &subject()), Ok(()));
        let back = SnapshotSeal::from_bytes(&seal.to_bytes()).unwrap();
        assert_eq!(back, seal);
        let changed = [
            SnapshotSubject {
                code_version: 3,
                ..subject()
            },
            SnapshotSubject {
                position: 4095,
                ..subject()
            },
            SnapshotSubject {
                event_hash: Digest([8; 32]),
                ..subject()
            },
            SnapshotSubject {
                content: content_digest(b"{\"code_version\":3}"),
                ..subject()
            },
        ];
        for other in changed {
            assert_eq!(seal.verify(&public, &other), Err(SealError::BadSignature));
        }
        let other_key = key(2).verifying_key();
        assert_eq!(
            seal.verify(&other_key, &subject()),
            Err(SealError::OtherKey {
                found: key(1).key_id(),
                expected: other_key.key_id()
            })
        );
        assert_eq!(
            SnapshotSeal::from_bytes(&[0; 67]),
            Err(SealError::Malformed { len: 67 })
        );
    }

    /// The message starts with a line no origin can be, so it never reads as a checkpoint note.
    #[test]
    fn a_seal_message_is_never_a_checkpoint_body() {
        let message = subject().message(key(1).origin());
        assert!(message.starts_with("ledger read-model snapshot\nledger/test\n2\n4096\n"));
        let seal = SnapshotSeal::sign(&key(1), &subject());
        let note = format!(
            "{message}\n\u{2014} ledger/test {}\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seal.to_bytes())
        );
        assert!(Checkpoint::from_note(&note).is_err());
    }
}
