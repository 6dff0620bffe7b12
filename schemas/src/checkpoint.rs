//! Signed checkpoints: the ledger's Ed25519 signature over the size and root of its log at a time.
//!
//! A checkpoint says "the log `origin` held `tree_size` events, the Merkle root of which (see
//! [`crate::merkle`]) was `root_hash`, at `timestamp`". Signed by the ledger's key, it lets an auditor
//! who kept one later prove that the ledger still extends it ([`verify_extends`]), and check any
//! event's inclusion against it. This module holds the checkpoint ([`Checkpoint`]), the ledger's keys
//! ([`LogSigningKey`], [`LogVerifyingKey`]) and their text forms. It takes keys and times as inputs:
//! the program generates the seed from the operating system's randomness and reads the clock.
//!
//! # The signed message, byte for byte
//!
//! A checkpoint is a [C2SP signed note](https://c2sp.org/signed-note) whose text is a
//! [C2SP tlog-checkpoint](https://c2sp.org/tlog-checkpoint) with one extension line, the time. The
//! Ed25519 signature (RFC 8032, pure Ed25519, no pre-hash) covers exactly these UTF-8 bytes, each line
//! ending in one `\n` (0x0A), nothing before or after:
//!
//! ```text
//! <origin>\n
//! <tree_size>\n
//! <root_hash>\n
//! <timestamp>\n
//! ```
//!
//! - `origin`: the log's name, e.g. `ledger.example.org/ledger/0190f3c2-…`: non-empty UTF-8 without
//!   whitespace, `+` or control characters ([`Origin`]). It is also the key's name.
//! - `tree_size`: the number of events covered (the events at positions `1..=tree_size`), in ASCII
//!   decimal without leading zeros (`0` for the empty log).
//! - `root_hash`: the 32-byte Merkle root in standard base64 with padding (RFC 4648 §4, 44
//!   characters).
//! - `timestamp`: UTC, RFC 3339 with exactly six fractional digits and `Z`:
//!   `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always 27 characters for years 0000–9999). Times are truncated to
//!   the microsecond when signing, like the events' `recorded_at`.
//!
//! A checkpoint may carry a fifth line, a second extension: the **schedule** it was signed under,
//! `every <N>\n` (N ≥ 1, ASCII decimal without leading zeros). It states, under the signature, that
//! when this checkpoint was signed the log held a checkpoint at every multiple of N up to
//! `tree_size`: the program signs the missing multiples first, smallest first, and the checkpoint
//! itself last. A verifier that finds one of those multiples absent knows it was deleted, not
//! never signed ([`Checkpoint::schedule`]). Checkpoints signed before the schedule line existed
//! have four lines and state nothing about the others.
//!
//! For example, the body for a log of 7 events:
//!
//! ```text
//! ledger.example.org/ledger/1
//! 7
//! cxiIHEH848HeNkDfjowRDJP0P2hrdCBKnRrVuMccIEc=
//! 2025-03-01T08:00:00.000000Z
//! ```
//!
//! # Keys and key ids
//!
//! The key id is the C2SP signed-note key hash: the first 4 bytes of
//! `SHA-256(origin || 0x0A || 0x01 || public_key)`, where `0x01` names Ed25519 and `public_key` is the
//! 32-byte RFC 8032 encoding. It is a hint for choosing the key, not a security measure: the signature
//! is what counts. Keys are bound to the origin through that hash.
//!
//! Text forms of the public key, both accepted by [`LogVerifyingKey`]:
//! - the signed-note verifier key `<origin>+<key id, 8 lowercase hex digits>+<base64(0x01 ||
//!   public_key)>`, as Go's `golang.org/x/mod/sumdb/note` reads it;
//! - PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 8410), as OpenSSL reads it: base64 of the 12 bytes
//!   `30 2a 30 05 06 03 2b 65 70 03 21 00` followed by the 32-byte key.
//!
//! The private key's text form is the signed-note signer key `PRIVATE+KEY+<origin>+<key id>+<base64(0x01
//! || 32-byte seed)>`; it is secret.
//!
//! # Whole note and JSON
//!
//! [`Checkpoint::to_note`] writes the signed note: the body, one empty line, and the signature line
//! `— <origin> <base64(key_id || signature)>\n` (U+2014 EM DASH, a space, the origin, a space, the
//! base64 of the 4-byte key id followed by the 64-byte signature). Any signed-note implementation
//! verifies it with the verifier key; so does `openssl pkeyutl -verify -pubin -inkey key.pem -rawin
//! -in body.txt -sigfile sig.bin` with the body and the 64 signature bytes. In JSON a checkpoint is
//! `{"origin", "tree_size", "root_hash" (64 hex digits), "timestamp" (as above), "every" (the
//! schedule, absent when the note has none), "key_id" (8 hex digits), "signature" (128 hex
//! digits)}`; the signed message is rebuilt from those fields.

