//! One record per HTTP request, and its request id.
//!
//! Every request gets an id: the client's `X-Request-Id` when it is a UUID, else a new UUID v7. The
//! id is answered in `X-Request-Id`, and it is the correlation id of every event the request
//! records (`Api::execute` reads it from the task-local [`REQUEST`]), so a log line leads to the
//! events and an event back to its request. After the answer, one `tracing` record (target
//! `ledger::http`, level info) carries the id, method, route (the route's pattern, never the
//! concrete path with its ids), status, latency and the acting person; never a header, so never
//! a token. The same observation feeds the HTTP metrics ([`crate::metrics`]).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

/// The header that carries the request id both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// What the layers below learn about the request they serve.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub id: Uuid,
    route: Arc<OnceLock<&'static str>>,
    person: Arc<OnceLock<String>>,
}

tokio::task_local! {
    /// The request being served by this task.
    pub static REQUEST: RequestContext;
}

/// The id of the request this task serves, if any.
pub fn current_id() -> Option<Uuid> {
    REQUEST.try_with(|c| c.id).ok()
}

/// Records the API route's pattern (the console's routes are known from axum's `MatchedPath`).
pub fn note_route(route: &'static str) {
    let _ = REQUEST.try_with(|c| c.route.set(route));
}

/// Records the person the request acts as (set by the authentication gate).
pub fn note_person(person: &str) {
    let _ = REQUEST.try_with(|c| c.person.set(person.to_owned()));
}

pub async fn layer(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
        .unwrap_or_else(Uuid::now_v7);
    let method = request.method().clone();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let context = RequestContext {
        id,
        route: Arc::default(),
        person: Arc::default(),
    };
    let mut response = REQUEST.scope(context.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let route = matched
        .as_deref()
        .or(context.route.get().copied())
        .unwrap_or("(no route)");
    let status = response.status().as_u16();
    let latency = started.elapsed();
    crate::metrics::observe_request(route, method.as_str(), status, latency);
    tracing::info!(
        target: "ledger::http",
        request_id = %id,
        method = %method,
        route,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        person = context.person.get().map(String::as_str).unwrap_or("-"),
        "request"
    );
    response
}
