//! Third-party suite: the Python client `kurrentdbclient` (pinned below, installed from PyPI into a
//! virtual environment under `target/` on first run, reused after) runs `tests/python/client_cases.py`
//! against the test server: the operations the ledger's adapter uses (single-event `Append`,
//! stream and `$all` reads, catch-up subscriptions), with the behaviours the client's own suite
//! asserts against a real server. PyPI's package carries no tests, so the cases are restated there
//! as facts; the client under test is theirs.
//!
//! Needs `python3` with `venv` (Debian: `python3-venv`, installed by `scripts/test-deps.sh`);
//! without it the suite reports itself not applicable rather than failing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PACKAGE: &str = "kurrentdbclient==1.3.5";

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin/python")
}

/// The virtual environment with the client installed, made once per target directory.
fn environment() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-kurrentdbclient-1.3.5");
    let marker = venv.join(".installed");
    if marker.is_file() {
        return Ok(venv_python(&venv));
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd
            .output()
            .map_err(|e| format!("{what}: cannot run: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(venv_python(&venv)).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PACKAGE,
        ]),
        "pip install",
    )
    .map_err(|e| format!("PIP-FAILED {e}"))?;
    std::fs::write(&marker, PACKAGE).map_err(|e| e.to_string())?;
    Ok(venv_python(&venv))
}

/// Every case of the Python client against the test server passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_cases() {
    let python = match tokio::task::spawn_blocking(environment).await.unwrap() {
        Ok(python) => python,
        Err(why) if !why.starts_with("PIP-FAILED") => {
            println!("kurrentdbclient cases: not applicable here (no python3 with venv): {why}");
            return;
        }
        Err(why) => panic!("installing {PACKAGE} from PyPI failed: {why}"),
    };
    let server = esdb_testserver::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let uri = format!("kurrentdb://{}?Tls=false", server.addr());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_cases.py");
    let child = tokio::process::Command::new(python)
        .arg(script)
        .arg(uri)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), child)
        .await
        .expect("the cases finish within 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("python client cases: 15 pass, 0 fail"),
        "{stdout}"
    );
}