use std::fmt;
use std::num::NonZeroU64;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::integrity::Digest;
use crate::merkle::{ConsistencyProof, ProofError, verify_consistency};

/// The signed-note algorithm byte for Ed25519.
const ALG_ED25519: u8 = 0x01;
/// DER of SubjectPublicKeyInfo for Ed25519 (RFC 8410) up to the 32 key bytes.
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const PEM_BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const PEM_END: &str = "-----END PUBLIC KEY-----";
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
/// How the optional schedule line starts.
const SCHEDULE_PREFIX: &str = "every ";

/// A log's name, as the first line of its checkpoints and the name of its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin(String);

/// An origin that cannot name a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "日志名“{origin}”无效：须非空，且不含空白、“+”或控制字符 (invalid log origin {origin:?}: it must be non-empty, without whitespace, '+' or control characters)"
)]
pub struct InvalidOrigin {
    pub origin: String,
}

impl Origin {
    pub fn new(origin: impl Into<String>) -> Result<Self, InvalidOrigin> {
        let origin = origin.into();
        let valid = !origin.is_empty()
            && !origin
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '+');
        if valid {
            Ok(Self(origin))
        } else {
            Err(InvalidOrigin { origin })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Origin {
    type Error = InvalidOrigin;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Origin> for String {
    fn from(origin: Origin) -> Self {
        origin.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 4-byte key id (the C2SP signed-note key hash), shown as 8 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// `SHA-256(origin || 0x0A || 0x01 || public_key)[0..4]`.
    pub fn derive(origin: &Origin, public_key: &[u8; 32]) -> Self {
        Self::derive_for(origin, ALG_ED25519, public_key)
    }

    /// `SHA-256(name || 0x0A || alg || public_key)[0..4]`: the key hash of any signed-note
    /// signature type (`alg` 0x01 for a log's Ed25519 key, 0x04 for a witness's cosignature key).
    pub(crate) fn derive_for(origin: &Origin, alg: u8, public_key: &[u8; 32]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(origin.as_str().as_bytes());
        hasher.update([b'\n', alg]);
        hasher.update(public_key);
        let hash = hasher.finalize();
        KeyId([hash[0], hash[1], hash[2], hash[3]])
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(crate) fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 4];
        let lowercase = !text.bytes().any(|b| b.is_ascii_uppercase());
        (lowercase && hex::decode_to_slice(text, &mut out).is_ok()).then_some(KeyId(out))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        KeyId::from_hex(&value).ok_or_else(|| {
            format!(
                "密钥号须为 8 位小写十六进制数 (not a key id of 8 lowercase hex digits): {value:?}"
            )
        })
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> Self {
        id.to_hex()
    }
}

/// Why a key, or its text form, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    InvalidOrigin(#[from] InvalidOrigin),
    #[error("{format} 格式的密钥无法解析 (malformed {format} key): {why}")]
    Malformed { format: &'static str, why: String },
    #[error(
        "密钥文本声明的密钥号 {stated} 与其公钥算出的 {derived} 不符 (the key text states key id {stated}, but its key hashes to {derived})"
    )]
    KeyIdMismatch { stated: String, derived: KeyId },
    #[error(
        "公钥无效或为弱密钥（小阶点），不能用于验证 (the public key is not a valid Ed25519 point or is a weak, small-order key)"
    )]
    InvalidPublicKey,
}

pub(crate) fn malformed(format: &'static str, why: impl Into<String>) -> KeyError {
    KeyError::Malformed {
        format,
        why: why.into(),
    }
}

