//! `ledger serve --listen ADDR:PORT --ledger FILE`: the HTTP API and the console over one ledger,
//! until Ctrl-C or SIGTERM (see [`crate::server`] for what a server does). This module only gathers
//! the settings: from a TOML file (`--config FILE`), overridden by `LEDGER_*` environment variables,
//! overridden by flags ([`crate::server::config`]); `--print-config` shows the effective settings and
//! where each came from, and exits.
//!
//! The ledger file is created if it does not exist. Nobody can call the API until a token exists:
//! the first one comes from `ledger token issue` on this machine.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::audit::auto::CheckpointPolicy;
use crate::http::ServeOptions;
use crate::http::serve::Limits;
use crate::server::config::{FileSettings, LogFormat, Resolved, resolve};
use crate::server::{ServeConfig, SnapshotPolicy, TlsFiles};

pub use crate::server::shutdown_signal;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 配置文件 A TOML file with any of the settings below (keys as the flags' names without
    /// `--`); the environment (`LEDGER_CHECKPOINT_EVERY`, ...) overrides it, and flags override both.
    #[arg(long, value_name = "FILE", env = "LEDGER_CONFIG")]
    pub config: Option<PathBuf>,
    /// 显示生效配置 Print the effective settings and where each came from, then exit.
    #[arg(long)]
    pub print_config: bool,
    /// 账本文件 The ledger file (SQLite) [default: ledger.db].
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// 监听地址 The address and port to listen on (port 0: any free port) [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// 事件存储 The event store: a KurrentDB/EventStoreDB connection string
    /// (`kurrentdb://host:2113?tls=false`, `esdb://...`); the `--ledger` file when absent.
    #[arg(long)]
    pub store: Option<String>,
    /// 自动检查点间隔 Sign a checkpoint each time the log reaches a multiple of N events (ledger
    /// files with a key, `FILE.key`, only; 0: never). Multiples reached while no server ran are
    /// signed at start [default: 1000].
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<u64>,
    /// 定时检查点 Also sign the log's head every SECONDS when it has grown since (and once more
    /// when stopping cleanly), so that few events lie past the last checkpoint (0: no timer)
    /// [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub checkpoint_interval: Option<u64>,
    /// 读模型快照间隔 Keep read-model snapshots beside the log after every N events folded (at
    /// most once every 5 minutes) and when stopping, so that the next start is quick (0: never)
    /// [default: 100000].
    #[arg(long, value_name = "N")]
    pub snapshot_every: Option<u64>,
    /// 最大连接数 Connections served at once (0: the open-file limit less a reserve, at most 4096);
    /// beyond it a connection is answered 503 and closed [default: 0].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// 单个客户端最大连接数 Connections served at once from one IP address (0: no bound but
    /// --max-connections; use 0 behind a reverse proxy, where every connection comes from it)
    /// [default: 256].
    #[arg(long, value_name = "N")]
    pub max_connections_per_client: Option<usize>,
    /// 经 HTTPS 访问 The site is reached over HTTPS (a proxy in front terminates TLS): the console's
    /// cookies are always `Secure`.
    #[arg(long)]
    pub https: bool,
    /// 证书 Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// 私钥 The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// 指标地址 Serve Prometheus metrics at `http://ADDR/metrics` on a listener of their own,
    /// without a token (keep it on a management network) [default: none].
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,
    /// 日志格式 `text` (one line a record, for people) or `json` (one object a line, for a log
    /// collector) [default: text]. Levels come from `RUST_LOG` (e.g. `RUST_LOG=info` logs every
    /// request).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// 见证人 Send each new checkpoint to this witness (C2SP tlog-witness), given as
    /// `http://HOST:PORT=VKEY` with the witness's verifier key; repeatable (in the file: `witness =
    /// ["URL=VKEY", ...]`, which the flags replace).
    #[arg(long, value_name = "URL=VKEY")]
    pub witness: Vec<crate::witness::WitnessTarget>,
    /// 见证法定数 How many of the witnesses must cosign a checkpoint for it to count as
    /// witnessed [default: all of them].
    #[arg(long, value_name = "N")]
    pub witness_quorum: Option<usize>,
    #[command(flatten)]
    pub evidence: crate::evidence::EvidenceArgs,
    /// 单个佐证材料上限 The largest evidence file accepted, in MiB.
    #[arg(
        long,
        value_name = "MIB",
        env = "LEDGER_EVIDENCE_MAX_FILE_MIB",
        default_value_t = 20
    )]
    pub evidence_max_file: u64,
    /// 每次上传或每条记录的佐证材料合计上限 The most evidence bytes one upload or one record may
    /// carry together, in MiB.
    #[arg(
        long,
        value_name = "MIB",
        env = "LEDGER_EVIDENCE_MAX_REQUEST_MIB",
        default_value_t = 50
    )]
    pub evidence_max_request: u64,
}

