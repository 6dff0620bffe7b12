//! `ledger witness keygen` and `ledger witness serve`: run a witness (C2SP tlog-witness) for
//! ledgers one does not operate. The work is in [`crate::witness`]; this module parses and calls.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;

use crate::witness;

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// 生成见证人密钥 Create a witness key in a new file (0600) and print its verifier key, which
    /// the ledger's operators (`ledger serve --witness URL=VKEY`) and auditors
    /// (`--witness-key VKEY`) are given.
    Keygen {
        /// 见证人名称 The witness's name, e.g. `jiwei.example.org/witness1` (no spaces or `+`).
        #[arg(long)]
        name: String,
        /// 密钥文件 Where to write the private key (never overwritten).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// 运行见证人 Serve `POST /add-checkpoint` (C2SP tlog-witness) and `GET /latest?origin=`
    /// until Ctrl-C or SIGTERM: cosign each checkpoint of a trusted log that extends the last one
    /// cosigned; refuse (and record in STATE.refused.jsonl) forks, rollbacks and bad proofs.
    Serve {
        /// 监听地址 The address and port to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// 见证人密钥 The key file from `ledger witness keygen`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// 状态文件 Where the latest cosigned checkpoint of each log is kept (JSON, replaced
        /// atomically; created if absent).
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// 日志公钥 A trusted log's verifier key (`ledger audit public-key`'s last line, or a file
        /// holding it); repeatable.
        #[arg(long = "log-key", value_name = "VKEY", required = true)]
        log_keys: Vec<String>,
    },
}

pub fn run(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Keygen { name, key } => {
            let key = witness::keygen(&name, &key)?;
            println!("{}", key.verifying_key().to_vkey());
            Ok(())
        }
        WitnessCommand::Serve {
            listen,
            key,
            state,
            log_keys,
        } => {
            let key = witness::load_key(&key)?;
            let log_keys = log_keys
                .iter()
                .map(|text| {
                    let text = if std::path::Path::new(text).is_file() {
                        std::fs::read_to_string(text)
                            .with_context(|| format!("cannot read {text}"))?
                    } else {
                        text.clone()
                    };
                    crate::audit::parse_public_key(&text).map_err(|e| {
                        anyhow::anyhow!("日志公钥无效 (invalid log key) {text:?}: {e}")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let witness = Arc::new(witness::state::Witness::open(key, log_keys, &state)?);
            let rt = super::runtime()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("无法监听 (cannot listen on) {listen}"))?;
                println!(
                    "见证人 {} 正在监听 witness listening on http://{}",
                    witness.key().verifying_key().to_vkey(),
                    listener.local_addr()?
                );
                witness::server::serve(listener, witness, super::serve::shutdown_signal())
                    .await
                    .context("见证人服务失败 (the witness server failed)")
            })
        }
    }
}