/// The ledger's signing key with the name of its log. Its `Debug` does not show the secret.
#[derive(Clone)]
pub struct LogSigningKey {
    origin: Origin,
    key: SigningKey,
    key_id: KeyId,
}

impl fmt::Debug for LogSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigningKey")
            .field("origin", &self.origin)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl LogSigningKey {
    /// The key whose RFC 8032 secret is `seed`. The program fills the seed with 32 bytes from the
    /// operating system's cryptographic random source when the ledger is created.
    pub fn from_seed(origin: Origin, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = KeyId::derive(&origin, key.verifying_key().as_bytes());
        Self {
            origin,
            key,
            key_id,
        }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The public half, to export and to verify with.
    pub fn verifying_key(&self) -> LogVerifyingKey {
        LogVerifyingKey {
            origin: self.origin.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// The 32-byte secret seed. Secret: store it only where the ledger's key belongs.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The signed-note signer key `PRIVATE+KEY+<origin>+<key id>+<base64(0x01 || seed)>`. Secret.
    pub fn to_note_signer(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(ALG_ED25519);
        bytes.extend_from_slice(&self.seed());
        format!(
            "{SIGNER_KEY_PREFIX}{}+{}+{}",
            self.origin,
            self.key_id,
            BASE64.encode(&bytes)
        )
    }

    /// Reads a signer key written by [`to_note_signer`](Self::to_note_signer) (or by Go's
    /// `note.GenerateKey`). Surrounding whitespace is ignored.
    pub fn from_note_signer(text: &str) -> Result<Self, KeyError> {
        const FORMAT: &str = "signed-note signer";
        let rest = text.trim().strip_prefix(SIGNER_KEY_PREFIX).ok_or_else(|| {
            malformed(
                FORMAT,
                "不以 PRIVATE+KEY+ 开头 / does not start with PRIVATE+KEY+",
            )
        })?;
        let (origin, stated_id, key) = split_note_key(rest, FORMAT)?;
        let seed: [u8; 32] = decode_note_key_bytes(key, FORMAT)?;
        let signer = Self::from_seed(Origin::new(origin)?, &seed);
        check_stated_id(stated_id, signer.key_id)?;
        Ok(signer)
    }

    /// The Ed25519 signature over `text`, the body of a signed note (ending in `\n`), or another
    /// message of this crate that can never read as one (`crate::seal`).
    pub(crate) fn sign_note_text(&self, text: &str) -> Signature {
        self.key.sign(text.as_bytes())
    }
}

fn signature_line(origin: &Origin, key_id: KeyId, signature: &[u8; 64]) -> String {
    let mut bytes = Vec::with_capacity(68);
    bytes.extend_from_slice(&key_id.0);
    bytes.extend_from_slice(signature);
    format!(
        "{SIGNATURE_LINE_PREFIX}{origin} {}\n",
        BASE64.encode(&bytes)
    )
}

/// Splits `<origin>+<key id>+<base64>`; the base64 may itself contain `+`.
pub(crate) fn split_note_key<'a>(
    text: &'a str,
    format: &'static str,
) -> Result<(&'a str, &'a str, &'a str), KeyError> {
    let mut parts = text.splitn(3, '+');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(origin), Some(id), Some(key)) => Ok((origin, id, key)),
        _ => Err(malformed(
            format,
            "应为 <名称>+<密钥号>+<base64 密钥> / expected <name>+<key id>+<base64 key>",
        )),
    }
}

fn decode_note_key_bytes(text: &str, format: &'static str) -> Result<[u8; 32], KeyError> {
    decode_typed_key(text, format, ALG_ED25519, "0x01 (Ed25519)")
}

/// The 32 key bytes of a signed-note key text's last part, `base64(type byte || key)`, whose type
/// byte must be `alg` (`alg_name` says which, for the message): 0x01 for the ledger's Ed25519
/// keys, 0x04 for witnesses' cosignature keys (`crate::cosignature`).
pub(crate) fn decode_typed_key(
    text: &str,
    format: &'static str,
    alg: u8,
    alg_name: &str,
) -> Result<[u8; 32], KeyError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|e| malformed(format, format!("密钥不是 base64 / key is not base64: {e}")))?;
    match bytes.split_first() {
        Some((&found, key)) if found == alg => key.try_into().map_err(|_| {
            malformed(
                format,
                format!("密钥有 {0} 字节而非 32 / {0} key bytes, not 32", key.len()),
            )
        }),
        Some((found, _)) => Err(malformed(
            format,
            format!(
                "类型字节为 {found:#04x} 而非 {alg_name} / type byte {found:#04x}, not {alg_name}"
            ),
        )),
        None => Err(malformed(format, "密钥为空 / empty key")),
    }
}

