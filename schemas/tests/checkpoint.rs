//! Signed checkpoints: signing and verifying, their text and JSON forms, keys, and the rollback and
//! fork checks an auditor runs with a checkpoint they kept.
//!
//! Known answers were computed outside this crate: the signature and the public key's PEM with
//! OpenSSL 3.0 (`openssl pkeyutl -sign -rawin` over the body, with the PKCS#8 key of seed 0x42 × 32),
//! the key id and the note lines with Python's `hashlib` and `base64`.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use ledger_schemas::checkpoint::{
    Checkpoint, CheckpointError, ExtensionError, KeyError, KeyId, LogSigningKey, LogVerifyingKey,
    Origin, signed_message, verify_extends,
};
use ledger_schemas::integrity::Digest;
use ledger_schemas::merkle::{ConsistencyProof, MerkleTree, ProofError};

const ORIGIN: &str = "ledger.example.org/ledger/1";
const SEED: [u8; 32] = [0x42; 32];
/// The body of the checkpoint of the 7-event tree of `tests/merkle.rs` (events 0x00…, 0x01…, …).
const BODY: &str = "ledger.example.org/ledger/1\n7\ncxiIHEH848HeNkDfjowRDJP0P2hrdCBKnRrVuMccIEc=\n2025-03-01T08:00:00.000000Z\n";
/// OpenSSL's Ed25519 signature of `BODY` under `SEED`.
const SIGNATURE_HEX: &str = "38553ef14bb70f0d6de599f07950ced046145cdaed86a2eafed2ec99257fa3a973771fb2707b4f52e2f58fe9148f4d28d54a2f083973e88242575c391f88ee05";
const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAIVL40Zt5HSRFMkLhXy6rbLfP+ntqXtMAl5YOBpiB2xI=\n-----END PUBLIC KEY-----\n";
const VERIFIER: &str =
    "ledger.example.org/ledger/1+13fcdd04+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS";
const SIGNATURE_LINE: &str = "\u{2014} ledger.example.org/ledger/1 E/zdBDhVPvFLtw8NbeWZ8HlQztBGFFza7Yai6v7S7Jklf6Opc3cfsnB7T1Li9Y/pFI9NKNVKLwg5c+iCQldcOR+I7gU=\n";

fn origin() -> Origin {
    Origin::new(ORIGIN).unwrap()
}

fn key() -> LogSigningKey {
    LogSigningKey::from_seed(origin(), &SEED)
}

fn other_key() -> LogSigningKey {
    LogSigningKey::from_seed(origin(), &[0x43; 32])
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn seven_events() -> MerkleTree {
    let events: Vec<Digest> = (0..7u8).map(|i| Digest([i; 32])).collect();
    MerkleTree::from_event_hashes(&events)
}

fn tree(n: u64, salt: u8) -> MerkleTree {
    let events: Vec<Digest> = (0..n).map(|i| Digest([salt ^ (i as u8); 32])).collect();
    MerkleTree::from_event_hashes(&events)
}

fn checkpoint_of(
    tree: &MerkleTree,
    size: u64,
    key: &LogSigningKey,
    time: DateTime<Utc>,
) -> Checkpoint {
    Checkpoint::sign(key, size, tree.root(size).unwrap(), time)
}

/// The signed message, the signature, the key id, the key's text forms and the whole note match
/// values computed independently with OpenSSL and Python, byte for byte.
#[test]
fn checkpoint_matches_independently_computed_known_answers() {
    let tree = seven_events();
    let checkpoint = Checkpoint::sign(&key(), 7, tree.current_root(), at(0));
    assert_eq!(checkpoint.signed_message(), BODY);
    assert_eq!(
        signed_message(&origin(), 7, &tree.current_root(), &at(0)),
        BODY
    );
    assert_eq!(hex::encode(checkpoint.signature().0), SIGNATURE_HEX);
    assert_eq!(checkpoint.key_id().to_hex(), "13fcdd04");
    assert_eq!(checkpoint.to_note(), format!("{BODY}\n{SIGNATURE_LINE}"));

    let public = key().verifying_key();
    assert_eq!(public.to_pem(), PEM);
    assert_eq!(public.to_note_verifier(), VERIFIER);
    assert_eq!(
        hex::encode(public.to_bytes()),
        "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12"
    );
}

/// A signed checkpoint verifies with the ledger's public key, also after a round trip through its
/// note text and through JSON; the JSON has the documented fields in hex.
#[test]
fn sign_verify_round_trips() {
    let key = key();
    let public = key.verifying_key();
    let checkpoint = Checkpoint::sign(&key, 7, seven_events().current_root(), at(0));
    assert_eq!(checkpoint.verify(&public), Ok(()));

    let from_note = Checkpoint::from_note(&checkpoint.to_note()).unwrap();
    assert_eq!(from_note, checkpoint);
    assert_eq!(from_note.verify(&public), Ok(()));

    let json = serde_json::to_value(&checkpoint).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "origin": ORIGIN,
            "tree_size": 7,
            "root_hash": "7318881c41fce3c1de3640df8e8c110c93f43f686b74204a9d1ad5b8c71c2047",
            "timestamp": "2025-03-01T08:00:00.000000Z",
            "key_id": "13fcdd04",
            "signature": SIGNATURE_HEX,
        })
    );
    let back: Checkpoint = serde_json::from_value(json).unwrap();
    assert_eq!(back, checkpoint);
    assert_eq!(back.verify(&public), Ok(()));
}

