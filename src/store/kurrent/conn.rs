//! The connection to the cluster: one `kurrentdb::Client`, replaced when it dies, and the bounded
//! retry policy every call goes through.
//!
//! Why a replaceable client: the `kurrentdb` client gives up for good once node discovery fails
//! (for a single node: once the server-features handshake cannot reach it, e.g. while the node
//! restarts); every later call then fails with "connection closed". So a transient failure here
//! drops the client and the next attempt builds a fresh one, which connects anew.
//!
//! Why bounded: a caller (an HTTP request) must hear "unavailable" in seconds, not hang. Background
//! tasks (the notary, the seal follower) loop on their own with a capped backoff instead.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kurrentdb::{Client, ClientSettings};

use crate::store::StoreError;

/// How often and how patiently a call is retried when the cluster does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// Pause after the first failure; doubled after each further one.
    pub first_backoff: Duration,
    /// The longest pause between two attempts.
    pub max_backoff: Duration,
    /// How long one attempt may take before it counts as failed.
    pub call_timeout: Duration,
}

impl Default for RetryPolicy {
    /// About 4 s of retrying in all (8 attempts, 50 ms doubling up to 1 s): long enough to ride
    /// out a leader election or a node restart, short enough for an HTTP caller.
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            call_timeout: Duration::from_secs(5),
        }
    }
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
            detail: "访问被拒绝 (access denied): 连接串中的用户无权操作 (the connection string's user may not do this)".into(),
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
    /// Tokio runtime.
    pub(crate) fn new(url: &str, retry: RetryPolicy) -> Result<Self, StoreError> {
        let shown = redact(url);
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

    /// Replaces the client of `generation` (if nobody did already) with a fresh one.
    pub(crate) fn reset(&self, generation: u64) {
        let mut current = self.lock();
        if current.0 == generation
            && let Ok(client) = Self::build(&self.url, &self.settings)
        {
            *current = (generation + 1, Arc::new(client));
        }
    }

    /// Runs `op` until it succeeds, the server refuses, or the policy's attempts are spent.
    ///
    /// `op` gets the client and the attempt number (0 first), so that an operation whose earlier
    /// attempt may have taken effect can check before it repeats itself.
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, Failure>
    where
        F: FnMut(Arc<Client>, u32) -> Fut,
        Fut: Future<Output = Result<T, kurrentdb::Error>>,
    {
        let started = Instant::now();
        let attempts = self.retry.attempts.max(1);
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
            }
            let (generation, client) = self.client();
            match tokio::time::timeout(self.retry.call_timeout, op(client, attempt)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) if is_transient(&error) => {
                    tracing::debug!(url = %self.url, what, attempt, %error, "transient failure, retrying");
                    if !matches!(error, kurrentdb::Error::NotLeaderException(_)) {
                        self.reset(generation);
                    }
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
            self.unavailable(what, attempts, started, &last),
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