pub(crate) fn check_stated_id(stated: &str, derived: KeyId) -> Result<(), KeyError> {
    if KeyId::from_hex(stated) == Some(derived) {
        Ok(())
    } else {
        Err(KeyError::KeyIdMismatch {
            stated: stated.to_owned(),
            derived,
        })
    }
}

/// The ledger's public key with the name of its log: what an auditor verifies checkpoints with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerifyingKey {
    origin: Origin,
    key: VerifyingKey,
    key_id: KeyId,
}

impl LogVerifyingKey {
    /// The key with the given 32-byte RFC 8032 encoding; invalid and weak (small-order) keys are
    /// refused.
    pub fn from_bytes(origin: Origin, public_key: &[u8; 32]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        let key_id = KeyId::derive(&origin, public_key);
        Ok(Self {
            origin,
            key,
            key_id,
        })
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 32-byte RFC 8032 encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The signed-note verifier key `<origin>+<key id>+<base64(0x01 || public_key)>`.
    pub fn to_note_verifier(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(ALG_ED25519);
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.origin, self.key_id, BASE64.encode(&bytes))
    }

    /// Reads a verifier key; the stated key id must be the one the key and name hash to.
    /// Surrounding whitespace is ignored.
    pub fn from_note_verifier(text: &str) -> Result<Self, KeyError> {
        const FORMAT: &str = "signed-note verifier";
        let (origin, stated_id, key) = split_note_key(text.trim(), FORMAT)?;
        let public_key = decode_note_key_bytes(key, FORMAT)?;
        let verifier = Self::from_bytes(Origin::new(origin)?, &public_key)?;
        check_stated_id(stated_id, verifier.key_id)?;
        Ok(verifier)
    }

    /// Whether `signature` is this key's signature over `message` (strict RFC 8032).
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// The public key as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), e.g. for
    /// `openssl pkey -pubin -in key.pem -text`. The origin is not part of it.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_ED25519_PREFIX.to_vec();
        der.extend_from_slice(self.key.as_bytes());
        format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", BASE64.encode(&der))
    }

    /// Reads a PEM `PUBLIC KEY` holding an Ed25519 key, for the log named `origin`.
    pub fn from_pem(origin: Origin, pem: &str) -> Result<Self, KeyError> {
        const FORMAT: &str = "PEM";
        let inner = pem
            .trim()
            .strip_prefix(PEM_BEGIN)
            .and_then(|rest| rest.strip_suffix(PEM_END))
            .ok_or_else(|| {
                malformed(
                    FORMAT,
                    "应为一个 PUBLIC KEY 块 / expected a single PUBLIC KEY block",
                )
            })?;
        let base64: String = inner.split_whitespace().collect();
        let der = BASE64
            .decode(base64)
            .map_err(|e| malformed(FORMAT, format!("内容不是 base64 / body is not base64: {e}")))?;
        let key = der.strip_prefix(&SPKI_ED25519_PREFIX[..]).ok_or_else(|| {
            malformed(
                FORMAT,
                "不是 Ed25519 公钥 / not an Ed25519 SubjectPublicKeyInfo",
            )
        })?;
        let key: [u8; 32] = key.try_into().map_err(|_| {
            malformed(
                FORMAT,
                "不是 Ed25519 公钥 / not an Ed25519 SubjectPublicKeyInfo",
            )
        })?;
        Self::from_bytes(origin, &key)
    }
}

/// The 64-byte Ed25519 signature of a checkpoint, shown as 128 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CheckpointSignature(pub [u8; 64]);

impl fmt::Debug for CheckpointSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckpointSignature({})", hex::encode(self.0))
    }
}

impl TryFrom<String> for CheckpointSignature {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let mut out = [0u8; 64];
        hex::decode_to_slice(&value, &mut out).map_err(|e| {
            format!("不是十六进制的 Ed25519 签名 / not an Ed25519 signature in hex ({e})")
        })?;
        Ok(Self(out))
    }
}

