//! The evidence store's contract (issue #18), run against every backend: the folder beside the
//! ledger, and the S3-compatible store against a local S3 server (moto, from PyPI, started here).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ledger::evidence::{EvidenceStore, FileState, FolderStore, S3Config, S3Store};
use ledger_schemas::integrity::Digest;

/// Runs the contract on `store`; `tamper` replaces the stored bytes of a digest behind the store's
/// back, as an insider with access to the files would.
async fn contract<F, Fut>(store: &EvidenceStore, tamper: F)
where
    F: Fn(Digest, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Upload, then read back byte for byte.
    let minutes: Vec<u8> = "支部委员会会议记录 2026-10-12\n".repeat(300).into_bytes();
    let stored = store.put(&minutes).await.unwrap();
    assert!(stored.created);
    assert_eq!(stored.size, minutes.len() as u64);
    assert_eq!(stored.digest, ledger::evidence::digest(&minutes));
    assert_eq!(
        store.get(&stored.digest).await.unwrap(),
        Some(minutes.clone())
    );
    assert_eq!(
        store.check(&stored.digest).await.unwrap(),
        FileState::Intact {
            size: minutes.len() as u64
        }
    );

    // The same bytes again, also from several uploads at once: stored once, every call answered.
    let again = store.put(&minutes).await.unwrap();
    assert_eq!((again.digest, again.created), (stored.digest, false));
    let photo: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let uploads: Vec<_> = (0..6).map(|_| store.put(&photo)).collect();
    let results = futures_util::future::join_all(uploads).await;
    let digests: Vec<Digest> = results.into_iter().map(|r| r.unwrap().digest).collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(store.get(&digests[0]).await.unwrap(), Some(photo));

    // An empty file is a file too (the API refuses empty uploads; the store does not judge).
    let empty = store.put(b"").await.unwrap();
    assert_eq!(store.get(&empty.digest).await.unwrap(), Some(Vec::new()));

    // Unknown, then altered behind the store's back.
    let unknown = ledger::evidence::digest(b"never stored");
    assert_eq!(store.get(&unknown).await.unwrap(), None);
    assert_eq!(store.check(&unknown).await.unwrap(), FileState::Missing);
    let forged = b"forged minutes".to_vec();
    tamper(stored.digest, forged.clone()).await;
    assert_eq!(
        store.check(&stored.digest).await.unwrap(),
        FileState::Altered {
            actual: ledger::evidence::digest(&forged),
            size: forged.len() as u64
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let folder = FolderStore::beside(&dir.path().join("ledger.db"));
    assert_eq!(folder.root(), dir.path().join("ledger.db.evidence"));
    let store = EvidenceStore::Folder(folder.clone());
    let paths = folder.clone();
    contract(&store, |digest, bytes| {
        let path = paths.path_of(&digest);
        async move { std::fs::write(path, bytes).unwrap() }
    })
    .await;
    // Nothing half-written is left behind, and each file sits under its digest.
    let tmp: Vec<_> = std::fs::read_dir(folder.root().join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
    let photo = ledger::evidence::digest(
        &(0..200_000u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<_>>(),
    );
    assert!(folder.path_of(&photo).is_file());
}

/// A local S3-compatible server: moto's, from PyPI, in a virtual environment made once per target
/// directory; killed when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MOTO: &str = "moto[server]==5.2.5";

fn moto_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-moto-5.2.5");
    let python = venv.join("bin/python");
    if venv.join(".installed").is_file() {
        return python;
    }
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv (scripts/test-deps.sh installs python3-venv)",
    );
    run(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
        ]),
        "pip install moto[server] from PyPI",
    );
    std::fs::write(venv.join(".installed"), MOTO).unwrap();
    python
}

fn start_moto() -> Moto {
    let python = moto_python();
    let script = "import sys, time\n\
                  from moto.server import ThreadedMotoServer\n\
                  s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n\
                  s.start()\n\
                  print(s.get_host_and_port()[1], flush=True)\n\
                  sys.stdin.read()\n";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut line = String::new();
    use std::io::BufRead as _;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("moto printed its port");
    Moto { child, port }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_store_keeps_the_contract() {
    let moto = tokio::task::spawn_blocking(start_moto).await.unwrap();
    let config = S3Config {
        endpoint: format!("http://127.0.0.1:{}", moto.port),
        bucket: "evidence".into(),
        region: "us-east-1".into(),
        access_key: "test".into(),
        secret_key: "test".into(),
    };
    let s3 = S3Store::new(&config).unwrap();
    s3.create_bucket().await.unwrap();
    let store = EvidenceStore::S3(s3);
    // Tampering: a signed PUT of other bytes under the same name, as anyone holding the bucket's
    // keys could send.
    let bucket = rusty_s3::Bucket::new(
        config.endpoint.parse().unwrap(),
        rusty_s3::UrlStyle::Path,
        config.bucket.clone(),
        config.region.clone(),
    )
    .unwrap();
    let credentials = rusty_s3::Credentials::new("test", "test");
    contract(&store, |digest, bytes| {
        use rusty_s3::S3Action as _;
        let url = bucket
            .put_object(Some(&credentials), &format!("sha256/{}", digest.to_hex()))
            .sign(std::time::Duration::from_secs(60));
        async move {
            let reply = reqwest::Client::new()
                .put(url)
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert!(reply.status().is_success());
        }
    })
    .await;

    // A server that is not there is a clear error, not a hang or a panic.
    drop(moto);
    let gone = store.put(b"after the server stopped").await.unwrap_err();
    assert!(gone.to_string().contains("unavailable"), "{gone}");
}
