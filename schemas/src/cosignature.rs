//! Witness cosignatures over checkpoints: the [C2SP tlog-cosignature](https://c2sp.org/tlog-cosignature)
//! format (Ed25519, signature type 0x04), and the signed note they are added to.
//!
//! A witness is a party outside the operator's control that keeps the latest checkpoint it saw of a
//! log and cosigns a newer one only when it is shown to extend it (`ledger witness serve`, issue
//! 21). Its cosignature is one more signature line on the checkpoint's signed note. This module is
//! the format alone: keys, key ids, the signed message, the line, and splitting a note into its
//! body and signature lines. No IO, no clock: times are inputs.
//!
//! # The cosigned message, byte for byte
//!
//! ```text
//! cosignature/v1\n
//! time <T>\n
//! <the checkpoint's whole body: every line, extension lines included, each ending in \n>
//! ```
//!
//! `T` is the cosigning time in POSIX seconds, ASCII decimal without leading zeros, below 2^63.
//! The `cosignature/v1` header means a cosignature can never be taken for a log's signature on a
//! note (whose text starts with the origin), nor the other way round.
//!
//! # The signature line and the key
//!
//! `— <witness name> base64(key id[4] || T as u64 big-endian[8] || Ed25519 signature[64])\n`, 76
//! bytes of base64 payload. The key id is `SHA-256(name || 0x0A || 0x04 || public key)[0..4]`. The
//! witness's verifier key text is `<name>+<key id, 8 hex>+<base64(0x04 || public key)>`, as the
//! transparency-dev Go packages read it. The private key text is this program's own (the
//! specifications fix none): `PRIVATE+KEY+<name>+<key id>+<base64(0x04 || 32-byte seed)>`, the
//! same shape as a log's signer key with the cosignature type byte.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::checkpoint::{
    Checkpoint, CheckpointError, KeyError, KeyId, LogVerifyingKey, Origin, malformed,
    split_note_key,
};
use crate::integrity::Digest;

/// The signed-note signature type of a timestamped Ed25519 cosignature (tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The first line of every cosigned message.
const HEADER: &str = "cosignature/v1\n";
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";
/// Bytes in a cosignature's base64 payload: key id, timestamp, signature.
const PAYLOAD_LEN: usize = 4 + 8 + 64;

/// The message a witness signs over `body` (a checkpoint note's text, ending in `\n`) at `time`.
pub fn cosigned_message(body: &str, time: u64) -> String {
    format!("{HEADER}time {time}\n{body}")
}

/// A witness's signing key with its name. Its `Debug` does not show the secret.
#[derive(Clone)]
pub struct WitnessSigningKey {
    name: Origin,
    key: SigningKey,
    key_id: KeyId,
}