impl From<CheckpointSignature> for String {
    fn from(signature: CheckpointSignature) -> Self {
        hex::encode(signature.0)
    }
}

/// Why a checkpoint was refused or could not be read. Each names the checkpoint by its size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("检查点文本格式错误 (malformed checkpoint note): {why}")]
    MalformedNote { why: String },
    #[error(
        "大小为 {tree_size} 的检查点属于日志“{found}”，而不是“{expected}” (the checkpoint of size {tree_size} is for log {found:?}, not for {expected:?})"
    )]
    WrongLog {
        tree_size: u64,
        expected: Origin,
        found: Origin,
    },
    #[error(
        "大小为 {tree_size} 的检查点由另一把密钥 {found} 签名，而不是本账本的密钥 {expected} (the checkpoint of size {tree_size} is signed by key {found}, not by this ledger's key {expected})"
    )]
    KeyIdMismatch {
        tree_size: u64,
        found: KeyId,
        expected: KeyId,
    },
    #[error(
        "大小为 {tree_size} 的检查点签名无效：内容在签名后被改动，或不是由密钥 {key_id} 签名 (the signature on the checkpoint of size {tree_size} does not verify under key {key_id}: its content was changed after signing, or another key signed it)"
    )]
    BadSignature { tree_size: u64, key_id: KeyId },
}

fn malformed_note(why: impl Into<String>) -> CheckpointError {
    CheckpointError::MalformedNote { why: why.into() }
}

/// A signed checkpoint. Its fields can only come from [`Checkpoint::sign`], from a note
/// ([`Checkpoint::from_note`]) or from JSON; none of them is trusted before [`Checkpoint::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    origin: Origin,
    tree_size: u64,
    root_hash: Digest,
    #[serde(with = "timestamp_text")]
    timestamp: DateTime<Utc>,
    /// The schedule it was signed under (see the module docs); `None` in a four-line note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    every: Option<NonZeroU64>,
    key_id: KeyId,
    signature: CheckpointSignature,
}

/// The signed message of a checkpoint (see the module docs): four lines, each ending in `\n`.
pub fn signed_message(
    origin: &Origin,
    tree_size: u64,
    root_hash: &Digest,
    timestamp: &DateTime<Utc>,
) -> String {
    format!(
        "{origin}\n{tree_size}\n{}\n{}\n",
        BASE64.encode(root_hash.0),
        format_timestamp(timestamp)
    )
}

/// [`signed_message`] with the schedule line when `every` is given.
fn scheduled_message(
    origin: &Origin,
    tree_size: u64,
    root_hash: &Digest,
    timestamp: &DateTime<Utc>,
    every: Option<NonZeroU64>,
) -> String {
    let mut message = signed_message(origin, tree_size, root_hash, timestamp);
    if let Some(every) = every {
        message.push_str(&format!("{SCHEDULE_PREFIX}{every}\n"));
    }
    message
}

fn format_timestamp(timestamp: &DateTime<Utc>) -> String {
    timestamp.format(TIMESTAMP_FORMAT).to_string()
}

/// Reads a timestamp in exactly the signed form, refusing any other spelling of the same instant.
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let time = NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT)
        .ok()?
        .and_utc();
    (format_timestamp(&time) == text).then_some(time)
}

mod timestamp_text {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_timestamp(time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::parse_timestamp(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "不是检查点时间格式 (not a checkpoint time, YYYY-MM-DDTHH:MM:SS.ffffffZ): {text:?}"
            ))
        })
    }
}

impl Checkpoint {
    /// Signs the log's size, root and time with the ledger's key. The time is truncated to the
    /// microsecond.
    pub fn sign(
        key: &LogSigningKey,
        tree_size: u64,
        root_hash: Digest,
        timestamp: DateTime<Utc>,
    ) -> Self {
        Self::sign_with(key, tree_size, root_hash, timestamp, None)
    }

