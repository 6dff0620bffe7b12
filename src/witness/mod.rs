//! Witnesses (issue 21): parties outside the operator's control that cosign the ledger's
//! checkpoints only when shown that each extends the last one they cosigned, so that no insider
//! with the file and the key can rewrite history, or show two histories, unnoticed.
//!
//! - [`state`]: the witness itself: the C2SP tlog-witness decision and its durable state;
//! - [`server`]: its HTTP routes (`ledger witness serve`);
//! - [`client`]: the ledger's side: each newly signed checkpoint sent to the configured witnesses
//!   from a background task, the cosignatures kept beside the checkpoint;
//! - [`verify`]: which checkpoints a quorum of trusted witnesses cosigned, and what the log still
//!   matches (`ledger verify --witness-key`, the HTTP checkpoint views);
//! - [`watch`]: `ledger audit watch`, the auditor that polls a server and keeps its own state.
//!
//! The format (keys, cosignature lines, signed notes) is `ledger_schemas::cosignature`.

pub mod client;
pub mod server;
pub mod state;
pub mod verify;
pub mod watch;

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use ledger_schemas::checkpoint::Origin;
use ledger_schemas::cosignature::{WitnessSigningKey, WitnessVerifyingKey};

/// Creates a witness key named `name` in a new file `path` (mode 0600; an existing file is never
/// replaced) and returns it.
pub fn keygen(name: &str, path: &Path) -> anyhow::Result<WitnessSigningKey> {
    let name = Origin::new(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        anyhow::anyhow!("无法取得系统随机数 (cannot get the operating system's randomness): {e}")
    })?;
    let key = WitnessSigningKey::from_seed(name, &seed);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "无法创建见证人密钥 {0}（已存在则不覆盖） (cannot create the witness key {0}; an existing one is never replaced)",
            path.display()
        )
    })?;
    writeln!(file, "{}", key.to_signer_text())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("无法写入 {0} (cannot write {0})", path.display()))?;
    Ok(key)
}

/// Reads a witness key file written by [`keygen`].
pub fn load_key(path: &Path) -> anyhow::Result<WitnessSigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "无法读取见证人密钥 {0} (cannot read the witness key {0})",
            path.display()
        )
    })?;
    WitnessSigningKey::from_signer_text(&text).with_context(|| {
        format!(
            "{0} 不是见证人密钥 ({0} is not a witness key)",
            path.display()
        )
    })
}

/// One witness the ledger sends its checkpoints to: its URL prefix (`http://host:port`, the
/// routes are `<prefix>/add-checkpoint`) and its verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessTarget {
    pub url: String,
    pub key: WitnessVerifyingKey,
}

impl std::str::FromStr for WitnessTarget {
    type Err = String;

    /// `URL=VKEY`, as `ledger serve --witness` takes it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (url, vkey) = text.split_once('=').ok_or_else(|| {
            format!("应为 URL=见证人公钥 (expected URL=VKEY, the witness's verifier key): {text:?}")
        })?;
        if !url.starts_with("http://") {
            return Err(format!(
                "见证人地址须以 http:// 开头 (the witness URL must start with http://): {url:?}"
            ));
        }
        let key = WitnessVerifyingKey::from_vkey(vkey).map_err(|e| e.to_string())?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            key,
        })
    }
}

/// The witnesses a ledger sends to, and how many cosignatures make a checkpoint witnessed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Witnessing {
    pub witnesses: Vec<WitnessTarget>,
    pub quorum: usize,
}

impl Witnessing {
    pub fn keys(&self) -> Vec<WitnessVerifyingKey> {
        self.witnesses.iter().map(|w| w.key.clone()).collect()
    }
}

/// Reads a witness verifier key given as the key text or as a file holding it.
pub fn parse_witness_key(text: &str) -> anyhow::Result<WitnessVerifyingKey> {
    let from_file = Path::new(text).is_file();
    let vkey = if from_file {
        std::fs::read_to_string(text).with_context(|| format!("cannot read {text}"))?
    } else {
        text.to_owned()
    };
    WitnessVerifyingKey::from_vkey(&vkey)
        .map_err(|e| anyhow::anyhow!("见证人公钥无效 (invalid witness key) {text:?}: {e}"))
}