/// A checkpoint signed under a schedule carries it as a fifth body line, `every N`, covered by the
/// signature: it round-trips through its note and JSON, and a note whose schedule was changed (or
/// dropped, or spelled another way) is refused, by its signature or as malformed.
#[test]
fn the_schedule_line_is_signed_and_round_trips() {
    let key = key();
    let public = key.verifying_key();
    let every = std::num::NonZeroU64::new(1000).unwrap();
    let checkpoint =
        Checkpoint::sign_scheduled(&key, 7, seven_events().current_root(), at(0), every);
    assert_eq!(checkpoint.schedule(), Some(every));
    assert_eq!(checkpoint.signed_message(), format!("{BODY}every 1000\n"));
    assert_eq!(checkpoint.verify(&public), Ok(()));
    let note = checkpoint.to_note();
    let back = Checkpoint::from_note(&note).unwrap();
    assert_eq!(back, checkpoint);
    let json = serde_json::to_value(&checkpoint).unwrap();
    assert_eq!(json["every"], 1000);
    assert_eq!(
        serde_json::from_value::<Checkpoint>(json).unwrap(),
        checkpoint
    );
    // Without a schedule there is no such field: four-line notes read as before.
    let plain = Checkpoint::sign(&key, 7, seven_events().current_root(), at(0));
    assert_eq!(plain.schedule(), None);
    assert!(serde_json::to_value(&plain).unwrap().get("every").is_none());

    let changed = note.replacen("every 1000\n", "every 10\n", 1);
    assert!(matches!(
        Checkpoint::from_note(&changed).unwrap().verify(&public),
        Err(CheckpointError::BadSignature { tree_size: 7, .. })
    ));
    let dropped = note.replacen("every 1000\n", "", 1);
    assert!(matches!(
        Checkpoint::from_note(&dropped).unwrap().verify(&public),
        Err(CheckpointError::BadSignature { .. })
    ));
    for bad in [
        "every 0",
        "every 01000",
        "every  1000",
        "every -5",
        "each 1000",
        "every 1e3",
    ] {
        let text = note.replacen("every 1000", bad, 1);
        let error = Checkpoint::from_note(&text).unwrap_err();
        assert!(
            matches!(&error, CheckpointError::MalformedNote { why } if why.contains("fifth line")),
            "{bad}: {error}"
        );
    }
}

/// Times are signed to the microsecond: a time with nanoseconds is truncated, and the checkpoint
/// still verifies after a round trip.
#[test]
fn timestamps_are_truncated_to_the_microsecond() {
    let time = at(0) + Duration::nanoseconds(123_456_789);
    let checkpoint = Checkpoint::sign(&key(), 7, seven_events().current_root(), time);
    assert_eq!(
        checkpoint.timestamp(),
        at(0) + Duration::microseconds(123_456)
    );
    assert!(checkpoint.signed_message().ends_with("08:00:00.123456Z\n"));
    let back = Checkpoint::from_note(&checkpoint.to_note()).unwrap();
    assert_eq!(back.verify(&key().verifying_key()), Ok(()));
}

