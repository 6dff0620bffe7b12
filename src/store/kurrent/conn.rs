//! The connection to the cluster: one `kurrentdb::Client`, replaced when it dies, and the bounded
//! retry policy every call goes through.
//!
//! Why a replaceable client: the `kurrentdb` client gives up for good once node discovery fails
//! (for a single node: once the server-features handshake cannot reach it, e.g. while the node
//! restarts); every later call then fails with "connection closed". So a transient failure here
//! drops the client and the next attempt builds a fresh one, which connects anew.
//!
//! Why bounded, and by time: a caller (an HTTP request) must hear "unavailable" rather than hang,
//! but not before a leader election could have finished: a cluster that loses its leader takes a
//! few seconds to notice (gossip timeouts of about 2.5 s) and about a second to elect another, so
//! the default budget is 20 s, and `ledgerRetrySecs=N` in the connection string changes it.
//! Background tasks (the notary, the seal follower) loop on their own with a capped backoff.
//!
//! Why a "not leader" answer never drops the client: the client has already switched itself to
//! the leader that the answer named; a fresh client built from the connection string would go back
//! to the node the string names (perhaps a follower) and be redirected all over again.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kurrentdb::{Client, ClientSettings};

use crate::store::StoreError;

/// How long and how often a call is retried when the cluster does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How long to keep trying: no attempt starts after this much time since the first one (the
    /// first attempt always runs). Also how long a background feed fails before it reports.
    pub budget: Duration,
    /// Pause after the first failure; doubled after each further one.
    pub first_backoff: Duration,
    /// The longest pause between two attempts.
    pub max_backoff: Duration,
    /// How long one attempt may take before it counts as failed.
    pub call_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 20 s of retrying (50 ms doubling up to 1 s between attempts, 5 s per attempt): longer than
    /// a leader election or a node restart takes, short enough for an HTTP caller to hear
    /// "unavailable" rather than hang.
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(20),
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            call_timeout: Duration::from_secs(5),
        }
    }
}

/// The connection-string parameter for [`RetryPolicy::budget`], in seconds. The adapter takes it
/// out of the string before the client sees it.
pub const RETRY_PARAM: &str = "ledgerRetrySecs";

/// Splits the ledger's own parameter out of a connection string: the string for the client, and
/// the retry budget it asked for (if any).
pub fn split_ledger_params(url: &str) -> Result<(String, Option<Duration>), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut budget = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name.eq_ignore_ascii_case(RETRY_PARAM) {
            let secs: f64 = value
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
                .ok_or_else(|| {
                    format!("{RETRY_PARAM}={value:?}: 须为 0 到 86400 之间的秒数 (must be a number of seconds from 0 to 86400)")
                })?;
            budget = Some(Duration::from_secs_f64(secs));
        } else {
            kept.push(pair);
        }
    }
    let client = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((client, budget))
}

impl RetryPolicy {
    /// The pause after failed attempt number `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(16);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// What a failed attempt means.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered and refused; retrying would not help. The caller maps it.
    Refused(kurrentdb::Error),
    /// Out of attempts (or a background loop gave up): the cluster is unreachable.
    Unavailable(StoreError),
}

impl Failure {
    /// As a store error, for callers with no special meaning for the refusal.
    pub(crate) fn into_store(self, url: &str) -> StoreError {
        match self {
            Failure::Unavailable(e) => e,
            Failure::Refused(e) => refused(url, &e),
        }
    }
}

/// A refusal that no retry will change, in the port's terms.
pub(crate) fn refused(url: &str, error: &kurrentdb::Error) -> StoreError {
    match error {
        kurrentdb::Error::Grpc { code, message } if *code == tonic::Code::InvalidArgument => {
            StoreError::InvalidAppend(format!("{url}: 服务器拒绝 (the server refused the request): {message}"))
        }
        kurrentdb::Error::AccessDenied => StoreError::Io {
            path: url.into(),
            detail: "访问被拒绝 (access denied): 连接串中的用户名或密码错误, 或该用户无权读写账本的流 (wrong user name or password in the connection string, or the user may not read and write the ledger's streams); 见 README 的 KurrentDB 一节 (see the README's KurrentDB section)".into(),
        },
        other => StoreError::Io {
            path: url.into(),
            detail: format!("服务器错误 (server error): {other}"),
        },
    }
}

/// Whether an error may go away by itself (the node is restarting, the leader moved, the network
/// dropped), as opposed to a refusal.
fn is_transient(error: &kurrentdb::Error) -> bool {
    use kurrentdb::Error as E;
    matches!(
        error,
        E::ServerError(_)
            | E::ConnectionClosed
            | E::GrpcConnectionError(_)
            | E::DeadlineExceeded
            | E::NotLeaderException(_)
    ) || matches!(error, E::Grpc { code, .. } if matches!(code, tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Aborted | tonic::Code::ResourceExhausted))
}

/// The client and its replacement.
pub(crate) struct Conn {
    /// The connection string without credentials, for messages.
    url: String,
    settings: ClientSettings,
    current: Mutex<(u64, Arc<Client>)>,
    pub(crate) retry: RetryPolicy,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("url", &self.url).finish()
    }
}