    /// As [`sign`](Self::sign), stating the schedule `every` under the signature: the signer
    /// vouches that the log held a checkpoint at every multiple of `every` up to `tree_size`.
    pub fn sign_scheduled(
        key: &LogSigningKey,
        tree_size: u64,
        root_hash: Digest,
        timestamp: DateTime<Utc>,
        every: NonZeroU64,
    ) -> Self {
        Self::sign_with(key, tree_size, root_hash, timestamp, Some(every))
    }

    fn sign_with(
        key: &LogSigningKey,
        tree_size: u64,
        root_hash: Digest,
        timestamp: DateTime<Utc>,
        every: Option<NonZeroU64>,
    ) -> Self {
        let timestamp = timestamp.trunc_subsecs(6);
        let message = scheduled_message(&key.origin, tree_size, &root_hash, &timestamp, every);
        let signature = key.sign_note_text(&message);
        Self {
            origin: key.origin.clone(),
            tree_size,
            root_hash,
            timestamp,
            every,
            key_id: key.key_id,
            signature: CheckpointSignature(signature.to_bytes()),
        }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The number of events covered: positions `1..=tree_size`.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    pub fn root_hash(&self) -> &Digest {
        &self.root_hash
    }

    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The schedule this checkpoint was signed under: its signer vouched that every multiple of it
    /// up to [`tree_size`](Self::tree_size) had a checkpoint then. `None` for a four-line note.
    pub fn schedule(&self) -> Option<NonZeroU64> {
        self.every
    }

    pub fn signature(&self) -> &CheckpointSignature {
        &self.signature
    }

    /// The exact bytes the signature covers.
    pub fn signed_message(&self) -> String {
        scheduled_message(
            &self.origin,
            self.tree_size,
            &self.root_hash,
            &self.timestamp,
            self.every,
        )
    }

    /// Checks that the ledger's key signed this checkpoint as it stands: the log's name, then the key
    /// id, then the signature (strict RFC 8032 verification) over the rebuilt message.
    pub fn verify(&self, key: &LogVerifyingKey) -> Result<(), CheckpointError> {
        if self.origin != key.origin {
            return Err(CheckpointError::WrongLog {
                tree_size: self.tree_size,
                expected: key.origin.clone(),
                found: self.origin.clone(),
            });
        }
        if self.key_id != key.key_id {
            return Err(CheckpointError::KeyIdMismatch {
                tree_size: self.tree_size,
                found: self.key_id,
                expected: key.key_id,
            });
        }
        let signature = Signature::from_bytes(&self.signature.0);
        key.key
            .verify_strict(self.signed_message().as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature {
                tree_size: self.tree_size,
                key_id: self.key_id,
            })
    }

    /// The checkpoint as a C2SP signed note: the signed message, an empty line, one signature line.
    pub fn to_note(&self) -> String {
        format!(
            "{}\n{}",
            self.signed_message(),
            signature_line(&self.origin, self.key_id, &self.signature.0)
        )
    }

    /// Reads a note written by [`to_note`](Self::to_note), refusing every other spelling: exactly the
    /// four body lines in their canonical form and exactly one signature line, by the origin's key.
    /// It does not verify the signature; [`verify`](Self::verify) does.
    pub fn from_note(note: &str) -> Result<Self, CheckpointError> {
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| malformed_note("签名前没有空行 / no empty line before the signature"))?;
        let (body, signatures) = (&note[..=split], &note[split + 2..]);

        let lines: Vec<&str> = body.split_terminator('\n').collect();
        let (origin, size, root, time, schedule) = match lines[..] {
            [origin, size, root, time] => (origin, size, root, time, None),
            [origin, size, root, time, schedule] => (origin, size, root, time, Some(schedule)),
            _ => {
                return Err(malformed_note(format!(
                    "正文有 {0} 行而非 4 或 5 行（日志名、树大小、根哈希、时间、可选的签署间隔） / the body has {0} lines, not 4 or 5 (origin, tree size, root hash, time, an optional schedule)",
                    lines.len()
                )));
            }
        };
        let every = schedule
            .map(|line| {
                line.strip_prefix(SCHEDULE_PREFIX)
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'))
                    .and_then(|n| n.parse::<NonZeroU64>().ok())
                    .ok_or_else(|| {
                        malformed_note(format!(
                            "第 5 行 {line:?} 不是“every <正整数>” / the fifth line {line:?} is not \"every <positive decimal>\""
                        ))
                    })
            })
            .transpose()?;
        let origin = Origin::new(origin).map_err(|e| malformed_note(e.to_string()))?;
        let canonical_size =
            size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        let tree_size = size
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_size)
            .ok_or_else(|| malformed_note(format!("树大小 {size:?} 不是规范的十进制数 / tree size {size:?} is not a decimal number")))?;
        let root_hash = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| Digest::from_slice(&bytes))
            .ok_or_else(|| {
                malformed_note(format!("根哈希 {root:?} 不是 32 字节的 base64 / root hash {root:?} is not 32 bytes of base64"))
            })?;
        let timestamp = parse_timestamp(time).ok_or_else(|| {
            malformed_note(format!("时间 {time:?} 不是 YYYY-MM-DDTHH:MM:SS.ffffffZ 格式 / time {time:?} is not YYYY-MM-DDTHH:MM:SS.ffffffZ"))
        })?;

        let line = signatures
            .strip_suffix('\n')
            .filter(|line| !line.contains('\n'))
            .ok_or_else(|| {
                malformed_note("应恰有一行签名 / expected exactly one signature line")
            })?;
        let (name, signature) = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .and_then(|rest| rest.split_once(' '))
            .ok_or_else(|| malformed_note("签名行不是“— <名称> <base64>” / the signature line is not \"— <name> <base64>\""))?;
        if name != origin.as_str() {
            return Err(malformed_note(format!(
                "签名者名称为 {name:?} 而非本日志的 {origin:?} / signed by key name {name:?}, not by the log's own {origin:?}"
            )));
        }
        let bytes = BASE64
            .decode(signature)
            .ok()
            .filter(|bytes| bytes.len() == 68)
            .ok_or_else(|| {
                malformed_note(
                    "签名不是 68 字节的 base64 / the signature is not 68 bytes of base64",
                )
            })?;
        let key_id = KeyId(bytes[..4].try_into().expect("4 bytes"));
        let signature = CheckpointSignature(bytes[4..].try_into().expect("64 bytes"));

        let checkpoint = Self {
            origin,
            tree_size,
            root_hash,
            timestamp,
            every,
            key_id,
            signature,
        };
        if checkpoint.to_note() != note {
            return Err(malformed_note("不是规范形式 / not in canonical form"));
        }
        Ok(checkpoint)
    }
}