/// A checkpoint re-signed with another key is refused, and the message says it was signed by
/// another key and names the checkpoint's size; with the key id forged to the ledger's, the
/// signature itself is refused.
#[test]
fn a_checkpoint_signed_with_another_key_is_refused() {
    let public = key().verifying_key();
    let forged = Checkpoint::sign(&other_key(), 7, seven_events().current_root(), at(0));
    let error = forged.verify(&public).unwrap_err();
    assert_eq!(
        error,
        CheckpointError::KeyIdMismatch {
            tree_size: 7,
            found: other_key().key_id(),
            expected: public.key_id(),
        }
    );
    let message = error.to_string();
    assert!(
        message.starts_with("大小为 7 的检查点由另一把密钥"),
        "{message}"
    );
    assert!(message.contains("signed by key"), "{message}");

    let mut json = serde_json::to_value(&forged).unwrap();
    json["key_id"] = public.key_id().to_hex().into();
    let forged: Checkpoint = serde_json::from_value(json).unwrap();
    assert_eq!(
        forged.verify(&public),
        Err(CheckpointError::BadSignature {
            tree_size: 7,
            key_id: public.key_id()
        })
    );
}

/// Changing the size, the root or the time of a signed checkpoint makes its signature fail, and the
/// error names the (changed) size.
#[test]
fn a_changed_field_is_refused() {
    let public = key().verifying_key();
    let checkpoint = Checkpoint::sign(&key(), 7, seven_events().current_root(), at(0));
    let original = serde_json::to_value(&checkpoint).unwrap();
    let changes: [(&str, serde_json::Value); 3] = [
        ("tree_size", 8.into()),
        (
            "root_hash",
            "7318881c41fce3c1de3640df8e8c110c93f43f686b74204a9d1ad5b8c71c2048".into(),
        ),
        ("timestamp", "2025-03-01T07:59:59.000000Z".into()),
    ];
    for (field, value) in changes {
        let mut json = original.clone();
        json[field] = value;
        let changed: Checkpoint = serde_json::from_value(json).unwrap();
        let error = changed.verify(&public).unwrap_err();
        assert!(
            matches!(error, CheckpointError::BadSignature { tree_size, .. } if tree_size == changed.tree_size()),
            "{field}: {error}"
        );
        assert!(error.to_string().contains("签名无效"), "{error}");
    }
}

/// Changing any one byte of a signed note, anywhere in the body or the signature line, is refused:
/// either the note no longer reads as a checkpoint, or its signature fails.
#[test]
fn a_changed_byte_anywhere_in_the_note_is_refused() {
    let public = key().verifying_key();
    let note = Checkpoint::sign(&key(), 7, seven_events().current_root(), at(0)).to_note();
    let mut accepted_changes = 0;
    let mut parsed_but_refused = 0;
    for i in 0..note.len() {
        for replacement in [
            b'0', b'1', b'9', b'A', b'a', b'Z', b'+', b'/', b'.', b'\n', b' ',
        ] {
            let mut bytes = note.clone().into_bytes();
            if bytes[i] == replacement {
                continue;
            }
            bytes[i] = replacement;
            let Ok(changed) = String::from_utf8(bytes) else {
                continue;
            };
            match Checkpoint::from_note(&changed) {
                Err(_) => {}
                Ok(checkpoint) => match checkpoint.verify(&public) {
                    Ok(()) => accepted_changes += 1,
                    Err(_) => parsed_but_refused += 1,
                },
            }
        }
    }
    assert_eq!(accepted_changes, 0);
    assert!(
        parsed_but_refused > 100,
        "the loop reached the signature check"
    );
}

