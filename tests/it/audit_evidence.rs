//! Evidence files under audit: `ledger verify` checks every file the log cites in the evidence
//! store, `ledger export --audit` carries the files (or only their list) into the bundle, and
//! `ledger verify --bundle` checks them offline. The fixture is the demo, whose self-assessment,
//! appeal and rectification cite five files.

use std::path::{Path, PathBuf};

use ledger::evidence::FolderStore;
use ledger_schemas::integrity::Digest;

use crate::cli_support::{demo_copy, json, ledger, ok, shared_demo, stderr, stdout};
use crate::store_support::temp_ledger;

/// The demo's cited file named `name`: its digest and where the folder beside `path` keeps it.
fn demo_file(path: &Path, name: &str) -> (Digest, PathBuf) {
    let file = shared_demo().summary["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("the demo cites {name}"))
        .clone();
    let digest = Digest::from_hex(file["sha256"].as_str().unwrap()).unwrap();
    (digest, FolderStore::beside(path).path_of(&digest))
}

const SIGN_IN: &str = "签到表-2026年9月.png";
const MAKE_UP_MINUTES: &str = "整改补开支委会会议记录.pdf";

fn export(path: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["export", "--audit", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    ledger(path, &args)
}

fn verify_bundle(dir: &Path) -> std::process::Output {
    ledger(
        Path::new("/nonexistent/ledger.db"),
        &["verify", "--json", "--bundle", dir.to_str().unwrap()],
    )
}

fn bundle_faults(out: &std::process::Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["report"]["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

/// Replaces a bundle file and its manifest line, as someone covering their tracks would, so that
/// only the evidence checks can catch the change.
fn rewrite(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"][name] = ledger::audit::bundle::sha256_hex(bytes).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
}

/// The demo's five cited files verify (count and bytes reported, in JSON and in words), are all
/// missing from another `--evidence-dir`, and a ledger that cites no file verifies with zero files
/// checked.
#[test]
fn verify_checks_the_demo_files_and_a_ledger_without_any() {
    let demo = shared_demo();
    let files = demo.summary["evidence"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    let bytes: u64 = files.iter().map(|f| f["size"].as_u64().unwrap()).sum();
    let report = json(&ledger(&demo.path, &["verify", "--json"]));
    assert_eq!(report["passed"], true, "{report}");
    let evidence = &report["evidence"];
    assert_eq!(
        (
            &evidence["files"],
            &evidence["citations"],
            &evidence["bytes"]
        ),
        (&5.into(), &5.into(), &bytes.into()),
        "{evidence}"
    );
    let text = stdout(ok(&ledger(&demo.path, &["verify"])));
    assert!(
        text.contains(&format!("5 files cited 5 times, {bytes} bytes hashed")),
        "{text}"
    );

    // `--evidence-dir` names another folder: there, every cited file is missing.
    let empty = temp_ledger();
    let elsewhere = empty.dir.path().join("elsewhere");
    let out = ledger(
        &demo.path,
        &[
            "verify",
            "--json",
            "--evidence-dir",
            elsewhere.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let faults = report["evidence"]["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 5);
    assert!(
        faults.iter().all(|f| f["problem"] == "missing"),
        "{faults:?}"
    );

    ok(&ledger(&empty.path, &["init"]));
    let report = json(&ledger(&empty.path, &["verify", "--json"]));
    assert_eq!(report["passed"], true);
    assert_eq!(report["evidence"]["files"], 0);
}

/// A cited file altered on disk and another deleted: verify fails, naming for each the citing event
/// (position, stream, type, recorded time) and the file (name, SHA-256), the altered one with the
/// digest its bytes have now. Export then refuses to write a bundle with those files, leaving the
/// directory empty, while `--evidence list` still exports their list.
#[test]
fn an_altered_and_a_missing_file_are_named_with_their_events() {
    let (dir, path) = demo_copy();
    let (sign_in, sign_in_path) = demo_file(&path, SIGN_IN);
    let (minutes, minutes_path) = demo_file(&path, MAKE_UP_MINUTES);
    let forged = b"\x89PNG not the sheet that was signed";
    std::fs::write(&sign_in_path, forged).unwrap();
    std::fs::remove_file(&minutes_path).unwrap();

    let out = ledger(&path, &["verify", "--json"]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let faults = report["evidence"]["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2, "{faults:?}");
    let altered = faults.iter().find(|f| f["problem"] == "altered").unwrap();
    assert_eq!(altered["event_type"], "SelfAssessmentRecorded");
    assert_eq!(altered["file"]["sha256"], sign_in.to_hex());
    assert_eq!(
        altered["actual"],
        ledger::evidence::digest(forged).to_hex(),
        "the digest the bytes have now"
    );
    let missing = faults.iter().find(|f| f["problem"] == "missing").unwrap();
    assert_eq!(missing["event_type"], "RectificationSubmitted");
    assert_eq!(missing["stream"], "rectification-ZG-2026Q3-01");
    assert_eq!(missing["file"]["name"], MAKE_UP_MINUTES);
    assert!(missing["position"].as_u64().unwrap() > 0);
    assert!(missing["recorded_at"].is_string());

    // In words, on standard output, with the exit status and the one-line reason.
    let out = ledger(&path, &["verify"]);
    assert!(!out.status.success());
    let text = stdout(&out);
    let position = missing["position"].as_u64().unwrap();
    assert!(
        text.contains(&format!(
            "event at position {position}, RectificationSubmitted (stream rectification-ZG-2026Q3-01"
        )) && text.contains(&format!("{MAKE_UP_MINUTES}” (sha256 {minutes})"))
            && text.contains("is missing"),
        "{text}"
    );
    assert!(
        text.contains("was altered") && text.contains(&ledger::evidence::digest(forged).to_hex()),
        "{text}"
    );
    assert!(
        stderr(&out).contains("verification FAILED (2"),
        "{}",
        stderr(&out)
    );

    // Export refuses the files it cannot vouch for, and writes nothing.
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    let out = export(&path, &bundle, &[]);
    assert!(!out.status.success());
    let why = stderr(&out);
    assert!(
        why.contains(SIGN_IN) || why.contains(MAKE_UP_MINUTES),
        "the refusal names a file: {why}"
    );
    assert!(
        why.contains("--evidence list"),
        "and says what to do: {why}"
    );
    assert_eq!(
        std::fs::read_dir(&bundle).unwrap().count(),
        0,
        "nothing half-written"
    );

    // Only the list: the bundle says so, verifies, and a list edited to match another file is named.
    let out = export(&path, &bundle, &["--evidence", "list"]);
    assert!(
        stdout(ok(&out)).contains("files NOT included"),
        "{}",
        stdout(&out)
    );
    assert!(!bundle.join("evidence").exists());
    let out = verify_bundle(&bundle);
    let report: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    assert_eq!(report["report"]["evidence"]["included"], false);
    assert_eq!(report["report"]["evidence"]["files"], 5);
    let text = stdout(ok(&ledger(
        Path::new("/nonexistent/ledger.db"),
        &["verify", "--bundle", bundle.to_str().unwrap()],
    )));
    assert!(text.contains("NOT included in the bundle"), "{text}");

    let mut list: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("evidence.json")).unwrap()).unwrap();
    list["citations"][0]["file"]["sha256"] = Digest::ZERO.to_hex().into();
    rewrite(
        &bundle,
        "evidence.json",
        serde_json::to_string(&list).unwrap().as_bytes(),
    );
    let out = verify_bundle(&bundle);
    assert!(!out.status.success());
    let faults = bundle_faults(&out);
    assert!(
        faults.iter().any(|f| f.contains("leaves out this file"))
            && faults
                .iter()
                .any(|f| f.contains("lists a citation the events do not make")),
        "{faults:?}"
    );
}

/// A bundle with the files verifies with neither the ledger, nor its key, nor its evidence folder;
/// a file in it altered (its manifest line rewritten to match) or deleted is named with the event
/// that cites it, and so is a bundle stripped of its evidence list. `ledger audit watch --bundle`
/// reads such a bundle like any other.
#[test]
fn a_bundle_with_evidence_verifies_offline_and_names_a_bad_file() {
    let (dir, path) = demo_copy();
    let bundle = dir.path().join("bundle");
    let out = export(&path, &bundle, &[]);
    assert!(
        stdout(ok(&out)).contains("files included"),
        "{}",
        stdout(&out)
    );
    let (sign_in, _) = demo_file(&path, SIGN_IN);
    let (minutes, _) = demo_file(&path, MAKE_UP_MINUTES);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["files"][format!("evidence/{sign_in}")],
        sign_in.to_hex(),
        "the manifest covers the evidence files as it covers the others"
    );
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(ledger::audit::key_path(&path)).unwrap();
    std::fs::remove_dir_all(FolderStore::beside(&path).root()).unwrap();

    let out = verify_bundle(&bundle);
    let report: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    let evidence = &report["report"]["evidence"];
    assert_eq!(evidence["included"], true);
    assert_eq!(evidence["check"]["files"], 5);
    assert_eq!(evidence["check"]["faults"].as_array().unwrap().len(), 0);

    let state = dir.path().join("watch.json");
    let watched = std::process::Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["audit", "watch", "--once", "--bundle"])
        .arg(&bundle)
        .arg("--log-key")
        .arg(bundle.join("public-key"))
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(watched.status.success(), "{}", stderr(&watched));

    rewrite(&bundle, &format!("evidence/{sign_in}"), b"another image");
    std::fs::remove_file(bundle.join(format!("evidence/{minutes}"))).unwrap();
    let out = verify_bundle(&bundle);
    assert!(!out.status.success());
    let faults = bundle_faults(&out);
    assert!(
        faults.iter().any(|f| f.contains("SelfAssessmentRecorded")
            && f.contains(SIGN_IN)
            && f.contains("was altered")),
        "{faults:?}"
    );
    assert!(
        faults.iter().any(|f| f.contains("RectificationSubmitted")
            && f.contains(MAKE_UP_MINUTES)
            && f.contains("is missing")),
        "{faults:?}"
    );

    // The list itself removed with its manifest line: the events still say files are cited.
    std::fs::remove_file(bundle.join("evidence.json")).unwrap();
    let manifest_path = bundle.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"]
        .as_object_mut()
        .unwrap()
        .remove("evidence.json");
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let faults = bundle_faults(&verify_bundle(&bundle));
    assert!(
        faults
            .iter()
            .any(|f| f.contains("cite 5 evidence files") && f.contains("no evidence.json")),
        "{faults:?}"
    );
}