/// Why a newer checkpoint does not show that the log extends a checkpoint an auditor kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("保存的检查点无效 (the kept checkpoint does not verify): {0}")]
    KeptCheckpoint(CheckpointError),
    #[error("新检查点无效 (the newer checkpoint does not verify): {0}")]
    NewerCheckpoint(CheckpointError),
    #[error(
        "回滚：新检查点只覆盖 {newer_size} 个事件，少于保存的检查点（{kept_time}）的 {kept_size} 个；账本被换成了旧副本或被截断 (rollback: the newer checkpoint covers {newer_size} events, fewer than the {kept_size} of the checkpoint kept from {kept_time}; the ledger was replaced by an older copy or truncated)"
    )]
    Rollback {
        kept_size: u64,
        kept_time: DateTime<Utc>,
        newer_size: u64,
    },
    #[error(
        "分叉：两个大小都为 {size} 的检查点根哈希不同（保存的 {kept_root}，新的 {newer_root}）；账本被改写 (fork: two checkpoints of the same size {size} have different roots, kept {kept_root} and newer {newer_root}; the ledger was rewritten)"
    )]
    Fork {
        size: u64,
        kept_root: Digest,
        newer_root: Digest,
    },
    #[error(
        "时间倒流：大小为 {newer_size} 的新检查点时间 {newer_time} 早于大小为 {kept_size} 的保存检查点的 {kept_time} (time went backwards: the newer checkpoint of size {newer_size} is dated {newer_time}, before the kept one of size {kept_size} dated {kept_time})"
    )]
    TimeWentBackwards {
        kept_size: u64,
        kept_time: DateTime<Utc>,
        newer_size: u64,
        newer_time: DateTime<Utc>,
    },
    #[error(
        "一致性证明是 {proof_old} → {proof_new} 的，而检查点大小是 {kept_size} → {newer_size} (the consistency proof is from size {proof_old} to {proof_new}, but the checkpoints are of sizes {kept_size} and {newer_size})"
    )]
    ProofForOtherSizes {
        proof_old: u64,
        proof_new: u64,
        kept_size: u64,
        newer_size: u64,
    },
    #[error(
        "分叉或改写：大小为 {newer_size} 的日志不是保存的大小为 {kept_size} 的日志的延续 (fork or rewrite: the log of size {newer_size} does not extend the kept log of size {kept_size}): {reason}"
    )]
    Inconsistent {
        kept_size: u64,
        newer_size: u64,
        reason: ProofError,
    },
}