impl fmt::Debug for WitnessSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WitnessSigningKey")
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl WitnessSigningKey {
    /// The key whose RFC 8032 secret is `seed` (the program takes it from the OS's randomness).
    pub fn from_seed(name: Origin, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = KeyId::derive_for(&name, ALG_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Self { name, key, key_id }
    }

    pub fn name(&self) -> &Origin {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn verifying_key(&self) -> WitnessVerifyingKey {
        WitnessVerifyingKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// `PRIVATE+KEY+<name>+<key id>+<base64(0x04 || seed)>`. Secret.
    pub fn to_signer_text(&self) -> String {
        let mut bytes = vec![ALG_COSIGNATURE_V1];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!(
            "{SIGNER_KEY_PREFIX}{}+{}+{}",
            self.name,
            self.key_id,
            BASE64.encode(&bytes)
        )
    }

    /// Reads [`to_signer_text`](Self::to_signer_text); surrounding whitespace is ignored.
    pub fn from_signer_text(text: &str) -> Result<Self, KeyError> {
        const FORMAT: &str = "witness signer";
        let rest = text.trim().strip_prefix(SIGNER_KEY_PREFIX).ok_or_else(|| {
            malformed(
                FORMAT,
                "不以 PRIVATE+KEY+ 开头 / does not start with PRIVATE+KEY+",
            )
        })?;
        let (name, stated, key) = split_note_key(rest, FORMAT)?;
        let seed = decode_key(key, FORMAT)?;
        let signer = Self::from_seed(Origin::new(name)?, &seed);
        crate::checkpoint::check_stated_id(stated, signer.key_id)?;
        Ok(signer)
    }

    /// Cosigns the checkpoint whose note text is `body` at `time` (POSIX seconds, below 2^63).
    pub fn cosign(&self, body: &str, time: u64) -> Result<Cosignature, CosignatureError> {
        if time >= 1 << 63 {
            return Err(CosignatureError::TimeTooLarge { time });
        }
        let signature = self.key.sign(cosigned_message(body, time).as_bytes());
        Ok(Cosignature {
            name: self.name.clone(),
            key_id: self.key_id,
            time,
            signature: signature.to_bytes(),
        })
    }
}

fn decode_key(text: &str, format: &'static str) -> Result<[u8; 32], KeyError> {
    crate::checkpoint::decode_typed_key(text, format, ALG_COSIGNATURE_V1, "0x04 (cosignature/v1)")
}

/// A witness's public key with its name: what an auditor checks cosignatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessVerifyingKey {
    name: Origin,
    key: VerifyingKey,
    key_id: KeyId,
}

impl WitnessVerifyingKey {
    /// The key with the 32-byte RFC 8032 encoding; invalid and weak keys are refused.
    pub fn from_bytes(name: Origin, public_key: &[u8; 32]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        let key_id = KeyId::derive_for(&name, ALG_COSIGNATURE_V1, public_key);
        Ok(Self { name, key, key_id })
    }

    /// Reads `<name>+<key id>+<base64(0x04 || public key)>`; the stated key id must be the derived
    /// one. Surrounding whitespace is ignored.
    pub fn from_vkey(text: &str) -> Result<Self, KeyError> {
        const FORMAT: &str = "witness verifier";
        let (name, stated, key) = split_note_key(text.trim(), FORMAT)?;
        let public_key = decode_key(key, FORMAT)?;
        let verifier = Self::from_bytes(Origin::new(name)?, &public_key)?;
        crate::checkpoint::check_stated_id(stated, verifier.key_id)?;
        Ok(verifier)
    }

    pub fn to_vkey(&self) -> String {
        let mut bytes = vec![ALG_COSIGNATURE_V1];
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, self.key_id, BASE64.encode(&bytes))
    }

    pub fn name(&self) -> &Origin {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Checks that `cosignature` is this witness's over the note text `body`: its name, its key id,
    /// then the signature (strict RFC 8032) over the rebuilt message.
    pub fn verify(&self, cosignature: &Cosignature, body: &str) -> Result<(), CosignatureError> {
        if cosignature.name != self.name || cosignature.key_id != self.key_id {
            return Err(CosignatureError::OtherKey {
                name: cosignature.name.clone(),
                key_id: cosignature.key_id,
                expected: self.to_vkey(),
            });
        }
        let message = cosigned_message(body, cosignature.time);
        self.key
            .verify_strict(
                message.as_bytes(),
                &Signature::from_bytes(&cosignature.signature),
            )
            .map_err(|_| CosignatureError::BadSignature {
                name: self.name.clone(),
                key_id: self.key_id,
                time: cosignature.time,
            })
    }
}

/// One witness's cosignature: who, with which key, when, and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    name: Origin,
    key_id: KeyId,
    time: u64,
    signature: [u8; 64],
}

impl Cosignature {
    pub fn name(&self) -> &Origin {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// When the witness cosigned, in POSIX seconds.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// The signature line, ending in `\n`.
    pub fn to_line(&self) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD_LEN);
        bytes.extend_from_slice(&self.key_id.0);
        bytes.extend_from_slice(&self.time.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_LINE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(&bytes)
        )
    }

    /// Reads one signature line (with or without its final `\n`) as a cosignature: a valid name
    /// and 76 bytes of base64 whose timestamp is below 2^63. It does not verify the signature.
    pub fn from_line(line: &str) -> Result<Self, CosignatureError> {
        let bad = |why: &str| CosignatureError::Malformed {
            line: line.trim_end().to_owned(),
            why: why.to_owned(),
        };
        let text = line.strip_suffix('\n').unwrap_or(line);
        let (name, payload) = text
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .and_then(|rest| rest.split_once(' '))
            .ok_or_else(|| bad("不是“— <名称> <base64>” / not \"— <name> <base64>\""))?;
        let name = Origin::new(name).map_err(|e| bad(&e.to_string()))?;
        let bytes = BASE64
            .decode(payload)
            .ok()
            .filter(|b| b.len() == PAYLOAD_LEN)
            .ok_or_else(|| {
                bad("不是 76 字节的 base64（联署） / not 76 bytes of base64 (a cosignature)")
            })?;
        let time = u64::from_be_bytes(bytes[4..12].try_into().expect("8 bytes"));
        if time >= 1 << 63 {
            return Err(bad("时间戳不小于 2^63 / timestamp not below 2^63"));
        }
        Ok(Self {
            name,
            key_id: KeyId(bytes[..4].try_into().expect("4 bytes")),
            time,
            signature: bytes[12..].try_into().expect("64 bytes"),
        })
    }
}