/// A checkpoint of another log is refused by this log's key, naming both logs.
#[test]
fn a_checkpoint_of_another_log_is_refused() {
    let elsewhere = LogSigningKey::from_seed(Origin::new("other.example/ledger").unwrap(), &SEED);
    let checkpoint = Checkpoint::sign(&elsewhere, 3, tree(3, 0).current_root(), at(0));
    let error = checkpoint.verify(&key().verifying_key()).unwrap_err();
    assert!(matches!(
        error,
        CheckpointError::WrongLog { tree_size: 3, .. }
    ));
    assert!(
        error.to_string().contains("other.example/ledger"),
        "{error}"
    );
}

/// Notes that are not exactly in the canonical form are refused, saying what is wrong.
#[test]
fn malformed_notes_are_refused() {
    let note = Checkpoint::sign(&key(), 7, seven_events().current_root(), at(0)).to_note();
    let cases = [
        ("no signature", BODY.to_owned()),
        ("no blank line", note.replacen("Z\n\n", "Z\n", 1)),
        ("leading zero", note.replacen("\n7\n", "\n07\n", 1)),
        ("signed size", note.replacen("\n7\n", "\n+7\n", 1)),
        ("seconds only", note.replacen(".000000Z", "Z", 1)),
        ("extra body line", note.replacen("Z\n\n", "Z\nextra\n\n", 1)),
        ("two signatures", format!("{note}{SIGNATURE_LINE}")),
        (
            "other signer name",
            note.replacen(
                "\u{2014} ledger.example.org/ledger/1 ",
                "\u{2014} someone ",
                1,
            ),
        ),
        ("hyphen for em dash", note.replacen('\u{2014}', "--", 1)),
        ("no final newline", note.trim_end().to_owned()),
        ("carriage returns", note.replace('\n', "\r\n")),
        ("short signature", note.replacen("E/zd", "", 1)),
    ];
    for (what, text) in cases {
        assert!(
            matches!(
                Checkpoint::from_note(&text),
                Err(CheckpointError::MalformedNote { .. })
            ),
            "{what} was accepted"
        );
    }
    let error = Checkpoint::from_note(&note.replacen("\n7\n", "\n07\n", 1)).unwrap_err();
    assert!(error.to_string().contains("\"07\""), "{error}");
}

