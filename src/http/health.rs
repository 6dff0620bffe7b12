//! `GET /healthz` and `GET /readyz`, for a service manager or a load balancer: no token, nothing in
//! the answer but fixed words and counts (no path, no error text, no version).
//!
//! - `/healthz`: the process answers HTTP (200 `{"status":"ok"}`).
//! - `/readyz`: 200 when the store answers within [`STORE_TIMEOUT`], the read models are no more
//!   than [`READY_LAG`] events behind the store's head, and, on a backend that signs checkpoints,
//!   the signing key is loaded; otherwise 503 with the same body saying which check failed. While a
//!   server folds its log at start it answers 503 `starting` ([`starting`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Api;
use crate::store::EventStore;

/// How far behind the head the read models may be and the server still be ready: the follower
/// folds new events within milliseconds, so more than this means it is still catching up.
pub const READY_LAG: u64 = 1_000;

/// How long the store may take to say where its head is.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) async fn healthz() -> Response {
    no_store((StatusCode::OK, Json(json!({ "status": "ok" }))).into_response())
}

pub(crate) async fn readyz<S: EventStore>(State(api): State<Arc<Api<S>>>) -> Response {
    let store = api.ledger.store();
    let head = tokio::time::timeout(STORE_TIMEOUT, store.head()).await;
    let folded = api.reads.position();
    let (store_check, behind) = match head {
        Ok(Ok(head)) => ("ok", Some(head.saturating_sub(folded))),
        Ok(Err(_)) => ("unreachable", None),
        Err(_) => ("timed out", None),
    };
    let key = if !store.signs_checkpoints() {
        "not used"
    } else {
        match store.seal_key() {
            Ok(Some(_)) => "loaded",
            Ok(None) => "absent",
            Err(_) => "unreadable",
        }
    };
    let caught_up = behind.is_some_and(|b| b <= READY_LAG);
    let ready = store_check == "ok" && caught_up && matches!(key, "loaded" | "not used");
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": {
            "store": store_check,
            "read_models": {
                "caught_up": caught_up,
                "behind": behind,
            },
            "signing_key": key,
        },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store((status, Json(body)).into_response())
}

/// The answer to every request while the server folds its log before it can serve: `/healthz`
/// says the process is alive, `/readyz` and everything else 503 with `Retry-After`.
pub fn starting(path: &str) -> Response {
    if path == "/healthz" {
        return no_store((StatusCode::OK, Json(json!({ "status": "ok" }))).into_response());
    }
    let body = json!({
        "status": "starting",
        "checks": { "read_models": { "caught_up": false } },
    });
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
