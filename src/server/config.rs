//! Where a server's settings come from: a TOML file (`--config FILE`), overridden by environment
//! variables, overridden by flags; what none of them gives keeps its default. Every setting has one
//! name in all three places: `checkpoint-interval` in the file, `LEDGER_CHECKPOINT_INTERVAL` in the
//! environment, `--checkpoint-interval` on the command line. [`Resolved`] keeps, beside each value,
//! where it came from, so that `ledger serve --print-config` can say so.
//!
//! An unknown key in the file, a value of the wrong type, or an environment variable that does not
//! parse is an error at start-up that names the key or variable, the file and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// The configuration file's contents: every key optional, none unknown.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSettings {
    pub ledger: Option<PathBuf>,
    pub store: Option<String>,
    pub listen: Option<String>,
    pub checkpoint_every: Option<u64>,
    pub checkpoint_interval: Option<u64>,
    pub snapshot_every: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_client: Option<usize>,
    pub https: Option<bool>,
    pub metrics_listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    /// Witnesses as `URL=VKEY` strings (issue 21); `--witness` flags replace the whole list.
    pub witness: Option<Vec<String>>,
    pub witness_quorum: Option<usize>,
}

impl FileSettings {
    /// Reads and checks a configuration file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "无法读取配置文件 (cannot read the configuration file) {}",
                path.display()
            )
        })?;
        toml::from_str(&text).map_err(|err| {
            // One line: where, then what (the crate's own rendering spans several lines).
            let line = err
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let at = line
                .map(|l| {
                    let source = text.lines().nth(l - 1).unwrap_or("").trim();
                    format!(" line {l} `{source}`")
                })
                .unwrap_or_default();
            anyhow::anyhow!(
                "配置文件有误 (the configuration file {}{at} is not valid): {}",
                path.display(),
                err.message().replace('\n', " ").trim_end()
            )
        })
    }
}

/// How the server writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One line a record, for people.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("`{other}` is neither `text` nor `json`")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(var) => write!(f, "env {var}"),
            Self::Flag => f.write_str("flag"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<T> {
    pub value: T,
    pub source: Source,
}

/// The environment variable that carries the setting `name` (`checkpoint-every` →
/// `LEDGER_CHECKPOINT_EVERY`).
pub fn env_var(name: &str) -> String {
    format!("LEDGER_{}", name.replace('-', "_").to_uppercase())
}

/// Resolves one setting: the flag if given, else the environment variable, else the file's key,
/// else `default`. `env` looks a variable up (the process's environment, or a test's map).
pub fn resolve<T>(
    name: &str,
    flag: Option<T>,
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<(T, &Path)>,
    default: T,
) -> anyhow::Result<Resolved<T>>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    if let Some(value) = flag {
        return Ok(Resolved {
            value,
            source: Source::Flag,
        });
    }
    let var = env_var(name);
    if let Some(text) = env(&var) {
        return match text.trim().parse::<T>() {
            Ok(value) => Ok(Resolved {
                value,
                source: Source::Env(var),
            }),
            Err(err) => bail!(
                "环境变量有误 (the environment variable {var}={text:?} is not a valid {name}): {err}"
            ),
        };
    }
    if let Some((value, path)) = file {
        return Ok(Resolved {
            value,
            source: Source::File(path.to_path_buf()),
        });
    }
    Ok(Resolved {
        value: default,
        source: Source::Default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
        let file = Path::new("/etc/ledger/ledger.toml");
        let env = env_of(&[("LEDGER_SNAPSHOT_EVERY", "7")]);
        let flag = resolve("snapshot-every", Some(9u64), &env, Some((8, file)), 1).unwrap();
        assert_eq!((flag.value, flag.source), (9, Source::Flag));
        let from_env = resolve("snapshot-every", None, &env, Some((8, file)), 1).unwrap();
        assert_eq!(
            (from_env.value, from_env.source),
            (7, Source::Env("LEDGER_SNAPSHOT_EVERY".into()))
        );
        let none = env_of(&[]);
        let from_file = resolve("snapshot-every", None, &none, Some((8u64, file)), 1).unwrap();
        assert_eq!(
            (from_file.value, from_file.source),
            (8, Source::File(file.into()))
        );
        let default = resolve::<u64>("snapshot-every", None, &none, None, 1).unwrap();
        assert_eq!((default.value, default.source), (1, Source::Default));
    }

    #[test]
    fn the_example_configuration_in_deploy_is_valid() {
        let example: FileSettings =
            toml::from_str(include_str!("../../deploy/ledger.toml")).expect("deploy/ledger.toml");
        assert_eq!(example.listen.as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(example.log_format, Some(LogFormat::Json));
        assert_eq!(example.metrics_listen.as_deref(), Some("127.0.0.1:9464"));
    }

    #[test]
    fn a_bad_environment_value_names_the_variable_and_the_setting() {
        let env = env_of(&[("LEDGER_CHECKPOINT_EVERY", "often")]);
        let err = resolve::<u64>("checkpoint-every", None, &env, None, 1000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("LEDGER_CHECKPOINT_EVERY=\"often\""), "{err}");
        assert!(err.contains("checkpoint-every"), "{err}");
    }

    #[test]
    fn an_unknown_key_or_a_wrong_type_in_the_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\ncheckpoint-evry = 10\n").unwrap();
        let err = FileSettings::read(&path).unwrap_err().to_string();
        assert!(err.contains("checkpoint-evry"), "{err}");
        assert!(err.contains("ledger.toml"), "{err}");
        std::fs::write(&path, "snapshot-every = \"many\"\n").unwrap();
        let err = FileSettings::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("snapshot-every") || err.contains("line 1"),
            "{err}"
        );
        std::fs::write(&path, "log-format = \"xml\"\n").unwrap();
        let err = FileSettings::read(&path).unwrap_err().to_string();
        assert!(err.contains("xml"), "{err}");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ncheckpoint-every = 500\nlog-format = \"json\"\n",
        )
        .unwrap();
        let read = FileSettings::read(&path).unwrap();
        assert_eq!(read.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(read.checkpoint_every, Some(500));
        assert_eq!(read.log_format, Some(LogFormat::Json));
    }
}
