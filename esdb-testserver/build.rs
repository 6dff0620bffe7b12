//! Finds the source of the `kurrentdb` crate that the workspace's `Cargo.lock` names, so that
//! `tests/official_rust_client.rs` can compile that crate's own stream tests from the copy Cargo
//! already downloaded (they ship in the crate package): nothing of theirs is kept in this repository.
//!
//! Sets `KURRENTDB_SRC` (the crate's folder) and the cfg `kurrentdb_tests` when the tests are
//! there; otherwise the runner reports them as not applicable.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kurrentdb_tests)");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let lock = manifest.join("../Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    let Some(version) = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| locked_version(&text, "kurrentdb"))
    else {
        return;
    };
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let Some(registry) = cargo_home.map(|h| h.join("registry/src")) else {
        return;
    };
    let Ok(indexes) = std::fs::read_dir(&registry) else {
        return;
    };
    for index in indexes.flatten() {
        let dir = index.path().join(format!("kurrentdb-{version}"));
        if dir.join("tests/api/streams.rs").is_file() && dir.join("tests/common.rs").is_file() {
            println!("cargo::rustc-env=KURRENTDB_SRC={}", dir.display());
            println!("cargo::rustc-env=KURRENTDB_VERSION={version}");
            println!("cargo::rustc-cfg=kurrentdb_tests");
            return;
        }
    }
}

/// The version of `name` in a `Cargo.lock`.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_owned());
        }
    }
    None
}