/// Public keys round-trip through PEM and the signed-note verifier form; a verifier key whose stated
/// id does not match, a key of another algorithm, a small-order key and a private key in PEM are
/// refused.
#[test]
fn public_keys_round_trip_and_bad_keys_are_refused() {
    let public = key().verifying_key();
    assert_eq!(LogVerifyingKey::from_pem(origin(), PEM).unwrap(), public);
    assert_eq!(
        LogVerifyingKey::from_pem(origin(), &format!("\n  {PEM}\n")).unwrap(),
        public
    );
    assert_eq!(
        LogVerifyingKey::from_note_verifier(VERIFIER).unwrap(),
        public
    );
    assert_eq!(
        LogVerifyingKey::from_note_verifier(&format!("{VERIFIER}\n")).unwrap(),
        public
    );

    assert!(matches!(
        LogVerifyingKey::from_note_verifier(&VERIFIER.replace("13fcdd04", "13fcdd05")),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    assert!(matches!(
        LogVerifyingKey::from_note_verifier(&VERIFIER.replace("13fcdd04", "13FCDD04")),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    // The same key under another name hashes to another id.
    assert!(matches!(
        LogVerifyingKey::from_note_verifier(&VERIFIER.replace("ledger/1", "ledger/2")),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    // Algorithm byte 0x02 instead of 0x01: "AS…" becomes "Ai…".
    assert!(matches!(
        LogVerifyingKey::from_note_verifier(&VERIFIER.replace("+ASFS", "+AiFS")),
        Err(KeyError::Malformed { .. })
    ));
    assert!(matches!(
        LogVerifyingKey::from_note_verifier("no-plus-signs"),
        Err(KeyError::Malformed { .. })
    ));
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        LogVerifyingKey::from_bytes(origin(), &identity),
        Err(KeyError::InvalidPublicKey)
    );
    let private_pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC\n-----END PRIVATE KEY-----\n";
    assert!(matches!(
        LogVerifyingKey::from_pem(origin(), private_pem),
        Err(KeyError::Malformed { .. })
    ));
}

/// The signing key round-trips through its signer text, keeps its seed, and does not show the seed
/// in `Debug`.
#[test]
fn signing_keys_round_trip_and_hide_their_secret() {
    let key = key();
    let text = key.to_note_signer();
    assert_eq!(
        text,
        "PRIVATE+KEY+ledger.example.org/ledger/1+13fcdd04+AUJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
    );
    let back = LogSigningKey::from_note_signer(&text).unwrap();
    assert_eq!(back.seed(), SEED);
    assert_eq!(back.verifying_key(), key.verifying_key());
    let debug = format!("{key:?}");
    assert!(
        debug.contains("13fcdd04") && !debug.contains("4242"),
        "{debug}"
    );
    assert!(matches!(
        LogSigningKey::from_note_signer(VERIFIER),
        Err(KeyError::Malformed { .. })
    ));
}

/// Log names are non-empty and free of whitespace, '+' and control characters, so that they fit on
/// the first line of a note and in a key's text form.
#[test]
fn origins_are_validated() {
    for good in [ORIGIN, "账本.example/考核", "x"] {
        assert!(Origin::new(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "has space",
        "a+b",
        "tab\there",
        "new\nline",
        "nbsp\u{a0}",
    ] {
        assert!(Origin::new(bad).is_err(), "{bad:?}");
    }
    assert!(serde_json::from_str::<Origin>("\"a b\"").is_err());
    assert!(serde_json::from_str::<KeyId>("\"13fcdd0\"").is_err());
}

/// An auditor's kept checkpoint is extended by a newer checkpoint of the same log with a valid
/// consistency proof, and by one of the same size and root.
#[test]
fn a_grown_log_extends_the_kept_checkpoint() {
    let key = key();
    let log = tree(50, 0);
    let kept = checkpoint_of(&log, 20, &key, at(0));
    let newer = checkpoint_of(&log, 50, &key, at(10));
    let proof = log.consistency_proof(20, 50).unwrap();
    assert_eq!(
        verify_extends(&kept, &newer, &proof, &key.verifying_key()),
        Ok(())
    );

    let again = checkpoint_of(&log, 20, &key, at(5));
    let none = log.consistency_proof(20, 20).unwrap();
    assert_eq!(
        verify_extends(&kept, &again, &none, &key.verifying_key()),
        Ok(())
    );
}

/// A ledger replaced by an older copy (or truncated) signs a smaller checkpoint than the kept one:
/// that is named a rollback, with both sizes.
#[test]
fn a_rollback_is_detected_and_named() {
    let key = key();
    let log = tree(50, 0);
    let kept = checkpoint_of(&log, 50, &key, at(10));
    let older_copy = checkpoint_of(&log, 30, &key, at(20));
    let proof = log.consistency_proof(30, 50).unwrap();
    let error = verify_extends(&kept, &older_copy, &proof, &key.verifying_key()).unwrap_err();
    assert_eq!(
        error,
        ExtensionError::Rollback {
            kept_size: 50,
            kept_time: at(10),
            newer_size: 30
        }
    );
    let message = error.to_string();
    assert!(message.starts_with("回滚"), "{message}");
    assert!(
        message.contains("rollback: the newer checkpoint covers 30 events, fewer than the 50"),
        "{message}"
    );
}

/// A rewritten ledger is detected: at the same size the roots differ (a fork); at a larger size the
/// consistency proof from the rewritten log does not lead to the kept root.
#[test]
fn a_fork_or_rewrite_is_detected() {
    let key = key();
    let public = key.verifying_key();
    let honest = tree(50, 0);
    let rewritten = tree(60, 0x80);
    let kept = checkpoint_of(&honest, 20, &key, at(0));

    let same_size = checkpoint_of(&rewritten, 20, &key, at(5));
    let none = rewritten.consistency_proof(20, 20).unwrap();
    assert!(matches!(
        verify_extends(&kept, &same_size, &none, &public),
        Err(ExtensionError::Fork { size: 20, .. })
    ));

    let newer = checkpoint_of(&rewritten, 60, &key, at(5));
    let proof = rewritten.consistency_proof(20, 60).unwrap();
    let error = verify_extends(&kept, &newer, &proof, &public).unwrap_err();
    assert!(
        matches!(
            error,
            ExtensionError::Inconsistent {
                kept_size: 20,
                newer_size: 60,
                reason: ProofError::OldRootMismatch { .. } | ProofError::NewRootMismatch { .. }
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("does not extend the kept log of size 20"),
        "{error}"
    );

    // A proof for other sizes is refused before any hashing.
    let wrong = honest.consistency_proof(10, 50).unwrap();
    let newer_honest = checkpoint_of(&honest, 50, &key, at(5));
    assert!(matches!(
        verify_extends(&kept, &newer_honest, &wrong, &public),
        Err(ExtensionError::ProofForOtherSizes { proof_old: 10, .. })
    ));
    // A tampered honest proof is refused too.
    let mut tampered: ConsistencyProof = honest.consistency_proof(20, 50).unwrap();
    tampered.path[0].0[0] ^= 1;
    assert!(matches!(
        verify_extends(&kept, &newer_honest, &tampered, &public),
        Err(ExtensionError::Inconsistent { .. })
    ));
}

/// A newer checkpoint dated before the kept one, or signed by another key, does not extend it.
#[test]
fn a_backdated_or_foreign_newer_checkpoint_is_refused() {
    let key = key();
    let log = tree(50, 0);
    let kept = checkpoint_of(&log, 20, &key, at(10));
    let proof = log.consistency_proof(20, 50).unwrap();

    let backdated = checkpoint_of(&log, 50, &key, at(5));
    assert!(matches!(
        verify_extends(&kept, &backdated, &proof, &key.verifying_key()),
        Err(ExtensionError::TimeWentBackwards {
            kept_size: 20,
            newer_size: 50,
            ..
        })
    ));

    let foreign = checkpoint_of(&log, 50, &other_key(), at(20));
    let error = verify_extends(&kept, &foreign, &proof, &key.verifying_key()).unwrap_err();
    assert!(matches!(
        error,
        ExtensionError::NewerCheckpoint(CheckpointError::KeyIdMismatch { tree_size: 50, .. })
    ));
    let message = error.to_string();
    assert!(message.starts_with("新检查点无效"), "{message}");
    assert!(message.contains("is signed by key"), "{message}");
}

/// The key id is the C2SP key hash of the origin and the public key: the same key under another
/// origin has another id.
#[test]
fn key_ids_depend_on_origin_and_key() {
    let public = key().verifying_key();
    assert_eq!(
        KeyId::derive(&origin(), &public.to_bytes()),
        public.key_id()
    );
    let renamed = KeyId::derive(
        &Origin::new("ledger.example.org/ledger/2").unwrap(),
        &public.to_bytes(),
    );
    assert_ne!(renamed, public.key_id());
    assert_ne!(other_key().key_id(), public.key_id());
}

proptest::proptest! {
    /// Reading a note never panics, whatever the text: arbitrary strings, and a real note with a
    /// random slice replaced by arbitrary text. Whatever it accepts is the canonical form of what it
    /// read.
    #[test]
    fn reading_any_text_as_a_note_never_panics(
        text in "\\PC*",
        start in 0usize..200,
        len in 0usize..20,
        insert in "(\\PC|\n){0,12}",
    ) {
        if let Ok(checkpoint) = Checkpoint::from_note(&text) {
            proptest::prop_assert_eq!(checkpoint.to_note(), text);
        }
        let note = Checkpoint::sign(&key(), 7, seven_events().current_root(), at(0)).to_note();
        let chars: Vec<char> = note.chars().collect();
        let start = start.min(chars.len());
        let end = (start + len).min(chars.len());
        let changed: String = chars[..start]
            .iter()
            .chain(insert.chars().collect::<Vec<_>>().iter())
            .chain(&chars[end..])
            .collect();
        if let Ok(checkpoint) = Checkpoint::from_note(&changed) {
            proptest::prop_assert_eq!(checkpoint.to_note(), changed.clone());
            if changed != note {
                proptest::prop_assert!(checkpoint.verify(&key().verifying_key()).is_err());
            }
        }
    }
}