/// The connection string with any password replaced, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Conn {
    /// Parses the connection string and builds a client (which connects on first use). Needs a
    /// Tokio runtime. `ledgerRetrySecs` in the string overrides the policy's budget.
    pub(crate) fn new(url: &str, mut retry: RetryPolicy) -> Result<Self, StoreError> {
        let shown = redact(url);
        let (url, budget) = split_ledger_params(url).map_err(|why| {
            StoreError::InvalidAppend(format!("连接串无效 (bad connection string) {shown}: {why}"))
        })?;
        if let Some(budget) = budget {
            retry.budget = budget;
        }
        let shown = redact(&url);
        let settings: ClientSettings = url.parse().map_err(|e| {
            StoreError::InvalidAppend(format!(
                "连接串无效 (not a KurrentDB connection string) {shown}: {e}; 例如 (e.g.) kurrentdb://127.0.0.1:2113?tls=false"
            ))
        })?;
        let client = Self::build(&shown, &settings)?;
        Ok(Conn {
            url: shown,
            settings,
            current: Mutex::new((0, Arc::new(client))),
            retry,
        })
    }

    fn build(url: &str, settings: &ClientSettings) -> Result<Client, StoreError> {
        Client::new(settings.clone()).map_err(|e| {
            StoreError::Unavailable(format!(
                "{url}: 无法创建客户端 (cannot create the client): {e}"
            ))
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Arc<Client>)> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current client and its generation.
    pub(crate) fn client(&self) -> (u64, Arc<Client>) {
        let current = self.lock();
        (current.0, current.1.clone())
    }

    /// Replaces the client of `generation` (if nobody did already) with a fresh one, unless the
    /// failure was a "not leader" answer, which the client follows by itself.
    pub(crate) fn reset_after(&self, generation: u64, error: &kurrentdb::Error) {
        if !matches!(error, kurrentdb::Error::NotLeaderException(_)) {
            self.reset(generation);
        }
    }

    /// Replaces the client of `generation` (if nobody did already) with a fresh one.
    pub(crate) fn reset(&self, generation: u64) {
        let mut current = self.lock();
        if current.0 == generation
            && let Ok(client) = Self::build(&self.url, &self.settings)
        {
            *current = (generation + 1, Arc::new(client));
        }
    }

    /// Runs `op` until it succeeds, the server refuses, or the policy's time budget is spent.
    ///
    /// `op` gets the client and the attempt number (0 first), so that an operation whose earlier
    /// attempt may have taken effect can check before it repeats itself.
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, Failure>
    where
        F: FnMut(Arc<Client>, u32) -> Fut,
        Fut: Future<Output = Result<T, kurrentdb::Error>>,
    {
        let started = Instant::now();
        let mut last = String::new();
        let mut attempt = 0u32;
        loop {
            if attempt > 0 {
                let pause = self.retry.backoff(attempt - 1);
                if started.elapsed() + pause > self.retry.budget {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            attempt += 1;
            let (generation, client) = self.client();
            match tokio::time::timeout(self.retry.call_timeout, op(client, attempt - 1)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) if is_transient(&error) => {
                    tracing::debug!(url = %self.url, what, attempt, %error, "transient failure, retrying");
                    self.reset_after(generation, &error);
                    last = error.to_string();
                }
                Ok(Err(error)) => return Err(Failure::Refused(error)),
                Err(_) => {
                    self.reset(generation);
                    last = format!(
                        "超时 (no answer within {:.1} s)",
                        self.retry.call_timeout.as_secs_f64()
                    );
                }
            }
        }
        Err(Failure::Unavailable(
            self.unavailable(what, attempt, started, &last),
        ))
    }

    pub(crate) fn unavailable(
        &self,
        what: &str,
        attempts: u32,
        since: Instant,
        last: &str,
    ) -> StoreError {
        StoreError::Unavailable(format!(
            "{}: {what} 经 {attempts} 次尝试、{:.1} 秒仍失败 (failed after {attempts} attempts over {:.1} s); 最后的错误 (last error): {last}",
            self.url,
            since.elapsed().as_secs_f64(),
            since.elapsed().as_secs_f64(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ledger's parameter is taken out of the string the client sees, wherever it stands, and
    /// a bad value is refused with what is expected.
    #[test]
    fn the_retry_parameter_is_split_out_and_checked() {
        let (url, budget) =
            split_ledger_params("esdb://a:2113,b:2113?tls=false&ledgerRetrySecs=2.5").unwrap();
        assert_eq!(url, "esdb://a:2113,b:2113?tls=false");
        assert_eq!(budget, Some(Duration::from_millis(2500)));
        let (url, budget) = split_ledger_params("esdb://a?LEDGERRETRYSECS=30").unwrap();
        assert_eq!(
            (url.as_str(), budget),
            ("esdb://a", Some(Duration::from_secs(30)))
        );
        let (url, budget) = split_ledger_params("esdb://a?tls=false").unwrap();
        assert_eq!((url.as_str(), budget), ("esdb://a?tls=false", None));
        for bad in ["abc", "-1", "1e9", ""] {
            let err = split_ledger_params(&format!("esdb://a?ledgerRetrySecs={bad}")).unwrap_err();
            assert!(err.contains("0 to 86400"), "{bad}: {err}");
        }
    }

    /// A password never reaches a message.
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("kurrentdb://ledger:s3cret@n1:2113,n2:2113?tls=true"),
            "kurrentdb://***@n1:2113,n2:2113?tls=true"
        );
    }
}