/// Why a cosignature, or a note carrying signatures, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("联署时间 {time} 不小于 2^63 (the cosignature time {time} is not below 2^63)")]
    TimeTooLarge { time: u64 },
    #[error("签名行 {line:?} 不是联署 (the signature line {line:?} is not a cosignature): {why}")]
    Malformed { line: String, why: String },
    #[error(
        "联署来自 {name}（密钥号 {key_id}），而不是见证人密钥 {expected} (the cosignature is by {name}, key id {key_id}, not by the witness key {expected})"
    )]
    OtherKey {
        name: Origin,
        key_id: KeyId,
        expected: String,
    },
    #[error(
        "见证人 {name}（密钥号 {key_id}）于 {time} 的联署无效：检查点在联署后被改动，或不是该见证人所签 (the cosignature by witness {name}, key id {key_id}, time {time}, does not verify: the checkpoint was changed after cosigning, or the witness did not sign it)"
    )]
    BadSignature {
        name: Origin,
        key_id: KeyId,
        time: u64,
    },
    #[error("签名文本格式错误 (malformed signed note): {why}")]
    MalformedNote { why: String },
}

/// A signed note split into its text and its signature lines, none of them verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The note's text, every line ending in `\n`: what the log signed.
    pub body: String,
    /// The signature lines in their order, each without its final `\n`.
    pub signatures: Vec<String>,
}

