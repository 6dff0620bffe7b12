//! Helpers for the command-line tests: running the real `ledger` binary, reading its output, the
//! event count of a ledger, and one demo ledger built once (through `ledger demo --json`) for the
//! tests that only read it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Runs `ledger ARGS... --ledger PATH` with no `LEDGER_PATH` in the environment.
pub fn ledger(path: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(args)
        .arg("--ledger")
        .arg(path)
        .env_remove("LEDGER_PATH")
        .output()
        .expect("run the ledger program")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success, showing standard error otherwise.
#[track_caller]
pub fn ok(out: &Output) -> &Output {
    assert!(out.status.success(), "failed: {}", stderr(out));
    out
}

/// Asserts failure with exactly one line of reason (`错误 error: …`) on standard error, and returns
/// that line.
#[track_caller]
pub fn fails_with_one_line(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", stdout(out));
    let err = stderr(out);
    let reasons: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("错误 error:"))
        .collect();
    assert_eq!(reasons.len(), 1, "{err}");
    reasons[0].to_owned()
}

/// How many events the ledger holds (`ledger status --json`).
pub fn events(path: &Path) -> u64 {
    let out = ledger(path, &["status", "--json"]);
    let state: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    state["events"].as_u64().unwrap()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&ok(out).stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// The demo ledger shared by read-only tests, and the summary `ledger demo --json` printed.
pub struct SharedDemo {
    pub path: PathBuf,
    pub summary: serde_json::Value,
    _dir: tempfile::TempDir,
}

/// Builds the demo once per test run, under cargo's target temporary directory.
pub fn shared_demo() -> &'static SharedDemo {
    static DEMO: OnceLock<SharedDemo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let path = dir.path().join("demo.db");
        let out = ledger(&path, &["demo", "--json"]);
        let summary = json(&out);
        SharedDemo {
            path,
            summary,
            _dir: dir,
        }
    })
}

/// A private copy of the shared demo ledger (its directory: the file, its key and its evidence
/// folder), for a test that writes to it (`ledger rebuild` keeps snapshots in it).
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    fn copy_dir(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir(&target).unwrap();
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let demo = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(demo.path.parent().unwrap(), dir.path());
    let path = dir.path().join(demo.path.file_name().unwrap());
    (dir, path)
}

/// The recorded-at time (RFC 3339) and position of a demo milestone whose label starts with `prefix`.
pub fn milestone(summary: &serde_json::Value, prefix: &str) -> (String, u64) {
    let m = summary["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no milestone {prefix}"));
    (
        m["recorded_at"].as_str().unwrap().to_owned(),
        m["position"].as_u64().unwrap(),
    )
}