/// Checks that the log behind `newer` extends the one behind `kept`, an older checkpoint an auditor
/// kept: both are signed by `key`; `newer` is not smaller (else the ledger was rolled back); equal
/// sizes have equal roots (else it forked); a larger `newer` is not dated before `kept`; and
/// `proof` (from `kept`'s size to `newer`'s) verifies between their roots (else it forked or was
/// rewritten).
pub fn verify_extends(
    kept: &Checkpoint,
    newer: &Checkpoint,
    proof: &ConsistencyProof,
    key: &LogVerifyingKey,
) -> Result<(), ExtensionError> {
    kept.verify(key).map_err(ExtensionError::KeptCheckpoint)?;
    newer.verify(key).map_err(ExtensionError::NewerCheckpoint)?;
    let (kept_size, newer_size) = (kept.tree_size, newer.tree_size);
    if newer_size < kept_size {
        return Err(ExtensionError::Rollback {
            kept_size,
            kept_time: kept.timestamp,
            newer_size,
        });
    }
    if newer_size == kept_size && newer.root_hash != kept.root_hash {
        return Err(ExtensionError::Fork {
            size: kept_size,
            kept_root: kept.root_hash,
            newer_root: newer.root_hash,
        });
    }
    if newer_size > kept_size && newer.timestamp < kept.timestamp {
        return Err(ExtensionError::TimeWentBackwards {
            kept_size,
            kept_time: kept.timestamp,
            newer_size,
            newer_time: newer.timestamp,
        });
    }
    if proof.old_size != kept_size || proof.new_size != newer_size {
        return Err(ExtensionError::ProofForOtherSizes {
            proof_old: proof.old_size,
            proof_new: proof.new_size,
            kept_size,
            newer_size,
        });
    }
    verify_consistency(
        kept_size,
        newer_size,
        &kept.root_hash,
        &newer.root_hash,
        &proof.path,
    )
    .map_err(|reason| ExtensionError::Inconsistent {
        kept_size,
        newer_size,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_SIGNER: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const GO_SIGNATURE_LINE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    /// The signed-note layer reproduces the reference example of Go's `golang.org/x/mod/sumdb/note`
    /// byte for byte: the key id, the verifier key text, and the signature line over its text.
    #[test]
    fn signed_note_matches_the_go_reference_example() {
        let signer = LogSigningKey::from_note_signer(GO_SIGNER).unwrap();
        assert_eq!(signer.key_id().to_hex(), "c74f20a3");
        assert_eq!(signer.to_note_signer(), GO_SIGNER);
        assert_eq!(signer.verifying_key().to_note_verifier(), GO_VERIFIER);
        assert_eq!(
            LogVerifyingKey::from_note_verifier(GO_VERIFIER).unwrap(),
            signer.verifying_key()
        );
        let signature = signer.sign_note_text(GO_TEXT).to_bytes();
        let line = signature_line(signer.origin(), signer.key_id(), &signature);
        assert_eq!(line, GO_SIGNATURE_LINE);
    }

    /// The timestamp has one spelling: six fractional digits and `Z`; others are refused.
    #[test]
    fn timestamps_have_one_spelling() {
        let t = parse_timestamp("2025-03-01T08:00:00.000000Z").unwrap();
        assert_eq!(format_timestamp(&t), "2025-03-01T08:00:00.000000Z");
        for other in [
            "2025-03-01T08:00:00Z",
            "2025-03-01T08:00:00.000Z",
            "2025-03-01T08:00:00.000000+00:00",
            "2025-03-01 08:00:00.000000Z",
            "2025-03-01T08:00:00.0000000Z",
        ] {
            assert_eq!(parse_timestamp(other), None, "{other}");
        }
    }
}
