//! `Idempotency-Key` on writes: a retried request gets the first response and records nothing new.
//!
//! Where keys live and for how long: in the memory of the serving process, per authenticated person
//! (two people may use the same key), for [`TTL`] (24 hours) after the first request, at most
//! [`CAPACITY`] keys (the oldest are forgotten first). A restart forgets them; a client retrying
//! across a restart gets the domain's own answer (a create of an existing id is 409, a second score
//! of an item is 409), never a second event.
//!
//! The first request with a key runs; its response (status, body, `ETag`, `Location`) is kept unless
//! it is a 5xx (the server's fault: retrying may succeed). A request with the same key and the same
//! method, path, query, `If-Match` and body gets the kept response with `Idempotency-Replayed: true`;
//! one that arrives while the first still runs waits for it. The first runs to its end even if its
//! client disconnects, so a retry after a timeout finds its answer. The same key with a different request
//! is refused with 422 (`idempotency-key-reused`). A key is 1–255 visible ASCII characters.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ledger_schemas::ids::PersonId;
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;

use super::Api;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::read_body;
use crate::store::EventStore;

/// How long a key is remembered.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many keys are remembered at most.
pub const CAPACITY: usize = 100_000;
/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header on a replay.
pub const REPLAYED: &str = "idempotency-replayed";

/// A response kept for replay.
#[derive(Debug, Clone)]
struct Kept {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Debug)]
struct Entry {
    fingerprint: [u8; 32],
    created: Instant,
    response: Arc<OnceCell<Kept>>,
}

type Key = (PersonId, String);

/// The remembered keys.
#[derive(Debug, Default)]
pub struct Idempotency {
    inner: Mutex<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    entries: HashMap<Key, Entry>,
    /// Keys in the order they were first used, for expiry.
    order: VecDeque<(Instant, Key)>,
}

impl Idempotency {
    /// The slot of a key: the cell its response is (or will be) kept in; refuses a different request.
    fn slot(&self, key: Key, fingerprint: [u8; 32]) -> Result<Arc<OnceCell<Kept>>, ApiError> {
        let mut keys = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.expire(now);
        if let Some(entry) = keys.entries.get(&key) {
            return if entry.fingerprint == fingerprint {
                Ok(entry.response.clone())
            } else {
                Err(ApiError::idempotency_key_reused())
            };
        }
        let response = Arc::new(OnceCell::new());
        keys.entries.insert(
            key.clone(),
            Entry {
                fingerprint,
                created: now,
                response: response.clone(),
            },
        );
        keys.order.push_back((now, key));
        Ok(response)
    }

    /// Forgets a key whose first request ended without a response to keep (a 5xx).
    fn forget(&self, key: &Key, cell: &Arc<OnceCell<Kept>>) {
        let mut keys = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if keys
            .entries
            .get(key)
            .is_some_and(|e| Arc::ptr_eq(&e.response, cell) && !cell.initialized())
        {
            keys.entries.remove(key);
        }
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Keys {
    fn expire(&mut self, now: Instant) {
        while let Some((created, _)) = self.order.front() {
            let stale = now.duration_since(*created) >= TTL || self.order.len() > CAPACITY;
            if !stale {
                break;
            }
            let Some((created, key)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&key).is_some_and(|e| e.created == created) {
                self.entries.remove(&key);
            }
        }
    }
}

/// The middleware on every write operation (after the authentication gate).
pub async fn layer<S: EventStore>(
    State(api): State<Arc<Api<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(raw) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match raw.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return ApiError::bad_request(
                "invalid-idempotency-key",
                "header.Idempotency-Key",
                "Idempotency-Key 须为 1 至 255 个可见 ASCII 字符 (the Idempotency-Key must be 1 to 255 visible ASCII characters)",
            )
            .into_response();
        }
    };
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return ApiError::internal(
            "幂等层须在认证之后 (the idempotency layer must follow authentication)",
        )
        .into_response();
    };
    let (parts, body) = request.into_parts();
    let bytes = match read_body(Request::new(body)).await {
        Ok(bytes) => bytes,
        Err(err) => return err.into_response(),
    };
    let fingerprint = {
        let mut hash = Sha256::new();
        for part in [
            parts.method.as_str().as_bytes(),
            parts.uri.path().as_bytes(),
            parts.uri.query().unwrap_or_default().as_bytes(),
            parts
                .headers
                .get(IF_MATCH)
                .map(HeaderValue::as_bytes)
                .unwrap_or_default(),
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        hash.update(&bytes);
        <[u8; 32]>::from(hash.finalize())
    };
    let key = (caller.actor.person.clone(), key);
    let cell = match api.idempotency.slot(key.clone(), fingerprint) {
        Ok(cell) => cell,
        Err(err) => return err.into_response(),
    };
    // The first request runs in a task of its own, so that it finishes and keeps its answer even if
    // its client gives up (a timeout is exactly when a client retries).
    let ran = Arc::new(AtomicBool::new(false));
    let running = {
        let (cell, ran) = (cell.clone(), ran.clone());
        tokio::spawn(async move {
            cell.get_or_try_init(|| async {
                ran.store(true, Ordering::Relaxed);
                let response = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                if response.status().is_server_error() {
                    return Err(response);
                }
                keep(response).await
            })
            .await
            .cloned()
        })
    };
    let outcome = match running.await {
        Ok(outcome) => outcome,
        Err(err) => Err(ApiError::internal(format!(
            "请求处理中断 (the request was interrupted): {err}"
        ))
        .into_response()),
    };
    match outcome {
        Ok(kept) => {
            let mut response = replay(&kept);
            if !ran.load(Ordering::Relaxed) {
                response
                    .headers_mut()
                    .insert(REPLAYED, HeaderValue::from_static("true"));
            }
            response
        }
        Err(response) => {
            api.idempotency.forget(&key, &cell);
            response
        }
    }
}

/// Buffers a response so that it can be kept and replayed.
async fn keep(response: Response) -> Result<Kept, Response> {
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            return Err(ApiError::internal(format!(
                "响应无法缓存 (the response could not be kept): {err}"
            ))
            .into_response());
        }
    };
    let headers = [CONTENT_TYPE, ETAG, LOCATION]
        .into_iter()
        .filter_map(|name| parts.headers.get(&name).map(|v| (name, v.clone())))
        .collect();
    Ok(Kept {
        status: parts.status,
        headers,
        body,
    })
}

fn replay(kept: &Kept) -> Response {
    let mut response = (kept.status, kept.body.clone()).into_response();
    for (name, value) in &kept.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}