impl SignedNote {
    /// Splits a note: the text up to the last empty line, then one or more signature lines, each
    /// starting `— ` and ending in `\n`.
    pub fn parse(note: &str) -> Result<Self, CosignatureError> {
        let bad = |why: &str| CosignatureError::MalformedNote {
            why: why.to_owned(),
        };
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| bad("签名前没有空行 / no empty line before the signatures"))?;
        let (body, rest) = (&note[..=split], &note[split + 2..]);
        let rest = rest
            .strip_suffix('\n')
            .ok_or_else(|| bad("不以换行结尾 / does not end in a newline"))?;
        let signatures: Vec<String> = rest.split('\n').map(str::to_owned).collect();
        if body.is_empty()
            || signatures
                .iter()
                .any(|l| !l.starts_with(SIGNATURE_LINE_PREFIX))
        {
            return Err(bad(
                "正文为空，或签名行不以“— ”开头 / empty text, or a signature line not starting with \"— \"",
            ));
        }
        Ok(Self {
            body: body.to_owned(),
            signatures,
        })
    }

    /// The first line of the text: a checkpoint's origin, before anything is verified.
    pub fn origin(&self) -> &str {
        self.body.split('\n').next().unwrap_or("")
    }

    /// The checkpoint this note carries, signed by `key`: the first signature line under the key's
    /// name that makes, with the text, a checkpoint note verifying under `key`. Without such a line
    /// the error of the last one tried (a malformed text is [`CheckpointError::MalformedNote`]).
    pub fn checkpoint(&self, key: &LogVerifyingKey) -> Result<Checkpoint, CheckpointError> {
        let prefix = format!("{SIGNATURE_LINE_PREFIX}{} ", key.origin());
        let mut last = CheckpointError::MalformedNote {
            why: format!(
                "没有日志 {0} 的签名行 / no signature line by the log {0}",
                key.origin()
            ),
        };
        for line in self.signatures.iter().filter(|l| l.starts_with(&prefix)) {
            let note = format!("{}\n{line}\n", self.body);
            match Checkpoint::from_note(&note).and_then(|c| c.verify(key).map(|()| c)) {
                Ok(checkpoint) => return Ok(checkpoint),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Every signature line that reads as a cosignature (76-byte payload), in order.
    pub fn cosignatures(&self) -> Vec<Cosignature> {
        self.signatures
            .iter()
            .filter_map(|line| Cosignature::from_line(line).ok())
            .collect()
    }
}

/// The checkpoint's note with `cosignatures` added after its own signature line.
pub fn cosigned_note(checkpoint: &Checkpoint, cosignatures: &[Cosignature]) -> String {
    let mut note = checkpoint.to_note();
    for cosignature in cosignatures {
        note.push_str(&cosignature.to_line());
    }
    note
}

/// The most consistency-proof lines an `add-checkpoint` request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// A C2SP tlog-witness `add-checkpoint` request body: `old <size>\n`, the consistency proof one
/// base64 hash a line (at most [`MAX_PROOF_LINES`]), an empty line, then the signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Digest>,
    pub note: String,
}

impl AddCheckpoint {
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old);
        for hash in &self.proof {
            body.push_str(&BASE64.encode(hash.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.note);
        body
    }

    /// Reads a request body; the note is split ([`SignedNote::parse`]) but nothing is verified.
    pub fn parse(text: &str) -> Result<(Self, SignedNote), String> {
        let (head, note) = text
            .split_once("\n\n")
            .ok_or("缺少空行与检查点 (no empty line followed by a checkpoint)")?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .filter(|n| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && (*n == "0" || !n.starts_with('0'))
            })
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or("第一行须为“old <大小>” (the first line must be \"old <size>\")")?;
        let proof = lines
            .map(|line| {
                BASE64
                    .decode(line)
                    .ok()
                    .and_then(|b| Digest::from_slice(&b))
                    .ok_or_else(|| {
                        format!(
                            "证明行 {line:?} 不是 32 字节的 base64 (a proof line is not 32 bytes of base64)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if proof.len() > MAX_PROOF_LINES {
            return Err(format!(
                "一致性证明有 {} 行，多于 {MAX_PROOF_LINES} (the proof has more than {MAX_PROOF_LINES} lines)",
                proof.len()
            ));
        }
        let signed = SignedNote::parse(note).map_err(|e| e.to_string())?;
        Ok((
            Self {
                old,
                proof,
                note: note.to_owned(),
            },
            signed,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C2SP tlog-cosignature example's witness, read back from transparency-dev/formats: Go
    /// accepts this verifier key, so its key id must be the one derived from name and key bytes.
    const GO_VKEY: &str = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

    /// The vkey Go accepts has the key id this module derives: da77ade7 from the name and the 32
    /// key bytes; a vkey stating another id, or the log's type byte 0x01, is refused.
    #[test]
    fn key_id_matches_the_go_verifier_key() {
        let key = WitnessVerifyingKey::from_vkey(GO_VKEY).unwrap();
        assert_eq!(key.key_id().to_hex(), "da77ade7");
        assert_eq!(key.to_vkey(), GO_VKEY);
        let wrong_id = GO_VKEY.replace("da77ade7", "da77ade8");
        assert!(matches!(
            WitnessVerifyingKey::from_vkey(&wrong_id),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        let mut bytes = BASE64.decode(GO_VKEY.rsplit('+').next().unwrap()).unwrap();
        bytes[0] = 0x01;
        let log_type = format!("remora.n621.de+da77ade7+{}", BASE64.encode(&bytes));
        assert!(matches!(
            WitnessVerifyingKey::from_vkey(&log_type),
            Err(KeyError::Malformed { .. })
        ));
    }

    /// The specification's example cosignature line parses: its name, and the timestamp of its
    /// message example (`time 1679315147`); it re-encodes to the same line. So does the Go test
    /// vector's payload (timestamp 1727964367).
    #[test]
    fn spec_and_go_examples_parse() {
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
        let cosignature = Cosignature::from_line(line).unwrap();
        assert_eq!(cosignature.name().as_str(), "witness.example.com/w1");
        assert_eq!(cosignature.time(), 1_679_315_147);
        assert_eq!(cosignature.to_line(), line);
        let go = "\u{2014} w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==";
        assert_eq!(Cosignature::from_line(go).unwrap().time(), 1_727_964_367);
        // A log's 68-byte signature is not a cosignature; nor is a timestamp of 2^63.
        let log_sig = format!("\u{2014} w {}", BASE64.encode([0u8; 68]));
        assert!(Cosignature::from_line(&log_sig).is_err());
        let mut big = vec![0u8; 76];
        big[4] = 0x80;
        assert!(Cosignature::from_line(&format!("\u{2014} w {}", BASE64.encode(&big))).is_err());
    }

    /// A full known answer from an independent implementation, Python's `cryptography` 48:
    /// `Ed25519PrivateKey.from_private_bytes(seed)` with the RFC 8032 test 1 secret key, signing
    /// `b"cosignature/v1\ntime 1679315147\n" + BODY`; the key id is
    /// `hashlib.sha256(b"witness.example.com/w1\n\x04" + public_key).digest()[:4]`, and the line is
    /// `"— witness.example.com/w1 " + base64(key_id + (1679315147).to_bytes(8, "big") + sig)`.
    #[test]
    fn cosignature_matches_an_independent_implementation() {
        const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        const BODY: &str =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        const VKEY: &str =
            "witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
        const LINE: &str = "\u{2014} witness.example.com/w1 fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n";
        let mut seed = [0u8; 32];
        hex::decode_to_slice(SEED, &mut seed).unwrap();
        let signer =
            WitnessSigningKey::from_seed(Origin::new("witness.example.com/w1").unwrap(), &seed);
        assert_eq!(signer.verifying_key().to_vkey(), VKEY);
        let cosignature = signer.cosign(BODY, 1_679_315_147).unwrap();
        assert_eq!(cosignature.to_line(), LINE);
        let key = WitnessVerifyingKey::from_vkey(VKEY).unwrap();
        key.verify(&Cosignature::from_line(LINE).unwrap(), BODY)
            .unwrap();
        // One byte of the body changed, or another time: the cosignature no longer verifies.
        let changed = BODY.replace("20852163", "20852164");
        assert!(matches!(
            key.verify(&cosignature, &changed),
            Err(CosignatureError::BadSignature { .. })
        ));
        let mut later = cosignature.clone();
        later.time += 1;
        assert!(key.verify(&later, BODY).is_err());
        assert!(signer.cosign(BODY, 1 << 63).is_err());
        assert_eq!(
            WitnessSigningKey::from_signer_text(&signer.to_signer_text())
                .unwrap()
                .key_id(),
            signer.key_id()
        );
    }

    /// A checkpoint note with cosignatures splits back into the checkpoint (found by the log's key
    /// among the lines) and the cosignatures, which verify over the note's text.
    #[test]
    fn a_cosigned_note_splits_into_checkpoint_and_cosignatures() {
        use crate::checkpoint::LogSigningKey;
        use crate::integrity::Digest;
        let log = LogSigningKey::from_seed(Origin::new("ledger/test").unwrap(), &[1; 32]);
        let checkpoint = Checkpoint::sign(&log, 5, Digest([9; 32]), chrono::Utc::now());
        let witness = WitnessSigningKey::from_seed(Origin::new("w1").unwrap(), &[2; 32]);
        let cosig = witness
            .cosign(&checkpoint.signed_message(), 1_700_000_000)
            .unwrap();
        let note = cosigned_note(&checkpoint, std::slice::from_ref(&cosig));
        let parsed = SignedNote::parse(&note).unwrap();
        assert_eq!(parsed.origin(), "ledger/test");
        assert_eq!(parsed.checkpoint(&log.verifying_key()).unwrap(), checkpoint);
        assert_eq!(parsed.cosignatures(), vec![cosig.clone()]);
        witness
            .verifying_key()
            .verify(&cosig, &parsed.body)
            .unwrap();
        let other = LogSigningKey::from_seed(Origin::new("ledger/test").unwrap(), &[3; 32]);
        assert!(parsed.checkpoint(&other.verifying_key()).is_err());
        for garbage in ["", "x\n", "a\n\nnot a signature\n", "a\n\n\u{2014} x y"] {
            assert!(SignedNote::parse(garbage).is_err(), "{garbage:?}");
        }
    }
}