impl ServeArgs {
    /// The witnesses and quorum: the flags', else the configuration file's `witness` list and
    /// `witness-quorum`; the quorum defaults to all of them.
    fn witnessing(
        &self,
        file: Option<Vec<String>>,
        file_quorum: Option<usize>,
        path: &std::path::Path,
    ) -> anyhow::Result<crate::witness::Witnessing> {
        let witnesses = if self.witness.is_empty() {
            file.unwrap_or_default()
                .iter()
                .map(|w| {
                    w.parse()
                        .map_err(|e| anyhow::anyhow!("{}: witness: {e}", path.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        } else {
            self.witness.clone()
        };
        let quorum = self
            .witness_quorum
            .or(file_quorum)
            .unwrap_or(witnesses.len());
        if quorum > witnesses.len() || (quorum == 0 && !witnesses.is_empty()) {
            anyhow::bail!(
                "--witness-quorum {quorum} 须在 1 与见证人数 {} 之间 (--witness-quorum must be between 1 and the number of witnesses, {})",
                witnesses.len(),
                witnesses.len()
            );
        }
        Ok(crate::witness::Witnessing { witnesses, quorum })
    }
}

/// Every setting of `ledger serve`, resolved, each with where it came from.
#[derive(Debug)]
pub struct Effective {
    pub ledger: Resolved<PathBuf>,
    pub store: Resolved<String>,
    pub listen: Resolved<String>,
    pub checkpoint_every: Resolved<u64>,
    pub checkpoint_interval: Resolved<u64>,
    pub snapshot_every: Resolved<u64>,
    pub max_connections: Resolved<usize>,
    pub max_connections_per_client: Resolved<usize>,
    pub https: Resolved<bool>,
    /// Empty: no metrics endpoint.
    pub metrics_listen: Resolved<String>,
    /// Empty: no TLS.
    pub tls_cert: Resolved<PathBuf>,
    pub tls_key: Resolved<PathBuf>,
    pub log_format: Resolved<LogFormat>,
    /// The witnesses and quorum: the flags', else the file's (not shown by --print-config).
    pub witnessing: crate::witness::Witnessing,
    /// Where the evidence files are, and their limits (flags and environment only).
    pub evidence: crate::evidence::EvidenceArgs,
    pub evidence_limits: crate::http::evidence::EvidenceLimits,
}

impl ServeArgs {
    /// The evidence limits the flags give, checked.
    fn evidence_limits(&self) -> anyhow::Result<crate::http::evidence::EvidenceLimits> {
        const MIB: u64 = 1024 * 1024;
        let (file, request) = (self.evidence_max_file, self.evidence_max_request);
        if file == 0 || request < file || request > 4096 {
            anyhow::bail!(
                "--evidence-max-file {file} 须至少为 1, 且不大于 --evidence-max-request {request} (至多 4096) (--evidence-max-file must be at least 1 MiB and at most --evidence-max-request, which is at most 4096 MiB)"
            );
        }
        Ok(crate::http::evidence::EvidenceLimits {
            max_file: file * MIB,
            max_request: request * MIB,
        })
    }

    /// Resolves every setting from the flags, `env` (a variable lookup) and the configuration file.
    pub fn effective(&self, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Effective> {
        let file = match &self.config {
            Some(path) => FileSettings::read(path)?,
            None => FileSettings::default(),
        };
        let path = self.config.as_deref().unwrap_or(std::path::Path::new(""));
        fn from_file<T>(value: Option<T>, path: &std::path::Path) -> Option<(T, &std::path::Path)> {
            value.map(|v| (v, path))
        }
        let ledger = resolve(
            "path",
            self.ledger.clone(),
            env,
            from_file(file.ledger, path),
            PathBuf::from("ledger.db"),
        )?;
        let store = resolve(
            "store",
            self.store.clone(),
            env,
            from_file(file.store, path),
            String::new(),
        )?;
        Ok(Effective {
            store,
            listen: resolve(
                "listen",
                self.listen.clone(),
                env,
                from_file(file.listen, path),
                "127.0.0.1:8080".to_owned(),
            )?,
            checkpoint_every: resolve(
                "checkpoint-every",
                self.checkpoint_every,
                env,
                from_file(file.checkpoint_every, path),
                crate::audit::DEFAULT_EVERY,
            )?,
            checkpoint_interval: resolve(
                "checkpoint-interval",
                self.checkpoint_interval,
                env,
                from_file(file.checkpoint_interval, path),
                crate::audit::auto::DEFAULT_INTERVAL.as_secs(),
            )?,
            snapshot_every: resolve(
                "snapshot-every",
                self.snapshot_every,
                env,
                from_file(file.snapshot_every, path),
                SnapshotPolicy::default().every,
            )?,
            max_connections: resolve(
                "max-connections",
                self.max_connections,
                env,
                from_file(file.max_connections, path),
                Limits::default().max_connections,
            )?,
            max_connections_per_client: resolve(
                "max-connections-per-client",
                self.max_connections_per_client,
                env,
                from_file(file.max_connections_per_client, path),
                Limits::default().max_connections_per_client,
            )?,
            https: resolve(
                "https",
                self.https.then_some(true),
                env,
                from_file(file.https, path),
                false,
            )?,
            metrics_listen: resolve(
                "metrics-listen",
                self.metrics_listen.clone(),
                env,
                from_file(file.metrics_listen, path),
                String::new(),
            )?,
            tls_cert: resolve(
                "tls-cert",
                self.tls_cert.clone(),
                env,
                from_file(file.tls_cert, path),
                PathBuf::new(),
            )?,
            tls_key: resolve(
                "tls-key",
                self.tls_key.clone(),
                env,
                from_file(file.tls_key, path),
                PathBuf::new(),
            )?,
            log_format: resolve(
                "log-format",
                self.log_format,
                env,
                from_file(file.log_format, path),
                LogFormat::Text,
            )?,
            ledger,
            witnessing: self.witnessing(file.witness, file.witness_quorum, path)?,
            evidence: self.evidence.clone(),
            evidence_limits: self.evidence_limits()?,
        })
    }
}

impl Effective {
    /// The server's configuration these settings make.
    pub fn config(&self) -> anyhow::Result<ServeConfig> {
        let store = if self.store.value.is_empty() {
            self.ledger.value.to_string_lossy().into_owned()
        } else {
            self.store.value.clone()
        };
        let tls = match (
            self.tls_cert.value.as_os_str().is_empty(),
            self.tls_key.value.as_os_str().is_empty(),
        ) {
            (true, true) => None,
            (false, false) => Some(TlsFiles {
                cert: self.tls_cert.value.clone(),
                key: self.tls_key.value.clone(),
            }),
            _ => anyhow::bail!(
                "--tls-cert 与 --tls-key 须同时给出 (--tls-cert and --tls-key go together: give both, or neither for plain HTTP)"
            ),
        };
        Ok(ServeConfig {
            store,
            listen: self.listen.value.clone(),
            checkpoints: CheckpointPolicy {
                every: self.checkpoint_every.value,
                interval: (self.checkpoint_interval.value > 0)
                    .then(|| Duration::from_secs(self.checkpoint_interval.value)),
            },
            snapshots: SnapshotPolicy {
                every: self.snapshot_every.value,
                ..SnapshotPolicy::default()
            },
            http: ServeOptions {
                limits: Limits {
                    max_connections: self.max_connections.value,
                    max_connections_per_client: self.max_connections_per_client.value,
                    ..Limits::default()
                },
                https: self.https.value,
                evidence: self.evidence_limits,
            },
            evidence: Some(
                self.evidence
                    .open(&self.ledger.value)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            tls,
            metrics_listen: (!self.metrics_listen.value.is_empty())
                .then(|| self.metrics_listen.value.clone()),
            witnessing: self.witnessing.clone(),
        })
    }

    /// The settings as a table: name, value, source. The store's connection string shows no
    /// password.
    pub fn table(&self) -> String {
        let store = if self.store.value.is_empty() {
            "(the ledger file)".to_owned()
        } else {
            crate::store::kurrent::conn::redact(&self.store.value)
        };
        let rows: Vec<(&str, String, String)> = vec![
            (
                "ledger",
                self.ledger.value.display().to_string(),
                self.ledger.source.to_string(),
            ),
            ("store", store, self.store.source.to_string()),
            (
                "listen",
                self.listen.value.clone(),
                self.listen.source.to_string(),
            ),
            row("checkpoint-every", &self.checkpoint_every),
            row("checkpoint-interval", &self.checkpoint_interval),
            row("snapshot-every", &self.snapshot_every),
            row("max-connections", &self.max_connections),
            row(
                "max-connections-per-client",
                &self.max_connections_per_client,
            ),
            row("https", &self.https),
            (
                "metrics-listen",
                self.metrics_listen.value.clone(),
                self.metrics_listen.source.to_string(),
            ),
            (
                "tls-cert",
                self.tls_cert.value.display().to_string(),
                self.tls_cert.source.to_string(),
            ),
            (
                "tls-key",
                self.tls_key.value.display().to_string(),
                self.tls_key.source.to_string(),
            ),
            row("log-format", &self.log_format),
        ];
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let value_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, value, source) in rows {
            out.push_str(&format!(
                "{name:<width$}  {value:<value_width$}  ({source})\n"
            ));
        }
        out
    }
}

fn row<'a, T: std::fmt::Display>(name: &'a str, r: &Resolved<T>) -> (&'a str, String, String) {
    (name, r.value.to_string(), r.source.to_string())
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let effective = args.effective(&|name| std::env::var(name).ok());
    // Log the configuration's own errors in the format asked for when it could be read.
    super::init_logging(
        effective
            .as_ref()
            .map(|e| e.log_format.value)
            .unwrap_or_default(),
    );
    let effective = effective?;
    if args.print_config {
        print!("{}", effective.table());
        return Ok(());
    }
    let config = effective.config()?;
    let rt = super::runtime()?;
    rt.block_on(async {
        crate::server::serve(&config, shutdown_signal(), |addr| {
            println!("正在监听 listening on http://{addr}/api/v1 (接口说明 OpenAPI: http://{addr}/api/v1/openapi.json; 网页控制台 web console: http://{addr}/)");
        })
        .await
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::http::evidence::{DEFAULT_MAX_FILE, DEFAULT_MAX_REQUEST};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: super::ServeArgs,
    }

    fn limits(args: &[&str]) -> anyhow::Result<crate::http::evidence::EvidenceLimits> {
        let cli = Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))?;
        cli.serve.evidence_limits()
    }

    #[test]
    fn evidence_limits_default_to_20_and_50_mib_and_are_checked() {
        let default = limits(&[]).unwrap();
        assert_eq!(
            (default.max_file, default.max_request),
            (DEFAULT_MAX_FILE, DEFAULT_MAX_REQUEST)
        );
        assert_eq!(DEFAULT_MAX_FILE, 20 * 1024 * 1024);
        let set = limits(&["--evidence-max-file", "5", "--evidence-max-request", "8"]).unwrap();
        assert_eq!((set.max_file, set.max_request), (5 << 20, 8 << 20));
        for bad in [
            &["--evidence-max-file", "0"][..],
            &["--evidence-max-file", "60"],
            &["--evidence-max-request", "5000", "--evidence-max-file", "1"],
        ] {
            assert!(limits(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
